/**
 * The "4.x" prediction against the REAL tzlocal 4.2 (Debian python3-tzlocal) on real layouts: each case is
 * a fixture root; the prediction's layout comes from the project's own fact gathering (RootFsTarget +
 * buildTzLayout), the real answer from tzlocal.get_localzone() run with that root's /etc and zoneinfo
 * bind-mounted in a private mount namespace. Needs root, unshare and python3-tzlocal; never skips.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { buildTzLayout } from "../../src/facts/tz.js";
import { RootFsTarget } from "../../src/targets/rootfs.js";
import { predictTzlocal } from "../../src/tz/tzlocal.js";
import { ensureRealTzlocal, formatWarning, runRealTzlocal } from "../helpers/real-tzlocal.js";
import { makeRoot, type RootSpec, removeRoot } from "../helpers/rootfs.js";

const zone = (name: string): Buffer => readFileSync(`/usr/share/zoneinfo/${name}`);
const link = (name: string) => ({ "/etc/localtime": `/usr/share/zoneinfo/${name}` });

interface Case {
  name: string;
  root: RootSpec;
  tz?: string;
}

// Reference §1c rows 4.2 can reproduce, then the other cases the predictor models.
const CASES: Case[] = [
  {
    name: "§1c row 1: /etc/timezone=Asia/Shanghai, localtime -> Etc/UTC",
    root: { files: { "/etc/timezone": "Asia/Shanghai\n" }, links: link("Etc/UTC") },
  },
  {
    name: "§1c row 2: localtime -> Asia/Shanghai, stale /etc/timezone=Etc/UTC",
    root: { files: { "/etc/timezone": "Etc/UTC\n" }, links: link("Asia/Shanghai") },
  },
  {
    name: "§1c row 3: copied Shanghai file, /etc/timezone=Etc/UTC",
    root: { files: { "/etc/timezone": "Etc/UTC\n", "/etc/localtime": zone("Asia/Shanghai") } },
  },
  {
    name: "§1c row 4: copied Shanghai file, no /etc/timezone",
    root: { files: { "/etc/localtime": zone("Asia/Shanghai") } },
  },
  {
    name: "§1c row 5: no localtime, /etc/timezone=Asia/Shanghai",
    root: { files: { "/etc/timezone": "Asia/Shanghai\n" } },
  },
  { name: "§1c row 6: nothing (and no tzdata)", root: { zoneinfo: "none" } },
  { name: "§1c row 6b: nothing (tzdata present)", root: { zoneinfo: "host-link" } },
  {
    name: '§1c row 7: sysconfig ZONE="Asia/Shanghai", localtime -> Etc/UTC',
    root: { files: { "/etc/sysconfig/clock": 'ZONE="Asia/Shanghai"\nUTC=true\n' }, links: link("Etc/UTC") },
  },
  {
    name: '§1c row 8: TZ="", files all Shanghai',
    tz: "",
    root: { files: { "/etc/timezone": "Asia/Shanghai\n" }, links: link("Asia/Shanghai") },
  },
  {
    name: "§1c row 9: TZ=CST-8",
    tz: "CST-8",
    root: { files: { "/etc/timezone": "Etc/UTC\n" }, links: link("Etc/UTC") },
  },
  {
    name: "§1c row 10a: TZ=:Asia/Shanghai",
    tz: ":Asia/Shanghai",
    root: { files: { "/etc/timezone": "Etc/UTC\n" }, links: link("Etc/UTC") },
  },
  {
    name: "§1c row 10b: TZ=Asia/Shanghai",
    tz: "Asia/Shanghai",
    root: { files: { "/etc/timezone": "Etc/UTC\n" }, links: link("Etc/UTC") },
  },
  {
    name: "§1c row 11: localtime -> PRC, /etc/timezone=Asia/Shanghai",
    root: { files: { "/etc/timezone": "Asia/Shanghai\n" }, links: link("PRC") },
  },
  {
    name: "§1c row 12: localtime -> Etc/UTC, /etc/timezone=Etc/GMT",
    root: { files: { "/etc/timezone": "Etc/GMT\n" }, links: link("Etc/UTC") },
  },
  {
    name: "§1c row 13: host Berlin localtime bind-mounted over a link -> UTC, /etc/timezone=UTC",
    // The bind mount writes through the container's link: zoneinfo/Etc/UTC now holds Berlin.
    root: {
      zoneinfo: "copy",
      files: { "/etc/timezone": "UTC\n", "/usr/share/zoneinfo/Etc/UTC": zone("Europe/Berlin") },
      links: link("UTC"),
    },
  },
  {
    name: "Ubuntu /UTC in /etc/timezone",
    root: { files: { "/etc/timezone": "/UTC\n" }, links: link("Etc/UTC") },
  },
  {
    name: "TZ typo Asia/Shangai",
    tz: "Asia/Shangai",
    root: { files: { "/etc/timezone": "Etc/UTC\n" }, links: link("Etc/UTC") },
  },
  {
    name: "missing zone file: /etc/timezone=Asia/Shanghai, copied localtime, no tzdata",
    root: {
      zoneinfo: "none",
      files: { "/etc/timezone": "Asia/Shanghai\n", "/etc/localtime": zone("Asia/Shanghai") },
    },
  },
  { name: "TZ=Europe/Berlin without tzdata", tz: "Europe/Berlin", root: { zoneinfo: "none" } },
  { name: "TZ=UTC without tzdata (pds special case)", tz: "UTC", root: { zoneinfo: "none" } },
  { name: "TZ=/nonexistent", tz: "/nonexistent", root: { links: link("Asia/Shanghai") } },
  {
    name: "TZ=/usr/share/zoneinfo/Asia/Shanghai",
    tz: "/usr/share/zoneinfo/Asia/Shanghai",
    root: { files: { "/etc/timezone": "Etc/UTC\n" } },
  },
  { name: "TZ=/etc/localtime with localtime -> PRC", tz: "/etc/localtime", root: { links: link("PRC") } },
  {
    name: "TZ=/etc/localtime as a copied file",
    tz: "/etc/localtime",
    root: { files: { "/etc/localtime": zone("Asia/Shanghai") } },
  },
  { name: "TZ=: (empty after the colon)", tz: ":", root: { links: link("Europe/Berlin") } },
  { name: "dangling localtime symlink, no tzdata", root: { zoneinfo: "none", links: link("Asia/Shanghai") } },
  { name: "localtime -> Etc/UTC alone", root: { links: link("Etc/UTC") } },
  { name: "localtime -> Asia/Shanghai alone", root: { links: link("Asia/Shanghai") } },
  {
    name: "unquoted ZONE= in sysconfig",
    root: { files: { "/etc/sysconfig/clock": "ZONE=Asia/Shanghai\n" }, links: link("Etc/UTC") },
  },
  {
    name: "missing closing quote in sysconfig",
    root: { files: { "/etc/sysconfig/clock": 'ZONE="Asia/Shanghai\n' }, links: link("Etc/UTC") },
  },
  {
    name: 'conf.d TIMEZONE="Asia/Shanghai" alone',
    root: { files: { "/etc/conf.d/clock": 'TIMEZONE="Asia/Shanghai"\n' }, links: link("Asia/Shanghai") },
  },
  {
    name: "/etc/timezone: last name line wins, comments cut",
    root: {
      files: { "/etc/timezone": "# c\nEurope/Berlin host\nAsia/Shanghai#x\n" },
      links: link("Asia/Shanghai"),
    },
  },
  {
    name: "non-UTF-8 /etc/timezone is skipped",
    root: { files: { "/etc/timezone": Buffer.from([0x41, 0xff, 0x0a]) }, links: link("Etc/UTC") },
  },
  {
    name: "Etc/UTC in /etc/timezone and a UTC link agree",
    root: { files: { "/etc/timezone": "Etc/UTC\n" }, links: link("UTC") },
  },
  {
    name: "/etc/timezone and sysconfig conflict",
    root: {
      files: { "/etc/timezone": "Europe/Berlin\n", "/etc/sysconfig/clock": 'ZONE="Asia/Shanghai"\n' },
      links: link("Asia/Shanghai"),
    },
  },
  { name: "localtime is a directory", root: { files: { "/etc/localtime/x": "x" } } },
  { name: "localtime is a text file", root: { files: { "/etc/localtime": "Asia/Shanghai\n" } } },
  {
    name: "/etc/timezone is a directory",
    root: { files: { "/etc/timezone/x": "x" }, links: link("Asia/Shanghai") },
  },
  { name: "TZ names a directory", tz: "/usr/share/zoneinfo", root: {} },
  {
    name: "TZ=/usr/share/zoneinfo/Europe/Kyiv (not a tz_win name in 4.2)",
    tz: "/usr/share/zoneinfo/Europe/Kyiv",
    root: {},
  },
  { name: "TZ=utc (lower case)", tz: "utc", root: { zoneinfo: "none" } },
  {
    name: "CRLF sysconfig with spaces",
    root: { files: { "/etc/sysconfig/clock": 'ZONE = "America/New York"\r\nUTC=true\r\n' } },
  },
  { name: 'empty ZONE="" in sysconfig', root: { files: { "/etc/sysconfig/clock": 'ZONE=""\n' } } },
  {
    name: "copied Berlin file with TZ=Asia/Shanghai (TZ decides, no check)",
    tz: "Asia/Shanghai",
    root: { files: { "/etc/localtime": zone("Europe/Berlin") } },
  },
];

interface Row {
  name: string;
  agree: boolean;
  predicted: unknown;
  real: unknown;
}
const rows: Row[] = [];

// Cases are independent (own root, own namespace, own /etc copy): run a few at once.
describe("tzlocal 4.x prediction vs the real python3-tzlocal 4.2", { concurrency: 4 }, () => {
  before(async () => {
    await ensureRealTzlocal();
  });

  after(() => {
    const agree = rows.filter((r) => r.agree).length;
    console.log(`real tzlocal 4.2: ${agree}/${rows.length} cases agree with the 4.x prediction`);
    for (const r of rows.filter((x) => !x.agree)) {
      console.log(
        `DISAGREE ${r.name}\n  predicted ${JSON.stringify(r.predicted)}\n  real      ${JSON.stringify(r.real)}`,
      );
    }
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const root = makeRoot(c.root);
      try {
        const env = c.tz === undefined ? {} : { TZ: c.tz };
        const now = Math.floor(Date.now() / 1000);
        const layout = await buildTzLayout(new RootFsTarget(root), { env, now });
        const p = predictTzlocal(layout, "4.x");
        const real = await runRealTzlocal(root, env);
        const predicted = {
          zone: p.zone,
          exception: p.outcome === "error" ? p.exception : null,
          message: p.outcome === "error" ? p.message : null,
          warnings: p.warnings.map(formatWarning),
        };
        const agree = JSON.stringify(predicted) === JSON.stringify(real);
        rows.push({ name: c.name, agree, predicted, real });
        assert.deepEqual(predicted, real, `steps:\n  ${p.steps.join("\n  ")}`);
      } finally {
        removeRoot(root);
      }
    });
  }
});
