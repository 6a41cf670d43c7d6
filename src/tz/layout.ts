/**
 * The timezone layout of a target as tzlocal and libc see it: the input of the pure predictors in
 * `tzlocal.ts` and `libc.ts`. Built from gathered facts (src/facts/tz.ts); tests build it by hand.
 */

/** A small text config file that tzlocal reads (/etc/timezone, /var/db/zoneinfo, clock files). */
export interface TextFileFact {
  path: string;
  exists: boolean;
  /** Raw bytes decoded as latin1 (so no byte is lost); null when the file is missing or unreadable. */
  raw: string | null;
  /** True when the bytes are not valid UTF-8 (3.x+ skips it) */
  notUtf8: boolean;
  /** True when the bytes are not pure ASCII (5.4+ reads with encoding="ascii") */
  notAscii: boolean;
}

/** The target's zone database, as Python's zoneinfo and tzlocal would look it up. */
export interface ZoneLookup {
  /** True when `ZoneInfo(name)` would load a file for this key from the target's tz path. */
  exists(name: string): boolean;
  /**
   * `os.path.realpath(<zoneinfo>/<name>)` relative to the zoneinfo directory: what tzlocal >= 4.1 compares
   * to decide whether two names are the same zone. Null when the file does not exist.
   */
  canonical(name: string): string | null;
  /** UTC offset in seconds east of UTC for the zone at `t` (epoch seconds); null when not loadable. */
  offsetAt(name: string, t: number): number | null;
}

/** A TZif file found at a path (for TZ=/abs/path and a copied /etc/localtime). */
export interface TzifFileFact {
  path: string;
  exists: boolean;
  isSymlink: boolean;
  /** realpath inside the target, or null when dangling or missing */
  realpath: string | null;
  /** True when the file at the path (after links) is a regular file */
  isFile: boolean;
  /** UTC offset in seconds at `t` from this file's TZif content; null when not a readable TZif. */
  offsetAt: (t: number) => number | null;
}

export interface TzLayout {
  /** The TZ environment variable of the app's process; undefined when unset ("" is set-but-empty). */
  tzEnv: string | undefined;
  etcTimezone: TextFileFact;
  varDbZoneinfo: TextFileFact;
  sysconfigClock: TextFileFact;
  confdClock: TextFileFact;
  /** /etc/localtime */
  localtime: TzifFileFact;
  /** /usr/local/etc/localtime (tzlocal's last-resort file) */
  usrLocalEtcLocaltime: TzifFileFact;
  /** /system/bin/getprop exists (Termux); tzlocal then asks Android instead. */
  termux: boolean;
  /** Looks up TZ=/absolute/path values inside the target. */
  fileAt(path: string): TzifFileFact;
  zones: ZoneLookup;
  /** The offset libc's localtime() gives the process (TZ + /etc/localtime as glibc reads them). */
  systemOffsetAt(t: number): number;
  /** Evaluation instant, epoch seconds. */
  now: number;
}
