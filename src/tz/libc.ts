import type { PosixTz } from "./posix.js";
import { parsePosixTz } from "./posix.js";

export type LibcFlavor = "glibc" | "musl";

/** How the C library of the target turns TZ (or its absence) into local time. */
export type LibcReading =
  | { kind: "file"; path: string; how: string }
  | { kind: "posix"; tz: PosixTz; how: string }
  /** UTC; `silent` when it is a fallback the user most likely did not intend (typo, missing zone file). */
  | { kind: "utc"; how: string; silent: boolean };

export const DEFAULT_TZDIR = "/usr/share/zoneinfo";
const MUSL_SEARCH = ["/usr/share/zoneinfo/", "/share/zoneinfo/", "/etc/zoneinfo/"];

/**
 * glibc (time/tzset.c): unset → /etc/localtime; "" → UTC; a leading ':' is dropped; then "try a data file,
 * and if none exists parse the POSIX syntax"; an unparseable value silently leaves UTC.
 * musl: see muslReading (measured: TZ="" is UTC, TZ=PRC loads the zone file when tzdata is installed).
 * `isTzifFile(path)` answers whether a path in the target holds a loadable TZif file.
 */
export function libcReading(
  flavor: LibcFlavor,
  tzEnv: string | undefined,
  isTzifFile: (path: string) => boolean,
  tzdir: string = DEFAULT_TZDIR,
): LibcReading {
  if (flavor === "glibc") return glibcReading(tzEnv, isTzifFile, tzdir);
  return muslReading(tzEnv, isTzifFile);
}

function glibcReading(
  tzEnv: string | undefined,
  isTzifFile: (p: string) => boolean,
  tzdir: string,
): LibcReading {
  if (tzEnv === undefined) {
    if (isTzifFile("/etc/localtime"))
      return { kind: "file", path: "/etc/localtime", how: "TZ unset: /etc/localtime" };
    return {
      kind: "utc",
      how: "TZ unset and /etc/localtime missing or unreadable: glibc uses UTC",
      silent: true,
    };
  }
  if (tzEnv === "") return { kind: "utc", how: 'TZ="" (set but empty): glibc uses UTC', silent: true };
  const value = tzEnv.startsWith(":") ? tzEnv.slice(1) : tzEnv;
  if (value === "") return { kind: "utc", how: 'TZ=":": glibc uses UTC', silent: true };
  const path = value.startsWith("/") ? value : `${tzdir}/${value}`;
  if (isTzifFile(path)) return { kind: "file", path, how: `TZ="${tzEnv}": zone file ${path}` };
  const posix = parsePosixTz(value);
  if (posix)
    return {
      kind: "posix",
      tz: posix,
      how: `TZ="${tzEnv}": no zone file ${path}, parsed as a POSIX TZ string`,
    };
  const meantUtc = /^(UTC|GMT|UCT|Zulu|Universal)$/.test(value);
  return {
    kind: "utc",
    how: `TZ="${tzEnv}": no zone file ${path} and not a POSIX TZ string: glibc ${meantUtc ? "uses UTC" : "silently uses UTC"}`,
    silent: !meantUtc,
  };
}

/**
 * musl >= 1.2.3 (src/time/__tz.c, measured against musl 1.2.3): unset → /etc/localtime; "" → UTC. A value is
 * a POSIX string only when its name is followed by '+', '-' or a digit, or is exactly UTC or GMT; anything
 * else is a zone file (':' stripped; '/' or '.' paths used directly, names searched in three directories
 * unless they contain '.'), and UTC when no file is found. A DST name without rules means DST all year.
 */
function muslReading(tzEnv: string | undefined, isTzifFile: (p: string) => boolean): LibcReading {
  if (tzEnv === undefined) {
    if (isTzifFile("/etc/localtime"))
      return { kind: "file", path: "/etc/localtime", how: "TZ unset: /etc/localtime" };
    return {
      kind: "utc",
      how: "TZ unset and /etc/localtime missing or unreadable: musl uses UTC",
      silent: true,
    };
  }
  if (tzEnv === "") return { kind: "utc", how: 'TZ="" (set but empty): musl uses UTC', silent: true };
  const label = `TZ="${tzEnv}"`;
  if (!tzEnv.startsWith(":")) {
    const name = /^(<[^>]*>|[A-Za-z]+)/.exec(tzEnv)?.[0] ?? "";
    const next = tzEnv.charAt(name.length);
    if (
      name &&
      (next === "+" ||
        next === "-" ||
        /[0-9]/.test(next) ||
        tzEnv === "UTC" ||
        tzEnv === "GMT" ||
        name === "UTC" ||
        name === "GMT")
    ) {
      const posix = parsePosixTz(tzEnv);
      if (posix) {
        if (posix.dst?.rulesDefaulted) {
          // musl has no posixrules fallback: with no rules both transition times are zero, so DST all year.
          const allYear: PosixTz = { source: posix.source, std: posix.dst.type, dst: null };
          return {
            kind: "posix",
            tz: allYear,
            how: `${label}: DST name without rules: musl applies DST all year`,
          };
        }
        return { kind: "posix", tz: posix, how: `${label}: parsed by musl as a POSIX TZ string` };
      }
      const meantUtc = tzEnv === "UTC" || tzEnv === "GMT";
      return {
        kind: "utc",
        how: `${label}: musl reads it as ${meantUtc ? "UTC" : "UTC (its offset does not parse)"}`,
        silent: !meantUtc,
      };
    }
  }
  const value = tzEnv.startsWith(":") ? tzEnv.slice(1) : tzEnv;
  if (value.startsWith("/") || value.startsWith(".")) {
    if (isTzifFile(value)) return { kind: "file", path: value, how: `${label}: zone file ${value}` };
  } else if (value && !value.includes(".")) {
    for (const dir of MUSL_SEARCH) {
      if (isTzifFile(dir + value))
        return { kind: "file", path: dir + value, how: `${label}: zone file ${dir}${value}` };
    }
  }
  return { kind: "utc", how: `${label}: no zone file found, musl silently uses UTC`, silent: true };
}
