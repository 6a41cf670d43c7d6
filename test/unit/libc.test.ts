/**
 * libcReading: how glibc (time/tzset.c, tzfile.c) and musl (src/time/__tz.c) turn TZ into local time.
 * musl expectations follow musl >= 1.2.3 (every supported Alpine release; measured with Debian's musl-tools
 * 1.2.3 in test/real/libc-real.test.ts): TZ="" is UTC (since 1.1.11, "empty TZ environment variable gives GMT
 * rather than system default"), and a value is parsed as a POSIX string only when it looks like one (a name
 * followed by an offset, or the names UTC/GMT); every other value is a zone file name (1.2.3, "POSIX TZ
 * parsing is stricter to allow more names to fallback to files"), so TZ=PRC loads zoneinfo/PRC.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type LibcFlavor, type LibcReading, libcReading } from "../../src/tz/libc.js";

const Z = "/usr/share/zoneinfo";
/** The files a fake target holds that are loadable TZif files. */
const FULL = new Set([
  "/etc/localtime",
  `${Z}/Asia/Shanghai`,
  `${Z}/PRC`,
  `${Z}/UTC`,
  `${Z}/Etc/UTC`,
  `${Z}/GMT`,
  `${Z}/Japan`,
  `${Z}/EST`,
  `${Z}/Europe/Berlin`,
  "/opt/zones/Asia/Tokyo",
]);
const has =
  (files: Set<string> | string[]) =>
  (p: string): boolean =>
    (files instanceof Set ? files : new Set(files)).has(p);
const full = has(FULL);
const none = has([]);

function read(flavor: LibcFlavor, tz: string | undefined, isTzif = full, tzdir?: string): LibcReading {
  return libcReading(flavor, tz, isTzif, tzdir);
}

function expectFile(r: LibcReading, path: string): void {
  assert.equal(r.kind, "file", `expected a zone file, got ${JSON.stringify(r)}`);
  if (r.kind === "file") assert.equal(r.path, path);
}

function expectPosix(r: LibcReading, stdOffset: number, hasDst = false): void {
  assert.equal(r.kind, "posix", `expected a POSIX string, got ${JSON.stringify(r)}`);
  if (r.kind === "posix") {
    assert.equal(r.tz.std.utoff, stdOffset);
    assert.equal(r.tz.dst !== null, hasDst);
  }
}

function expectUtc(r: LibcReading, silent: boolean): void {
  assert.equal(r.kind, "utc", `expected UTC, got ${JSON.stringify(r)}`);
  if (r.kind === "utc") assert.equal(r.silent, silent, `silent for ${r.how}`);
}

describe("glibc", () => {
  test("TZ unset: /etc/localtime, or a silent UTC when it is missing or unreadable", () => {
    const r = read("glibc", undefined);
    expectFile(r, "/etc/localtime");
    assert.match(r.how, /TZ unset/);
    expectUtc(read("glibc", undefined, none), true);
  });

  test('TZ="" and TZ=":" are UTC (set on purpose or by an unset compose variable: silent)', () => {
    const empty = read("glibc", "");
    expectUtc(empty, true);
    assert.match(empty.how, /empty/);
    expectUtc(read("glibc", ":"), true);
    expectUtc(read("glibc", "", none), true);
  });

  test("zone names, with and without the leading colon, load $TZDIR/<name>", () => {
    expectFile(read("glibc", "Asia/Shanghai"), `${Z}/Asia/Shanghai`);
    expectFile(read("glibc", ":Asia/Shanghai"), `${Z}/Asia/Shanghai`);
    expectFile(read("glibc", "Europe/Berlin"), `${Z}/Europe/Berlin`);
    expectFile(read("glibc", "Asia/Tokyo", full, "/opt/zones"), "/opt/zones/Asia/Tokyo");
  });

  test("a zone name without its file falls back to UTC silently (no tzdata, typos)", () => {
    const missing = read("glibc", "Asia/Shanghai", none);
    expectUtc(missing, true);
    assert.match(missing.how, /no zone file \/usr\/share\/zoneinfo\/Asia\/Shanghai/);
    expectUtc(read("glibc", ":Asia/Shanghai", none), true);
    expectUtc(read("glibc", "Asia/Shangai"), true);
  });

  test("absolute paths are used as they are", () => {
    expectFile(read("glibc", "/opt/zones/Asia/Tokyo"), "/opt/zones/Asia/Tokyo");
    expectFile(read("glibc", ":/opt/zones/Asia/Tokyo"), "/opt/zones/Asia/Tokyo");
    expectUtc(read("glibc", "/nonexistent"), true);
  });

  test("POSIX strings: inverted signs, DST rules", () => {
    expectPosix(read("glibc", "CST-8"), 28800);
    expectPosix(read("glibc", "UTC+8"), -28800);
    expectPosix(read("glibc", "<+0330>-3:30"), 12600);
    expectPosix(read("glibc", "EST5EDT,M3.2.0,M11.1.0"), -18000, true);
    // ',' before '/': still a POSIX string (rule times after '/').
    expectPosix(read("glibc", "EST5EDT,M3.2.0/2,M11.1.0/2"), -18000, true);
    expectPosix(read("glibc", "CST-8", none), 28800);
  });

  test("glibc tries the file first for every value: PRC, Japan, EST are zone files", () => {
    expectFile(read("glibc", "PRC"), `${Z}/PRC`);
    expectFile(read("glibc", "Japan"), `${Z}/Japan`);
    expectFile(read("glibc", "EST"), `${Z}/EST`);
    expectFile(read("glibc", "UTC"), `${Z}/UTC`);
  });

  test("PRC without its file (Debian 13 without tzdata-legacy) is a silent UTC", () => {
    expectUtc(read("glibc", "PRC", none), true);
  });

  test("TZ=UTC or GMT without zone files is UTC as the user meant: not silent", () => {
    expectUtc(read("glibc", "UTC", none), false);
    expectUtc(read("glibc", "GMT", none), false);
  });

  test("a value with ',' before '/' and no file: not POSIX, silent UTC", () => {
    expectUtc(read("glibc", "Foo,Bar/Baz"), true);
    expectUtc(read("glibc", "Asia/Shanghai,x"), true);
  });
});

describe("musl (>= 1.2.3)", () => {
  test("TZ unset: /etc/localtime, or UTC when it is missing", () => {
    expectFile(read("musl", undefined), "/etc/localtime");
    expectUtc(read("musl", undefined, none), true);
  });

  test('TZ="" is UTC, not /etc/localtime (musl 1.1.11+)', () => {
    expectUtc(read("musl", ""), true);
    expectUtc(read("musl", ":"), true);
  });

  test("zone names with '/' and ':'-prefixed names search the three musl directories", () => {
    expectFile(read("musl", "Asia/Shanghai"), `${Z}/Asia/Shanghai`);
    expectFile(read("musl", ":Asia/Shanghai"), `${Z}/Asia/Shanghai`);
    expectFile(read("musl", "Asia/Tokyo", has(["/etc/zoneinfo/Asia/Tokyo"])), "/etc/zoneinfo/Asia/Tokyo");
    expectFile(
      read("musl", "Asia/Tokyo", has(["/share/zoneinfo/Asia/Tokyo", "/etc/zoneinfo/Asia/Tokyo"])),
      "/share/zoneinfo/Asia/Tokyo",
    );
    const missing = read("musl", "Asia/Shanghai", none);
    expectUtc(missing, true);
    expectUtc(read("musl", "Asia/Shangai"), true);
  });

  test("absolute and ./relative paths are used directly; other names with '.' are refused", () => {
    expectFile(read("musl", "/opt/zones/Asia/Tokyo"), "/opt/zones/Asia/Tokyo");
    expectFile(read("musl", ":/opt/zones/Asia/Tokyo"), "/opt/zones/Asia/Tokyo");
    expectFile(read("musl", "./zones/Tokyo", has(["./zones/Tokyo"])), "./zones/Tokyo");
    expectUtc(read("musl", "/nonexistent"), true);
    expectUtc(read("musl", "Asia/../PRC", has([`${Z}/Asia/../PRC`])), true);
  });

  test("POSIX strings (a name followed by an offset)", () => {
    expectPosix(read("musl", "CST-8"), 28800);
    expectPosix(read("musl", "UTC+8"), -28800);
    expectPosix(read("musl", "<+0330>-3:30"), 12600);
    expectPosix(read("musl", "EST5EDT,M3.2.0,M11.1.0"), -18000, true);
    expectPosix(read("musl", "EST5EDT,M3.2.0/2,M11.1.0/2"), -18000, true);
  });

  test("TZ=PRC, Japan, EST: names that are not POSIX strings load the zone file (musl 1.2.3+)", () => {
    expectFile(read("musl", "PRC"), `${Z}/PRC`);
    expectFile(read("musl", "Japan"), `${Z}/Japan`);
    expectFile(read("musl", "EST"), `${Z}/EST`);
  });

  test("TZ=PRC without its file (Alpine without tzdata): a silent UTC", () => {
    const r = read("musl", "PRC", none);
    expectUtc(r, true);
  });

  test("TZ=UTC and TZ=GMT are UTC on purpose: not silent", () => {
    expectUtc(read("musl", "UTC"), false);
    expectUtc(read("musl", "GMT"), false);
    expectUtc(read("musl", "UTC", none), false);
  });

  test("',' before '/': a name with no offset is neither POSIX nor an existing file: silent UTC", () => {
    expectUtc(read("musl", "Foo,Bar/Baz"), true);
    expectUtc(read("musl", "Asia/Shanghai,x"), true);
  });
});
