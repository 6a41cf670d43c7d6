/**
 * Fact gathering that needs no real system: os-release, dist-info names, dotenv files, the app scan
 * (SCHEDULER_TIMEZONE, scheduler constructions, schedctl config), tzlocal's reading of /etc/timezone and the
 * clock files, and the OS facts of hand-built roots.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { gatherAppFacts, parseDotenv } from "../../src/facts/app.js";
import { gatherOsFacts, parseOsRelease } from "../../src/facts/os.js";
import { normalizeDistName, parseDistInfoDir } from "../../src/facts/python.js";
import { zoneFromClockFile, zoneFromTimezoneFile } from "../../src/facts/tz-sources.js";
import { RootFsTarget } from "../../src/targets/rootfs.js";
import type { TextFileFact } from "../../src/tz/layout.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A temp directory with the given files (path -> content; a trailing '/' makes a directory) and links. */
function tempDir(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-facts-test-"));
  dirs.push(dir);
  for (const [p, content] of Object.entries(files)) {
    const dest = join(dir, p);
    if (p.endsWith("/")) {
      mkdirSync(dest, { recursive: true });
      continue;
    }
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, content);
  }
  for (const [p, target] of Object.entries(links)) {
    const dest = join(dir, p);
    mkdirSync(dirname(dest), { recursive: true });
    symlinkSync(target, dest);
  }
  return dir;
}

const text = (raw: string | null, path = "/etc/timezone"): TextFileFact => ({
  path,
  exists: raw !== null,
  raw,
  notUtf8: false,
  notAscii: false,
});

describe("parseOsRelease", () => {
  test("double and single quotes, escapes, comments, blank lines, CRLF", () => {
    const rel = parseOsRelease(
      [
        "# a comment",
        "",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
        "NAME='Debian GNU/Linux'",
        "ID=debian",
        'VERSION_ID="12"',
        "VERSION_CODENAME=bookworm\r",
        'QUOTED="say \\"hi\\" \\$HOME \\\\ \\`x\\`"',
        '  ID_LIKE="ubuntu debian"  ',
        "lowercase=ignored",
        "NOT A LINE",
      ].join("\n"),
    );
    assert.deepEqual(rel, {
      PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)",
      NAME: "Debian GNU/Linux",
      ID: "debian",
      VERSION_ID: "12",
      VERSION_CODENAME: "bookworm",
      QUOTED: 'say "hi" $HOME \\ `x`',
      ID_LIKE: "ubuntu debian",
    });
  });

  test("an empty file is an empty record; a later key wins", () => {
    assert.deepEqual(parseOsRelease(""), {});
    assert.deepEqual(parseOsRelease("ID=a\nID=b\n"), { ID: "b" });
  });
});

describe("dist-info and egg-info names", () => {
  test("name and version, normalised as pip does", () => {
    assert.deepEqual(parseDistInfoDir("tzlocal-4.2.egg-info"), { name: "tzlocal", version: "4.2" });
    assert.deepEqual(parseDistInfoDir("Flask_APScheduler-1.13.1.dist-info"), {
      name: "flask-apscheduler",
      version: "1.13.1",
    });
    assert.deepEqual(parseDistInfoDir("APScheduler-3.10.4-py3.11.egg-info"), {
      name: "apscheduler",
      version: "3.10.4",
    });
    assert.deepEqual(parseDistInfoDir("pytz_deprecation_shim-0.1.0.post0.dist-info"), {
      name: "pytz-deprecation-shim",
      version: "0.1.0.post0",
    });
    assert.deepEqual(parseDistInfoDir("python_dateutil-2.8.2.dist-info"), {
      name: "python-dateutil",
      version: "2.8.2",
    });
    assert.deepEqual(parseDistInfoDir("tzdata-2025.2.dist-info"), { name: "tzdata", version: "2025.2" });
  });

  test("junk is null", () => {
    for (const junk of [
      "tzlocal",
      "tzlocal.py",
      "__pycache__",
      "README",
      "tzlocal.dist-info",
      "tzlocal-.dist-info",
      "-1.0.dist-info",
      "tzlocal-4.2.dist-info.bak",
      "tzlocal-4.2.egg-link",
      "",
    ]) {
      assert.equal(parseDistInfoDir(junk), null, junk);
    }
  });

  test("normalizeDistName: lower case, runs of - _ . become one -", () => {
    assert.equal(normalizeDistName("Flask_APScheduler"), "flask-apscheduler");
    assert.equal(normalizeDistName("zope.interface"), "zope-interface");
    assert.equal(normalizeDistName("A__b.-_C"), "a-b-c");
    assert.equal(normalizeDistName("tzlocal"), "tzlocal");
  });
});

describe("parseDotenv", () => {
  test("export prefix, quotes, inline comments, blank and comment lines, line numbers", () => {
    const entries = parseDotenv(
      [
        "# deploy settings", // 1
        "", // 2
        "export TZ=Asia/Shanghai", // 3
        'SCHEDULER_TIMEZONE="Europe/Berlin"', // 4
        "SINGLE='it # stays'", // 5
        "PLAIN=value # a comment", // 6
        "HASH=value#not-a-comment", // 7
        "EMPTY=", // 8
        "  SPACED = spaced value  ", // 9
        "   # indented comment", // 10
        "not a variable line", // 11
        'DQ="a # in quotes"', // 12
        "CRLF=yes\r", // 13
      ].join("\n"),
    );
    assert.deepEqual(entries, [
      { key: "TZ", value: "Asia/Shanghai", line: 3 },
      { key: "SCHEDULER_TIMEZONE", value: "Europe/Berlin", line: 4 },
      { key: "SINGLE", value: "it # stays", line: 5 },
      { key: "PLAIN", value: "value", line: 6 },
      { key: "HASH", value: "value#not-a-comment", line: 7 },
      { key: "EMPTY", value: "", line: 8 },
      { key: "SPACED", value: "spaced value", line: 9 },
      { key: "DQ", value: "a # in quotes", line: 12 },
      { key: "CRLF", value: "yes", line: 13 },
    ]);
  });

  test("a quoted value followed by a comment loses its quotes (compose and python-dotenv agree)", () => {
    assert.deepEqual(parseDotenv("TZ=\"Asia/Shanghai\" # production\nB='x'   # c\n"), [
      { key: "TZ", value: "Asia/Shanghai", line: 1 },
      { key: "B", value: "x", line: 2 },
    ]);
  });
});

describe("tzlocal's reading of /etc/timezone", () => {
  test("one name, slashes and blanks stripped, comments and host parts cut", () => {
    assert.equal(zoneFromTimezoneFile(text("Asia/Shanghai\n")), "Asia/Shanghai");
    assert.equal(zoneFromTimezoneFile(text("/UTC\n")), "UTC"); // Ubuntu docker's /UTC
    assert.equal(zoneFromTimezoneFile(text("Etc/UTC # set by the image\n")), "Etc/UTC");
    assert.equal(zoneFromTimezoneFile(text("Asia/Shanghai#comment\n")), "Asia/Shanghai");
    assert.equal(zoneFromTimezoneFile(text("  Europe/Berlin  \r\n")), "Europe/Berlin");
  });

  test("4.x and later keep the last named line", () => {
    assert.equal(zoneFromTimezoneFile(text("Asia/Shanghai\nEurope/Berlin\n")), "Europe/Berlin");
    assert.equal(zoneFromTimezoneFile(text("Asia/Shanghai\r\nEurope/Berlin\r\n")), "Europe/Berlin");
    assert.equal(zoneFromTimezoneFile(text("Asia/Shanghai\n# Europe/Berlin\n")), "Asia/Shanghai");
  });

  test("a later line starting with a space is cut to nothing at that space and skipped", () => {
    // tzlocal: `if " " in etctz: etctz, dummy = etctz.split(" ", 1)` on the untrimmed line.
    assert.equal(zoneFromTimezoneFile(text("Etc/UTC\n  Asia/Shanghai\n")), "Etc/UTC");
  });

  test("empty, blank, comment-only and missing files name no zone", () => {
    assert.equal(zoneFromTimezoneFile(text("")), null);
    assert.equal(zoneFromTimezoneFile(text(" \n\t\n")), null);
    assert.equal(zoneFromTimezoneFile(text("/\n")), null);
    assert.equal(zoneFromTimezoneFile(text("# nothing here\n")), null);
    assert.equal(zoneFromTimezoneFile(text(null)), null);
  });
});

describe("tzlocal's reading of the clock files", () => {
  const clock = (raw: string | null) => text(raw, "/etc/sysconfig/clock");

  test('ZONE="..." and TIMEZONE="...", double quotes only, spaces to underscores', () => {
    assert.equal(zoneFromClockFile(clock('ZONE="America/New_York"\nUTC=true\n')), "America/New_York");
    assert.equal(zoneFromClockFile(clock('TIMEZONE="Asia/Shanghai"\n')), "Asia/Shanghai");
    assert.equal(zoneFromClockFile(clock('  ZONE = "Asia/Tokyo"\n')), "Asia/Tokyo");
    assert.equal(
      zoneFromClockFile(clock('ZONE="America/Argentina/Buenos Aires"\n')),
      "America/Argentina/Buenos_Aires",
    );
  });

  test("unquoted, single-quoted and prefixed keys are ignored; the last match wins", () => {
    assert.equal(zoneFromClockFile(clock("ZONE=Asia/Shanghai\n")), null);
    assert.equal(zoneFromClockFile(clock("ZONE='Asia/Shanghai'\n")), null);
    assert.equal(zoneFromClockFile(clock('MYZONE="Asia/Shanghai"\n')), null);
    assert.equal(
      zoneFromClockFile(clock('ZONE="Asia/Shanghai"\nTIMEZONE="Europe/Berlin"\n')),
      "Europe/Berlin",
    );
    assert.equal(zoneFromClockFile(clock(null)), null);
    assert.equal(zoneFromClockFile(clock("")), null);
  });
});

describe("gatherAppFacts", () => {
  test("SCHEDULER_TIMEZONE in every Python form, with file:line; commented lines ignored", async () => {
    const dir = tempDir({
      "config.py": [
        "import os", // 1
        'SCHEDULER_TIMEZONE = "Asia/Shanghai"', // 2
        "class Prod:", // 3
        "    SCHEDULER_TIMEZONE: str = 'Europe/Berlin'", // 4
        "class Env:", // 5
        '    SCHEDULER_TIMEZONE = os.environ.get("SCHEDULER_TIMEZONE", "Asia/Tokyo")', // 6
        "    SCHEDULER_TIMEZONE = os.getenv('SCHEDULER_TIMEZONE', 'America/Chicago')", // 7
        '# SCHEDULER_TIMEZONE = "Etc/UTC"', // 8
        '    # SCHEDULER_TIMEZONE = "Etc/GMT"', // 9
      ].join("\n"),
      "app/__init__.py": [
        "from flask import Flask", // 1
        "app = Flask(__name__)", // 2
        'app.config["SCHEDULER_TIMEZONE"] = "America/New_York"', // 3
        "app.config.update(SCHEDULER_TIMEZONE='Australia/Sydney', SCHEDULER_API_ENABLED=True)", // 4
        '#app.config["SCHEDULER_TIMEZONE"] = "Etc/UTC"', // 5
      ].join("\n"),
    });
    const { facts } = await gatherAppFacts(dir);
    assert.deepEqual(facts.schedulerTimezone, [
      { value: "America/New_York", source: "app/__init__.py:3" },
      { value: "Australia/Sydney", source: "app/__init__.py:4" },
      { value: "Asia/Shanghai", source: "config.py:2" },
      { value: "Europe/Berlin", source: "config.py:4" },
      { value: "Asia/Tokyo", source: "config.py:6" },
      { value: "America/Chicago", source: "config.py:7" },
    ]);
    assert.equal(facts.filesScanned, 2);
    assert.equal(facts.dir, dir);
  });

  test("APScheduler() vs APScheduler(scheduler=...), bare vs configured *Scheduler()", async () => {
    const dir = tempDir({
      "app.py": [
        "from flask_apscheduler import APScheduler", // 1
        "from apscheduler.schedulers.background import BackgroundScheduler", // 2
        "scheduler = APScheduler()", // 3
        'good = APScheduler(scheduler=BackgroundScheduler(timezone="UTC"))', // 4
        "bare = BackgroundScheduler()", // 5
        "configured = BlockingScheduler(", // 6
        '    timezone="Asia/Shanghai",', // 7
        ")", // 8
        "aio = AsyncIOScheduler(job_defaults={'coalesce': True})", // 9
      ].join("\n"),
    });
    const { facts } = await gatherAppFacts(dir);
    assert.equal(facts.flaskApscheduler.imported, true);
    assert.deepEqual(facts.flaskApscheduler.constructs, [
      { source: "app.py:3", text: "APScheduler()", passesScheduler: false },
      {
        source: "app.py:4",
        text: 'APScheduler(scheduler=BackgroundScheduler(timezone="UTC"))',
        passesScheduler: true,
      },
    ]);
    assert.deepEqual(facts.bareSchedulers, [
      { source: "app.py:5", text: "BackgroundScheduler()" },
      { source: "app.py:9", text: "AsyncIOScheduler(job_defaults={'coalesce': True})" },
    ]);
  });

  test("a scheduler passed positionally counts as configured", async () => {
    const dir = tempDir({
      "app.py": "import flask_apscheduler\ns = APScheduler(BackgroundScheduler(timezone='UTC'), app)\n",
    });
    const { facts } = await gatherAppFacts(dir);
    assert.equal(facts.flaskApscheduler.imported, true);
    assert.equal(facts.flaskApscheduler.constructs[0]?.passesScheduler, true);
    assert.deepEqual(facts.bareSchedulers, []);
  });

  test("commented-out constructions are not constructions", async () => {
    const dir = tempDir({
      "app.py": [
        "from flask_apscheduler import APScheduler",
        "# scheduler = APScheduler()",
        "    # old = BackgroundScheduler()",
        'scheduler = APScheduler(scheduler=BackgroundScheduler(timezone="Asia/Shanghai"))',
      ].join("\n"),
    });
    const { facts } = await gatherAppFacts(dir);
    assert.deepEqual(
      facts.flaskApscheduler.constructs.map((c) => c.source),
      ["app.py:4"],
    );
    assert.deepEqual(facts.bareSchedulers, []);
  });

  test("virtualenvs, node_modules, caches and hidden directories are not the app", async () => {
    const dir = tempDir({
      "main.py": "print('hi')\n",
      ".venv/lib/python3.11/site-packages/flask_apscheduler/scheduler.py":
        "self._scheduler = scheduler or BackgroundScheduler()\nSCHEDULER_TIMEZONE = 'Etc/UTC'\n",
      "venv/lib/x.py": "APScheduler()\n",
      "node_modules/pkg/x.py": 'SCHEDULER_TIMEZONE = "Asia/Tokyo"\n',
      "__pycache__/x.py": "BackgroundScheduler()\n",
      ".hidden/x.py": "BackgroundScheduler()\n",
      "build/lib/x.py": "BackgroundScheduler()\n",
      "pkg/sub/config.py": 'SCHEDULER_TIMEZONE = "Europe/Paris"\n',
      "notes.txt": 'SCHEDULER_TIMEZONE = "Asia/Seoul"\n',
    });
    const { facts } = await gatherAppFacts(dir);
    assert.deepEqual(facts.schedulerTimezone, [{ value: "Europe/Paris", source: "pkg/sub/config.py:1" }]);
    assert.deepEqual(facts.bareSchedulers, []);
    assert.deepEqual(facts.flaskApscheduler.constructs, []);
    assert.equal(facts.filesScanned, 2);
  });

  test(".env entries come back with their line", async () => {
    const dir = tempDir({ ".env": "\n# x\nTZ=Asia/Shanghai\nexport SCHEDULER_TIMEZONE='Asia/Tokyo'\n" });
    const scan = await gatherAppFacts(dir);
    assert.deepEqual(scan.dotenv, [
      { key: "TZ", value: "Asia/Shanghai", source: ".env:3" },
      { key: "SCHEDULER_TIMEZONE", value: "Asia/Tokyo", source: ".env:4" },
    ]);
  });

  test("[tool.schedctl] timezone in pyproject.toml, else schedctl.toml", async () => {
    const both = tempDir({
      "pyproject.toml": '[project]\nname = "x"\n\n[tool.schedctl]\ntimezone = "Asia/Shanghai"\n',
      "schedctl.toml": 'timezone = "Europe/Berlin"\n',
    });
    assert.deepEqual((await gatherAppFacts(both)).configTimezone, {
      value: "Asia/Shanghai",
      source: "pyproject.toml [tool.schedctl] timezone",
    });
    const onlyOwn = tempDir({
      "pyproject.toml": '[project]\nname = "x"\n[tool.black]\nline-length = 100\n',
      "schedctl.toml": 'timezone = "Europe/Berlin"\n',
    });
    assert.deepEqual((await gatherAppFacts(onlyOwn)).configTimezone, {
      value: "Europe/Berlin",
      source: "schedctl.toml timezone",
    });
    const neither = tempDir({ "pyproject.toml": "[tool.schedctl]\ntimezone = 3\n" });
    assert.equal((await gatherAppFacts(neither)).configTimezone, null);
  });

  test("a malformed pyproject.toml is an input error naming the file (exit 2), not a crash", async () => {
    const dir = tempDir({ "pyproject.toml": "[tool.schedctl\ntimezone = \n" });
    await assert.rejects(gatherAppFacts(dir), (err: Error & { exitCode?: number }) => {
      assert.equal(err.exitCode, 2, `${err.name}: ${err.message}`);
      assert.match(err.message, /pyproject\.toml/);
      return true;
    });
  });

  test("an empty or missing app dir gives empty facts", async () => {
    const scan = await gatherAppFacts(tempDir({}));
    assert.deepEqual(scan.facts.schedulerTimezone, []);
    assert.deepEqual(scan.facts.bareSchedulers, []);
    assert.equal(scan.facts.flaskApscheduler.imported, false);
    assert.equal(scan.facts.filesScanned, 0);
    assert.deepEqual(scan.dotenv, []);
    assert.equal(scan.configTimezone, null);
    const missing = await gatherAppFacts(join(tmpdir(), "schedctl-no-such-app-dir-for-tests"));
    assert.equal(missing.facts.filesScanned, 0);
  });
});

describe("gatherOsFacts", () => {
  const osRelease = (lines: string[]) => `${lines.join("\n")}\n`;
  const ALPINE = osRelease([
    'NAME="Alpine Linux"',
    "ID=alpine",
    "VERSION_ID=3.20.3",
    'PRETTY_NAME="Alpine Linux v3.20"',
  ]);
  const DEBIAN = osRelease([
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
    "ID=debian",
    'VERSION_ID="12"',
    "VERSION_CODENAME=bookworm",
  ]);
  const facts = (files: Record<string, string>, links: Record<string, string> = {}) =>
    gatherOsFacts(new RootFsTarget(tempDir(files, links)));

  test("musl from /lib/ld-musl-x86_64.so.1; Alpine uses apk", async () => {
    const f = await facts({ "etc/os-release": ALPINE, "lib/ld-musl-x86_64.so.1": "" });
    assert.equal(f.libc, "musl");
    assert.equal(f.libcEvidence, "/lib/ld-musl-x86_64.so.1");
    assert.equal(f.packageManager, "apk");
    assert.equal(f.id, "alpine");
    assert.equal(f.versionId, "3.20.3");
    assert.equal(f.prettyName, "Alpine Linux v3.20");
  });

  test("glibc from /lib/x86_64-linux-gnu; Debian uses apt", async () => {
    const f = await facts({ "etc/os-release": DEBIAN, "lib/x86_64-linux-gnu/libc.so.6": "" });
    assert.equal(f.libc, "glibc");
    assert.equal(f.libcEvidence, "/lib/x86_64-linux-gnu");
    assert.equal(f.packageManager, "apt");
    assert.deepEqual([f.id, f.versionId, f.codename], ["debian", "12", "bookworm"]);
  });

  test("merged /usr: /lib -> usr/lib and os-release -> ../usr/lib/os-release are followed", async () => {
    const f = await facts(
      { "usr/lib/os-release": DEBIAN, "usr/lib/x86_64-linux-gnu/libc.so.6": "" },
      { lib: "usr/lib", "etc/os-release": "../usr/lib/os-release" },
    );
    assert.equal(f.libc, "glibc");
    assert.equal(f.id, "debian");
    const fallback = await facts({ "usr/lib/os-release": DEBIAN });
    assert.equal(fallback.id, "debian", "/usr/lib/os-release when /etc/os-release is missing");
  });

  test("Alpine known only by its os-release ID is musl", async () => {
    const f = await facts({ "etc/os-release": ALPINE });
    assert.equal(f.libc, "musl");
    assert.equal(f.libcEvidence, "os-release ID=alpine");
  });

  test("no os-release and no loader: glibc assumed, no package manager", async () => {
    const f = await facts({ "etc/hostname": "x" });
    assert.equal(f.libc, "glibc");
    assert.match(f.libcEvidence, /^assumed/);
    assert.equal(f.id, null);
    assert.deepEqual(f.idLike, []);
    assert.equal(f.packageManager, null);
  });

  test("a Debian root with the musl package installed is still glibc", async () => {
    // Debian's `musl` package (pulled in by musl-tools) installs /lib/ld-musl-x86_64.so.1 next to glibc.
    const f = await facts({
      "etc/os-release": DEBIAN,
      "lib/ld-musl-x86_64.so.1": "",
      "lib/x86_64-linux-gnu/libc.so.6": "",
      "lib64/ld-linux-x86-64.so.2": "",
    });
    assert.equal(f.libc, "glibc", f.libcEvidence);
  });

  test("an Alpine root with gcompat's glibc loader shim is still musl", async () => {
    const f = await facts({
      "etc/os-release": ALPINE,
      "lib/ld-musl-x86_64.so.1": "",
      "lib/ld-linux-x86-64.so.2": "",
      "lib/libgcompat.so.0": "",
    });
    assert.equal(f.libc, "musl", f.libcEvidence);
  });

  test("package manager from ID and ID_LIKE", async () => {
    const cases: [string[], string | null][] = [
      [["ID=ubuntu", "ID_LIKE=debian"], "apt"],
      [["ID=linuxmint", 'ID_LIKE="ubuntu debian"'], "apt"],
      [["ID=debian"], "apt"],
      [['ID="rocky"', 'ID_LIKE="rhel centos fedora"'], "dnf"],
      [["ID=fedora"], "dnf"],
      [["ID=amzn", 'ID_LIKE="centos rhel fedora"'], "dnf"],
      [["ID=Alpine"], "apk"],
      [['ID="opensuse-leap"', 'ID_LIKE="suse opensuse"'], null],
      [["ID=arch"], null],
    ];
    for (const [lines, pm] of cases) {
      const f = await facts({ "etc/os-release": osRelease(lines) });
      assert.equal(f.packageManager, pm, lines.join(" "));
    }
    const mint = await facts({ "etc/os-release": osRelease(["ID=linuxmint", 'ID_LIKE="ubuntu debian"']) });
    assert.deepEqual(mint.idLike, ["ubuntu", "debian"]);
  });
});
