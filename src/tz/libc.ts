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
 * musl (src/time/__tz.c): unset or "" → /etc/localtime; only ':'-prefixed values or values with a '/'
 * (before any ',') are file names; everything else is parsed as POSIX, so TZ=PRC is UTC+0 on Alpine.
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
  return {
    kind: "utc",
    how: `TZ="${tzEnv}": no zone file ${path} and not a POSIX TZ string: glibc silently uses UTC`,
    silent: true,
  };
}

function muslReading(tzEnv: string | undefined, isTzifFile: (p: string) => boolean): LibcReading {
  let value = tzEnv === undefined || tzEnv === "" ? "/etc/localtime" : tzEnv;
  const label =
    tzEnv === undefined ? "TZ unset" : tzEnv === "" ? 'TZ="" (musl treats empty as unset)' : `TZ="${tzEnv}"`;
  const slash = value.indexOf("/");
  const comma = value.indexOf(",");
  if (value.startsWith(":") || (slash >= 0 && (comma < 0 || comma > slash))) {
    if (value.startsWith(":")) value = value.slice(1);
    if (value.startsWith("/") || value.startsWith(".")) {
      if (isTzifFile(value)) return { kind: "file", path: value, how: `${label}: zone file ${value}` };
    } else if (!value.includes(".")) {
      for (const dir of MUSL_SEARCH) {
        if (isTzifFile(dir + value))
          return { kind: "file", path: dir + value, how: `${label}: zone file ${dir}${value}` };
      }
    }
    return { kind: "utc", how: `${label}: no zone file found, musl uses UTC`, silent: true };
  }
  const posix = parsePosixTz(value);
  if (posix) return { kind: "posix", tz: posix, how: `${label}: parsed by musl as a POSIX TZ string` };
  // musl reads the leading letters as the zone's name and no offset: UTC+0 under that name (TZ=PRC, TZ=Japan).
  const meantUtc = /^(UTC|GMT|UCT|Zulu|Universal)$/.test(value);
  return {
    kind: "utc",
    how: `${label}: musl reads a name without '/' as a POSIX string with no offset: UTC`,
    silent: !meantUtc,
  };
}
