import assert from "node:assert/strict";
import { test } from "node:test";
import type { LocalTimeType } from "../../src/tz/posix.js";
import {
  isTzif,
  parseTzif,
  type Tzif,
  TzifError,
  tzifOffsetAt,
  tzifTransitionsBetween,
} from "../../src/tz/tzif.js";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) =>
  Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
const lt = (utoff: number, isDst: boolean, abbr: string): LocalTimeType => ({ utoff, isDst, abbr });

/** Debian tzdata 2026f /usr/share/zoneinfo/Asia/Shanghai (561 bytes, fat v2, footer CST-8). */
const SHANGHAI = Buffer.from(
  "VFppZjIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAdAAAAAwAAAAyAAAAAoJeigKF5BPDIWV6AyQn5cMnTvQDLBYrwy3xA" +
    "ANI7PvDTi3uA1EKt8NVFIgDWTL/w1zy/ANgGZnDZHfKA2UF88B66UiAfaZuQIH6EoCFJfZAiZ6EgIylfkCRHgyAlEnwQJidlICby" +
    "XhAoB0cgKNJAEAIBAgECAQIBAgECAQIBAgECAQIBAgECAQIBAgECAABx1wAAAAB+kAEEAABwgAAITE1UAENEVABDU1QAVFppZjIA" +
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAdAAAAAwAAAAz/////fjZDKf////+gl6KA/////6F5BPD/////yFlegP/////J" +
    "Cflw/////8nTvQD/////ywWK8P/////LfEAA/////9I7PvD/////04t7gP/////UQq3w/////9VFIgD/////1ky/8P/////XPL8A" +
    "/////9gGZnD/////2R3ygP/////ZQXzwAAAAAB66UiAAAAAAH2mbkAAAAAAgfoSgAAAAACFJfZAAAAAAImehIAAAAAAjKV+QAAAA" +
    "ACRHgyAAAAAAJRJ8EAAAAAAmJ2UgAAAAACbyXhAAAAAAKAdHIAAAAAAo0kAQAgECAQIBAgECAQIBAgECAQIBAgECAQIBAgECAQIA" +
    "AHHXAAAAAH6QAQQAAHCAAAhMTVQAQ0RUAENTVAAKQ1NULTgK",
  "base64",
);

// ---------------------------------------------------------------------------------------------------
// A small TZif builder.

interface Block {
  transitions: (number | bigint)[];
  transitionTypes: number[];
  /** [utoff, isdst, abbr]; abbreviations are laid out in order, NUL-terminated. */
  types: [number, number, string][];
  leaps?: [number | bigint, number][];
  isstd?: number[];
  isut?: number[];
  /** Raw overrides applied after layout (for corrupt input). */
  counts?: Partial<Record<"isutcnt" | "isstdcnt" | "leapcnt" | "timecnt" | "typecnt" | "charcnt", number>>;
  desigOverride?: number[];
  chars?: string;
}

interface BuildOpts {
  version: 1 | 2 | 3 | 4;
  data: Block;
  /** The v1 block of a v2+ file: "same" data in 32 bits (fat), "empty" (slim), or explicit other data. */
  v1?: "same" | "empty" | Block;
  /** Footer text without the framing newlines (v2+). */
  footer?: string;
  /** Raw footer bytes instead of "\n" + footer + "\n". */
  rawFooter?: Uint8Array;
  versionByte?: number;
  secondVersionByte?: number;
}

function block(b: Block, timeSize: 4 | 8, versionByte: number): Buffer {
  let chars = b.chars ?? "";
  const desig: number[] = [];
  if (b.chars === undefined) {
    for (const [, , abbr] of b.types) {
      const at = chars.indexOf(`${abbr}\0`);
      if (at >= 0) desig.push(at);
      else {
        desig.push(chars.length);
        chars += `${abbr}\0`;
      }
    }
  }
  const counts = {
    isutcnt: b.isut?.length ?? 0,
    isstdcnt: b.isstd?.length ?? 0,
    leapcnt: b.leaps?.length ?? 0,
    timecnt: b.transitions.length,
    typecnt: b.types.length,
    charcnt: chars.length,
    ...b.counts,
  };
  const header = Buffer.alloc(44);
  header.write("TZif", 0, "latin1");
  header[4] = versionByte;
  const order = [
    counts.isutcnt,
    counts.isstdcnt,
    counts.leapcnt,
    counts.timecnt,
    counts.typecnt,
    counts.charcnt,
  ];
  order.forEach((n, i) => {
    header.writeUInt32BE(n >>> 0, 20 + 4 * i);
  });
  const parts: Buffer[] = [header];
  const time = (v: number | bigint) => {
    const buf = Buffer.alloc(timeSize);
    if (timeSize === 8) buf.writeBigInt64BE(BigInt(v));
    else buf.writeInt32BE(Number(v));
    return buf;
  };
  for (const t of b.transitions) parts.push(time(t));
  parts.push(Buffer.from(b.transitionTypes));
  b.types.forEach(([utoff, isdst], i) => {
    const tt = Buffer.alloc(6);
    tt.writeInt32BE(utoff);
    tt[4] = isdst;
    tt[5] = b.desigOverride?.[i] ?? desig[i] ?? 0;
    parts.push(tt);
  });
  parts.push(Buffer.from(chars, "latin1"));
  for (const [t, corr] of b.leaps ?? []) {
    const c = Buffer.alloc(4);
    c.writeInt32BE(corr);
    parts.push(time(t), c);
  }
  parts.push(Buffer.from(b.isstd ?? []), Buffer.from(b.isut ?? []));
  return Buffer.concat(parts);
}

const VERSION_BYTES = { 1: 0, 2: 0x32, 3: 0x33, 4: 0x34 } as const;

function build(o: BuildOpts): Buffer {
  const vb = o.versionByte ?? VERSION_BYTES[o.version];
  if (o.version === 1) return block(o.data, 4, vb);
  const v1 =
    o.v1 === undefined || o.v1 === "same"
      ? block(
          { ...o.data, transitions: o.data.transitions.map((t) => Number(BigInt.asIntN(32, BigInt(t)))) },
          4,
          vb,
        )
      : o.v1 === "empty"
        ? block({ transitions: [], transitionTypes: [], types: [] }, 4, vb)
        : block(o.v1, 4, vb);
  const footer = o.rawFooter ?? Buffer.from(`\n${o.footer ?? ""}\n`, "latin1");
  return Buffer.concat([v1, block(o.data, 8, o.secondVersionByte ?? vb), footer]);
}

/** A v3 file with the features a reader must skip correctly: leaps, isstd/isut, a v3 footer. */
const NUUK_LIKE: BuildOpts = {
  version: 3,
  data: {
    transitions: [-(2n ** 59n), utc(1980, 4, 6, 2), utc(2023, 3, 25, 22), utc(2023, 10, 29, 1)],
    transitionTypes: [1, 2, 3, 4],
    types: [
      [-12416, 0, "LMT"],
      [-12416, 0, "LMT"],
      [-10800, 0, "-03"],
      [-7200, 1, "-02"], // DST at -03 + 1h...
      [-7200, 0, "-02"], // ...that then becomes standard time: only isdst changes
    ],
    leaps: [
      [78796800, 1],
      [94694401, 2],
    ],
    isstd: [0, 0, 1, 0, 1],
    isut: [0, 0, 1, 0, 0],
  },
  footer: "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
};

/** The same as a v1 file: 32-bit times. */
const NUUK_V1: BuildOpts = {
  version: 1,
  data: { ...NUUK_LIKE.data, transitions: [-(2 ** 31), ...NUUK_LIKE.data.transitions.slice(1)] },
};

function throwsTzif(buf: Uint8Array, re?: RegExp): string {
  let err: unknown;
  try {
    parseTzif(buf);
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof TzifError,
    `expected TzifError, got ${err instanceof Error ? err.name : String(err)}`,
  );
  assert.equal(err.name, "TzifError");
  assert.ok(!err.message.includes("\n"), `one-line message: ${JSON.stringify(err.message)}`);
  if (re) assert.match(err.message, re);
  return err.message;
}

// ---------------------------------------------------------------------------------------------------

test("isTzif checks the magic only", () => {
  assert.equal(isTzif(SHANGHAI), true);
  assert.equal(isTzif(Buffer.from("TZif")), true);
  assert.equal(isTzif(Buffer.from("TZifgarbage")), true);
  assert.equal(isTzif(Buffer.from("TZi")), false);
  assert.equal(isTzif(Buffer.from("tzif2")), false);
  assert.equal(isTzif(new Uint8Array(0)), false);
  assert.equal(isTzif(Buffer.from("Asia/Shanghai\n")), false);
});

test("a real fat v2 file (Asia/Shanghai)", () => {
  const tz = parseTzif(SHANGHAI);
  assert.equal(tz.version, 2);
  assert.equal(tz.footer, "CST-8");
  assert.deepEqual(tz.footerTz?.std, lt(28800, false, "CST"));
  assert.equal(tz.byteLength, 561);
  assert.equal(tz.transitions.length, 29);
  assert.deepEqual(tz.types, [lt(29143, false, "LMT"), lt(32400, true, "CDT"), lt(28800, false, "CST")]);
  // LMT until 1901-01-01 00:00 local = 1900-12-31 15:54:17 UTC (this needs the 64-bit block).
  assert.equal(tz.transitions[0], utc(1900, 12, 31, 15, 54, 17));
  assert.deepEqual(tzifOffsetAt(tz, utc(1900, 1, 1)), lt(29143, false, "LMT"));
  assert.deepEqual(tzifOffsetAt(tz, utc(1900, 12, 31, 15, 54, 16)), lt(29143, false, "LMT"));
  assert.deepEqual(tzifOffsetAt(tz, utc(1900, 12, 31, 15, 54, 17)), lt(28800, false, "CST"));
  // 1919 DST: 1919-04-13 00:00 CST = 04-12 16:00 UTC.
  assert.deepEqual(tzifOffsetAt(tz, utc(1919, 4, 12, 16)), lt(32400, true, "CDT"));
  assert.deepEqual(tzifOffsetAt(tz, utc(1991, 7, 1)), lt(32400, true, "CDT"));
  // The last transition: 1991-09-15 02:00 CDT = 09-14 17:00 UTC; then the footer.
  assert.equal(tz.transitions.at(-1), utc(1991, 9, 14, 17));
  assert.deepEqual(tzifOffsetAt(tz, utc(2025, 7, 1)), lt(28800, false, "CST"));
  assert.deepEqual(tzifTransitionsBetween(tz, utc(1992, 1, 1), utc(2100, 1, 1)), []);
  assert.deepEqual(
    tzifTransitionsBetween(tz, utc(1991, 1, 1), utc(1992, 1, 1)).map((t) => [
      t.at,
      t.before.abbr,
      t.after.abbr,
    ]),
    [
      [utc(1991, 4, 13, 18), "CST", "CDT"], // 1991-04-14 02:00 CST
      [utc(1991, 9, 14, 17), "CDT", "CST"],
    ],
  );
});

test("truncating a real file at every byte boundary throws TzifError", () => {
  for (let n = 0; n < SHANGHAI.length; n++) throwsTzif(SHANGHAI.subarray(0, n));
  assert.equal(parseTzif(SHANGHAI.subarray(0, SHANGHAI.length)).byteLength, 561);
  const v3 = build(NUUK_LIKE);
  for (let n = 0; n < v3.length; n++) throwsTzif(v3.subarray(0, n));
  const v1 = build(NUUK_V1);
  for (let n = 0; n < v1.length; n++) throwsTzif(v1.subarray(0, n));
});

test("truncation messages say what is missing", () => {
  throwsTzif(SHANGHAI.subarray(0, 10), /^truncated header/);
  throwsTzif(SHANGHAI.subarray(0, 100), /^truncated v1 data block/);
  throwsTzif(SHANGHAI.subarray(0, 260), /^truncated v2\+ header/);
  throwsTzif(SHANGHAI.subarray(0, 400), /^truncated 64-bit data block/);
  throwsTzif(SHANGHAI.subarray(0, 554), /^missing footer/);
  throwsTzif(SHANGHAI.subarray(0, 558), /^footer is not newline-terminated/);
});

test("hand-built v1: 32-bit times, no footer, last type after the last transition", () => {
  const buf = build({
    version: 1,
    data: {
      transitions: [-1000, 0, 1000],
      transitionTypes: [1, 2, 1],
      types: [
        [100, 0, "LMT"],
        [3600, 0, "AAA"],
        [7200, 1, "BBB"],
      ],
    },
  });
  const tz = parseTzif(buf);
  assert.equal(tz.version, 1);
  assert.equal(tz.footer, null);
  assert.equal(tz.footerTz, null);
  assert.equal(tz.byteLength, buf.length);
  assert.deepEqual(tz.transitions, [-1000, 0, 1000]);
  assert.deepEqual(tzifOffsetAt(tz, -1001), lt(100, false, "LMT"));
  assert.deepEqual(tzifOffsetAt(tz, -1000), lt(3600, false, "AAA"));
  assert.deepEqual(tzifOffsetAt(tz, -1), lt(3600, false, "AAA"));
  assert.deepEqual(tzifOffsetAt(tz, 0), lt(7200, true, "BBB"));
  assert.deepEqual(tzifOffsetAt(tz, 1000), lt(3600, false, "AAA"));
  assert.deepEqual(tzifOffsetAt(tz, 1e12), lt(3600, false, "AAA"));
  assert.deepEqual(
    tzifTransitionsBetween(tz, -1e15, 1e15).map((t) => [t.at, t.before.abbr, t.after.abbr]),
    [
      [-1000, "LMT", "AAA"],
      [0, "AAA", "BBB"],
      [1000, "BBB", "AAA"],
    ],
  );
});

test("v2+: the v1 block is skipped exactly and never used", () => {
  const data: Block = {
    transitions: [-(2n ** 59n), -(2n ** 40n), 2n ** 33n],
    transitionTypes: [0, 1, 2],
    types: [
      [0, 0, "AAA"],
      [3600, 0, "BBB"],
      [7200, 0, "CCC"],
    ],
  };
  // A v1 block with different, bigger content: a reader that used it would see "ZZZ".
  const decoy: Block = {
    transitions: [-5, 5, 50, 500],
    transitionTypes: [0, 0, 0, 0],
    types: [[-3600, 1, "ZZZZZZ"]],
    leaps: [[1, 1]],
    isstd: [1],
    isut: [1],
  };
  for (const v1 of ["empty", decoy] as const) {
    const tz = parseTzif(build({ version: 2, data, v1, footer: "" }));
    assert.deepEqual(tz.transitions, [-(2 ** 59), -(2 ** 40), 2 ** 33]);
    assert.deepEqual(
      tz.types.map((t) => t.abbr),
      ["AAA", "BBB", "CCC"],
    );
    assert.equal(tz.footer, "");
    assert.equal(tz.footerTz, null);
    assert.deepEqual(tzifOffsetAt(tz, 0), lt(3600, false, "BBB"));
    assert.deepEqual(tzifOffsetAt(tz, 2 ** 34), lt(7200, false, "CCC"), "empty footer: last type");
    // The -2^59 "big bang" record changes nothing and is not reported.
    assert.deepEqual(
      tzifTransitionsBetween(tz, -(2 ** 60), 2 ** 40).map((t) => t.at),
      [-(2 ** 40), 2 ** 33],
    );
  }
});

test("v3: leaps and indicators skipped, footer rule after the last transition (RFC 9636 times)", () => {
  const buf = build(NUUK_LIKE);
  const tz = parseTzif(buf);
  assert.equal(tz.version, 3);
  assert.equal(tz.byteLength, buf.length);
  assert.equal(tz.footer, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  assert.deepEqual(tzifOffsetAt(tz, utc(2000, 1, 1)), lt(-10800, false, "-03"));
  assert.deepEqual(tzifOffsetAt(tz, utc(2023, 7, 1)), lt(-7200, true, "-02"), "after a listed transition");
  assert.deepEqual(tzifOffsetAt(tz, utc(2023, 10, 29, 1)), lt(-7200, false, "-02"), "exactly the last one");
  // Footer: DST from the last Sunday of March at -1:00 local (-02), i.e. Sat 23:00 -02 = Sun 01:00 UTC;
  // it ends the last Sunday of October at 00:00 local (-01) = 01:00 UTC. 2024: Mar 31, Oct 27; 2025: Mar 30,
  // Oct 26.
  assert.deepEqual(tzifOffsetAt(tz, utc(2025, 1, 15)), lt(-7200, false, "-02"));
  assert.deepEqual(tzifOffsetAt(tz, utc(2025, 7, 15)), lt(-3600, true, "-01"));
  assert.deepEqual(
    tzifTransitionsBetween(tz, utc(2023, 1, 1), utc(2026, 1, 1)).map((t) => [
      t.at,
      t.before.abbr,
      t.after.abbr,
    ]),
    [
      [utc(2023, 3, 25, 22), "-03", "-02"],
      [utc(2023, 10, 29, 1), "-02", "-02"], // isdst 1 -> 0 only
      [utc(2024, 3, 31, 1), "-02", "-01"],
      [utc(2024, 10, 27, 1), "-01", "-02"],
      [utc(2025, 3, 30, 1), "-02", "-01"],
      [utc(2025, 10, 26, 1), "-01", "-02"],
    ],
  );
});

test("v4 with leap records parses as version 4", () => {
  const tz = parseTzif(build({ ...NUUK_LIKE, version: 4 }));
  assert.equal(tz.version, 4);
  assert.equal(tz.transitions.length, 4);
});

test("type 0 applies before the first transition (tzfile.5), even when it is a DST type", () => {
  const tz = parseTzif(
    build({
      version: 2,
      data: {
        transitions: [1000],
        transitionTypes: [1],
        types: [
          [7200, 1, "DDD"],
          [3600, 0, "SSS"],
        ],
      },
      footer: "SSS-1",
    }),
  );
  // Python's zoneinfo uses the first non-DST type here instead (measured); real files have LMT as type 0.
  assert.deepEqual(tzifOffsetAt(tz, 999), lt(7200, true, "DDD"));
  assert.deepEqual(tzifOffsetAt(tz, 1000), lt(3600, false, "SSS"));
});

test("no transitions: the footer applies everywhere, else type 0", () => {
  const footerOnly = parseTzif(
    build({
      version: 3,
      data: { transitions: [], transitionTypes: [], types: [[-18000, 0, "EST"]] },
      footer: "EST5EDT,M3.2.0,M11.1.0",
    }),
  );
  assert.deepEqual(tzifOffsetAt(footerOnly, utc(1950, 7, 1)), lt(-14400, true, "EDT"));
  assert.deepEqual(tzifOffsetAt(footerOnly, utc(2025, 1, 1)), lt(-18000, false, "EST"));
  assert.equal(tzifTransitionsBetween(footerOnly, utc(2025, 1, 1), utc(2026, 1, 1)).length, 2);
  const bare = parseTzif(
    build({ version: 2, data: { transitions: [], transitionTypes: [], types: [[0, 0, "UTC"]] } }),
  );
  assert.equal(bare.footer, "");
  assert.deepEqual(tzifOffsetAt(bare, 0), lt(0, false, "UTC"));
  assert.deepEqual(tzifTransitionsBetween(bare, -1e15, 1e15), []);
});

test("a footer that disagrees with the last transition takes over one second after it", () => {
  const tz = parseTzif(
    build({
      version: 2,
      data: {
        transitions: [0],
        transitionTypes: [1],
        types: [
          [0, 0, "LMT"],
          [3600, 0, "AAA"],
        ],
      },
      footer: "BBB-2",
    }),
  );
  assert.deepEqual(tzifOffsetAt(tz, 0), lt(3600, false, "AAA"));
  assert.deepEqual(tzifOffsetAt(tz, 1), lt(7200, false, "BBB"));
  assert.deepEqual(
    tzifTransitionsBetween(tz, -10, 10).map((t) => [t.at, t.before.abbr, t.after.abbr]),
    [
      [0, "LMT", "AAA"],
      [1, "AAA", "BBB"],
    ],
  );
});

test("tzifTransitionsBetween is exactly where tzifOffsetAt changes (from exclusive, to inclusive)", () => {
  const tz = parseTzif(SHANGHAI);
  const list = tzifTransitionsBetween(tz, -(2 ** 40), utc(2040, 1, 1));
  assert.equal(list.length, 29);
  for (const t of list) {
    assert.deepEqual(tzifOffsetAt(tz, t.at - 1), t.before);
    assert.deepEqual(tzifOffsetAt(tz, t.at), t.after);
  }
  const first = list[0]?.at as number;
  assert.equal(tzifTransitionsBetween(tz, first, first + 1).length, 0);
  assert.equal(tzifTransitionsBetween(tz, first - 1, first).length, 1);
  assert.deepEqual(tzifTransitionsBetween(tz, 10, 5), []);
  const v3 = parseTzif(build(NUUK_LIKE));
  assert.throws(() => tzifTransitionsBetween(v3, 0, Number.POSITIVE_INFINITY), RangeError);
  assert.equal(tzifTransitionsBetween(v3, Number.NEGATIVE_INFINITY, utc(2024, 1, 1)).length, 3);
});

test("input in the middle of a larger buffer, and trailing bytes after the footer", () => {
  const big = Buffer.concat([Buffer.from("xxxxx"), SHANGHAI, Buffer.from("trailing")]);
  const tz = parseTzif(big.subarray(5));
  assert.equal(tz.byteLength, 561, "byteLength stops at the footer's newline");
  assert.deepEqual(tzifOffsetAt(tz, utc(2025, 1, 1)), lt(28800, false, "CST"));
  assert.equal(parseTzif(new Uint8Array(SHANGHAI)).transitions.length, 29);
});

test("malformed headers", () => {
  const bad = Buffer.from(SHANGHAI);
  bad[0] = 0x74;
  throwsTzif(bad, /^bad magic/);
  throwsTzif(Buffer.alloc(44), /^bad magic/);
  throwsTzif(Buffer.from(`NOTZ${"\0".repeat(60)}`), /^bad magic/);
  const second = Buffer.from(SHANGHAI);
  second.write("XXif", 44 + 29 * 5 + 3 * 6 + 12, "latin1"); // after the v1 header and block
  throwsTzif(second, /^bad magic in v2\+ header/);
  throwsTzif(build({ ...NUUK_LIKE, versionByte: 0x35 }), /^unsupported version byte 0x35/);
  throwsTzif(build({ ...NUUK_LIKE, versionByte: 0x31 }), /^unsupported version byte 0x31/);
  throwsTzif(build({ ...NUUK_LIKE, secondVersionByte: 0x32 }), /second header version 2 differs/);
  throwsTzif(build({ ...NUUK_LIKE, secondVersionByte: 0x00 }), /second header version 1 differs/);
  // Counts far beyond the buffer: a clean error, not a RangeError or a huge allocation.
  for (const k of ["timecnt", "typecnt", "charcnt", "leapcnt", "isstdcnt", "isutcnt"] as const) {
    throwsTzif(build({ ...NUUK_LIKE, data: { ...NUUK_LIKE.data, counts: { [k]: 0xffffffff } } }));
    throwsTzif(build({ version: 1, data: { ...NUUK_V1.data, counts: { [k]: 0x7fffffff } } }));
  }
});

test("malformed data blocks", () => {
  const d = NUUK_LIKE.data;
  const msg = throwsTzif(build({ ...NUUK_LIKE, data: { ...d, transitionTypes: [1, 2, 7, 4] } }));
  assert.match(msg, /^type index 7 out of range/);
  throwsTzif(
    build({ version: 1, data: { ...NUUK_V1.data, transitionTypes: [5, 1, 1, 1] } }),
    /^type index 5 out of range/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, transitions: [0, 10, 10, 20] } }),
    /not strictly ascending at index 2/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, transitions: [0, 2n ** 40n, 2n ** 33n, 2n ** 41n] } }),
    /ascending/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, transitions: [-(2n ** 59n), -(2n ** 60n), 0, 1] } }),
    /ascending/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, transitions: [], transitionTypes: [], types: [] } }),
    /^typecnt is zero/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, types: [[0, 0, "X"]], chars: "", transitionTypes: [0, 0, 0, 0] } }),
    /^charcnt is zero/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, isstd: [0, 1] } }),
    /^isstdcnt 2 is neither 0 nor typecnt 5/,
  );
  throwsTzif(build({ ...NUUK_LIKE, data: { ...d, isut: [0] } }), /^isutcnt 1 is neither 0 nor typecnt 5/);
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, isstd: [0, 0, 2, 0, 0] } }),
    /standard\/wall indicator 2 is 2/,
  );
  throwsTzif(build({ ...NUUK_LIKE, data: { ...d, isut: [0, 0, 0, 9, 0] } }), /UT\/local indicator 3 is 9/);
  const types = d.types.map((t) => [...t] as [number, number, string]);
  (types[2] as [number, number, string])[1] = 2;
  throwsTzif(build({ ...NUUK_LIKE, data: { ...d, types } }), /^type 2: isdst byte 2/);
  const minInt = d.types.map((t) => [...t] as [number, number, string]);
  (minInt[1] as [number, number, string])[0] = -(2 ** 31);
  throwsTzif(build({ ...NUUK_LIKE, data: { ...d, types: minInt } }), /^type 1: utoff is -2\^31/);
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, desigOverride: [0, 0, 99] } }),
    /^type 2: abbreviation index 99 out of range/,
  );
  throwsTzif(
    build({ ...NUUK_LIKE, data: { ...d, chars: "LMT\0-03\0-02\0-01", desigOverride: [0, 0, 4, 8, 12] } }),
    /^type 4: abbreviation at index 12 is not NUL-terminated/,
  );
});

test("malformed footers", () => {
  throwsTzif(
    build({ ...NUUK_LIKE, rawFooter: Buffer.from("CST-8\n") }),
    /^footer does not start with a newline/,
  );
  throwsTzif(build({ ...NUUK_LIKE, rawFooter: Buffer.from("\nCST-8") }), /^footer is not newline-terminated/);
  throwsTzif(build({ ...NUUK_LIKE, rawFooter: Buffer.from("\n") }), /^footer is not newline-terminated/);
  throwsTzif(build({ ...NUUK_LIKE, footer: "Asia/Shanghai" }), /^invalid footer TZ string "Asia\/Shanghai"/);
  throwsTzif(build({ ...NUUK_LIKE, footer: "CST" }), /^invalid footer TZ string/);
  throwsTzif(build({ ...NUUK_LIKE, rawFooter: Buffer.from("\nCST\r-8\n") }), /^footer contains byte 0xd/);
  throwsTzif(
    build({ ...NUUK_LIKE, rawFooter: Buffer.from([0x0a, 0x43, 0x53, 0xd4, 0x2d, 0x38, 0x0a]) }),
    /byte 0xd4/,
  );
  // Empty footer is fine; so is a v2 file with a v3-style footer (glibc and python accept it).
  assert.equal(parseTzif(build({ ...NUUK_LIKE, footer: "" })).footerTz, null);
  assert.equal(parseTzif(build({ ...NUUK_LIKE, version: 2 })).footerTz?.dst?.start.time, -3600);
});

test("non-Uint8Array input is a TzifError too", () => {
  throwsTzif("TZif2" as unknown as Uint8Array, /not a Uint8Array/);
  throwsTzif(null as unknown as Uint8Array, /not a Uint8Array/);
});

test("random corruption never escapes as anything but TzifError, and never hangs", () => {
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const sources = [SHANGHAI, build(NUUK_LIKE), build(NUUK_V1)];
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const src = sources[i % sources.length] as Buffer;
    const buf = Buffer.from(src);
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
    let tz: Tzif;
    try {
      tz = parseTzif(buf);
    } catch (e) {
      assert.ok(e instanceof TzifError, `iteration ${i}: ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(!e.message.includes("\n"));
      rejected++;
      continue;
    }
    parsed++;
    // Whatever parsed must evaluate without throwing.
    for (const t of [-(2 ** 40), 0, utc(2025, 7, 1), 2 ** 40]) tzifOffsetAt(tz, t);
    tzifTransitionsBetween(tz, utc(2020, 1, 1), utc(2030, 1, 1));
  }
  assert.ok(parsed > 100 && rejected > 100, `parsed ${parsed}, rejected ${rejected}`);
});
