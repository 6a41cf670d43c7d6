import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  predictAllTzlocal,
  predictTzlocal,
  type TzlocalLine,
  type TzlocalPrediction,
  utf8DecodeErrorText,
  zoneinfoKeyError,
} from "../../src/tz/tzlocal.js";
import { type FakeSpec, fakeLayout, linkTo } from "../helpers/fake-layout.js";

interface Expect {
  outcome: TzlocalPrediction["outcome"];
  zone?: string | null;
  exception?: string | null;
  message?: string | null;
  via?: string;
}

const ok = (zone: string, via?: string): Expect => ({
  outcome: "ok",
  zone,
  exception: null,
  message: null,
  via,
});
const err = (exception: string, message: string | null, via?: string): Expect => ({
  outcome: "error",
  zone: null,
  exception,
  message,
  via,
});
const warnUser = (zone: string, message: string): Expect => ({
  outcome: "warning",
  zone,
  exception: "UserWarning",
  message,
});
const warnLog = (zone: string, message: string): Expect => ({
  outcome: "warning",
  zone,
  exception: null,
  message,
});

const offsetMsg = (tz: number, sys: number) =>
  `Timezone offset does not match system offset: ${tz} != ${sys}. Please, check your config files.`;
const conflict = (...pairs: [string, string][]) =>
  `Multiple conflicting time zone configurations found:\n${pairs.map(([k, v]) => `${k}: ${v}\n`).join("")}` +
  "Fix the configuration, or set the time zone in a TZ environment variable.\n";
const nonZoneinfo = (tz: string) =>
  `tzlocal() does not support non-zoneinfo timezones like ${tz}. \nPlease use a timezone in the form of Continent/City`;
/** tzlocal 4.2 (and 2.x) never format the %s. */
const NON_ZONEINFO_42 = nonZoneinfo("%s");
const ETC_TZ_DROPPED =
  "/etc/timezone is deprecated in some distros, and no longer reliable. tzlocal is ignoring it, and you can likely delete it.";
const DEFAULT_UTC = "Can not find any timezone configuration, defaulting to UTC.";
const LINK = "/etc/localtime is a symlink to";
/** The start of a real TZif2 file: binary, so 4.x/5.x skip it as undecodable. */
const TZIF2_BYTES = Buffer.concat([
  Buffer.from("TZif2", "latin1"),
  Buffer.alloc(15),
  Buffer.from([0, 0, 0, 1, 0xff, 0xfe]),
]);

function check(p: TzlocalPrediction, e: Expect): void {
  const ctx = `${p.line}: ${JSON.stringify(p, null, 1)}`;
  assert.equal(p.outcome, e.outcome, ctx);
  if (e.zone !== undefined) assert.equal(p.zone, e.zone, ctx);
  if (e.exception !== undefined) assert.equal(p.exception, e.exception, ctx);
  if (e.message !== undefined) assert.equal(p.message, e.message, ctx);
  if (e.via !== undefined) assert.equal(p.via, e.via, ctx);
  assert.ok(p.steps.length > 0, "steps explain the path");
}

interface Case {
  name: string;
  spec: FakeSpec;
  expect: Record<TzlocalLine, Expect>;
}

function runCases(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      for (const line of ["2.x", "4.x", "5.x"] as const) {
        test(`${c.name} [${line}]`, () => check(predictTzlocal(fakeLayout(c.spec), line), c.expect[line]));
      }
    }
  });
}

// §1c, one case per row (TZ unset unless stated). The 4.x column is the installed 4.2: its symlink loop has
// no `break`, so localtime -> Etc/UTC is reported as "UTC" where 4.3 says "Etc/UTC".
runCases("reference §1c", [
  {
    name: "row 1: /etc/timezone=Asia/Shanghai, localtime -> Etc/UTC",
    spec: { etcTimezone: "Asia/Shanghai\n", localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": err("ValueError", offsetMsg(28800, 0), "/etc/timezone"),
      "4.x": err("ZoneInfoNotFoundError", conflict(["/etc/timezone", "Asia/Shanghai"], [LINK, "UTC"])),
      "5.x": { ...warnLog("Etc/UTC", ETC_TZ_DROPPED), via: LINK },
    },
  },
  {
    name: "row 2: localtime -> Asia/Shanghai, stale /etc/timezone=Etc/UTC",
    spec: { etcTimezone: "Etc/UTC\n", localtime: linkTo("Asia/Shanghai") },
    expect: {
      "2.x": err("ValueError", offsetMsg(0, 28800)),
      "4.x": err("ZoneInfoNotFoundError", conflict(["/etc/timezone", "Etc/UTC"], [LINK, "Asia/Shanghai"])),
      "5.x": warnLog("Asia/Shanghai", ETC_TZ_DROPPED),
    },
  },
  {
    name: "row 3: localtime = copied Shanghai file, /etc/timezone=Etc/UTC",
    spec: { etcTimezone: "Etc/UTC\n", localtime: { copyOf: "Asia/Shanghai" } },
    expect: {
      "2.x": err("ValueError", offsetMsg(0, 28800)),
      "4.x": err("ValueError", offsetMsg(0, 28800), "/etc/timezone"),
      "5.x": warnUser("Etc/UTC", offsetMsg(0, 28800)),
    },
  },
  {
    name: "row 4: copied Shanghai file, no /etc/timezone",
    spec: { localtime: { copyOf: "Asia/Shanghai" } },
    expect: {
      "2.x": ok("local", "/etc/localtime (file)"),
      "4.x": ok("local", "/etc/localtime (file)"),
      "5.x": ok("local", "/etc/localtime (file)"),
    },
  },
  {
    name: "row 5: no localtime, /etc/timezone=Asia/Shanghai",
    spec: { etcTimezone: "Asia/Shanghai\n" },
    expect: {
      "2.x": err("ValueError", offsetMsg(28800, 0)),
      "4.x": err("ValueError", offsetMsg(28800, 0)),
      "5.x": warnUser("Asia/Shanghai", offsetMsg(28800, 0)),
    },
  },
  {
    name: "row 6: nothing",
    spec: { noZones: true },
    expect: {
      "2.x": { ...warnUser("UTC", DEFAULT_UTC), via: "default" },
      "4.x": { ...warnUser("UTC", DEFAULT_UTC), via: "default" },
      "5.x": { ...warnUser("UTC", DEFAULT_UTC), via: "default" },
    },
  },
  {
    name: 'row 7: sysconfig ZONE="Asia/Shanghai", localtime -> Etc/UTC',
    spec: { sysconfigClock: 'ZONE="Asia/Shanghai"\nUTC=true\n', localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": err("ValueError", offsetMsg(28800, 0), "/etc/sysconfig/clock"),
      "4.x": err("ZoneInfoNotFoundError", conflict(["/etc/sysconfig/clock", "Asia/Shanghai"], [LINK, "UTC"])),
      "5.x": err(
        "ZoneInfoNotFoundError",
        conflict(["/etc/sysconfig/clock", "Asia/Shanghai"], [LINK, "Etc/UTC"]),
      ),
    },
  },
  {
    name: 'row 8: TZ="", files all Shanghai',
    spec: { tz: "", etcTimezone: "Asia/Shanghai\n", localtime: linkTo("Asia/Shanghai") },
    expect: {
      "2.x": err("ValueError", offsetMsg(28800, 0)),
      "4.x": err("ValueError", offsetMsg(28800, 0)),
      "5.x": warnUser("Asia/Shanghai", offsetMsg(28800, 0)),
    },
  },
  {
    name: "row 9: TZ=CST-8 (files Etc/UTC)",
    spec: { tz: "CST-8", etcTimezone: "Etc/UTC\n", localtime: linkTo("Etc/UTC"), systemOffset: 28800 },
    expect: {
      "2.x": err("ValueError", offsetMsg(0, 28800)),
      "4.x": err("ZoneInfoNotFoundError", NON_ZONEINFO_42, "TZ"),
      "5.x": err("ZoneInfoNotFoundError", nonZoneinfo("CST-8"), "TZ"),
    },
  },
  {
    name: "row 10a: TZ=:Asia/Shanghai",
    spec: { tz: ":Asia/Shanghai", etcTimezone: "Etc/UTC\n", localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": ok("Asia/Shanghai", "TZ"),
      "4.x": ok("Asia/Shanghai", "TZ"),
      "5.x": ok("Asia/Shanghai", "TZ"),
    },
  },
  {
    name: "row 10b: TZ=Asia/Shanghai",
    spec: { tz: "Asia/Shanghai", etcTimezone: "Etc/UTC\n", localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": ok("Asia/Shanghai", "TZ"),
      "4.x": ok("Asia/Shanghai", "TZ"),
      "5.x": ok("Asia/Shanghai", "TZ"),
    },
  },
  {
    name: "row 11: localtime -> PRC, /etc/timezone=Asia/Shanghai",
    spec: { etcTimezone: "Asia/Shanghai\n", localtime: linkTo("PRC") },
    expect: {
      "2.x": ok("Asia/Shanghai", "/etc/timezone"),
      "4.x": ok("Asia/Shanghai", "/etc/timezone"),
      "5.x": ok("Asia/Shanghai", "/etc/timezone"),
    },
  },
  {
    name: "row 12: localtime -> Etc/UTC, /etc/timezone=Etc/GMT",
    spec: { etcTimezone: "Etc/GMT\n", localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": ok("Etc/GMT", "/etc/timezone"),
      "4.x": err("ZoneInfoNotFoundError", conflict(["/etc/timezone", "Etc/GMT"], [LINK, "UTC"])),
      "5.x": warnLog("Etc/UTC", ETC_TZ_DROPPED),
    },
  },
  {
    name: "row 13: host Berlin localtime bind-mounted over the container's link -> UTC, /etc/timezone=UTC",
    spec: {
      etcTimezone: "UTC\n",
      localtime: linkTo("UTC"),
      zones: { "Etc/UTC": { offset: 3600 } }, // the bind mount overwrote zoneinfo/Etc/UTC with Berlin
      systemOffset: 3600,
    },
    expect: {
      "2.x": err("ValueError", offsetMsg(0, 3600)),
      "4.x": err("ValueError", offsetMsg(0, 3600)),
      "5.x": ok("UTC", "/etc/timezone"),
    },
  },
]);

runCases("TZ handling", [
  {
    name: "TZ typo Asia/Shangai",
    spec: { tz: "Asia/Shangai", etcTimezone: "Etc/UTC\n", localtime: linkTo("Etc/UTC"), systemOffset: 0 },
    expect: {
      "2.x": ok("Etc/UTC", "/etc/timezone"),
      "4.x": err("ZoneInfoNotFoundError", NON_ZONEINFO_42),
      "5.x": err("ZoneInfoNotFoundError", nonZoneinfo("Asia/Shangai")),
    },
  },
  {
    name: "TZ=/nonexistent",
    spec: { tz: "/nonexistent", localtime: linkTo("Asia/Shanghai") },
    expect: {
      "2.x": ok("Asia/Shanghai", LINK),
      "4.x": err("ZoneInfoNotFoundError", NON_ZONEINFO_42),
      "5.x": err("ValueError", "ZoneInfo keys may not be absolute paths, got: /nonexistent"),
    },
  },
  {
    name: "TZ=/usr/share/zoneinfo/Asia/Shanghai (an existing file)",
    spec: { tz: "/usr/share/zoneinfo/Asia/Shanghai", etcTimezone: "Etc/UTC\n" },
    expect: { "2.x": ok("local", "TZ"), "4.x": ok("Asia/Shanghai", "TZ"), "5.x": ok("Asia/Shanghai", "TZ") },
  },
  {
    name: "TZ=/etc/localtime with localtime -> PRC names the realpath",
    spec: { tz: "/etc/localtime", localtime: linkTo("PRC") },
    expect: { "2.x": ok("local"), "4.x": ok("Asia/Shanghai"), "5.x": ok("Asia/Shanghai") },
  },
  {
    name: "TZ=/opt/tz/mytz (a file whose name is not a zone) keeps the basename",
    spec: { tz: "/opt/tz/mytz", files: { "/opt/tz/mytz": { fileOffset: 7200 } } },
    expect: { "2.x": ok("local"), "4.x": ok("mytz"), "5.x": ok("mytz") },
  },
  {
    name: "TZ=UTC without tzdata: pytz and pds special-case UTC, 5.x needs the file",
    spec: { tz: "UTC", noZones: true },
    expect: {
      "2.x": ok("UTC", "TZ"),
      "4.x": ok("UTC", "TZ"),
      "5.x": err("ZoneInfoNotFoundError", nonZoneinfo("UTC")),
    },
  },
  {
    name: 'TZ=":" (empty after the colon)',
    spec: { tz: ":", localtime: linkTo("Europe/Berlin") },
    expect: {
      "2.x": ok("Europe/Berlin", LINK),
      "4.x": err("ZoneInfoNotFoundError", NON_ZONEINFO_42),
      "5.x": err("ValueError", "ZoneInfo keys must be normalized relative paths, got: "),
    },
  },
  {
    name: "TZ set skips the offset check",
    spec: { tz: "Europe/Berlin", systemOffset: 0 },
    expect: { "2.x": ok("Europe/Berlin"), "4.x": ok("Europe/Berlin"), "5.x": ok("Europe/Berlin") },
  },
]);

runCases("config files", [
  {
    name: "Ubuntu /UTC in /etc/timezone",
    spec: { etcTimezone: "/UTC\n", localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": err("UnknownTimeZoneError", "/UTC", "/etc/timezone"),
      "4.x": ok("UTC", "/etc/timezone"),
      "5.x": ok("UTC", "/etc/timezone"),
    },
  },
  {
    name: "unquoted ZONE= in sysconfig is ignored",
    spec: { sysconfigClock: "ZONE=Asia/Shanghai\n", localtime: linkTo("Etc/UTC") },
    expect: { "2.x": ok("Etc/UTC", LINK), "4.x": ok("UTC", LINK), "5.x": ok("Etc/UTC", LINK) },
  },
  {
    name: "single-quoted TIMEZONE= in conf.d is ignored",
    spec: { confdClock: "TIMEZONE='Asia/Shanghai'\n" },
    expect: {
      "2.x": warnUser("UTC", DEFAULT_UTC),
      "4.x": warnUser("UTC", DEFAULT_UTC),
      "5.x": warnUser("UTC", DEFAULT_UTC),
    },
  },
  {
    name: "missing closing quote",
    spec: { sysconfigClock: 'ZONE="Asia/Shanghai\n', localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": err("AttributeError", "'NoneType' object has no attribute 'start'", "/etc/sysconfig/clock"),
      "4.x": err("AttributeError", "'NoneType' object has no attribute 'start'", "/etc/sysconfig/clock"),
      "5.x": warnUser(
        "Etc/UTC",
        'Syntax error in /etc/sysconfig/clock. Ignoring line: ZONE="Asia/Shanghai\n',
      ),
    },
  },
  {
    name: "conf.d TIMEZONE= with spaces becomes underscores",
    spec: { confdClock: '  TIMEZONE = "America/New York"\n', systemOffset: -18000 },
    expect: {
      "2.x": ok("America/New_York", "/etc/conf.d/clock"),
      "4.x": ok("America/New_York", "/etc/conf.d/clock"),
      "5.x": ok("America/New_York", "/etc/conf.d/clock"),
    },
  },
  {
    name: "first line wins in 2.x, last line in 4.x/5.x; comments and host parts are cut",
    spec: { etcTimezone: "# comment\nEurope/Berlin myhost\nAsia/Shanghai#x\n", systemOffset: 28800 },
    expect: {
      "2.x": err("ValueError", offsetMsg(3600, 28800)),
      "4.x": ok("Asia/Shanghai", "/etc/timezone"),
      "5.x": ok("Asia/Shanghai", "/etc/timezone"),
    },
  },
  {
    name: "/var/db/zoneinfo (BSD) is read after /etc/timezone",
    spec: { varDbZoneinfo: "Europe/Berlin\n", systemOffset: 3600 },
    expect: {
      "2.x": ok("Europe/Berlin", "/var/db/zoneinfo"),
      "4.x": ok("Europe/Berlin", "/var/db/zoneinfo"),
      "5.x": ok("Europe/Berlin", "/var/db/zoneinfo"),
    },
  },
  {
    name: "zone named by /etc/timezone missing from the zone database (tzdata removed after cp)",
    spec: { etcTimezone: "Asia/Shanghai\n", localtime: { fileOffset: 28800 }, noZones: true },
    expect: {
      "2.x": err("UnknownTimeZoneError", "Asia/Shanghai"),
      "4.x": err("UnknownTimeZoneError", "Asia/Shanghai"),
      "5.x": err("ZoneInfoNotFoundError", "No time zone found with key Asia/Shanghai"),
    },
  },
  {
    name: "non-UTF-8 /etc/timezone crashes 2.x, skipped by 4.x/5.x",
    spec: { etcTimezone: Buffer.from([0x41, 0xff, 0x0a]), localtime: linkTo("Etc/UTC") },
    expect: {
      "2.x": err(
        "UnicodeDecodeError",
        "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte",
      ),
      "4.x": ok("UTC", LINK),
      "5.x": ok("Etc/UTC", LINK),
    },
  },
  {
    name: "UTF-8 but non-ASCII /etc/timezone is skipped by 5.4+ only",
    spec: { etcTimezone: "Europe/Zürich\n", systemOffset: 0 },
    expect: {
      "2.x": err("UnknownTimeZoneError", "Europe/Zürich"),
      "4.x": err("UnknownTimeZoneError", "Europe/Zürich"),
      "5.x": warnUser("UTC", DEFAULT_UTC),
    },
  },
  {
    name: "a TZif2 file as /etc/timezone is skipped by 2.x",
    spec: { etcTimezone: TZIF2_BYTES, localtime: linkTo("Asia/Shanghai") },
    expect: {
      "2.x": ok("Asia/Shanghai", LINK),
      "4.x": ok("Asia/Shanghai", LINK),
      "5.x": ok("Asia/Shanghai", LINK),
    },
  },
  {
    name: "empty /etc/timezone is skipped",
    spec: { etcTimezone: " \n", localtime: linkTo("Asia/Shanghai") },
    expect: { "2.x": ok("Asia/Shanghai"), "4.x": ok("Asia/Shanghai"), "5.x": ok("Asia/Shanghai") },
  },
  {
    name: "Etc/UTC in /etc/timezone and a UTC link agree (4.1+ realpath rule)",
    spec: { etcTimezone: "Etc/UTC\n", localtime: linkTo("UTC") },
    expect: { "2.x": ok("Etc/UTC"), "4.x": ok("Etc/UTC"), "5.x": ok("Etc/UTC") },
  },
  {
    name: "/etc/timezone and sysconfig conflict: 5.x drops /etc/timezone",
    spec: { etcTimezone: "Europe/Berlin\n", sysconfigClock: 'ZONE="Asia/Shanghai"\n', systemOffset: 28800 },
    expect: {
      "2.x": err("ValueError", offsetMsg(3600, 28800), "/etc/timezone"),
      "4.x": err(
        "ZoneInfoNotFoundError",
        conflict(["/etc/timezone", "Europe/Berlin"], ["/etc/sysconfig/clock", "Asia/Shanghai"]),
      ),
      "5.x": { ...warnLog("Asia/Shanghai", ETC_TZ_DROPPED), via: "/etc/sysconfig/clock" },
    },
  },
]);

runCases("/etc/localtime", [
  {
    name: "dangling localtime symlink (no tzdata) and nothing else",
    spec: { localtime: linkTo("Asia/Shanghai"), noZones: true },
    expect: {
      "2.x": warnUser("UTC", DEFAULT_UTC),
      "4.x": warnUser("UTC", DEFAULT_UTC),
      "5.x": warnUser("UTC", DEFAULT_UTC),
    },
  },
  {
    name: "localtime -> Etc/UTC alone: 4.2 keeps the shortest suffix",
    spec: { localtime: linkTo("Etc/UTC") },
    expect: { "2.x": ok("Etc/UTC", LINK), "4.x": ok("UTC", LINK), "5.x": ok("Etc/UTC", LINK) },
  },
  {
    name: "copied file with a wrong system offset: only 4.x/5.x check it",
    spec: { localtime: { copyOf: "Asia/Shanghai" }, systemOffset: 0 },
    expect: {
      "2.x": ok("local"),
      "4.x": err("ValueError", offsetMsg(28800, 0), "/etc/localtime (file)"),
      "5.x": warnUser("local", offsetMsg(28800, 0)),
    },
  },
  {
    name: "localtime is not a TZif file",
    spec: { localtime: { fileOffset: null } },
    expect: {
      "2.x": err("AssertionError", null),
      "4.x": err("ValueError", "Invalid TZif file: magic not found"),
      "5.x": err("ValueError", "Invalid TZif file: magic not found"),
    },
  },
  {
    name: "localtime is a directory",
    spec: { localtime: { dir: true } },
    expect: {
      "2.x": err("IsADirectoryError", "[Errno 21] Is a directory: '/etc/localtime'"),
      "4.x": err("IsADirectoryError", "[Errno 21] Is a directory: '/etc/localtime'"),
      "5.x": err("IsADirectoryError", "[Errno 21] Is a directory: '/etc/localtime'"),
    },
  },
  {
    name: "/usr/local/etc/localtime as the last resort",
    spec: { usrLocalEtcLocaltime: { copyOf: "Europe/Berlin" }, systemOffset: 3600 },
    expect: {
      "2.x": ok("local", "/usr/local/etc/localtime (file)"),
      "4.x": ok("local", "/usr/local/etc/localtime (file)"),
      "5.x": ok("local", "/usr/local/etc/localtime (file)"),
    },
  },
  {
    name: "5.x warns only beyond 60 s",
    spec: { etcTimezone: "Asia/Shanghai\n", systemOffset: 28800 + 60 },
    expect: {
      "2.x": err("ValueError", offsetMsg(28800, 28860)),
      "4.x": err("ValueError", offsetMsg(28800, 28860)),
      "5.x": ok("Asia/Shanghai"),
    },
  },
  {
    name: "Termux: getprop assumed missing crashes 2.x/4.2, ignored by 5.x",
    spec: { termux: true, localtime: linkTo("Asia/Shanghai") },
    expect: {
      "2.x": err("FileNotFoundError", "[Errno 2] No such file or directory: 'getprop'", "getprop"),
      "4.x": err("FileNotFoundError", "[Errno 2] No such file or directory: 'getprop'", "getprop"),
      "5.x": ok("Asia/Shanghai"),
    },
  },
]);

describe("predictAllTzlocal", () => {
  test("returns 2.x, 4.x, 5.x in that order", () => {
    const all = predictAllTzlocal(fakeLayout({ localtime: linkTo("Asia/Shanghai") }));
    assert.deepEqual(
      all.map((p) => p.line),
      ["2.x", "4.x", "5.x"],
    );
    for (const p of all) assert.equal(p.zone, "Asia/Shanghai");
  });

  test("keeps every warning in order and shows the last", () => {
    const p = predictTzlocal(
      fakeLayout({ etcTimezone: "Asia/Shanghai\n", localtime: linkTo("Europe/Berlin"), systemOffset: 0 }),
      "5.x",
    );
    assert.deepEqual(p.warnings, [
      { exception: null, message: ETC_TZ_DROPPED },
      { exception: "UserWarning", message: offsetMsg(3600, 0) },
    ]);
    assert.equal(p.outcome, "warning");
    assert.equal(p.exception, "UserWarning");
    assert.equal(p.zone, "Europe/Berlin");
  });
});

describe("Python helpers", () => {
  test("UnicodeDecodeError texts match CPython", () => {
    const cases: [number[], string][] = [
      [[0xff], "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"],
      [[0x61, 0xe4, 0xb8], "'utf-8' codec can't decode bytes in position 1-2: unexpected end of data"],
      [[0xe4, 0x41], "'utf-8' codec can't decode byte 0xe4 in position 0: invalid continuation byte"],
      [[0xe4, 0xb8, 0x41], "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"],
      [[0xed, 0xa0, 0x80], "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"],
      [[0xf0, 0x90, 0x41], "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"],
      [[0xc3], "'utf-8' codec can't decode byte 0xc3 in position 0: unexpected end of data"],
      [
        [0x61, 0x62, 0xf0, 0x9f, 0x98],
        "'utf-8' codec can't decode bytes in position 2-4: unexpected end of data",
      ],
    ];
    for (const [bytes, text] of cases) assert.equal(utf8DecodeErrorText(Uint8Array.from(bytes)), text);
    assert.equal(utf8DecodeErrorText(Buffer.from("Zürich 😀", "utf8")), null);
  });

  test("zoneinfo key validation", () => {
    assert.equal(zoneinfoKeyError("Asia/Shanghai"), null);
    assert.equal(zoneinfoKeyError("/UTC"), "ZoneInfo keys may not be absolute paths, got: /UTC");
    assert.equal(zoneinfoKeyError("a/../b"), "ZoneInfo keys must be normalized relative paths, got: a/../b");
    assert.equal(zoneinfoKeyError(".."), "ZoneInfo keys must refer to subdirectories of TZPATH, got: ..");
  });
});
