import type { Facts, OsFacts } from "../../facts/types.js";
import { posixTransitionsBetween } from "../../tz/posix.js";
import { tzifTransitionsBetween } from "../../tz/tzif.js";
import { predictAllTzlocal, type TzlocalLine, type TzlocalPrediction } from "../../tz/tzlocal.js";

export const YEAR_SECONDS = 366 * 86400;

/** "UTC+08:00" / "UTC-05:30" / "UTC" */
export function formatOffset(seconds: number): string {
  if (seconds === 0) return "UTC";
  const sign = seconds < 0 ? "-" : "+";
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return `UTC${sign}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}${s ? `:${String(s).padStart(2, "0")}` : ""}`;
}

export function isoDate(t: number): string {
  return new Date(t * 1000).toISOString().replace(".000Z", "Z");
}

/** The tzlocal line the target's installed tzlocal belongs to, or the one its APScheduler would pull in. */
export function installedTzlocalLine(facts: Facts): { line: TzlocalLine | null; why: string } {
  const tzl = facts.python.packages.tzlocal;
  if (tzl) {
    const major = Number.parseInt(tzl.version, 10);
    const line: TzlocalLine = major <= 3 ? "2.x" : major === 4 ? "4.x" : "5.x";
    return { line, why: `tzlocal ${tzl.version} installed in ${tzl.location}` };
  }
  const aps = facts.python.packages.apscheduler;
  if (aps) {
    const [maj, min, patch] = aps.version.split(".").map((x) => Number.parseInt(x, 10) || 0) as [
      number,
      number,
      number,
    ];
    const v = maj * 10000 + min * 100 + patch;
    // APScheduler's own pins: 3.7.0-3.8.0 tzlocal~=2.0; a fresh install of later 3.x resolves to tzlocal 5.x.
    if (maj === 3 && v >= 30700 && v < 30801)
      return { line: "2.x", why: `APScheduler ${aps.version} pins tzlocal ~= 2.0` };
    if (maj === 3 && v >= 30801)
      return { line: "5.x", why: `APScheduler ${aps.version}: a fresh install resolves to tzlocal 5.x` };
  }
  return { line: null, why: "no tzlocal or APScheduler found in the target's site-packages" };
}

/** A tzlocal message on one line: "Multiple conflicting ...: /etc/timezone: X; /etc/localtime is a symlink to: Y". */
export function oneLineMessage(message: string | null): string {
  if (!message) return "";
  const lines = message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("Fix the configuration, or set the time zone"));
  const [head = "", ...rest] = lines;
  return rest.length > 0 ? `${head.replace(/:$/, "")}: ${rest.join("; ")}` : head;
}

export function predictions(facts: Facts): TzlocalPrediction[] {
  return predictAllTzlocal(facts.tz.layout);
}

/** The prediction that matters for this target: the installed line, else the worst outcome of all lines. */
export function decisivePrediction(facts: Facts): { prediction: TzlocalPrediction; installed: boolean } {
  const all = predictions(facts);
  const { line } = installedTzlocalLine(facts);
  const mine = all.find((p) => p.line === line);
  if (mine) return { prediction: mine, installed: true };
  const rank = { error: 2, warning: 1, ok: 0 } as const;
  const worst = [...all].sort((a, b) => rank[b.outcome] - rank[a.outcome])[0];
  if (!worst) throw new Error("tzlocal predictor returned nothing");
  return { prediction: worst, installed: false };
}

/** UTC offset of the zone tzlocal returns (by name, or the file behind "local"). */
export function zoneOffsetAt(facts: Facts, zone: string | null, t: number): number | null {
  if (zone === null) return null;
  const l = facts.tz.layout;
  if (zone === "local") {
    const tz = facts.tz.tzEnv;
    if (tz?.replace(/^:/, "").startsWith("/")) return l.fileAt(tz.replace(/^:/, "")).offsetAt(t);
    return l.localtime.offsetAt(t) ?? l.usrLocalEtcLocaltime.offsetAt(t);
  }
  return l.zones.offsetAt(zone, t);
}

/** Instants where the system's (libc's) offset changes in (from, to]. */
export function systemTransitions(facts: Facts, from: number, to: number): number[] {
  const r = facts.tz.libc;
  if (r.kind === "file" && facts.tz.libcTzif)
    return tzifTransitionsBetween(facts.tz.libcTzif, from, to).map((x) => x.at);
  if (r.kind === "posix") return posixTransitionsBetween(r.tz, from, to).map((x) => x.at);
  return [];
}

export function zoneTransitions(facts: Facts, zone: string, from: number, to: number): number[] {
  const tzif = facts.tz.zones[zone]?.tzif;
  return tzif ? tzifTransitionsBetween(tzif, from, to).map((x) => x.at) : [];
}

/**
 * First instant in [now, now+1y] where two offset functions differ, checking now and both sides of every
 * transition either side has in the window. Null when they agree throughout.
 */
export function firstDivergence(
  a: (t: number) => number | null,
  b: (t: number) => number | null,
  now: number,
  transitions: number[],
): number | null {
  const instants = [now, ...transitions.flatMap((t) => [t, t - 1])].filter(
    (t) => t >= now && t <= now + YEAR_SECONDS,
  );
  instants.sort((x, y) => x - y);
  for (const t of instants) {
    const x = a(t);
    const y = b(t);
    if (x !== null && y !== null && x !== y) return t;
  }
  return null;
}

export function systemDescription(facts: Facts): string {
  return facts.tz.libc.how;
}

/** The exact Dockerfile lines that set `zone` correctly for the target's distro (reference §4). */
export function dockerfileTzLines(os: OsFacts, zone: string): string[] {
  const env = `ENV TZ=${zone}`;
  const trixieOrLater = os.id === "debian" && Number.parseInt(os.versionId ?? "0", 10) >= 13;
  switch (os.packageManager) {
    case "apk":
      return [
        env,
        'RUN apk add --no-cache tzdata && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone',
      ];
    case "apt":
      return [
        env,
        "RUN apt-get update \\",
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata \\",
        trixieOrLater
          ? ' && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && rm -f /etc/timezone \\'
          : ' && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone \\',
        " && rm -rf /var/lib/apt/lists/*",
      ];
    case "dnf":
    case "yum":
    case "microdnf":
      return [
        env,
        `RUN ${os.packageManager} install -y tzdata && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime`,
      ];
    default:
      return [env, 'RUN ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone'];
  }
}

/** A build-time check that fails the image build when tzlocal would crash (works with any tzlocal). */
export const BUILD_TIME_CHECK =
  "RUN python3 -c \"import tzlocal, datetime; z = tzlocal.get_localzone(); print('tzlocal:', z, datetime.datetime.now(z).utcoffset())\"";

/** The zone the system sources agree on, or the best guess for a fix: SCHEDULER_TIMEZONE, TZ, localtime. */
export function intendedZone(facts: Facts): string {
  const cfg = facts.app.schedulerTimezone[0]?.value;
  if (cfg && facts.tz.layout.zones.exists(cfg)) return cfg;
  const tz = facts.tz.tzEnv?.replace(/^:/, "");
  if (tz && facts.tz.layout.zones.exists(tz)) return tz;
  const lt = facts.tz.localtime;
  if (lt.kind === "symlink" && lt.zoneFromLink) return lt.zoneFromLink;
  if (lt.kind === "file" && lt.identifiedAs[0]) return lt.identifiedAs[0];
  return "Etc/UTC";
}
