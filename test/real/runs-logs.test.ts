/**
 * analyzeLogs on logs written by the real thing: Debian's Gunicorn 20.1 with 3 sync workers serving a Flask
 * app that starts an APScheduler 3.9 BackgroundScheduler in every worker (test/fixtures/apps/dupe_app), an
 * interval job every second, for about 3.5 s. Without a guard every worker runs every run; with the
 * community flock guard one does. Then a 2 GiB generated log piped through standard input must finish in
 * constant memory. Needs gunicorn, python3-flask, python3-apscheduler; never skips.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { analyzeLogs } from "../../src/runs/logs.js";
import { type GunicornApp, requireRealParts, sleep, startGunicornApp } from "../helpers/gunicorn-app.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const RUN_FOR_MS = 3500;

describe("a real Gunicorn + APScheduler log", () => {
  let dir = "";
  const apps: GunicornApp[] = [];
  let plain: GunicornApp;
  let guarded: GunicornApp;
  let json: GunicornApp;

  before(async () => {
    requireRealParts();
    dir = mkdtempSync(join(tmpdir(), "schedctl-runs-real-"));
    // three instances side by side, so the 3.5 s are spent once
    const started = await Promise.allSettled([
      startGunicornApp({ workers: 3, guard: "none", logFile: join(dir, "none.log") }),
      startGunicornApp({
        workers: 3,
        guard: "flock",
        logFile: join(dir, "flock.log"),
        lockFile: join(dir, "scheduler.lock"),
      }),
      startGunicornApp({
        workers: 2,
        guard: "none",
        logFile: join(dir, "json.log"),
        logFormat: "json",
        hostname: "sched-j",
      }),
    ]);
    for (const s of started) if (s.status === "fulfilled") apps.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      await Promise.all(apps.map((a) => a.stop()));
      throw (failed as PromiseRejectedResult).reason;
    }
    [plain, guarded, json] = apps as [GunicornApp, GunicornApp, GunicornApp];
    await sleep(RUN_FOR_MS);
    await Promise.all(apps.map((a) => a.stop()));
  });

  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("no guard: the 3 workers each run the job, so each scheduled second runs 3 times", async () => {
    const log = join(dir, "none.log");
    const r = await analyzeLogs([log]);
    const f = r.files[0];
    assert.ok(f && f.error === null && f.unparsed === 0, JSON.stringify(f));
    assert.equal(plain.workerPids.length, 3);
    assert.equal(plain.schedulerPids.length, 3, "every worker started a scheduler");
    assert.equal(r.jobs, 1);
    assert.ok(r.runs >= 6, `runs ${r.runs}`);
    const full = r.duplicates.filter((d) => d.count === 3);
    assert.ok(full.length >= 2, `scheduled times run 3 times: ${JSON.stringify(r.duplicates, null, 1)}`);
    for (const d of r.duplicates) {
      assert.equal(d.job, "tick");
      assert.equal(d.trigger, "interval[0:00:01]");
      assert.match(d.scheduledAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00$/);
      assert.ok(d.count <= 3);
      for (const s of d.sources)
        assert.match(s, new RegExp(`^${log.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+ \\(pid \\d+\\)$`));
    }
    const runners = new Set(full.flatMap((d) => d.runners));
    assert.deepEqual(
      [...runners].sort(),
      plain.workerPids.map((p) => `pid ${p}`).sort(),
      "the runners are the 3 workers",
    );
  });

  test("GUARD=flock: one worker holds the lock and runs the scheduler, no duplicates", async () => {
    const r = await analyzeLogs([join(dir, "flock.log")]);
    assert.equal(guarded.schedulerPids.length, 1, `schedulers: ${guarded.output()}`);
    assert.ok(r.runs >= 2, `runs ${r.runs}`);
    assert.deepEqual(r.duplicates, []);
    assert.equal(r.truncatedDuplicates, 0);
  });

  test("JSON log lines (python-json-logger shape) give the same finding, with the host", async () => {
    const r = await analyzeLogs([join(dir, "json.log")]);
    assert.ok(
      r.duplicates.some((d) => d.count === 2),
      JSON.stringify(r.duplicates),
    );
    const runners = new Set(r.duplicates.flatMap((d) => d.runners));
    for (const pid of json.workerPids)
      assert.ok(runners.has(`host sched-j pid ${pid}`), [...runners].join(", "));
  });

  test("a gzip copy of the log (named .log) gives the same report", async () => {
    const log = join(dir, "none.log");
    const gz = join(dir, "none-copy.log");
    writeFileSync(gz, gzipSync(readFileSync(log)));
    const [a, b] = await Promise.all([analyzeLogs([log]), analyzeLogs([gz])]);
    assert.deepEqual(JSON.parse(JSON.stringify(b).replaceAll(gz, log)), a);
    // and the two files together: every duplicate doubles, still one job
    copyFileSync(log, join(dir, "none-again.log"));
    const both = await analyzeLogs([log, join(dir, "none-again.log")]);
    assert.equal(both.runs, 2 * a.runs);
    assert.equal(both.jobs, 1);
  });
});

describe("a 2 GiB log through standard input", () => {
  const bytes = Number(process.env.SCHEDCTL_STREAM_BYTES ?? 2 ** 31);

  test(`finishes in constant memory (${(bytes / 2 ** 30).toFixed(1)} GiB, piped from a generator process)`, async (t) => {
    const node = process.execPath;
    const cmd = `"${node}" test/helpers/runs-loggen.mjs ${bytes} 3 | "${node}" --import tsx test/helpers/runs-logs-stdin.ts`;
    const child = spawn("/bin/sh", ["-c", cmd], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    const killer = setTimeout(() => process.kill(-(child.pid as number), "SIGKILL"), 150_000);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearTimeout(killer);
    assert.equal(code, 0, err);
    const gen = JSON.parse(err.trim().split("\n").at(-1) as string) as {
      bytes: number;
      lines: number;
      runs: number;
      duplicateTicks: number;
    };
    const got = JSON.parse(out) as {
      files: { lines: number; runs: number; unparsed: number; error: string | null }[];
      runs: number;
      duplicates: number;
      truncatedDuplicates: number;
      ms: number;
      cpuMs: number;
      rssWarmMiB: number;
      rssMaxSampledMiB: number;
      maxRssMiB: number;
    };
    const mibPerS = gen.bytes / 1048576 / (got.ms / 1000);
    t.diagnostic(
      `${(gen.bytes / 2 ** 30).toFixed(2)} GiB, ${gen.lines} lines, ${gen.runs} runs in ${(got.ms / 1000).toFixed(1)} s ` +
        `(${mibPerS.toFixed(0)} MiB/s wall, ${(got.cpuMs / 1000).toFixed(1)} s CPU); RSS ${got.rssWarmMiB} MiB after 1 s, ` +
        `max ${got.maxRssMiB} MiB`,
    );
    assert.deepEqual(got.files[0], { path: "-", lines: gen.lines, runs: gen.runs, unparsed: 0, error: null });
    assert.equal(got.duplicates + got.truncatedDuplicates, gen.duplicateTicks);
    assert.equal(got.duplicates, 1000);
    assert.ok(
      got.rssMaxSampledMiB - got.rssWarmMiB < 64,
      `RSS grew from ${got.rssWarmMiB} to ${got.rssMaxSampledMiB} MiB`,
    );
    assert.ok(got.maxRssMiB < 256, `max RSS ${got.maxRssMiB} MiB`);
  });
});
