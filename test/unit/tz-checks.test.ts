/**
 * The six tz checks on facts gathered, as doctor gathers them, from fixture roots (makeRoot: the host's
 * zoneinfo hard-linked, etc files written per case) and temp app dirs, at a fixed instant. Assertions are on
 * what the user sees: status, summary fragments, details and the exact fix lines.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import type { CheckDefinition, CheckResult } from "../../src/checks/types.js";
import { tzConfigured } from "../../src/checks/tz/configured.js";
import { tzFlaskConstruct } from "../../src/checks/tz/flask-construct.js";
import { tzLibc } from "../../src/checks/tz/libc.js";
import { tzSources } from "../../src/checks/tz/sources.js";
import { tzTzlocal } from "../../src/checks/tz/tzlocal.js";
import { tzZoneinfo } from "../../src/checks/tz/zoneinfo.js";
import { gatherFacts } from "../../src/facts/gather.js";
import type { Facts } from "../../src/facts/types.js";
import { RootFsTarget } from "../../src/targets/rootfs.js";
import { HOST_ZONEINFO, makeRoot, type RootSpec, removeRoot } from "../helpers/rootfs.js";

/** 2026-12-01T12:00:00Z */
const NOW = 1_796_126_400;
assert.equal(Date.UTC(2026, 11, 1, 12) / 1000, NOW);

const zoneBytes = (name: string): Buffer => readFileSync(`${HOST_ZONEINFO}/${name}`);
const linkTo = (name: string) => ({ "/etc/localtime": `/usr/share/zoneinfo/${name}` });

const DEBIAN12 = {
  "/etc/os-release":
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  "/usr/lib/x86_64-linux-gnu/libc.so.6": "",
  "/usr/lib/python3/dist-packages/tzlocal-4.2.egg-info/PKG-INFO": "Name: tzlocal\nVersion: 4.2\n",
};
const DEBIAN13 = {
  ...DEBIAN12,
  "/etc/os-release":
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n',
};
const ALPINE = {
  "/etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
  "/lib/ld-musl-x86_64.so.1": "",
  "/usr/local/lib/python3.12/site-packages/tzlocal-5.3.1.dist-info/METADATA":
    "Name: tzlocal\nVersion: 5.3.1\n",
};
const LIB = { "/lib": "usr/lib" };

const roots: string[] = [];
const appDirs: string[] = [];
after(() => {
  for (const r of roots) removeRoot(r);
  for (const d of appDirs) rmSync(d, { recursive: true, force: true });
});

interface Case {
  root: RootSpec;
  /** Paths under the root's zoneinfo to delete after the copy (a tzdata without tzdata-legacy). */
  remove?: string[];
  /** --env pairs: "TZ=Asia/Shanghai", "TZ=" */
  env?: string[];
  /** The app's files (relative path -> content). */
  app?: Record<string, string>;
  now?: number;
}

async function gather(c: Case): Promise<Facts> {
  const root = makeRoot(c.root);
  roots.push(root);
  for (const p of c.remove ?? [])
    rmSync(join(root, "usr/share/zoneinfo", p), { recursive: true, force: true });
  const appDir = mkdtempSync(join(tmpdir(), "schedctl-app-"));
  appDirs.push(appDir);
  for (const [p, content] of Object.entries(c.app ?? {})) {
    mkdirSync(dirname(join(appDir, p)), { recursive: true });
    writeFileSync(join(appDir, p), content);
  }
  return gatherFacts(new RootFsTarget(root), {
    appDir,
    envPairs: c.env ?? [],
    envFiles: [],
    now: c.now ?? NOW,
  });
}

function run(check: CheckDefinition, facts: Facts): CheckResult {
  const r = check.run(facts);
  // Every result is plain data the JSON renderer can print.
  assert.doesNotThrow(() => JSON.stringify(r));
  return r;
}

function expectStatus(r: CheckResult, status: CheckResult["status"]): void {
  assert.equal(r.status, status, `expected ${status}: ${r.summary}\n  ${r.details.join("\n  ")}`);
}

function includes(haystack: string, needle: string): void {
  assert.ok(
    haystack.includes(needle),
    `expected ${JSON.stringify(haystack)} to contain ${JSON.stringify(needle)}`,
  );
}

const APT_TZ_LINES = (zone: string) => [
  `ENV TZ=${zone}`,
  "RUN apt-get update \\",
  " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata \\",
  ' && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone \\',
  " && rm -rf /var/lib/apt/lists/*",
];
const APK_TZ_LINES = (zone: string) => [
  `ENV TZ=${zone}`,
  'RUN apk add --no-cache tzdata && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone',
];

describe("tz.sources", () => {
  test("all sources agree: pass, no fix", async () => {
    const facts = await gather({
      root: {
        files: { ...DEBIAN12, "/etc/timezone": "Asia/Shanghai\n" },
        links: { ...LIB, ...linkTo("Asia/Shanghai") },
      },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "pass");
    assert.equal(r.summary, "2 sources name the same zone (Asia/Shanghai)");
    assert.equal(r.fix, undefined);
    for (const check of [tzTzlocal, tzLibc, tzZoneinfo]) expectStatus(run(check, facts), "pass");
    assert.equal(run(tzLibc, facts).summary, "glibc and tzlocal 4.x agree: UTC+08:00 now");
  });

  test("Etc/UTC and Etc/GMT: same rules, different names: warn", async () => {
    const facts = await gather({
      root: { files: { ...DEBIAN12, "/etc/timezone": "Etc/GMT\n" }, links: { ...LIB, ...linkTo("Etc/UTC") } },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "warn");
    includes(
      r.summary,
      "/etc/timezone says Etc/GMT and /etc/localtime says Etc/UTC: same rules, different names",
    );
    includes(r.summary, "tzlocal 4.x still treats them as a conflict");
    // tzlocal 4.x really raises on this layout (reference §1c).
    expectStatus(run(tzTzlocal, facts), "fail");
  });

  test("TZ set and a stale /etc/timezone: warn, not fail", async () => {
    const facts = await gather({
      env: ["TZ=Asia/Shanghai"],
      root: { files: { ...DEBIAN12, "/etc/timezone": "Etc/UTC\n" }, links: { ...LIB, ...linkTo("Etc/UTC") } },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "warn");
    includes(r.summary, "TZ says Asia/Shanghai (UTC+08:00) but /etc/timezone says Etc/UTC (UTC) now");
    assert.deepEqual(r.fix?.commands, APT_TZ_LINES("Asia/Shanghai"));
  });

  test('TZ="" (an unset compose variable): warn', async () => {
    const facts = await gather({
      env: ["TZ="],
      root: { files: { ...DEBIAN12, "/etc/timezone": "Etc/UTC\n" }, links: { ...LIB, ...linkTo("Etc/UTC") } },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "warn");
    includes(r.summary, "TZ is set but empty");
    includes(r.summary, "glibc uses UTC while tzlocal ignores it");
  });

  test("/etc/timezone and /etc/localtime name different zones: fail, with the Debian lines", async () => {
    const root = {
      files: { ...DEBIAN12, "/etc/timezone": "Asia/Shanghai\n" },
      links: { ...LIB, ...linkTo("Etc/UTC") },
    };
    const r = run(tzSources, await gather({ root }));
    expectStatus(r, "fail");
    assert.equal(
      r.summary,
      "/etc/timezone says Asia/Shanghai (UTC+08:00) but /etc/localtime says Etc/UTC (UTC) now",
    );
    // Without SCHEDULER_TIMEZONE the fix keeps the zone libc uses now.
    includes(r.fix?.text ?? "", "Etc/UTC here");
    assert.deepEqual(r.fix?.commands, APT_TZ_LINES("Etc/UTC"));
    // With it, the fix names the scheduler's zone (the README example).
    const withApp = run(
      tzSources,
      await gather({ root, app: { "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shanghai"\n' } }),
    );
    includes(withApp.fix?.text ?? "", "Asia/Shanghai here");
    assert.deepEqual(withApp.fix?.commands, APT_TZ_LINES("Asia/Shanghai"));
  });

  test("the same conflict on Alpine: the apk line", async () => {
    const facts = await gather({
      root: { files: { ...ALPINE, "/etc/timezone": "Asia/Shanghai\n" }, links: linkTo("Etc/UTC") },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "fail");
    assert.deepEqual(r.fix?.commands, APK_TZ_LINES("Etc/UTC"));
  });

  test("the same conflict on Debian 13: no /etc/timezone is written", async () => {
    const facts = await gather({
      root: {
        files: { ...DEBIAN13, "/etc/timezone": "Asia/Shanghai\n" },
        links: { ...LIB, ...linkTo("Etc/UTC") },
      },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "fail");
    assert.ok(r.fix);
    assert.ok(
      r.fix.commands.includes(
        ' && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && rm -f /etc/timezone \\',
      ),
    );
    assert.ok(!r.fix.commands.some((l) => l.includes("> /etc/timezone")));
  });

  test("a dangling /etc/localtime: fail", async () => {
    const facts = await gather({
      root: { files: DEBIAN12, links: { ...LIB, "/etc/localtime": "/usr/share/zoneinfo/Nowhere/City" } },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "fail");
    includes(r.summary, "/etc/localtime is a dangling symlink to /usr/share/zoneinfo/Nowhere/City");
    includes(r.summary, "libc falls back to UTC");
  });

  test("a truncated TZif /etc/localtime: fail", async () => {
    const facts = await gather({
      root: {
        files: { ...DEBIAN12, "/etc/localtime": zoneBytes("Asia/Shanghai").subarray(0, 60) },
        links: LIB,
      },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "fail");
    includes(r.summary, "/etc/localtime is not a valid zone file");
    includes(r.summary, "libc falls back to UTC");
  });

  test("a copied /etc/localtime: warn, naming the zone it is a copy of", async () => {
    const facts = await gather({
      root: { files: { ...DEBIAN12, "/etc/localtime": zoneBytes("Asia/Tokyo") }, links: LIB },
    });
    const r = run(tzSources, facts);
    expectStatus(r, "warn");
    includes(r.summary, "/etc/localtime is a copied file (identical to ");
    includes(r.summary, "Asia/Tokyo");
    includes(r.summary, 'tzlocal names it "local"');
  });
});

describe("tz.zoneinfo", () => {
  test("a zone named by /etc/timezone without a file: fail", async () => {
    const facts = await gather({
      root: {
        files: { ...DEBIAN12, "/etc/timezone": "Asia/Nowhere\n" },
        links: { ...LIB, ...linkTo("Etc/UTC") },
      },
    });
    const r = run(tzZoneinfo, facts);
    expectStatus(r, "fail");
    assert.equal(r.summary, "Asia/Nowhere (/etc/timezone) has no zone file in /usr/share/zoneinfo");
  });

  test("Alpine without tzdata and TZ=Asia/Shanghai: fail, fixed with apk add tzdata", async () => {
    const facts = await gather({ env: ["TZ=Asia/Shanghai"], root: { zoneinfo: "none", files: ALPINE } });
    assert.equal(facts.os.packageManager, "apk");
    const r = run(tzZoneinfo, facts);
    expectStatus(r, "fail");
    includes(r.summary, "no /usr/share/zoneinfo: Asia/Shanghai cannot be loaded");
    assert.ok(r.fix?.commands.includes("RUN apk add --no-cache tzdata"), JSON.stringify(r.fix));
  });

  test("Debian without tzdata: the apt line", async () => {
    const facts = await gather({
      env: ["TZ=Asia/Shanghai"],
      root: { zoneinfo: "none", files: DEBIAN12, links: LIB },
    });
    const r = run(tzZoneinfo, facts);
    expectStatus(r, "fail");
    assert.deepEqual(r.fix?.commands, [
      "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*",
    ]);
  });

  test("no zoneinfo and no source names a zone: warn only", async () => {
    const facts = await gather({ root: { zoneinfo: "none", files: ALPINE } });
    const r = run(tzZoneinfo, facts);
    expectStatus(r, "warn");
    includes(r.summary, "only UTC is available");
  });

  test("Etc/UTC overwritten with Europe/Berlin's rules (a bind-mounted host /etc/localtime): fail", async () => {
    const facts = await gather({
      root: {
        files: {
          ...DEBIAN12,
          "/usr/share/zoneinfo/Etc/UTC": zoneBytes("Europe/Berlin"),
          "/etc/timezone": "Etc/UTC\n",
        },
        links: { ...LIB, ...linkTo("Etc/UTC") },
      },
    });
    const r = run(tzZoneinfo, facts);
    expectStatus(r, "fail");
    // Both names of the overwritten file are reported (UTC is a symlink to Etc/UTC).
    const all = [r.summary, ...r.details].join("\n");
    includes(all, "/usr/share/zoneinfo/Etc/UTC holds the rules of a UTC+01:00 zone, not Etc/UTC");
    includes(all, "/usr/share/zoneinfo/UTC holds the rules of a UTC+01:00 zone, not UTC");
    includes(r.summary, "bind-mounted over the container's symlink");
    assert.ok(r.fix?.commands.some((l) => l.includes("mount nothing over /etc/localtime")));
  });

  test("PRC missing on Debian 13 (no tzdata-legacy): fail, naming tzdata-legacy", async () => {
    const facts = await gather({
      env: ["TZ=PRC"],
      remove: ["PRC", "US", "ROC"],
      root: {
        files: { ...DEBIAN13, "/etc/timezone": "Asia/Shanghai\n" },
        links: { ...LIB, ...linkTo("Asia/Shanghai") },
      },
    });
    const r = run(tzZoneinfo, facts);
    expectStatus(r, "fail");
    includes(r.summary, "PRC (TZ) is a legacy alias missing from this tzdata");
    includes(r.summary, "tzdata-legacy");
    assert.ok(
      r.fix?.commands.some((l) => l.includes("apt-get install -y --no-install-recommends tzdata-legacy")),
      JSON.stringify(r.fix),
    );
  });
});

test("a failing tz.zoneinfo does not repeat its summary in its details (text prints both)", async () => {
  const facts = await gather({
    root: {
      files: { ...DEBIAN12, "/etc/timezone": "Asia/Nowhere\n" },
      links: { ...LIB, ...linkTo("Etc/UTC") },
    },
  });
  const r = run(tzZoneinfo, facts);
  expectStatus(r, "fail");
  assert.ok(!r.details.includes(r.summary), `summary repeated in details: ${JSON.stringify(r.details)}`);
  // tz.sources already keeps them apart.
  const s = run(tzSources, facts);
  assert.ok(!s.details.includes(s.summary));
});

describe("tz.libc", () => {
  const utcFiles = { ...DEBIAN12, "/etc/timezone": "Etc/UTC\n" };
  const utcLinks = { ...LIB, ...linkTo("Etc/UTC") };

  test("TZ=CST-8: glibc reads UTC+08:00, tzlocal 4.x raises: fail", async () => {
    const facts = await gather({ env: ["TZ=CST-8"], root: { files: utcFiles, links: utcLinks } });
    const r = run(tzLibc, facts);
    expectStatus(r, "fail");
    includes(r.summary, "TZ=CST-8 is a POSIX string: glibc reads it as UTC+08:00");
    includes(r.summary, "tzlocal 4.x raises");
    assert.deepEqual(r.fix?.commands, ["ENV TZ=Asia/Shanghai"]);
  });

  test("TZ=Asia/Shangai (typo): glibc silently uses UTC: fail", async () => {
    const facts = await gather({ env: ["TZ=Asia/Shangai"], root: { files: utcFiles, links: utcLinks } });
    const r = run(tzLibc, facts);
    expectStatus(r, "fail");
    includes(r.summary, "Asia/Shangai");
    includes(r.summary, "UTC");
  });

  test("TZ=Asia/Shangai with tzlocal 2.x (ignores the typo, reads the files): fail", async () => {
    const files: Record<string, string> = { ...utcFiles };
    delete files["/usr/lib/python3/dist-packages/tzlocal-4.2.egg-info/PKG-INFO"];
    files["/usr/lib/python3/dist-packages/tzlocal-2.1.egg-info/PKG-INFO"] = "Version: 2.1\n";
    const facts = await gather({ env: ["TZ=Asia/Shangai"], root: { files, links: utcLinks } });
    const r = run(tzLibc, facts);
    expectStatus(r, "fail");
    includes(r.summary, "glibc silently uses UTC; tzlocal 2.x says Etc/UTC (UTC)");
  });

  test("TZ=PRC on a glibc root: the zone file is loaded: pass", async () => {
    const facts = await gather({ env: ["TZ=PRC"], root: { files: utcFiles, links: utcLinks } });
    assert.equal(facts.os.libc, "glibc");
    const r = run(tzLibc, facts);
    expectStatus(r, "pass");
    includes(r.summary, "UTC+08:00");
  });

  test("TZ=PRC on a musl root with tzdata: musl 1.2.3+ loads zoneinfo/PRC too: pass", async () => {
    const facts = await gather({ env: ["TZ=PRC"], root: { files: ALPINE, links: linkTo("Etc/UTC") } });
    assert.equal(facts.os.libc, "musl");
    const r = run(tzLibc, facts);
    expectStatus(r, "pass");
    assert.equal(r.summary, "musl and tzlocal 5.x agree: UTC+08:00 now");
  });

  /** Debian 12 with tzlocal 5.x (which warns instead of raising on an offset mismatch). */
  const debianTzlocal5 = (): Record<string, string> => {
    const files: Record<string, string> = { ...DEBIAN12 };
    delete files["/usr/lib/python3/dist-packages/tzlocal-4.2.egg-info/PKG-INFO"];
    files["/usr/local/lib/python3.11/site-packages/tzlocal-5.3.1.dist-info/METADATA"] = "Version: 5.3.1\n";
    return files;
  };

  for (const [name, os, links] of [
    ["glibc", debianTzlocal5(), { ...LIB, ...linkTo("Asia/Shanghai") }],
    ["musl", ALPINE, linkTo("Asia/Shanghai")],
  ] as const) {
    test(`TZ="" with every file saying Asia/Shanghai: ${name} reads UTC, tzlocal 5.x Asia/Shanghai: fail`, async () => {
      const facts = await gather({
        env: ["TZ="],
        root: { files: { ...os, "/etc/timezone": "Asia/Shanghai\n" }, links },
      });
      assert.equal(facts.os.libc, name);
      assert.equal(facts.tz.layout.systemOffsetAt(NOW), 0, `${name} reads TZ="" as UTC`);
      const r = run(tzLibc, facts);
      expectStatus(r, "fail");
      includes(r.summary, "tzlocal 5.x says Asia/Shanghai (UTC+08:00)");
    });
  }

  test("TZ=UTC+8 (meant UTC+8, POSIX says UTC-8): libc and tzlocal disagree", async () => {
    const facts = await gather({ env: ["TZ=UTC+8"], root: { files: utcFiles, links: utcLinks } });
    const r = run(tzLibc, facts);
    expectStatus(r, "fail");
    includes(r.summary, "UTC-08:00");
  });
});

describe("tz.configured", () => {
  const shanghai = {
    files: { ...DEBIAN12, "/etc/timezone": "Asia/Shanghai\n" },
    links: { ...LIB, ...linkTo("Asia/Shanghai") },
  };

  test("no SCHEDULER_TIMEZONE and no scheduler: skip", async () => {
    const r = run(tzConfigured, await gather({ root: shanghai }));
    expectStatus(r, "skip");
    includes(r.summary, "no SCHEDULER_TIMEZONE found");
  });

  test("an invalid SCHEDULER_TIMEZONE: fail, with the exception APScheduler raises", async () => {
    const facts = await gather({
      root: shanghai,
      app: { "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shangai"\n' },
    });
    const r = run(tzConfigured, facts);
    expectStatus(r, "fail");
    assert.equal(
      r.summary,
      "SCHEDULER_TIMEZONE=Asia/Shangai (config.py:1) is not a zone in the target's zoneinfo",
    );
    assert.ok(r.details.some((d) => d.includes("No time zone found with key Asia/Shangai")));
  });

  test("SCHEDULER_TIMEZONE matching the system: pass", async () => {
    const facts = await gather({
      root: shanghai,
      app: { "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shanghai"\n' },
    });
    const r = run(tzConfigured, facts);
    expectStatus(r, "pass");
    assert.equal(
      r.summary,
      "SCHEDULER_TIMEZONE=Asia/Shanghai (config.py:1) matches the system for the next 12 months",
    );
  });

  test("SCHEDULER_TIMEZONE differing now: fail with ENV TZ", async () => {
    const facts = await gather({
      root: { files: { ...DEBIAN12, "/etc/timezone": "Etc/UTC\n" }, links: { ...LIB, ...linkTo("Etc/UTC") } },
      app: { "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shanghai"\n' },
    });
    const r = run(tzConfigured, facts);
    expectStatus(r, "fail");
    assert.equal(r.summary, "SCHEDULER_TIMEZONE=Asia/Shanghai is UTC+08:00 but the system is UTC");
    assert.deepEqual(r.fix?.commands, ["ENV TZ=Asia/Shanghai"]);
  });

  test("same offset now, diverging at the next DST change: warn with the exact date", async () => {
    // Lagos stays at UTC+01:00; Berlin moves to UTC+02:00 on 2027-03-28 at 01:00 UTC.
    const facts = await gather({
      root: {
        files: { ...DEBIAN12, "/etc/timezone": "Africa/Lagos\n" },
        links: { ...LIB, ...linkTo("Africa/Lagos") },
      },
      app: { "settings.py": "class Config:\n    SCHEDULER_TIMEZONE = 'Europe/Berlin'\n" },
    });
    const r = run(tzConfigured, facts);
    expectStatus(r, "warn");
    assert.equal(
      r.summary,
      "SCHEDULER_TIMEZONE=Europe/Berlin and the system diverge from 2027-03-28T01:00:00Z (UTC+02:00 vs UTC+01:00)",
    );
    assert.equal(r.evidence.firstDivergence, "2027-03-28T01:00:00Z");
  });

  test("--env SCHEDULER_TIMEZONE wins over the config file; the disagreement is reported", async () => {
    const facts = await gather({
      root: shanghai,
      env: ["SCHEDULER_TIMEZONE=Asia/Shanghai"],
      app: { "config.py": 'SCHEDULER_TIMEZONE = "Asia/Chongqing"\n' },
    });
    const r = run(tzConfigured, facts);
    expectStatus(r, "warn");
    includes(r.summary, "SCHEDULER_TIMEZONE=Asia/Shanghai (--env)");
    assert.ok(r.details.some((d) => d.includes("Asia/Chongqing (config.py:1)")));
  });
});

describe("tz.flask-construct", () => {
  const conflicting = {
    files: { ...DEBIAN12, "/etc/timezone": "Asia/Shanghai\n" },
    links: { ...LIB, ...linkTo("Etc/UTC") },
  };
  const FLASK_APP = [
    "from flask import Flask",
    "from flask_apscheduler import APScheduler",
    "app = Flask(__name__)",
    "scheduler = APScheduler()",
    "",
  ].join("\n");

  test("APScheduler() with SCHEDULER_TIMEZONE on a conflicting root: fail", async () => {
    const facts = await gather({
      root: conflicting,
      app: { "app.py": FLASK_APP, "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shanghai"\n' },
    });
    const r = run(tzFlaskConstruct, facts);
    expectStatus(r, "fail");
    assert.equal(
      r.summary,
      "1 scheduler construction calls tzlocal, which raises ZoneInfoNotFoundError here even though SCHEDULER_TIMEZONE=Asia/Shanghai is set (it applies only later, in init_app)",
    );
    assert.equal(r.details[0], "app.py:4: APScheduler()");
    includes(r.details[1] ?? "", "Multiple conflicting time zone configurations found");
    assert.deepEqual(r.fix?.commands, [
      "from apscheduler.schedulers.background import BackgroundScheduler",
      "from flask_apscheduler import APScheduler",
      'scheduler = APScheduler(scheduler=BackgroundScheduler(timezone="Asia/Shanghai"))',
    ]);
  });

  test("APScheduler(scheduler=BackgroundScheduler(timezone=...)): pass", async () => {
    const facts = await gather({
      root: conflicting,
      app: {
        "app.py": FLASK_APP.replace(
          "APScheduler()",
          'APScheduler(scheduler=BackgroundScheduler(timezone="Asia/Shanghai"))',
        ),
        "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shanghai"\n',
      },
    });
    const r = run(tzFlaskConstruct, facts);
    expectStatus(r, "pass");
    assert.equal(r.summary, "every scheduler is built with an explicit scheduler/timezone");
  });

  test("no scheduler code: skip", async () => {
    const facts = await gather({ root: conflicting, app: { "app.py": "print('no scheduler')\n" } });
    const r = run(tzFlaskConstruct, facts);
    expectStatus(r, "skip");
    includes(r.summary, "no APScheduler() or *Scheduler() construction found");
    includes(r.summary, "(1 Python files)");
  });

  test("a bare BackgroundScheduler() with SCHEDULER_TIMEZONE on a clean root: warn (a latent crash)", async () => {
    const facts = await gather({
      root: {
        files: { ...DEBIAN12, "/etc/timezone": "Asia/Shanghai\n" },
        links: { ...LIB, ...linkTo("Asia/Shanghai") },
      },
      app: {
        "jobs.py": "sched = BackgroundScheduler()\n",
        "config.py": 'SCHEDULER_TIMEZONE = "Asia/Shanghai"\n',
      },
    });
    const r = run(tzFlaskConstruct, facts);
    expectStatus(r, "warn");
    includes(r.summary, "1 construction calls tzlocal before SCHEDULER_TIMEZONE applies");
    assert.deepEqual(r.details, ["jobs.py:1: BackgroundScheduler()"]);
  });
});
