/**
 * Hand-built TzLayouts for the pure predictors: a fake zone database with fixed offsets and link names,
 * text config files given as strings or bytes, and /etc/localtime as a link, a copied file, a dangling link.
 */
import type { TextFileFact, TzifFileFact, TzLayout, ZoneLookup } from "../../src/tz/layout.js";

export const ZONEINFO = "/usr/share/zoneinfo";
/** 2026-11-30T10:00:00Z: winter in the northern hemisphere (Berlin is +3600). */
export const FAKE_NOW = 1_796_032_800;

export interface FakeZone {
  /** Offset at any instant, seconds east of UTC; null when the file exists but cannot be decoded. */
  offset?: number | null;
  /** A link (symlink on Debian) to this zone: canonical() and the offset follow it unless `offset` is set. */
  linkTo?: string;
}

/** The default fake database: a few real zones and Debian-style symlinked aliases. */
export const DEFAULT_ZONES: Record<string, FakeZone> = {
  "Asia/Shanghai": { offset: 28800 },
  PRC: { linkTo: "Asia/Shanghai" },
  "Etc/UTC": { offset: 0 },
  UTC: { linkTo: "Etc/UTC" },
  "Etc/GMT": { offset: 0 },
  GMT: { linkTo: "Etc/GMT" },
  "Europe/Berlin": { offset: 3600 },
  "America/New_York": { offset: -18000 },
};

/** How /etc/localtime (or /usr/local/etc/localtime, or a TZ=/path file) looks. */
export type FakeTzFile =
  /** symlink to an absolute path; resolves into the fake zone database when under /usr/share/zoneinfo */
  | { link: string }
  /** a regular file with the same content as a zone of the database */
  | { copyOf: string }
  /** a regular file with a fixed offset (null: not a TZif file) */
  | { fileOffset: number | null }
  | { dir: true };

export interface FakeSpec {
  /** TZ of the process; undefined when unset. */
  tz?: string;
  etcTimezone?: string | Buffer;
  varDbZoneinfo?: string | Buffer;
  sysconfigClock?: string | Buffer;
  confdClock?: string | Buffer;
  localtime?: FakeTzFile;
  usrLocalEtcLocaltime?: FakeTzFile;
  /** Other files, for TZ=/absolute/path. */
  files?: Record<string, FakeTzFile>;
  termux?: boolean;
  /** Merged over DEFAULT_ZONES (a value of null removes a zone). */
  zones?: Record<string, FakeZone | null>;
  /** No zone database at all (no tzdata). */
  noZones?: boolean;
  /**
   * libc's offset. Default: glibc-like from TZ (a zone name or absolute file; "" is UTC) or /etc/localtime
   * (missing: UTC); give it explicitly for POSIX strings such as CST-8.
   */
  systemOffset?: number;
  now?: number;
}

function textFact(path: string, v: string | Buffer | undefined): TextFileFact {
  if (v === undefined) return { path, exists: false, raw: null, notUtf8: false, notAscii: false };
  const buf = typeof v === "string" ? Buffer.from(v, "utf8") : v;
  let notUtf8 = false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    notUtf8 = true;
  }
  return { path, exists: true, raw: buf.toString("latin1"), notUtf8, notAscii: buf.some((b) => b > 0x7f) };
}

export function fakeZones(spec: Pick<FakeSpec, "zones" | "noZones">): ZoneLookup {
  const db: Record<string, FakeZone> = {};
  if (!spec.noZones) {
    for (const [k, v] of Object.entries({ ...DEFAULT_ZONES, ...spec.zones })) if (v) db[k] = v;
  }
  const canonical = (name: string): string | null => {
    let n = name;
    for (let hops = 0; hops < 10; hops++) {
      const z = db[n];
      if (!z) return null;
      if (!z.linkTo) return n;
      n = z.linkTo;
    }
    return null;
  };
  return {
    exists: (name) => canonical(name) !== null,
    canonical,
    offsetAt: (name) => {
      const own = db[name];
      if (own && own.offset !== undefined) return own.offset;
      const c = canonical(name);
      return c === null ? null : (db[c]?.offset ?? null);
    },
  };
}

function tzifFact(path: string, f: FakeTzFile | undefined, zones: ZoneLookup): TzifFileFact {
  const none = { path, exists: false, isSymlink: false, realpath: null, isFile: false, offsetAt: () => null };
  if (!f) return none;
  if ("link" in f) {
    const prefix = `${ZONEINFO}/`;
    const name = f.link.startsWith(prefix) ? f.link.slice(prefix.length) : null;
    const canon = name !== null ? zones.canonical(name) : null;
    if (name === null || canon === null) return { ...none, isSymlink: true };
    return {
      path,
      exists: true,
      isSymlink: true,
      realpath: `${prefix}${canon}`,
      isFile: true,
      offsetAt: (t) => zones.offsetAt(name, t),
    };
  }
  if ("copyOf" in f) {
    return {
      path,
      exists: true,
      isSymlink: false,
      realpath: path,
      isFile: true,
      offsetAt: (t) => zones.offsetAt(f.copyOf, t),
    };
  }
  if ("fileOffset" in f) {
    return {
      path,
      exists: true,
      isSymlink: false,
      realpath: path,
      isFile: true,
      offsetAt: () => f.fileOffset,
    };
  }
  return { path, exists: true, isSymlink: false, realpath: path, isFile: false, offsetAt: () => null };
}

export function fakeLayout(spec: FakeSpec = {}): TzLayout {
  const zones = fakeZones(spec);
  const now = spec.now ?? FAKE_NOW;
  const localtime = tzifFact("/etc/localtime", spec.localtime, zones);
  const usrLocal = tzifFact("/usr/local/etc/localtime", spec.usrLocalEtcLocaltime, zones);
  const fileAt = (p: string): TzifFileFact => {
    if (p === "/etc/localtime") return localtime;
    if (p === "/usr/local/etc/localtime") return usrLocal;
    const given = spec.files?.[p];
    if (given) return tzifFact(p, given, zones);
    if (p.startsWith(`${ZONEINFO}/`)) {
      const name = p.slice(ZONEINFO.length + 1);
      const canon = zones.canonical(name);
      if (canon !== null) {
        const isLink = canon !== name;
        return tzifFact(p, isLink ? { link: `${ZONEINFO}/${canon}` } : { copyOf: name }, zones);
      }
    }
    return tzifFact(p, undefined, zones);
  };
  const systemOffsetAt = (t: number): number => {
    if (spec.systemOffset !== undefined) return spec.systemOffset;
    if (spec.tz === undefined) return localtime.offsetAt(t) ?? 0;
    const v = spec.tz.startsWith(":") ? spec.tz.slice(1) : spec.tz;
    if (v === "") return 0;
    if (v.startsWith("/")) return fileAt(v).offsetAt(t) ?? 0;
    return zones.offsetAt(v, t) ?? 0;
  };
  return {
    tzEnv: spec.tz,
    etcTimezone: textFact("/etc/timezone", spec.etcTimezone),
    varDbZoneinfo: textFact("/var/db/zoneinfo", spec.varDbZoneinfo),
    sysconfigClock: textFact("/etc/sysconfig/clock", spec.sysconfigClock),
    confdClock: textFact("/etc/conf.d/clock", spec.confdClock),
    localtime,
    usrLocalEtcLocaltime: usrLocal,
    termux: spec.termux ?? false,
    fileAt,
    zones,
    systemOffsetAt,
    now,
  };
}

/** Shorthand: /etc/localtime as a symlink to a zone of the fake database. */
export function linkTo(zone: string): FakeTzFile {
  return { link: `${ZONEINFO}/${zone}` };
}
