// Oracle test: the TZif reader must agree with the system's own zone data for every TZif file under
// /usr/share/zoneinfo. Truth is Debian's /usr/bin/python3 zoneinfo (one process for all files) and, for
// transitions, glibc's zdump. Missing oracles FAIL (never skip).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { LocalTimeType } from "../../src/tz/posix.js";
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

function loadZones(): { path: string; rel: string; tz: Tzif }[] {
  assert.ok(existsSync(ZONEINFO), `${ZONEINFO} is missing; ${INSTALL_HINT}`);
  const zones: { path: string; rel: string; tz: Tzif }[] = [];
  for (const path of zoneFiles(ZONEINFO)) {
    const buf = readFileSync(path);
    if (!isTzif(buf)) continue; // tzdata.zi, zone.tab, leapseconds, iso3166.tab, ...
    zones.push({ path, rel: path.slice(ZONEINFO.length + 1), tz: parseTzif(buf) });
  }
  assert.ok(zones.length >= 300, `only ${zones.length} TZif files under ${ZONEINFO}; ${INSTALL_HINT}`);
  return zones;
}

function instantsFor(tz: Tzif): number[] {
  const set = new Set<number>([utc(1900), utc(1970), utc(2100)]);
  for (let y = 2000; y <= 2040; y++) {
    set.add(utc(y, 1, 15));
    set.add(utc(y, 7, 15));
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
  // ...and every change in 2020-2035, including those generated from the footer rule.
  for (const { at } of tzifTransitionsBetween(tz, utc(2020), utc(2036))) {
    set.add(at - 1);
    set.add(at);
  }
  return [...set].sort((a, b) => a - b);
}

const PY_ORACLE = String.raw`
import json, sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
SEC = timedelta(seconds=1)
out = []
for path, instants in json.load(sys.stdin):
    try:
        with open(path, "rb") as f:
            tz = ZoneInfo.from_file(f, key=path)
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
json.dump(out, sys.stdout)
`;

type PyRow = [number, number | null, string | null] | string;

test("every TZif file under /usr/share/zoneinfo agrees with /usr/bin/python3 zoneinfo", () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} (Debian's python, the oracle) is missing; ${INSTALL_HINT}`);
  const zones = loadZones();
  const requests = zones.map((z) => ({ ...z, instants: instantsFor(z.tz) }));
  const r = spawnSync(PYTHON, ["-c", PY_ORACLE], {
    input: JSON.stringify(requests.map((q) => [q.path, q.instants])),
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  assert.equal(r.error, undefined, `cannot run ${PYTHON}: ${r.error?.message}; ${INSTALL_HINT}`);
  assert.equal(r.status, 0, `${PYTHON} oracle failed: ${r.stderr}; ${INSTALL_HINT}`);
  const results = JSON.parse(r.stdout) as ({ error: string } | { rows: PyRow[] })[];
  assert.equal(results.length, requests.length);

  const problems: string[] = [];
  let compared = 0;
  requests.forEach((q, i) => {
    const res = results[i];
    if (res === undefined || "error" in res) {
      problems.push(`${q.rel}: python cannot load it: ${res?.error}`);
      return;
    }
    q.instants.forEach((t, k) => {
      const row = res.rows[k];
      if (row === undefined || typeof row === "string") {
        problems.push(`${q.rel} @${t}: python error ${row}`);
        return;
      }
      const [pyOff, pyDst, pyName] = row;
      const ours = tzifOffsetAt(q.tz, t);
      compared++;
      const pyIsDst = pyDst !== null && pyDst !== 0;
      if (ours.utoff !== pyOff || ours.isDst !== pyIsDst || (pyName !== null && ours.abbr !== pyName)) {
        const when = new Date(t * 1000).toISOString();
        problems.push(
          `${q.rel} @${t} (${when}): ours ${ours.utoff}/${ours.isDst ? "dst" : "std"}/${ours.abbr}, ` +
            `python ${pyOff}/dst()=${pyDst}/${pyName}`,
        );
      }
    });
  });
  assert.deepEqual(
    problems.slice(0, 30),
    [],
    `${problems.length} disagreements with python zoneinfo (${compared} instants in ${zones.length} files)`,
  );
  assert.ok(compared > 100_000, `only ${compared} instants compared`);
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

test("transitions in 2024-2030 agree with zdump -v for a sample of zones", () => {
  const probe = spawnSync("zdump", ["--version"], { encoding: "utf8" });
  assert.ok(!probe.error && probe.status === 0, `zdump is missing (${probe.error?.message}); ${INSTALL_HINT}`);
  const zones = ZDUMP_ZONES.filter((z) => existsSync(join(ZONEINFO, z)));
  assert.ok(zones.length >= 35, `only ${zones.length} of the sample zones exist; ${INSTALL_HINT}`);
  const r = spawnSync("zdump", ["-v", "-c", "2024,2030", ...zones], {
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
  // zdump cuts off "near" the -c years, so compare a window safely inside them.
  const lo = utc(2024, 1, 2);
  const hi = utc(2029, 12, 30);
  let total = 0;
  for (const zone of zones) {
    const list = samples.get(zone) ?? [];
    const expected: string[] = [];
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as ZdumpSample;
      const b = list[i] as ZdumpSample;
      if (b.ut === a.ut + 1 && b.ut > lo && b.ut <= hi) expected.push(fmt({ at: b.ut, before: a.type, after: b.type }));
    }
    const tz = parseTzif(readFileSync(join(ZONEINFO, zone)));
    const ours = tzifTransitionsBetween(tz, lo, hi).map(fmt);
    assert.deepEqual(ours, expected, `${zone}: transitions in 2024-2030 differ from zdump`);
    total += ours.length;
  }
  assert.ok(total > 200, `only ${total} transitions compared`);
});
