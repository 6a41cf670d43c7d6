import type { TextFileFact } from "../tz/layout.js";
import type { ConfigValue, TzFacts, TzSourceFact } from "./types.js";

/** tzlocal's reading of /etc/timezone-style files: each line cut at the first space, then at '#'. */
export function zoneFromTimezoneFile(f: TextFileFact): string | null {
  if (!f.raw) return null;
  let zone: string | null = null;
  for (const raw of f.raw.replace(/^[/ \t\r\n]+|[/ \t\r\n]+$/g, "").split("\n")) {
    const name = ((raw.split(" ")[0] ?? "").split("#")[0] ?? "").trim();
    if (name) zone = name; // 4.x and later keep the last such line
  }
  return zone;
}

/** ZONE="..." / TIMEZONE="..." from /etc/sysconfig/clock or /etc/conf.d/clock (double quotes only). */
export function zoneFromClockFile(f: TextFileFact): string | null {
  if (!f.raw) return null;
  let zone: string | null = null;
  for (const line of f.raw.split("\n")) {
    const m = /^\s*(?:ZONE|TIMEZONE)\s*=\s*"([^"]*)"/.exec(line);
    if (m?.[1] !== undefined) zone = m[1].replace(/ /g, "_");
  }
  return zone;
}

function shown(raw: string | null): string | null {
  if (raw === null) return null;
  const t = raw.trim();
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

export function tzSources(tz: Omit<TzFacts, "sources">, schedulerTimezone: ConfigValue[]): TzSourceFact[] {
  const out: TzSourceFact[] = [];
  const l = tz.layout;
  if (tz.tzEnv === undefined)
    out.push({ source: "TZ", raw: null, zone: null, note: "unset", kind: "system" });
  else {
    const v = tz.tzEnv.startsWith(":") ? tz.tzEnv.slice(1) : tz.tzEnv;
    out.push({
      source: "TZ",
      raw: tz.tzEnv,
      zone: v === "" ? null : v,
      note:
        tz.tzEnv === ""
          ? "set but empty"
          : l.zones.exists(v)
            ? "zone found"
            : v.startsWith("/")
              ? "file path"
              : "no such zone file",
      kind: "system",
    });
  }
  for (const f of [l.etcTimezone, l.varDbZoneinfo]) {
    if (!f.exists && f.path !== "/etc/timezone") continue;
    const zone = zoneFromTimezoneFile(f);
    out.push({
      source: f.path,
      raw: shown(f.raw),
      zone,
      note: !f.exists
        ? "missing"
        : f.notUtf8
          ? "not text"
          : zone
            ? l.zones.exists(zone)
              ? "zone found"
              : "no such zone file"
            : "empty",
      kind: "system",
    });
  }
  for (const f of [l.sysconfigClock, l.confdClock]) {
    if (!f.exists) continue;
    const zone = zoneFromClockFile(f);
    out.push({
      source: f.path,
      raw: shown(f.raw),
      zone,
      note: zone ? "ZONE= found" : "no double-quoted ZONE=",
      kind: "system",
    });
  }
  const lt = tz.localtime;
  const ltNote: Record<typeof lt.kind, string> = {
    missing: "missing",
    symlink: `symlink to ${lt.linkTarget ?? "?"}`,
    "dangling-symlink": `dangling symlink to ${lt.linkTarget ?? "?"}`,
    file:
      lt.identifiedAs.length > 0
        ? `copied file, identical to ${lt.identifiedAs.join(", ")}`
        : "copied file, matches no zone",
    other: "not a file",
  };
  out.push({
    source: "/etc/localtime",
    raw: lt.linkTarget,
    zone: lt.kind === "symlink" ? lt.zoneFromLink : lt.kind === "file" ? (lt.identifiedAs[0] ?? null) : null,
    note: ltNote[lt.kind],
    kind: "system",
  });
  for (const s of schedulerTimezone) {
    out.push({
      source: `SCHEDULER_TIMEZONE (${s.source})`,
      raw: s.value,
      zone: s.value,
      note: l.zones.exists(s.value) ? "zone found" : "no such zone file",
      kind: "app",
    });
  }
  return out;
}
