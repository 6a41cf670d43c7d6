/**
 * Our glibc and musl readings of TZ (src/tz/libc.ts, evaluated with src/tz/posix.ts and src/tz/tzif.ts)
 * against the REAL C libraries: a tiny C program calls tzset() and localtime_r() for fixed instants and prints
 * tm_gmtoff and tm_isdst; it is compiled at test time with gcc (glibc) and musl-gcc -static (musl, which looks
 * for zone files in /usr/share/zoneinfo like glibc). Every TZ value runs in a fresh process with a clean
 * environment, first with this machine's /etc/localtime, then with /etc/localtime -> Europe/Berlin in a
 * private mount namespace (a copy of /etc bind-mounted over /etc, as in test/helpers/real-tzlocal.ts), so
 * that TZ unset, "" and ":" can be told apart. Needs gcc, musl-tools, root and unshare; never skips.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LibcFlavor, type LibcReading, libcReading } from "../../src/tz/libc.js";
import { posixOffsetAt } from "../../src/tz/posix.js";
import { isTzif, parseTzif, tzifOffsetAt } from "../../src/tz/tzif.js";

const INSTALL_HINT = "apt-get install -y gcc libc6-dev musl-tools util-linux tzdata";
const UNSHARE = "/usr/bin/unshare";
const TIMEOUT_MS = 10_000;
/** 2026-01-15T12:00:00Z and 2026-07-15T12:00:00Z: winter and summer in the northern hemisphere. */
const INSTANTS = [Date.UTC(2026, 0, 15, 12) / 1000, Date.UTC(2026, 6, 15, 12) / 1000];
/** The zone /etc/localtime points at in the second pass. */
const NS_LOCALTIME = "Europe/Berlin";

/** undefined = TZ unset. The brief's table, then names musl >= 1.2.3 looks up as files (Japan, EST) and a
 * POSIX string with a DST name but no rules (EST5EDT: a zone file for glibc, a POSIX string for musl). */
const TZ_VALUES: (string | undefined)[] = [
  undefined,
  "",
  ":",
  "UTC",
  "PRC",
  "Asia/Shanghai",
  ":Asia/Shanghai",
  "/usr/share/zoneinfo/Asia/Shanghai",
  "CST-8",
  "UTC+8",
  "EST5EDT,M3.2.0,M11.1.0",
  "Asia/Shangai",
  "Europe/Berlin",
  "<+0330>-3:30",
  "Japan",
  "EST",
  "EST5EDT",
];
const FLAVORS: LibcFlavor[] = ["glibc", "musl"];

const C_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
  tzset();
  printf("[");
  for (int i = 1; i < argc; i++) {
    time_t t = (time_t)strtoll(argv[i], NULL, 10);
    struct tm tm;
    if (!localtime_r(&t, &tm)) return 2;
    printf("%s{\"t\":%lld,\"gmtoff\":%ld,\"isdst\":%d}", i > 1 ? "," : "", (long long)t, (long)tm.tm_gmtoff,
           tm.tm_isdst > 0);
  }
  printf("]\n");
  return 0;
}
`;

/** Runs the probes for every TZ value inside a private mount namespace with /etc/localtime -> $2. */
const NS_SCRIPT = String.raw`
set -eu
tmp=$1; zone=$2; shift 2
cp -a /etc "$tmp/etc"
rm -f "$tmp/etc/localtime"
ln -s "/usr/share/zoneinfo/$zone" "$tmp/etc/localtime"
mount --bind "$tmp/etc" /etc
for spec in "$@"; do
  for flavor in glibc musl; do
    case "$spec" in
      -) out=$(env -i PATH=/usr/bin:/bin "$tmp/probe-$flavor" $INSTANTS) ;;
      *) out=$(env -i PATH=/usr/bin:/bin "TZ=\${spec#=}" "$tmp/probe-$flavor" $INSTANTS) ;;
    esac
    printf '%s\t%s\t%s\n' "$flavor" "$spec" "$out"
  done
done
`.replace(/\\\$/g, "$");

interface Reading {
  gmtoff: number;
  isdst: boolean;
}

const label = (tz: string | undefined) => (tz === undefined ? "TZ unset" : `TZ=${JSON.stringify(tz)}`);
const spec = (tz: string | undefined) => (tz === undefined ? "-" : `=${tz}`);

function fail(what: string): never {
  throw new Error(`libc-real: ${what}. Install with: ${INSTALL_HINT}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env, timeout: TIMEOUT_MS, killSignal: "SIGKILL", encoding: "utf8", maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.slice(0, 3).join(" ")}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

function parseProbe(out: string): Reading[] {
  const rows = JSON.parse(out) as { t: number; gmtoff: number; isdst: number }[];
  assert.deepEqual(
    rows.map((r) => r.t),
    INSTANTS,
  );
  return rows.map((r) => ({ gmtoff: r.gmtoff, isdst: r.isdst === 1 }));
}

/** What our model says, reading zone files from this host; `hostPath` maps a path inside the probe's view. */
function model(
  flavor: LibcFlavor,
  tz: string | undefined,
  hostPath: (p: string) => string,
): { reading: LibcReading; at: Reading[] } {
  const isTzifFile = (p: string): boolean => {
    try {
      return isTzif(readFileSync(hostPath(p)));
    } catch {
      return false; // missing, a directory, unreadable
    }
  };
  const reading = libcReading(flavor, tz, isTzifFile);
  const at = INSTANTS.map((t): Reading => {
    if (reading.kind === "file") {
      const lt = tzifOffsetAt(parseTzif(readFileSync(hostPath(reading.path))), t);
      return { gmtoff: lt.utoff, isdst: lt.isDst };
    }
    if (reading.kind === "posix") {
      const lt = posixOffsetAt(reading.tz, t);
      return { gmtoff: lt.utoff, isdst: lt.isDst };
    }
    return { gmtoff: 0, isdst: false };
  });
  return { reading, at };
}

function compare(
  flavor: LibcFlavor,
  tz: string | undefined,
  real: Reading[] | undefined,
  hostPath: (p: string) => string,
  where: string,
): void {
  assert.ok(real, `no real result for ${flavor} ${label(tz)}`);
  const m = model(flavor, tz, hostPath);
  const show = (rs: Reading[]) =>
    rs
      .map(
        (r, i) =>
          `${new Date((INSTANTS[i] ?? 0) * 1000).toISOString().slice(0, 10)}: ${r.gmtoff}${r.isdst ? " dst" : ""}`,
      )
      .join(", ");
  assert.deepEqual(
    m.at,
    real,
    `${flavor} ${label(tz)} ${where}: the real ${flavor} gives [${show(real)}], src/tz/libc.ts reads ` +
      `${m.reading.kind} (${m.reading.how}) = [${show(m.at)}]`,
  );
}

let dir = "";
const probe: Record<LibcFlavor, string> = { glibc: "", musl: "" };

before(() => {
  dir = mkdtempSync(join(tmpdir(), "schedctl-libc-real-"));
  writeFileSync(join(dir, "probe.c"), C_SOURCE);
  probe.glibc = join(dir, "probe-glibc");
  probe.musl = join(dir, "probe-musl");
  for (const [flavor, cc, extra] of [
    ["glibc", "gcc", []],
    ["musl", "musl-gcc", ["-static"]],
  ] as const) {
    const r = spawnSync(cc, [...extra, "-O1", "-o", probe[flavor], join(dir, "probe.c")], {
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.error) fail(`${cc} not found (${r.error.message})`);
    if (r.status !== 0) fail(`${cc} could not compile the probe: ${r.stderr.trim()}`);
  }
  if (!existsSync("/usr/share/zoneinfo/Asia/Shanghai")) fail("/usr/share/zoneinfo (tzdata) is missing");
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("this machine's /etc/localtime", () => {
  const real = new Map<string, Reading[]>();
  before(async () => {
    const jobs = FLAVORS.flatMap((flavor) =>
      TZ_VALUES.map(async (tz) => {
        const env: NodeJS.ProcessEnv = { PATH: "/usr/bin:/bin" };
        if (tz !== undefined) env.TZ = tz;
        real.set(`${flavor} ${spec(tz)}`, parseProbe(await run(probe[flavor], INSTANTS.map(String), env)));
      }),
    );
    await Promise.all(jobs);
  });

  for (const flavor of FLAVORS) {
    for (const tz of TZ_VALUES) {
      test(`${flavor} ${label(tz)}`, () => {
        compare(flavor, tz, real.get(`${flavor} ${spec(tz)}`), (p) => p, "(host /etc/localtime)");
      });
    }
  }
});

describe(`/etc/localtime -> ${NS_LOCALTIME} (private mount namespace)`, () => {
  const real = new Map<string, Reading[]>();
  before(async () => {
    if (process.getuid?.() !== 0) fail("must run as root (unshare -m and mount --bind)");
    if (!existsSync(UNSHARE)) fail(`${UNSHARE} is missing`);
    const out = await run(
      UNSHARE,
      [
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        NS_SCRIPT,
        "sh",
        dir,
        NS_LOCALTIME,
        ...TZ_VALUES.map(spec),
      ],
      { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", INSTANTS: INSTANTS.join(" ") },
    );
    for (const line of out.trim().split("\n")) {
      const [flavor, s, json] = line.split("\t");
      real.set(`${flavor} ${s}`, parseProbe(json ?? ""));
    }
    assert.equal(real.size, FLAVORS.length * TZ_VALUES.length, out);
  });

  const hostPath = (p: string) => (p === "/etc/localtime" ? `/usr/share/zoneinfo/${NS_LOCALTIME}` : p);
  for (const flavor of FLAVORS) {
    for (const tz of TZ_VALUES) {
      test(`${flavor} ${label(tz)}`, () => {
        compare(
          flavor,
          tz,
          real.get(`${flavor} ${spec(tz)}`),
          hostPath,
          `(/etc/localtime -> ${NS_LOCALTIME})`,
        );
      });
    }
  }

  test("the namespace really changed /etc/localtime (TZ unset reads Berlin's summer time)", () => {
    assert.deepEqual(real.get("glibc -"), [
      { gmtoff: 3600, isdst: false },
      { gmtoff: 7200, isdst: true },
    ]);
  });
});
