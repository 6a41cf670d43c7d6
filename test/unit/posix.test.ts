import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type LocalTimeType,
  type PosixTz,
  parsePosixTz,
  posixOffsetAt,
  posixTransitionsBetween,
} from "../../src/tz/posix.js";

/** Epoch seconds of a UTC wall time (month 1-based). */
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) =>
  Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

function parse(s: string): PosixTz {
  const p = parsePosixTz(s);
  assert.ok(p, `${JSON.stringify(s)} should parse`);
  return p;
}

const lt = (utoff: number, isDst: boolean, abbr: string): LocalTimeType => ({ utoff, isDst, abbr });

/** [at, before, after] triples, for compact expectations. */
function changes(p: PosixTz, from: number, to: number): [number, string, string][] {
  return posixTransitionsBetween(p, from, to).map((t) => [t.at, t.before.abbr, t.after.abbr]);
}

test("fixed offsets: POSIX signs are west-positive", () => {
  assert.deepEqual(parsePosixTz("CST-8"), { source: "CST-8", std: lt(28800, false, "CST"), dst: null });
  assert.deepEqual(parse("UTC+8").std, lt(-28800, false, "UTC"));
  assert.deepEqual(parse("GMT+8").std, lt(-28800, false, "GMT"));
  assert.deepEqual(parse("UTC0").std, lt(0, false, "UTC"));
  assert.ok(Object.is(parse("GMT+0").std.utoff, 0), "no negative zero");
  assert.ok(Object.is(parse("GMT-0").std.utoff, 0), "no negative zero");
  assert.deepEqual(parse("<+08>-8").std, lt(28800, false, "+08"));
  assert.deepEqual(parse("<-0330>3:30").std, lt(-12600, false, "-0330"));
  assert.deepEqual(parse("IST-5:30").std, lt(19800, false, "IST"));
  assert.deepEqual(parse("<+0545>-5:45").std, lt(20700, false, "+0545"));
  assert.deepEqual(parse("LMT-0:53:28").std, lt(3208, false, "LMT"));
  assert.deepEqual(parse("UTC+24").std, lt(-86400, false, "UTC"));
  assert.deepEqual(parse("UTC-24").std, lt(86400, false, "UTC"));
  assert.deepEqual(parse("ABCDEFGH+3").std, lt(-10800, false, "ABCDEFGH"));
  assert.deepEqual(parse("<UTC+8>-8").std, lt(28800, false, "UTC+8"));
});

test("DST zones: default DST offset std+1h, rules, rule times", () => {
  assert.deepEqual(parsePosixTz("EST5EDT,M3.2.0,M11.1.0"), {
    source: "EST5EDT,M3.2.0,M11.1.0",
    std: lt(-18000, false, "EST"),
    dst: {
      type: lt(-14400, true, "EDT"),
      start: { kind: "M", month: 3, week: 2, day: 0, time: 7200 },
      end: { kind: "M", month: 11, week: 1, day: 0, time: 7200 },
      rulesDefaulted: false,
    },
  });
  const p = parse("EST5EDT4:30,M3.2.0/2:30:15,M11.1.0/-1");
  assert.equal(p.dst?.type.utoff, -16200);
  assert.deepEqual(p.dst?.start, { kind: "M", month: 3, week: 2, day: 0, time: 9015 });
  assert.deepEqual(p.dst?.end, { kind: "M", month: 11, week: 1, day: 0, time: -3600 });
  assert.equal(parse("AEST-10AEDT,M10.1.0,M4.1.0/3").dst?.type.utoff, 39600);
  assert.deepEqual(parse("IST-1GMT0,M10.5.0,M3.5.0/1").dst?.type, lt(0, true, "GMT"), "negative DST");
  assert.deepEqual(parse("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45").dst?.type, lt(49500, true, "+1345"));
  assert.deepEqual(parse("XXX3YYY,J60,300/1").dst?.start, { kind: "J", day: 60, time: 7200 });
  assert.deepEqual(parse("XXX3YYY,J60,300/1").dst?.end, { kind: "N", day: 300, time: 3600 });
  assert.deepEqual(parse("XXX3YYY,J60/+1,0").dst?.start, { kind: "J", day: 60, time: 3600 });
});

test("v3 extensions: rule times -167..167 hours and all-year DST parse", () => {
  const p = parse("XXX5YYY,M3.2.0/167,M11.1.0/-167");
  assert.equal(p.dst?.start.time, 167 * 3600);
  assert.equal(p.dst?.end.time, -167 * 3600);
  const allYear = parse("EST5EDT,0/0,J365/25");
  assert.deepEqual(allYear.dst?.start, { kind: "N", day: 0, time: 0 });
  assert.deepEqual(allYear.dst?.end, { kind: "J", day: 365, time: 90000 });
  assert.deepEqual(parse("<-03>3<-02>,M3.2.0/-2,M11.1.0/-1").dst?.end, {
    kind: "M",
    month: 11,
    week: 1,
    day: 0,
    time: -3600,
  });
});

test("a DST name without rules takes the US rules (posixrules fallback), flagged rulesDefaulted", () => {
  const us = {
    start: { kind: "M", month: 3, week: 2, day: 0, time: 7200 },
    end: { kind: "M", month: 11, week: 1, day: 0, time: 7200 },
  };
  for (const s of ["EST5EDT", "EST5EDT4", "EST5EDT,"]) {
    const p = parse(s);
    assert.equal(p.dst?.rulesDefaulted, true, s);
    assert.deepEqual(p.dst?.start, us.start, s);
    assert.deepEqual(p.dst?.end, us.end, s);
  }
  assert.equal(parse("EST5EDT").dst?.type.utoff, -14400);
  assert.equal(parse("EST5EDT4").dst?.type.utoff, -14400);
  assert.equal(parse("CET-1CEST").dst?.type.utoff, 7200);
  // glibc defaults a missing end rule to the US end rule (measured with zdump).
  const half = parse("EST5EDT,M3.5.0");
  assert.equal(half.dst?.rulesDefaulted, true);
  assert.deepEqual(half.dst?.start, { kind: "M", month: 3, week: 5, day: 0, time: 7200 });
  assert.deepEqual(half.dst?.end, us.end);
  assert.equal(parse("EST5EDT,M3.2.0,M11.1.0").dst?.rulesDefaulted, false);
});

test("invalid strings are null", () => {
  for (const s of [
    "Asia/Shanghai",
    "Europe/Berlin",
    "",
    "CST",
    "UTC",
    "CS-8", // std name needs >= 3 letters
    "<AB>-8", // quoted name needs >= 3 characters
    "<+08-8", // unterminated <
    "<+0_8>-8",
    "C1T-8",
    "CST-8 ", // trailing blank
    " CST-8",
    ":CST-8", // the leading colon is TZ syntax, not POSIX: callers strip it
    "CST+",
    "CST-",
    "CST-+8",
    "CST8:",
    "CST8:3:",
    "UTC+25",
    "UTC+24:60",
    "UTC+1:2:60",
    "UTC+1:2:3:4",
    "EST5ED",
    "EST5EDT+",
    "EST5EDT;M3.2.0,M11.1.0",
    "EST5EDT,M13.1.0,M11.1.0",
    "EST5EDT,M0.1.0,M11.1.0",
    "EST5EDT,M3.0.0,M11.1.0",
    "EST5EDT,M3.6.0,M11.1.0",
    "EST5EDT,M3.2.7,M11.1.0",
    "EST5EDT,M3.2,M11.1.0",
    "EST5EDT,M3..0,M11.1.0",
    "EST5EDT,J0,J365",
    "EST5EDT,J366,J1",
    "EST5EDT,366,1",
    "EST5EDT,J,1",
    "EST5EDT,X1,J2",
    "EST5EDT,M3.2.0/168,M11.1.0",
    "EST5EDT,M3.2.0,M11.1.0/-168",
    "EST5EDT,M3.2.0/,M11.1.0",
    "EST5EDT,M3.2.0/2:60,M11.1.0",
    "EST5EDT,M3.2.0,M11.1.0,",
    "EST5EDT,M3.2.0,M11.1.0,J1",
    "EST5EDT,M3.2.0,M11.1.0x",
    "EST5EDT,,M11.1.0",
  ]) {
    assert.equal(parsePosixTz(s), null, JSON.stringify(s));
  }
});

test("northern rules: US 2025 transitions and offsets at the exact second", () => {
  const p = parse("EST5EDT,M3.2.0,M11.1.0");
  // Mar 1 2025 is a Saturday: second Sunday = Mar 9, 02:00 EST = 07:00 UTC.
  // Nov 1 2025 is a Saturday: first Sunday = Nov 2, 02:00 EDT = 06:00 UTC.
  assert.deepEqual(changes(p, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 3, 9, 7), "EST", "EDT"],
    [utc(2025, 11, 2, 6), "EDT", "EST"],
  ]);
  assert.deepEqual(posixOffsetAt(p, utc(2025, 3, 9, 6, 59, 59)), lt(-18000, false, "EST"));
  assert.deepEqual(posixOffsetAt(p, utc(2025, 3, 9, 7)), lt(-14400, true, "EDT"));
  assert.deepEqual(posixOffsetAt(p, utc(2025, 11, 2, 5, 59, 59)), lt(-14400, true, "EDT"));
  assert.deepEqual(posixOffsetAt(p, utc(2025, 11, 2, 6)), lt(-18000, false, "EST"));
  // Proleptic before 1970 (glibc 2.36 applies no rule DST before 1970, measured; we do not copy that):
  // Mar 1 1969 was a Saturday, so the second Sunday is Mar 9.
  assert.deepEqual(changes(p, utc(1969, 1, 1), utc(1969, 6, 1)), [[utc(1969, 3, 9, 7), "EST", "EDT"]]);
  // Defaulted rules evaluate the same.
  assert.deepEqual(
    posixTransitionsBetween(parse("EST5EDT"), utc(2025, 1, 1), utc(2026, 1, 1)),
    posixTransitionsBetween(p, utc(2025, 1, 1), utc(2026, 1, 1)),
  );
});

test("week 5 means the last such weekday; week 4 can differ", () => {
  const eu = parse("CET-1CEST,M3.5.0,M10.5.0/3");
  // 2025: last Sunday of March = Mar 30, of October = Oct 26; both 01:00 UTC.
  assert.deepEqual(changes(eu, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 3, 30, 1), "CET", "CEST"],
    [utc(2025, 10, 26, 1), "CEST", "CET"],
  ]);
  // March 2026 has five Sundays (1, 8, 15, 22, 29).
  assert.equal(changes(eu, utc(2026, 1, 1), utc(2026, 6, 1))[0]?.[0], utc(2026, 3, 29, 1));
  assert.equal(
    changes(parse("CET-1CEST,M3.4.0,M10.5.0/3"), utc(2026, 1, 1), utc(2026, 6, 1))[0]?.[0],
    utc(2026, 3, 22, 1),
  );
});

test("southern hemisphere: DST spans the new year", () => {
  const syd = parse("AEST-10AEDT,M10.1.0,M4.1.0/3");
  // 2025: first Sunday of April = Apr 6, 03:00 AEDT = Apr 5 16:00 UTC;
  //       first Sunday of October = Oct 5, 02:00 AEST = Oct 4 16:00 UTC.
  assert.deepEqual(changes(syd, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 4, 5, 16), "AEDT", "AEST"],
    [utc(2025, 10, 4, 16), "AEST", "AEDT"],
  ]);
  assert.deepEqual(posixOffsetAt(syd, utc(2025, 1, 15)), lt(39600, true, "AEDT"));
  assert.deepEqual(posixOffsetAt(syd, utc(2025, 7, 15)), lt(36000, false, "AEST"));
  assert.deepEqual(posixOffsetAt(syd, utc(2025, 12, 31, 23, 59, 59)), lt(39600, true, "AEDT"));
  const nz = parse("NZST-12NZDT,M9.5.0,M4.1.0/3");
  assert.deepEqual(posixOffsetAt(nz, utc(2024, 12, 31, 12)), lt(46800, true, "NZDT"));
  // Negative DST (Europe/Dublin, vanguard form): winter GMT is the DST type.
  const dub = parse("IST-1GMT0,M10.5.0,M3.5.0/1");
  assert.deepEqual(posixOffsetAt(dub, utc(2025, 1, 15)), lt(0, true, "GMT"));
  assert.deepEqual(posixOffsetAt(dub, utc(2025, 7, 15)), lt(3600, false, "IST"));
  assert.deepEqual(changes(dub, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 3, 30, 1), "GMT", "IST"],
    [utc(2025, 10, 26, 1), "IST", "GMT"],
  ]);
});

test("J days ignore Feb 29, zero-based n days count it", () => {
  const j = parse("XXX3YYY,J60,J300");
  const n = parse("XXX3YYY,59,300");
  const j59 = parse("XXX3YYY,J59,J300");
  // 2024 is a leap year: J60 = Mar 1, n59 = Feb 29, J59 = Feb 28; J300 and n300 are both Oct 27.
  assert.deepEqual(changes(j, utc(2024, 1, 1), utc(2025, 1, 1)), [
    [utc(2024, 3, 1, 5), "XXX", "YYY"],
    [utc(2024, 10, 27, 4), "YYY", "XXX"],
  ]);
  assert.deepEqual(changes(n, utc(2024, 1, 1), utc(2025, 1, 1)), [
    [utc(2024, 2, 29, 5), "XXX", "YYY"],
    [utc(2024, 10, 27, 4), "YYY", "XXX"],
  ]);
  assert.equal(changes(j59, utc(2024, 1, 1), utc(2025, 1, 1))[0]?.[0], utc(2024, 2, 28, 5));
  // 2025 is not: J60 = n59 = Mar 1, J59 = Feb 28, J300 = Oct 27, n300 = Oct 28.
  assert.equal(changes(j, utc(2025, 1, 1), utc(2026, 1, 1))[0]?.[0], utc(2025, 3, 1, 5));
  assert.equal(changes(n, utc(2025, 1, 1), utc(2026, 1, 1))[0]?.[0], utc(2025, 3, 1, 5));
  assert.equal(changes(j59, utc(2025, 1, 1), utc(2026, 1, 1))[0]?.[0], utc(2025, 2, 28, 5));
  assert.equal(changes(j, utc(2025, 1, 1), utc(2026, 1, 1))[1]?.[0], utc(2025, 10, 27, 4));
  assert.equal(changes(n, utc(2025, 1, 1), utc(2026, 1, 1))[1]?.[0], utc(2025, 10, 28, 4));
});

test("v3 rule times: negative and beyond 24 hours", () => {
  // America/Nuuk: DST starts Sat 23:00 local -03 before the second Sunday of March = Sun 01:00 UTC.
  const nuuk = parse("<-03>3<-02>,M3.2.0/-2,M11.1.0/-1");
  assert.deepEqual(changes(nuuk, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 3, 9, 1), "-03", "-02"],
    [utc(2025, 11, 2, 1), "-02", "-03"],
  ]);
  // Gaza: 50 hours after the 4th Thursday. Mar 27 2025 + 50 h = Sat Mar 29 02:00 EET = 00:00 UTC;
  // Oct 23 2025 + 50 h = Sat Oct 25 02:00 EEST = Oct 24 23:00 UTC.
  const gaza = parse("EET-2EEST,M3.4.4/50,M10.4.4/50");
  assert.deepEqual(changes(gaza, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 3, 29, 0), "EET", "EEST"],
    [utc(2025, 10, 24, 23), "EEST", "EET"],
  ]);
  // +167 h from the second Sunday of March 2025 (Mar 9) = Mar 15 23:00 local -05 = Mar 16 04:00 UTC;
  // -167 h from the first Sunday of November (Nov 2) = Oct 26 01:00 local -04 = 05:00 UTC.
  const ext = parse("XXX5YYY,M3.2.0/167,M11.1.0/-167");
  assert.deepEqual(changes(ext, utc(2025, 1, 1), utc(2026, 1, 1)), [
    [utc(2025, 3, 16, 4), "XXX", "YYY"],
    [utc(2025, 10, 26, 5), "YYY", "XXX"],
  ]);
});

test("all-year DST is DST at every instant, including the first hours of each UTC year", () => {
  const p = parse("EST5EDT,0/0,J365/25");
  for (const t of [
    utc(2024, 1, 1),
    utc(2025, 1, 1, 2), // glibc says EST here (it evaluates only the rules of t's UTC year)
    utc(2025, 1, 1, 4, 59, 59),
    utc(2025, 1, 1, 5),
    utc(2025, 7, 1),
    utc(2025, 12, 31, 23, 59, 59),
    utc(2028, 2, 29, 12),
  ]) {
    assert.deepEqual(posixOffsetAt(p, t), lt(-14400, true, "EDT"), new Date(t * 1000).toISOString());
  }
  assert.deepEqual(posixTransitionsBetween(p, utc(2020, 1, 1), utc(2030, 1, 1)), []);
});

test("posixTransitionsBetween: from is exclusive, to inclusive; fixed zones have none; bounds are checked", () => {
  const p = parse("EST5EDT,M3.2.0,M11.1.0");
  const at = utc(2025, 3, 9, 7);
  assert.equal(posixTransitionsBetween(p, at, at + 100).length, 0);
  assert.equal(posixTransitionsBetween(p, at - 1, at).length, 1);
  assert.deepEqual(posixTransitionsBetween(p, at, at - 1), []);
  assert.deepEqual(posixTransitionsBetween(parse("CST-8"), -1e12, 1e12), []);
  assert.throws(() => posixTransitionsBetween(p, 0, Number.POSITIVE_INFINITY), RangeError);
  assert.throws(() => posixTransitionsBetween(p, -1e12, 1e12), RangeError);
  assert.throws(() => posixOffsetAt(p, Number.NaN), RangeError);
  assert.deepEqual(posixOffsetAt(parse("CST-8"), Number.NaN), lt(28800, false, "CST"));
  // Forty years of US rules: 80 changes, alternating.
  const all = posixTransitionsBetween(p, utc(2000, 1, 1), utc(2040, 1, 1));
  assert.equal(all.length, 80);
  all.forEach((t, i) => {
    assert.equal(t.after.isDst, i % 2 === 0);
  });
});

test("transitions are exactly where posixOffsetAt changes", () => {
  for (const s of [
    "EST5EDT,M3.2.0,M11.1.0",
    "AEST-10AEDT,M10.1.0,M4.1.0/3",
    "IST-1GMT0,M10.5.0,M3.5.0/1",
    "<-03>3<-02>,M3.2.0/-2,M11.1.0/-1",
    "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
    "XXX3YYY,59,300",
    "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
  ]) {
    const p = parse(s);
    const from = utc(1995, 1, 1);
    const to = utc(2035, 1, 1);
    const list = posixTransitionsBetween(p, from, to);
    let prev = from;
    for (const t of list) {
      assert.deepEqual(posixOffsetAt(p, t.at - 1), t.before, s);
      assert.deepEqual(posixOffsetAt(p, t.at), t.after, s);
      // Nothing changes strictly between two listed transitions (checked at a few points).
      for (const f of [0.25, 0.5, 0.75]) {
        const mid = Math.floor(prev + (t.at - prev) * f);
        if (mid > prev && mid < t.at) assert.deepEqual(posixOffsetAt(p, mid), t.before, `${s} @${mid}`);
      }
      prev = t.at;
    }
    assert.equal(list.length, 80, s);
  }
});

test("results are copies: mutating one does not change the zone", () => {
  const p = parse("CST-8");
  const a = posixOffsetAt(p, 0);
  a.utoff = 1;
  assert.equal(posixOffsetAt(p, 0).utoff, 28800);
  assert.equal(p.std.utoff, 28800);
});
