import { libcReading } from "../../tz/libc.js";
import { posixOffsetAt } from "../../tz/posix.js";
import type { CheckDefinition, CheckResult } from "../types.js";
import { decisivePrediction, formatOffset, zoneOffsetAt } from "./common.js";

export const tzLibc: CheckDefinition = {
  id: "tz.libc",
  group: "tz",
  title: "libc and Python agree on local time",
  description:
    "Compares how the target's C library (glibc or musl) reads TZ and /etc/localtime with what tzlocal returns: an empty TZ (UTC in glibc), POSIX strings like CST-8 (tzlocal 4+ raises), TZ=PRC on musl (UTC+0), or a TZ name without a zone file (glibc silently uses UTC).",
  run(facts): CheckResult {
    const now = facts.now;
    const l = facts.tz.layout;
    const reading = facts.tz.libc;
    const other = facts.os.libc === "glibc" ? "musl" : "glibc";
    // Gathering loaded every file either libc could open for this TZ, so fileAt() answers for both.
    const otherReading = libcReading(other, facts.tz.tzEnv, (p) => l.fileAt(p).offsetAt(now) !== null);
    const libcOffset = l.systemOffsetAt(now);
    const { prediction, installed } = decisivePrediction(facts);
    const pyOffset = zoneOffsetAt(facts, prediction.zone, now);
    const evidence = {
      libc: facts.os.libc,
      libcEvidence: facts.os.libcEvidence,
      reading: reading.how,
      offsetNow: libcOffset,
      [`${other}Reading`]: otherReading.how,
      tzlocal: {
        line: prediction.line,
        installed,
        outcome: prediction.outcome,
        zone: prediction.zone,
        offsetNow: pyOffset,
      },
    };
    const details = [
      `${facts.os.libc} (${facts.os.libcEvidence}): ${reading.how} → ${formatOffset(libcOffset)}`,
      `${other} would read: ${otherReading.how}`,
    ];
    const tz = facts.tz.tzEnv;
    const fixTz = (zone: string) => ({
      text: "Set TZ to a zone name (Area/City) that exists in the image, or unset it and rely on /etc/localtime:",
      commands: [`ENV TZ=${zone}`],
    });

    if (reading.kind === "utc" && reading.silent && tz !== undefined) {
      return {
        status: "fail",
        summary:
          prediction.outcome === "error"
            ? `${reading.how}; tzlocal ${prediction.line} raises ${prediction.exception}`
            : `${reading.how}; tzlocal ${prediction.line} says ${prediction.zone} (${formatOffset(pyOffset ?? 0)})`,
        details,
        evidence,
        fix: fixTz(prediction.zone && prediction.zone !== "local" ? prediction.zone : "Area/City"),
      };
    }
    if (prediction.outcome === "error") {
      const posix = reading.kind === "posix" ? reading.tz : null;
      if (posix && tz) {
        const guess = posix.std.utoff === 28800 ? "Asia/Shanghai" : "Area/City";
        return {
          status: "fail",
          summary: `TZ=${tz} is a POSIX string: ${facts.os.libc} reads it as ${formatOffset(posixOffsetAt(posix, now).utoff)}, tzlocal ${prediction.line} raises ${prediction.exception}`,
          details,
          evidence,
          fix: fixTz(guess),
        };
      }
      return {
        status: "pass",
        summary: `libc reads ${formatOffset(libcOffset)}; tzlocal ${prediction.line} raises (see tz.tzlocal), so there is nothing to compare`,
        details,
        evidence,
      };
    }
    if (pyOffset !== null && pyOffset !== libcOffset) {
      return {
        status: "fail",
        summary: `libc uses ${formatOffset(libcOffset)} but tzlocal ${prediction.line} returns ${prediction.zone} (${formatOffset(pyOffset)}): jobs and logs disagree by ${Math.abs(pyOffset - libcOffset) / 3600} h`,
        details,
        evidence,
        fix: fixTz(prediction.zone && prediction.zone !== "local" ? prediction.zone : "Area/City"),
      };
    }
    return {
      status: "pass",
      summary: `${facts.os.libc} and tzlocal ${prediction.line} agree: ${formatOffset(libcOffset)} now`,
      details,
      evidence,
    };
  },
};
