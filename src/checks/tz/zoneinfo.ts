import type { Facts } from "../../facts/types.js";
import type { CheckDefinition, CheckResult } from "../types.js";
import { formatOffset } from "./common.js";

/** Names the tz project keeps only for backward compatibility; Debian 13 ships them in tzdata-legacy. */
const LEGACY = new Set(
  "PRC ROC ROK W-SU GB GB-Eire NZ NZ-CHAT Navajo Cuba Egypt Eire Hongkong Iceland Iran Israel Jamaica Japan Kwajalein Libya Poland Portugal Singapore Turkey UCT Universal Zulu Greenwich GMT0 GMT+0 GMT-0 EST MST HST EST5EDT CST6CDT MST7MDT PST8PDT CET EET MET WET".split(
    " ",
  ),
);
const LEGACY_PREFIX = /^(US|Canada|Mexico|Brazil|Chile)\//;

/** Zones whose offset is fixed by their very name: a file under such a name with other rules was overwritten. */
function expectedFixedOffset(name: string): number | null {
  if (/^(Etc\/)?(UTC|UCT|Zulu|Universal|GMT|GMT0|GMT[+-]0|Greenwich)$/.test(name)) return 0;
  const m = /^Etc\/GMT([+-])(\d{1,2})$/.exec(name);
  if (m?.[2]) return (m[1] === "+" ? -1 : 1) * Number(m[2]) * 3600; // Etc/GMT+8 is UTC-8 (POSIX sign)
  return null;
}

function referencedNames(facts: Facts): { name: string; source: string }[] {
  const out: { name: string; source: string }[] = [];
  for (const s of facts.tz.sources) {
    if (s.zone && s.zone !== "local" && !s.zone.startsWith("/")) out.push({ name: s.zone, source: s.source });
  }
  return out;
}

function installCommand(facts: Facts, pkg: string): string {
  switch (facts.os.packageManager) {
    case "apk":
      return `RUN apk add --no-cache ${pkg}`;
    case "apt":
      return `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkg} && rm -rf /var/lib/apt/lists/*`;
    case "dnf":
    case "yum":
    case "microdnf":
      return `RUN ${facts.os.packageManager} install -y ${pkg}`;
    default:
      return "RUN pip install tzdata  # Python's zoneinfo falls back to the tzdata package";
  }
}

export const tzZoneinfo: CheckDefinition = {
  id: "tz.zoneinfo",
  group: "tz",
  title: "Zone database present and intact",
  description:
    "Checks that the target has a zoneinfo database with a file for every zone a source names (Alpine and slim images without tzdata, legacy names moved to tzdata-legacy on Debian 13), and that no zone file was overwritten by a bind-mounted host /etc/localtime.",
  run(facts): CheckResult {
    const zi = facts.tz.zoneinfo;
    const refs = referencedNames(facts);
    const evidence = {
      dir: zi.dir,
      exists: zi.exists,
      tzdataVersion: zi.version,
      pipTzdata: zi.pipTzdata,
      legacyNamesPresent: zi.legacyNames,
      os: facts.os.prettyName ?? facts.os.id,
      zones: Object.fromEntries(
        refs.map((r) => {
          const z = facts.tz.zones[r.name];
          return [
            r.name,
            { path: z?.path ?? null, canonical: z?.canonical ?? null, error: z?.error ?? null },
          ];
        }),
      ),
    };
    const details: string[] = [];
    const commands: string[] = [];
    let status: "pass" | "warn" | "fail" = "pass";

    if (!zi.exists && !zi.pipTzdata) {
      const needed = refs.length > 0;
      status = needed ? "fail" : "warn";
      details.push(
        needed
          ? `no ${zi.dir}: ${refs.map((r) => r.name).join(", ")} cannot be loaded; glibc silently uses UTC and tzlocal 4+ raises "does not support non-zoneinfo timezones"`
          : `no ${zi.dir}: only UTC is available`,
      );
      commands.push(installCommand(facts, "tzdata"));
    }
    for (const r of refs) {
      const z = facts.tz.zones[r.name];
      if (!zi.exists && !zi.pipTzdata) break;
      if (!z?.path) {
        status = "fail";
        const legacy = LEGACY.has(r.name) || LEGACY_PREFIX.test(r.name);
        const debian13 = facts.os.id === "debian" && Number.parseInt(facts.os.versionId ?? "0", 10) >= 13;
        if (legacy && (debian13 || !zi.legacyNames)) {
          details.push(
            `${r.name} (${r.source}) is a legacy alias missing from this tzdata (Debian 13 moved such names to tzdata-legacy); use its canonical name`,
          );
          commands.push(installCommand(facts, "tzdata-legacy"));
        } else {
          details.push(`${r.name} (${r.source}) has no zone file in ${zi.dir}`);
        }
      } else if (z.error) {
        status = "fail";
        details.push(`${z.path} (${r.source}) is not a valid zone file: ${z.error}`);
      }
    }
    for (const z of Object.values(facts.tz.zones)) {
      const expected = expectedFixedOffset(z.name);
      if (expected === null || !z.tzif || !z.path) continue;
      const actual = facts.tz.layout.zones.offsetAt(z.name, facts.now);
      if (actual !== null && actual !== expected) {
        status = "fail";
        details.push(
          `${z.path} holds the rules of a ${formatOffset(actual)} zone, not ${z.name}: a host /etc/localtime bind-mounted over the container's symlink overwrote it (tzlocal then returns "${z.name}" with the wrong offset)`,
        );
        commands.push(
          "# docker run / compose: mount nothing over /etc/localtime; set TZ instead, e.g.  -e TZ=Europe/Berlin",
        );
      }
    }
    const summary =
      status === "pass"
        ? zi.exists
          ? `${zi.dir}${zi.version ? ` (tzdata ${zi.version})` : ""} has every zone the sources name`
          : `no ${zi.dir}, but the pip tzdata package provides zones`
        : (details[0] ?? "zone database problem");
    return {
      status,
      summary,
      details: status === "pass" ? details : details.slice(1),
      evidence,
      ...(commands.length > 0
        ? { fix: { text: "Install the zone data the sources need:", commands: [...new Set(commands)] } }
        : {}),
    };
  },
};
