// Oracle test: the TZif reader must agree with the system's own zone data for every TZif file under
// /usr/share/zoneinfo. Truth is Debian's /usr/bin/python3 zoneinfo (one process for all files) and, for
// transitions, glibc's zdump. Missing oracles FAIL (never skip).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type LocalTimeType, parsePosixTz, posixTransitionsBetween } from "../../src/tz/posix.js";
import { isTzif, parseTzif, type Tzif, tzifOffsetAt, tzifTransitionsBetween } from "../../src/tz/tzif.js";

const ZONEINFO = "/usr/share/zoneinfo";
const PYTHON = "/usr/bin/python3";
const INSTALL_HINT = "install the oracles with: apt-get install -y python3 tzdata";

const utc = (y: number, m = 1, d = 1, h = 0) => Date.UTC(y, m - 1, d, h) / 1000;

/** Every regular TZif file (symlinks are not followed: they only repeat regular files). */
function zoneFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) zoneFiles(p, out);
    else if (st.isFile()) out.push(p);
  }
  return out;
}

let zonesCache: { path: string; rel: string; tz: Tzif }[] | undefined;
function loadZones(): { path: string; rel: string; tz: Tzif }[] {
  if (zonesCache) return zonesCache;
  assert.ok(existsSync(ZONEINFO), `${ZONEINFO} is missing; ${INSTALL_HINT}`);
  const zones: { path: string; rel: string; tz: Tzif }[] = [];
  for (const path of zoneFiles(ZONEINFO)) {
    const buf = readFileSync(path);
    if (!isTzif(buf)) continue; // tzdata.zi, zone.tab, leapseconds, iso3166.tab, ...
    zones.push({ path, rel: path.slice(ZONEINFO.length + 1), tz: parseTzif(buf) });
  }
  assert.ok(zones.length >= 300, `only ${zones.length} TZif files under ${ZONEINFO}; ${INSTALL_HINT}`);
  zonesCache = zones;
  return zones;
}

function instantsFor(tz: Tzif): number[] {
  const set = new Set<number>([utc(1900), utc(1970), utc(2100)]);
  for (let y = 2000; y <= 2060; y++) {
    set.add(utc(y, 1, 15));
    set.add(utc(y, 4, 15, 12));
    set.add(utc(y, 7, 15));
    set.add(utc(y, 10, 15, 12));
  }
  // Every explicit transition in the years the Python datetime range and history make interesting...
  const lo = utc(1850);
  const hi = utc(2041);
  for (const at of tz.transitions) {
    if (at >= lo && at < hi) {
      set.add(at - 1);
      set.add(at);
    }
  }
  // ...and every change in 2020-2060, including those generated from the footer rule (Debian's fat files
  // list explicit transitions up to 2037; the footer takes over after that).
  for (const { at } of tzifTransitionsBetween(tz, utc(2020), utc(2061))) {
    set.add(at - 1);
    set.add(at);
  }
  return [...set].sort((a, b) => a - b);
}

/** Footers beyond those the system files use: v3 rule times, all-year DST, J and n day rules, southern. */
const EXTRA_FOOTERS = [
  "EST5EDT,0/0,J365/25",
  "<-03>3<-02>,M3.2.0/-2,M11.1.0/-1",
  "XXX5YYY,M3.2.0/167,M11.1.0/-167",
  "XXX5YYY,M3.2.0/99,M11.1.0/-99",
  "XXX3YYY,J60/2,J300/2",
  "XXX3YYY,59,300",
  "XXX3YYY,J59,J300",
  "XXX-10YYY,J300,J60",
  "AAA-9:30BBB-10:30,M10.1.0,M4.1.0/3",
  "<+0330>-3:30<+0430>,J79/24,J263/24",
  "XXX0YYY,M3.5.0/-1,M10.5.0/0",
  "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
];

/**
 * Where the oracles are wrong, measured against POSIX and the other oracle:
 * - CPython 3.11 zoneinfo puts zero-based `n` days one day early and maps J59 to Feb 29 in leap years
 *   (Lib/zoneinfo/_zoneinfo.py `_DayOffset.year_to_epoch` adds the day number to Dec 31 of the previous year
 *   and shifts Julian days >= 59, not >= 60; the C accelerator measures the same). glibc agrees with
 *   posix.ts on both. CPython's ZoneInfo.from_file also rejects rule hours >= 100, which RFC 9636 allows.
 * - glibc evaluates rules per UTC year, so all-year DST reads as standard time from Jan 1 00:00 UTC until
 *   the rule's start instant; python agrees with posix.ts (DST all year, RFC 9636).
 */
const PYTHON_WRONG = new Set(["XXX3YYY,59,300", "XXX3YYY,J59,J300", "XXX5YYY,M3.2.0/167,M11.1.0/-167"]);
const GLIBC_WRONG = new Set(["EST5EDT,0/0,J365/25"]);

/** A v3 TZif with no transitions, one type (the footer's standard time) and the footer: all rule. */
function footerOnlyTzif(footer: string): Uint8Array {
  const p = parsePosixTz(footer);
  assert.ok(p, `footer ${footer} must parse`);
  const abbr = Buffer.from(`${p.std.abbr}\0`, "latin1");
  const header = (typecnt: number, charcnt: number) => {
    const h = Buffer.alloc(44);
    h.write("TZif3", 0, "latin1");
    h.writeUInt32BE(typecnt, 36);
    h.writeUInt32BE(charcnt, 40);
    return h;
  };
  const ttinfo = Buffer.alloc(6);
  ttinfo.writeInt32BE(p.std.utoff, 0);
  return Buffer.concat([header(0, 0), header(1, abbr.length), ttinfo, abbr, Buffer.from(`\n${footer}\n`)]);
}

function footerInstants(tz: Tzif): number[] {
  const set = new Set<number>();
  for (let y = 1970; y <= 2060; y++) {
    for (const h of [-6, -1, 1, 6]) set.add(utc(y) + h * 3600); // around New Year (southern rules, v3 times)
    for (let m = 1; m <= 12; m++) set.add(utc(y, m, m % 2 ? 1 : 15, m % 3 ? 0 : 12));
  }
  for (const { at } of tzifTransitionsBetween(tz, utc(1970), utc(2061))) {
    set.add(at - 1);
    set.add(at);
  }
  return [...set].sort((a, b) => a - b);
}

interface OracleCase {
  label: string;
  tz: Tzif;
  instants: number[];
  /** A file path, or the file's bytes (base64). */
  path?: string;
  bytes?: Uint8Array;
}

const PY_ORACLE = `
import base64, io, json, sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
SEC = timedelta(seconds=1)
out = []
for path, b64, instants in json.load(sys.stdin):
    try:
        if path is not None:
            with open(path, "rb") as f:
                tz = ZoneInfo.from_file(f, key=path)
        else:
            tz = ZoneInfo.from_file(io.BytesIO(base64.b64decode(b64)), key="synthetic")
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
        continue
    rows = []
    for t in instants:
        try:
            dt = datetime.fromtimestamp(t, tz)
            dst = dt.dst()
            rows.append([dt.utcoffset() // SEC, None if dst is None else dst // SEC, dt.tzname()])
        except Exception as e:
            rows.append(type(e).__name__ + ": " + str(e))
    out.append({"rows": rows})
sys.stdout.write(json.dumps(out))  # one write: stdout may be write-through (PYTHONUNBUFFERED), and json.dump writes per token
`;

type PyRow = [number, number | null, string | null] | string;
type PyResult = { error: string } | { rows: PyRow[] };

/** Runs the Python oracle ONCE for all cases of every test (memoised). */
let oracleRun: { cases: OracleCase[]; results: PyResult[] } | undefined;
function pythonOracle(): { cases: OracleCase[]; results: PyResult[] } {
  if (oracleRun) return oracleRun;
  assert.ok(existsSync(PYTHON), `${PYTHON} (Debian's python, the oracle) is missing; ${INSTALL_HINT}`);
  const cases: OracleCase[] = loadZones().map((z) => ({
    label: z.rel,
    tz: z.tz,
    path: z.path,
    instants: instantsFor(z.tz),
  }));
  for (const footer of distinctFooters()) {
    if (PYTHON_WRONG.has(footer)) continue;
    const bytes = footerOnlyTzif(footer);
    const tz = parseTzif(bytes);
    cases.push({ label: `footer ${footer}`, tz, bytes, instants: footerInstants(tz) });
  }
  const r = spawnSync(PYTHON, ["-c", PY_ORACLE], {
    input: JSON.stringify(
      cases.map((c) => [
        c.path ?? null,
        c.bytes ? Buffer.from(c.bytes).toString("base64") : null,
        c.instants,
      ]),
    ),
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  assert.equal(r.error, undefined, `cannot run ${PYTHON}: ${r.error?.message}; ${INSTALL_HINT}`);
  assert.equal(r.status, 0, `${PYTHON} oracle failed: ${r.stderr}; ${INSTALL_HINT}`);
  const results = JSON.parse(r.stdout) as PyResult[];
  assert.equal(results.length, cases.length);
  oracleRun = { cases, results };
  return oracleRun;
}

let footersCache: string[] | undefined;
/** Every distinct non-empty footer of the system's files, plus EXTRA_FOOTERS. */
function distinctFooters(): string[] {
  if (!footersCache) {
    const set = new Set<string>();
    for (const z of loadZones()) if (z.tz.footer) set.add(z.tz.footer);
    for (const f of EXTRA_FOOTERS) set.add(f);
    footersCache = [...set].sort();
  }
  return footersCache;
}

function compareWithPython(
  cases: OracleCase[],
  results: PyResult[],
): { problems: string[]; compared: number } {
  const problems: string[] = [];
  let compared = 0;
  cases.forEach((q, i) => {
    const res = results[i];
    if (res === undefined || "error" in res) {
      problems.push(`${q.label}: python cannot load it: ${res?.error}`);
      return;
    }
    q.instants.forEach((t, k) => {
      const row = res.rows[k];
      if (row === undefined || typeof row === "string") {
        problems.push(`${q.label} @${t}: python error ${row}`);
        return;
      }
      const [pyOff, pyDst, pyName] = row;
      const ours = tzifOffsetAt(q.tz, t);
      compared++;
      const pyIsDst = pyDst !== null && pyDst !== 0;
      if (ours.utoff !== pyOff || ours.isDst !== pyIsDst || (pyName !== null && ours.abbr !== pyName)) {
        const when = new Date(t * 1000).toISOString();
        problems.push(
          `${q.label} @${t} (${when}): ours ${ours.utoff}/${ours.isDst ? "dst" : "std"}/${ours.abbr}, ` +
            `python ${pyOff}/dst()=${pyDst}/${pyName}`,
        );
      }
    });
  });
  return { problems, compared };
}

test("every TZif file under /usr/share/zoneinfo agrees with /usr/bin/python3 zoneinfo", () => {
  const { cases, results } = pythonOracle();
  const files = cases.filter((c) => c.path !== undefined);
  const { problems, compared } = compareWithPython(files, results.slice(0, files.length));
  assert.deepEqual(
    problems.slice(0, 30),
    [],
    `${problems.length} disagreements with python zoneinfo (${compared} instants in ${files.length} files)`,
  );
  assert.ok(compared > 100_000, `only ${compared} instants compared`);
});

test("every footer TZ string (and v3 extras) evaluates like python zoneinfo", () => {
  const { cases, results } = pythonOracle();
  const first = cases.findIndex((c) => c.bytes !== undefined);
  assert.ok(first > 0);
  const { problems, compared } = compareWithPython(cases.slice(first), results.slice(first));
  assert.deepEqual(
    problems.slice(0, 30),
    [],
    `${problems.length} disagreements with python zoneinfo (${compared} instants, ${cases.length - first} footers)`,
  );
  assert.ok(compared > 50_000, `only ${compared} instants compared`);
});

// zdump -v prints each change as a pair of lines, one second apart:
// America/New_York  Sun Mar 10 06:59:59 2024 UT = Sun Mar 10 01:59:59 2024 EST isdst=0 gmtoff=-18000
const ZDUMP_LINE =
  /^(\S+)\s+\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (-?\d+) UT = .* (\S+) isdst=(\d) gmtoff=(-?\d+)$/;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const ZDUMP_ZONES = [
  "America/New_York",
  "America/Los_Angeles",
  "America/St_Johns",
  "America/Nuuk",
  "America/Scoresbysund",
  "America/Santiago",
  "America/Asuncion",
  "America/Havana",
  "America/Miquelon",
  "America/Mexico_City",
  "America/Sao_Paulo",
  "America/Whitehorse",
  "Europe/London",
  "Europe/Dublin",
  "Europe/Lisbon",
  "Europe/Berlin",
  "Europe/Chisinau",
  "Europe/Moscow",
  "Atlantic/Azores",
  "Africa/Casablanca",
  "Africa/Cairo",
  "Asia/Jerusalem",
  "Asia/Gaza",
  "Asia/Hebron",
  "Asia/Beirut",
  "Asia/Tehran",
  "Asia/Shanghai",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Australia/Sydney",
  "Australia/Lord_Howe",
  "Antarctica/Troll",
  "Antarctica/Macquarie",
  "Pacific/Auckland",
  "Pacific/Chatham",
  "Pacific/Easter",
  "Pacific/Norfolk",
  "Pacific/Apia",
  "Etc/UTC",
  "EST5EDT",
];

interface ZdumpSample {
  ut: number;
  type: LocalTimeType;
}

function fmt(tr: { at: number; before: LocalTimeType; after: LocalTimeType }): string {
  const s = (t: LocalTimeType) => `${t.utoff}/${t.isDst ? "dst" : "std"}/${t.abbr}`;
  return `${new Date(tr.at * 1000).toISOString()} ${s(tr.before)} -> ${s(tr.after)}`;
}

/** Runs `zdump -v -c 2024,2030` once for all `args` (zone names or TZ strings) and returns the changes it
 * reports, per argument, strictly inside 2024-01-02 .. 2029-12-30 (zdump cuts off "near" the -c years). */
function zdumpTransitions(args: string[]): Map<string, string[]> {
  const probe = spawnSync("zdump", ["--version"], { encoding: "utf8" });
  assert.ok(
    !probe.error && probe.status === 0,
    `zdump is missing (${probe.error?.message}); ${INSTALL_HINT}`,
  );
  const r = spawnSync("zdump", ["-v", "-c", "2024,2030", ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TZDIR: ZONEINFO },
  });
  assert.equal(r.status, 0, `zdump failed: ${r.stderr}`);
  const samples = new Map<string, ZdumpSample[]>();
  for (const line of r.stdout.split("\n")) {
    const m = ZDUMP_LINE.exec(line);
    if (!m) continue;
    const [, zone, mon, day, hh, mm, ss, year, abbr, isdst, gmtoff] = m as unknown as string[];
    const ut =
      Date.UTC(Number(year), MONTHS.indexOf(mon as string), Number(day), Number(hh), Number(mm), Number(ss)) /
      1000;
    const list = samples.get(zone as string) ?? [];
    list.push({ ut, type: { utoff: Number(gmtoff), isDst: isdst === "1", abbr: abbr as string } });
    samples.set(zone as string, list);
  }
  const out = new Map<string, string[]>();
  for (const arg of args) {
    const list = samples.get(arg) ?? [];
    const changes: string[] = [];
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as ZdumpSample;
      const b = list[i] as ZdumpSample;
      if (b.ut === a.ut + 1 && b.ut > ZDUMP_LO && b.ut <= ZDUMP_HI) {
        changes.push(fmt({ at: b.ut, before: a.type, after: b.type }));
      }
    }
    out.set(arg, changes);
  }
  return out;
}

const ZDUMP_LO = utc(2024, 1, 2);
const ZDUMP_HI = utc(2029, 12, 30);

test("transitions in 2024-2030 agree with zdump -v for a sample of zones", () => {
  const zones = ZDUMP_ZONES.filter((z) => existsSync(join(ZONEINFO, z)));
  assert.ok(zones.length >= 35, `only ${zones.length} of the sample zones exist; ${INSTALL_HINT}`);
  const expected = zdumpTransitions(zones);
  let total = 0;
  for (const zone of zones) {
    const tz = parseTzif(readFileSync(join(ZONEINFO, zone)));
    const ours = tzifTransitionsBetween(tz, ZDUMP_LO, ZDUMP_HI).map(fmt);
    assert.deepEqual(ours, expected.get(zone), `${zone}: transitions in 2024-2030 differ from zdump`);
    total += ours.length;
  }
  assert.ok(total > 200, `only ${total} transitions compared`);
});

test("DST footer strings given to glibc as TZ values: transitions in 2024-2030 agree with zdump -v", () => {
  const footers = distinctFooters().filter((f) => parsePosixTz(f)?.dst && !GLIBC_WRONG.has(f));
  assert.ok(footers.length >= 30, `only ${footers.length} DST footers`);
  const expected = zdumpTransitions(footers);
  let total = 0;
  for (const footer of footers) {
    const p = parsePosixTz(footer);
    assert.ok(p);
    const ours = posixTransitionsBetween(p, ZDUMP_LO, ZDUMP_HI).map(fmt);
    assert.deepEqual(ours, expected.get(footer), `${footer}: transitions in 2024-2030 differ from glibc`);
    total += ours.length;
  }
  assert.ok(total > 300, `only ${total} transitions compared`);
});
