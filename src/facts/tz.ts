import type { Target } from "../targets/target.js";
import { TargetReadError } from "../targets/target.js";
import type { TextFileFact, TzifFileFact, TzLayout, ZoneLookup } from "../tz/layout.js";
import { DEFAULT_TZDIR, type LibcFlavor, type LibcReading, libcReading } from "../tz/libc.js";
import { posixOffsetAt } from "../tz/posix.js";
import { isTzif, parseTzif, type Tzif, tzifOffsetAt } from "../tz/tzif.js";
import type { LocaltimeFact, TzFacts, ZoneFileFact } from "./types.js";

/** Python's zoneinfo.TZPATH default; the pip `tzdata` package comes after it. */
export const PYTHON_TZPATH = [
  "/usr/share/zoneinfo",
  "/usr/lib/zoneinfo",
  "/usr/share/lib/zoneinfo",
  "/etc/zoneinfo",
];
const MAX_TEXT_FILE = 64 * 1024;
const MAX_TZIF_FILE = 1024 * 1024;
const TEXT_SOURCES = {
  etcTimezone: "/etc/timezone",
  varDbZoneinfo: "/var/db/zoneinfo",
  sysconfigClock: "/etc/sysconfig/clock",
  confdClock: "/etc/conf.d/clock",
} as const;
/** Directories under zoneinfo that hold copies of every zone (not zones of their own). */
const ZONEINFO_SKIP_DIRS = new Set(["posix", "right"]);

interface TzifAtPath {
  path: string;
  exists: boolean;
  isSymlink: boolean;
  realpath: string | null;
  isFile: boolean;
  tzif: Tzif | null;
  error: string | null;
  size: number | null;
}

async function readTextFact(target: Target, path: string, notes: string[]): Promise<TextFileFact> {
  let buf: Buffer | null = null;
  try {
    buf = await target.readFile(path, MAX_TEXT_FILE);
  } catch (err) {
    if (!(err instanceof TargetReadError)) throw err;
    notes.push(`${path}: ${err.reason}`);
    return { path, exists: true, raw: null, notUtf8: false, notAscii: false };
  }
  if (!buf) return { path, exists: false, raw: null, notUtf8: false, notAscii: false };
  let notUtf8 = false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    notUtf8 = true;
  }
  const notAscii = buf.some((b) => b > 0x7f);
  return { path, exists: true, raw: buf.toString("latin1"), notUtf8, notAscii };
}

async function readTzifAt(target: Target, path: string): Promise<TzifAtPath> {
  const l = await target.lstat(path);
  const fact: TzifAtPath = {
    path,
    exists: false,
    isSymlink: l?.type === "symlink",
    realpath: null,
    isFile: false,
    tzif: null,
    error: null,
    size: null,
  };
  if (!l) return fact;
  fact.realpath = await target.realpath(path);
  const st = await target.stat(path);
  if (!st) return fact; // dangling link: os.path.exists() is False
  fact.exists = true;
  fact.isFile = st.type === "file";
  fact.size = st.size;
  if (!fact.isFile) {
    fact.error = `not a regular file (${st.type})`;
    return fact;
  }
  try {
    const buf = await target.readFile(path, MAX_TZIF_FILE);
    if (buf) fact.tzif = parseTzif(buf);
  } catch (err) {
    fact.error = (err as Error).message;
  }
  return fact;
}

function toTzifFileFact(f: TzifAtPath): TzifFileFact {
  const tzif = f.tzif;
  return {
    path: f.path,
    exists: f.exists,
    isSymlink: f.isSymlink,
    realpath: f.realpath,
    isFile: f.isFile,
    offsetAt: (t) => (tzif ? tzifOffsetAt(tzif, t).utoff : null),
  };
}

/** A key ZoneInfo() accepts: relative, normalised, no '..' (zoneinfo._common / _tzpath validation). */
export function isValidZoneKey(name: string): boolean {
  if (name === "" || name.startsWith("/") || name.includes("\0")) return false;
  const parts = name.split("/");
  return parts.every((p) => p !== "" && p !== "." && p !== "..");
}

/** Collects candidate zone names from a text source generously: every first word, with and without '/'. */
function namesInText(raw: string | null): string[] {
  if (!raw) return [];
  const out = new Set<string>();
  for (const line of raw.split(/\r?\n/)) {
    const word = line.trim().split(/\s+/)[0]?.split("#")[0] ?? "";
    if (word) {
      out.add(word);
      out.add(word.replace(/^\/+|\/+$/g, ""));
    }
    for (const m of line.matchAll(/"([^"]*)"?/g)) if (m[1]) out.add(m[1].replace(/ /g, "_"));
    const unquoted = /^\s*(?:ZONE|TIMEZONE)\s*=\s*'?([^'"\s]+)/.exec(line);
    if (unquoted?.[1]) out.add(unquoted[1]);
  }
  return [...out];
}

function suffixes(path: string | null): string[] {
  if (!path) return [];
  const parts = path.split("/").filter(Boolean);
  return parts.map((_, i) => parts.slice(i).join("/"));
}

export class ZoneStore {
  readonly zones = new Map<string, ZoneFileFact>();
  readonly requested = new Set<string>();

  constructor(
    private readonly target: Target,
    private readonly searchDirs: string[],
  ) {}

  async load(names: Iterable<string>): Promise<void> {
    for (const name of names) {
      if (this.zones.has(name)) continue;
      this.zones.set(name, await this.loadOne(name));
    }
  }

  private async loadOne(name: string): Promise<ZoneFileFact> {
    const fact: ZoneFileFact = { name, path: null, canonical: name, tzif: null, error: null };
    if (!isValidZoneKey(name)) return fact;
    for (const dir of this.searchDirs) {
      const path = `${dir}/${name}`;
      const st = await this.target.stat(path);
      if (st?.type !== "file") continue;
      fact.path = path;
      const real = await this.target.realpath(path);
      const base = (await this.target.realpath(dir)) ?? dir;
      if (real?.startsWith(`${base}/`)) fact.canonical = real.slice(base.length + 1);
      try {
        const buf = await this.target.readFile(path, MAX_TZIF_FILE);
        if (buf) fact.tzif = parseTzif(buf);
      } catch (err) {
        fact.error = (err as Error).message;
      }
      return fact;
    }
    return fact;
  }

  /** The synchronous view the pure predictors use; names not loaded yet are recorded for another round. */
  lookup(): ZoneLookup {
    const get = (name: string): ZoneFileFact | undefined => {
      const z = this.zones.get(name);
      if (!z) this.requested.add(name);
      return z;
    };
    return {
      exists: (name) => Boolean(get(name)?.tzif),
      canonical: (name) => get(name)?.canonical ?? name,
      offsetAt: (name, t) => {
        const z = get(name);
        return z?.tzif ? tzifOffsetAt(z.tzif, t).utoff : null;
      },
    };
  }
}

/** Finds the zones whose file is byte-identical to a copied /etc/localtime (size first, then bytes). */
async function identifyCopiedLocaltime(target: Target, zoneinfoDir: string, size: number): Promise<string[]> {
  const mine = await target.readFile("/etc/localtime", MAX_TZIF_FILE);
  if (!mine || !isTzif(mine)) return [];
  const same: string[] = [];
  for (const f of await target.listFiles(zoneinfoDir, ZONEINFO_SKIP_DIRS)) {
    if (f.size !== size) continue;
    const other = await target.readFile(`${zoneinfoDir}/${f.path}`, MAX_TZIF_FILE).catch(() => null);
    if (other?.equals(mine)) same.push(f.path);
  }
  return same.sort();
}

function zoneFromPath(path: string | null, dirs: string[]): string | null {
  if (!path) return null;
  for (const d of dirs) if (path.startsWith(`${d}/`)) return path.slice(d.length + 1);
  return null;
}

function systemOffsetFn(reading: LibcReading, files: Map<string, TzifAtPath>): (t: number) => number {
  if (reading.kind === "file") {
    const tzif = files.get(reading.path)?.tzif;
    return (t) => (tzif ? tzifOffsetAt(tzif, t).utoff : 0);
  }
  if (reading.kind === "posix") return (t) => posixOffsetAt(reading.tz, t).utoff;
  return () => 0;
}

export interface GatherTzOptions {
  env: Record<string, string | undefined>;
  now: number;
  libc?: LibcFlavor;
  /** site-packages/tzdata/zoneinfo when the pip tzdata package is installed */
  pipTzdata?: string | null;
  notes?: string[];
}

/** Paths libc may open for a TZ value; loaded up front so the libc reading stays a pure function. */
function libcCandidatePaths(tzEnv: string | undefined): string[] {
  const paths = ["/etc/localtime"];
  if (tzEnv) {
    const v = tzEnv.startsWith(":") ? tzEnv.slice(1) : tzEnv;
    if (v.startsWith("/")) paths.push(v);
    else if (v) for (const d of [DEFAULT_TZDIR, "/share/zoneinfo", "/etc/zoneinfo"]) paths.push(`${d}/${v}`);
  }
  return paths;
}

export async function gatherTzFacts(
  target: Target,
  opts: GatherTzOptions,
): Promise<Omit<TzFacts, "sources"> & { store: ZoneStore }> {
  const notes = opts.notes ?? [];
  const tzEnv = opts.env.TZ;
  const searchDirs = [...PYTHON_TZPATH, ...(opts.pipTzdata ? [opts.pipTzdata] : [])];
  const store = new ZoneStore(target, searchDirs);

  const text = {
    etcTimezone: await readTextFact(target, TEXT_SOURCES.etcTimezone, notes),
    varDbZoneinfo: await readTextFact(target, TEXT_SOURCES.varDbZoneinfo, notes),
    sysconfigClock: await readTextFact(target, TEXT_SOURCES.sysconfigClock, notes),
    confdClock: await readTextFact(target, TEXT_SOURCES.confdClock, notes),
  };

  const files = new Map<string, TzifAtPath>();
  const tzifAt = async (p: string): Promise<TzifAtPath> => {
    let f = files.get(p);
    if (!f) {
      f = await readTzifAt(target, p);
      files.set(p, f);
    }
    return f;
  };
  for (const p of libcCandidatePaths(tzEnv)) await tzifAt(p);
  const usrLocal = await tzifAt("/usr/local/etc/localtime");
  const lt = await tzifAt("/etc/localtime");
  const termux = (await target.lstat("/system/bin/getprop")) !== null;

  const zoneinfoDir = DEFAULT_TZDIR;
  const zoneinfoExists = (await target.stat(zoneinfoDir))?.type === "dir";
  let version: string | null = null;
  const links: Record<string, string> = {};
  try {
    const zi = (await target.readFile(`${zoneinfoDir}/tzdata.zi`, 1024 * 1024))?.toString("latin1") ?? "";
    version = /^# version (\S+)/.exec(zi)?.[1] ?? null;
    for (const m of zi.matchAll(/^L (\S+) (\S+)$/gm)) if (m[1] && m[2]) links[m[2]] = m[1];
  } catch (err) {
    notes.push(`${zoneinfoDir}/tzdata.zi: ${(err as Error).message}`);
  }
  const legacyNames = (await target.lstat(`${zoneinfoDir}/US/Eastern`)) !== null;

  // /etc/localtime as tzlocal and the user see it.
  const linkTarget = lt.isSymlink ? await target.readlink("/etc/localtime") : null;
  const localtime: LocaltimeFact = {
    kind:
      !lt.isSymlink && !lt.exists
        ? "missing"
        : lt.isSymlink
          ? lt.exists
            ? "symlink"
            : "dangling-symlink"
          : lt.isFile
            ? "file"
            : "other",
    linkTarget,
    resolved: lt.realpath,
    zoneFromLink: lt.isSymlink ? zoneFromPath(lt.realpath, [zoneinfoDir, ...PYTHON_TZPATH]) : null,
    tzif: lt.tzif,
    error: lt.error,
    identifiedAs: [],
    size: lt.size,
  };
  if (localtime.kind === "file" && lt.size !== null && zoneinfoExists) {
    localtime.identifiedAs = await identifyCopiedLocaltime(target, zoneinfoDir, lt.size);
  }

  // Every zone name any source could designate, loaded once.
  const candidates = new Set<string>(["UTC", "Etc/UTC"]);
  for (const f of Object.values(text)) for (const n of namesInText(f.raw)) candidates.add(n);
  for (const s of suffixes(lt.realpath)) candidates.add(s);
  for (const s of suffixes(linkTarget)) candidates.add(s);
  if (tzEnv) {
    const v = tzEnv.startsWith(":") ? tzEnv.slice(1) : tzEnv;
    candidates.add(v);
    for (const s of suffixes(v.startsWith("/") ? (files.get(v)?.realpath ?? v) : null)) candidates.add(s);
  }
  for (const n of localtime.identifiedAs) candidates.add(n);
  await store.load(candidates);

  const libc = opts.libc ?? "glibc";
  const isTzifFile = (p: string) => Boolean(files.get(p)?.tzif);
  const reading = libcReading(libc, tzEnv, isTzifFile);
  const layout: TzLayout = {
    tzEnv,
    ...text,
    localtime: toTzifFileFact(lt),
    usrLocalEtcLocaltime: toTzifFileFact(usrLocal),
    termux,
    fileAt: (p) =>
      toTzifFileFact(
        files.get(p) ?? {
          ...lt,
          path: p,
          exists: false,
          isSymlink: false,
          realpath: null,
          isFile: false,
          tzif: null,
        },
      ),
    zones: store.lookup(),
    systemOffsetAt: systemOffsetFn(reading, files),
    now: opts.now,
  };

  return {
    layout,
    tzEnv,
    localtime,
    zoneinfo: {
      dir: zoneinfoDir,
      exists: zoneinfoExists,
      version,
      legacyNames,
      pipTzdata: opts.pipTzdata ?? null,
      links,
    },
    zones: Object.fromEntries(store.zones),
    libc: reading,
    libcTzif: reading.kind === "file" ? (files.get(reading.path)?.tzif ?? null) : null,
    store,
  };
}

/** What the tzlocal-predictor tests use: the layout of a target, as doctor builds it. */
export async function buildTzLayout(
  target: Target,
  opts: { env: Record<string, string | undefined>; now: number; libc?: LibcFlavor },
): Promise<TzLayout> {
  return (await gatherTzFacts(target, opts)).layout;
}
