import type { Facts } from "../../facts/types.js";
import type { CheckDefinition, CheckResult } from "../types.js";
import {
  dockerfileTzLines,
  firstDivergence,
  formatOffset,
  intendedZone,
  isoDate,
  zoneOffsetAt,
  zoneTransitions,
} from "./common.js";

function table(facts: Facts) {
  const now = facts.now;
  const rows = facts.tz.sources.map((s) => {
    const off = s.zone ? zoneOffsetAt(facts, s.zone, now) : null;
    return [s.source, s.raw ?? "-", s.zone ?? "-", off === null ? "-" : formatOffset(off), s.note];
  });
  rows.push([
    "libc (effective)",
    facts.tz.tzEnv ?? "-",
    "-",
    formatOffset(facts.tz.layout.systemOffsetAt(now)),
    facts.tz.libc.how,
  ]);
  return { columns: ["source", "value", "zone", "offset now", "note"], rows };
}

export const tzSources: CheckDefinition = {
  id: "tz.sources",
  group: "tz",
  title: "Timezone sources agree",
  description:
    "Lists every timezone source of the target side by side (TZ, /etc/timezone, /var/db/zoneinfo, clock files, /etc/localtime, SCHEDULER_TIMEZONE) and fails when the system sources name zones with different rules: tzlocal then crashes or picks one at random, and jobs fire at the wrong hour.",
  run(facts): CheckResult {
    const system = facts.tz.sources.filter((s) => s.kind === "system" && s.zone !== null);
    const tzSet = facts.tz.tzEnv !== undefined && facts.tz.tzEnv !== "";
    const l = facts.tz.layout;
    const evidence = { table: table(facts), sources: facts.tz.sources };
    const details: string[] = [];
    let worst: "pass" | "warn" | "fail" = "pass";
    const bump = (s: "warn" | "fail") => {
      if (s === "fail" || worst === "pass") worst = s;
    };

    const zoneName = (z: string) => (z === "local" ? "local" : z);
    for (let i = 0; i < system.length; i++) {
      for (let j = i + 1; j < system.length; j++) {
        const a = system[i];
        const b = system[j];
        if (!a?.zone || !b?.zone) continue;
        if (l.zones.canonical(a.zone) === l.zones.canonical(b.zone)) continue;
        const links = facts.tz.zoneinfo.links;
        const target = (z: string) => links[z] ?? z;
        if (target(a.zone) === target(b.zone)) {
          // Aliases in the target's tzdata.zi that are not symlinks (hard links, copies): one zone to the
          // user, two names to tzlocal 4.x, which compares realpaths.
          details.push(
            `${a.source} says ${a.zone} and ${b.source} says ${b.zone}: aliases of one zone, but not symlinked, so tzlocal 4.x sees a conflict`,
          );
          bump("warn");
          continue;
        }
        const transitions = [
          ...zoneTransitions(facts, a.zone, facts.now, facts.now + 366 * 86400),
          ...zoneTransitions(facts, b.zone, facts.now, facts.now + 366 * 86400),
        ];
        const at = firstDivergence(
          (t) => zoneOffsetAt(facts, a.zone, t),
          (t) => zoneOffsetAt(facts, b.zone, t),
          facts.now,
          transitions,
        );
        // With TZ set, libc and tzlocal both follow TZ; stale files still mislead cron, logs and other tools.
        const severity = tzSet && (a.source === "TZ" || b.source === "TZ") ? "warn" : "fail";
        if (at === null) {
          details.push(
            `${a.source} says ${zoneName(a.zone)} and ${b.source} says ${zoneName(b.zone)}: same rules, different names (tzlocal 4.x still treats them as a conflict)`,
          );
          bump("warn");
        } else {
          const oa = zoneOffsetAt(facts, a.zone, at);
          const ob = zoneOffsetAt(facts, b.zone, at);
          const when = at === facts.now ? "now" : `from ${isoDate(at)}`;
          details.push(
            `${a.source} says ${a.zone} (${formatOffset(oa ?? 0)}) but ${b.source} says ${b.zone} (${formatOffset(ob ?? 0)}) ${when}`,
          );
          bump(severity);
        }
      }
    }
    if (facts.tz.tzEnv === "") {
      details.push(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own syntax, quoted for the user
        "TZ is set but empty (often `TZ=${TZ}` in compose with TZ unset): glibc uses UTC while tzlocal ignores it and reads the files",
      );
      bump("warn");
    }
    const lt = facts.tz.localtime;
    if (lt.kind === "file" && lt.error) {
      details.push(`/etc/localtime is not a valid zone file (${lt.error}): libc falls back to UTC`);
      bump("fail");
    } else if (lt.kind === "file") {
      details.push(
        lt.identifiedAs.length > 0
          ? `/etc/localtime is a copied file (identical to ${lt.identifiedAs.join(", ")}), not a symlink: tzlocal names it "local", which APScheduler cannot pickle into a persistent job store`
          : "/etc/localtime is a copied file that matches no zone in the target's zoneinfo",
      );
      bump("warn");
    }
    if (lt.kind === "dangling-symlink") {
      details.push(
        `/etc/localtime is a dangling symlink to ${lt.linkTarget}: libc falls back to UTC and tzlocal skips it`,
      );
      bump("fail");
    }

    const zone = intendedZone(facts);
    const fix =
      worst === "pass"
        ? undefined
        : {
            text: `Make every source name one zone (${zone} here; pick yours). In the Dockerfile:`,
            commands: dockerfileTzLines(facts.os, zone),
          };
    const n = facts.tz.sources.filter((s) => s.kind === "system" && s.raw !== null).length;
    const summary =
      worst === "pass"
        ? system.length === 0
          ? "no timezone source is set: everything runs in UTC"
          : `${system.length} source${system.length > 1 ? "s" : ""} name the same zone (${system[0]?.zone})`
        : (details[0] ?? `${n} sources disagree`);
    // The first finding is the summary; details carry the rest so nothing prints twice.
    return { status: worst, summary, details: details.slice(1), evidence, ...(fix ? { fix } : {}) };
  },
};
