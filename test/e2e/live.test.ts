/**
 * The duplicate-scheduler story end to end, with real parts only: Debian's Gunicorn running a Flask app that
 * starts an APScheduler scheduler in every worker, the community flock guard, nginx in front of two
 * instances, and a password-protected redis-server with locks made by python3-redis. Every assertion runs
 * the built binary, as a user would.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, runCli } from "../helpers/cli.js";
import { sleep, startGunicornApp, startNginxProxy } from "../helpers/gunicorn-app.js";
import { monitor, NEVER } from "../helpers/redis-monitor.js";
import { freePort, type RedisHandle, runPython, spawnPython, startRedis } from "../helpers/redis-server.js";

interface Check {
  id: string;
  status: string;
  summary: string;
  evidence: Record<string, unknown>;
}
const emptyApp = mkdtempSync(join(tmpdir(), "schedctl-app-"));

function doctor(args: string[]): {
  code: number | null;
  checks: Map<string, Check>;
  stderr: string;
  stdout: string;
} {
  const r = runCli(["doctor", "--format", "json", "--app-dir", emptyApp, ...args]);
  const doc = JSON.parse(r.stdout) as { checks: Check[] };
  return {
    code: r.code,
    checks: new Map(doc.checks.map((c) => [c.id, c])),
    stderr: r.stderr,
    stdout: r.stdout,
  };
}

describe("three Gunicorn workers, one scheduler each", { concurrency: false }, () => {
  test("without a lock: runs.logs and locks.verdict fail, workers.live sees 3 workers and no lock", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-live-"));
    const log = join(dir, "app.log");
    const app = await startGunicornApp({ workers: 3, guard: "none", logFile: log });
    try {
      await sleep(3500);
      const r = doctor(["--logs", log, "--only", "runs.logs,locks.verdict,workers.live"]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.checks.get("runs.logs")?.status, "fail");
      assert.match(r.checks.get("runs.logs")?.summary ?? "", /ran 3 times/);
      const verdict = r.checks.get("locks.verdict");
      assert.equal(verdict?.status, "fail");
      assert.match(verdict?.summary ?? "", /at least 3 schedulers are running/);
      const live = r.checks.get("workers.live");
      assert.equal(live?.status, "warn");
      assert.match(
        live?.summary ?? "",
        new RegExp(`master ${app.masterPid} has 3 workers and none holds a scheduler lock`),
      );
    } finally {
      await app.stop();
    }
  });

  test("with the scheduler.lock flock pattern: locks list shows one holder and the verdict passes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-live-"));
    const log = join(dir, "app.log");
    const lock = join(dir, "scheduler.lock");
    const app = await startGunicornApp({ workers: 3, guard: "flock", logFile: log, lockFile: lock });
    try {
      await sleep(3500);
      const list = runCli(["locks", "list", "--lock-file", lock, "--format", "json"]);
      assert.equal(list.code, 0, list.stderr);
      const locks = (
        JSON.parse(list.stdout) as {
          locks: { name: string; kind: string; state: string; holders: { pid: number; role: string }[] }[];
        }
      ).locks.filter((l) => l.name === lock);
      assert.equal(locks.length, 1, list.stdout);
      assert.equal(locks[0]?.kind, "flock");
      assert.equal(locks[0]?.state, "held");
      assert.equal(locks[0]?.holders.length, 1);
      assert.ok(app.workerPids.includes(locks[0]?.holders[0]?.pid ?? -1), "the holder is one of the workers");
      assert.equal(locks[0]?.holders[0]?.role, "gunicorn-worker");

      const probe = runCli(["locks", "probe", lock]);
      assert.equal(probe.code, 0);
      assert.match(probe.stdout, /: held/);

      const r = doctor([
        "--logs",
        log,
        "--lock-file",
        lock,
        "--only",
        "runs.logs,locks.file,locks.verdict,workers.live",
      ]);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.checks.get("runs.logs")?.status, "pass");
      assert.equal(r.checks.get("locks.file")?.status, "pass");
      assert.equal(r.checks.get("locks.verdict")?.status, "pass");
      assert.match(r.checks.get("locks.verdict")?.summary ?? "", /exactly one scheduler/);
    } finally {
      await app.stop();
    }
    // Nobody holds it once the app is gone: the probe says so with exit 1.
    const after = runCli(["locks", "probe", lock]);
    assert.equal(after.code, 1);
    assert.match(after.stdout, /: stale/);
  });
});

describe("runs.http through a real nginx", { concurrency: false }, () => {
  test("two instances both running a scheduler fail; one passes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-live-"));
    const a = await startGunicornApp({
      workers: 1,
      guard: "none",
      logFile: join(dir, "a.log"),
      hostname: "sched-a",
    });
    const b = await startGunicornApp({
      workers: 1,
      guard: "none",
      logFile: join(dir, "b.log"),
      hostname: "sched-b",
    });
    const both = await startNginxProxy({ upstreams: [a.port, b.port] });
    const one = await startNginxProxy({ upstreams: [a.port] });
    try {
      const r = doctor([
        "--url",
        `http://127.0.0.1:${both.port}/scheduler`,
        "--samples",
        "8",
        "--only",
        "runs.http",
      ]);
      assert.equal(r.code, 1);
      assert.equal(r.checks.get("runs.http")?.status, "fail");
      assert.match(
        r.checks.get("runs.http")?.summary ?? "",
        /2 hosts say running: true \(sched-a, sched-b\)/,
      );
      const ok = doctor([
        "--url",
        `http://127.0.0.1:${one.port}/scheduler`,
        "--samples",
        "4",
        "--only",
        "runs.http",
      ]);
      assert.equal(ok.code, 0, ok.stdout);
      assert.match(ok.checks.get("runs.http")?.summary ?? "", /one host \(sched-a\)/);
    } finally {
      await Promise.all([both.stop(), one.stop(), a.stop(), b.stop()]);
    }
  });
});

describe("Redis locks through the CLI", { concurrency: false }, () => {
  const PASSWORD = "s3cr3t-Pa55";
  let server: RedisHandle;
  before(async () => {
    server = await startRedis({ password: PASSWORD });
  });
  after(async () => {
    await server?.stop();
  });

  test("list, probe and doctor send no write command, never print the password, and decode the owner", async () => {
    await runPython(
      `import redis; r = redis.Redis(host="127.0.0.1", port=${server.port}, password="${PASSWORD}")
assert r.lock("app:scheduler-lock").acquire(blocking=False)`,
    );
    const mon = await monitor(server);
    const list = runCli([
      "locks",
      "list",
      "--redis",
      server.url,
      "--format",
      "json",
      "--sample-interval",
      "200",
    ]);
    const probe = runCli([
      "locks",
      "probe",
      "app:scheduler-lock",
      "--redis",
      server.url,
      "--sample-interval",
      "200",
    ]);
    const doc = doctor(["--redis", server.url, "--only", "locks.redis", "--sample-interval", "200"]);
    const seen = await mon.stop();
    const writes = seen.filter((c) => NEVER.test((c.args[0] ?? "").toLowerCase()));
    assert.deepEqual(writes, [], "no write command reached Redis");
    assert.ok(
      seen.some((c) => c.args[0]?.toLowerCase() === "scan"),
      "it did scan",
    );

    for (const out of [list, probe, { stdout: doc.stdout, stderr: doc.stderr }]) {
      assert.ok(!out.stdout.includes(PASSWORD) && !out.stderr.includes(PASSWORD), "password redacted");
    }
    assert.equal(list.code, 0, list.stderr);
    const lock = (
      JSON.parse(list.stdout) as {
        locks: {
          name: string;
          kind: string;
          state: string;
          ttlMs: number;
          owner: string | null;
          heldForMs: number | null;
        }[];
      }
    ).locks.find((l) => l.name === "app:scheduler-lock");
    assert.equal(lock?.kind, "redis-py");
    assert.equal(lock?.state, "no-ttl");
    assert.equal(lock?.ttlMs, -1);
    assert.match(lock?.owner ?? "", /uuid1 node/);
    assert.ok(
      (lock?.heldForMs ?? -1) >= 0 && (lock?.heldForMs ?? 0) < 60_000,
      "held since the acquire, decoded from the uuid1 token",
    );
    assert.equal(probe.code, 1, "a lock without TTL is not healthy");
    assert.match(probe.stdout, /no-ttl/);
    assert.equal(doc.code, 1);
    assert.equal(doc.checks.get("locks.redis")?.status, "fail");
    assert.match(doc.checks.get("locks.redis")?.summary ?? "", /app:scheduler-lock \(redis-py\) has no TTL/);
  });

  test("release refuses a renewing lock without --force and deletes a stale one", async () => {
    const renew = await spawnPython(
      `import redis, time; r = redis.Redis(host="127.0.0.1", port=${server.port}, password="${PASSWORD}")
l = r.lock("leader:scheduler-lock", timeout=5); assert l.acquire(blocking=False); print("ready", flush=True)
while True:
    l.reacquire(); time.sleep(0.05)`,
    );
    try {
      const deadline = Date.now() + 10_000;
      while (!renew.output().includes("ready") && Date.now() < deadline) await sleep(20);
      const refused = runCli([
        "locks",
        "release",
        "leader:scheduler-lock",
        "--redis",
        server.url,
        "--sample-interval",
        "300",
      ]);
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stdout, /renew/i);
      assert.equal((await server.cli(["exists", "leader:scheduler-lock"])).trim(), "1");
      const forced = runCli([
        "locks",
        "release",
        "leader:scheduler-lock",
        "--redis",
        server.url,
        "--force",
        "--sample-interval",
        "300",
      ]);
      assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    } finally {
      await renew.stop();
    }
    await runPython(
      `import redis; r = redis.Redis(host="127.0.0.1", port=${server.port}, password="${PASSWORD}")
assert r.lock("stale:scheduler-lock", timeout=60).acquire(blocking=False)`,
    );
    const stale = runCli([
      "locks",
      "release",
      "stale:scheduler-lock",
      "--redis",
      server.url,
      "--sample-interval",
      "300",
    ]);
    assert.equal(stale.code, 0, stale.stdout + stale.stderr);
    assert.equal((await server.cli(["exists", "stale:scheduler-lock"])).trim(), "0");
  });

  test("scan progress goes to stderr only when it is a terminal, and is cleared", async () => {
    await server.cli(["debug", "populate", "5000", "filler"]);
    const piped = runCli(["locks", "list", "--redis", server.url, "--sample-interval", "0"]);
    assert.equal(piped.code, 0);
    assert.equal(piped.stderr, "", "no progress when stderr is not a terminal");
    // util-linux script(1) gives the command a pseudo-terminal, as an interactive user has.
    const tty = spawnSync(
      "/usr/bin/script",
      ["-qec", `${BIN} locks list --redis ${server.url} --sample-interval 0`, "/dev/null"],
      { encoding: "utf8", timeout: 30_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "dumb" } },
    );
    assert.equal(tty.status, 0, tty.stderr);
    const ESC = String.fromCharCode(27);
    assert.ok(/\rscanning Redis: \d+ keys/.test(tty.stdout), tty.stdout);
    assert.ok(tty.stdout.includes(`keys${ESC}[K`), "the progress line erases what it overwrites");
    assert.ok(tty.stdout.includes(`\r${ESC}[K`), "the progress line is cleared before the table");
    assert.ok(!tty.stdout.includes(PASSWORD));
  });

  test("an unreachable Redis is exit 3 for doctor and locks list, within the timeout", async () => {
    const port = await freePort();
    const started = Date.now();
    const d = doctor([
      "--redis",
      `redis://:${PASSWORD}@127.0.0.1:${port}/0`,
      "--only",
      "locks.redis",
      "--timeout",
      "1000",
    ]);
    assert.equal(d.code, 3);
    assert.equal(d.checks.get("locks.redis")?.status, "error");
    const l = runCli([
      "locks",
      "list",
      "--redis",
      `redis://:${PASSWORD}@127.0.0.1:${port}/0`,
      "--timeout",
      "1000",
    ]);
    assert.equal(l.code, 3);
    assert.ok(Date.now() - started < 15_000);
    assert.ok(!d.stdout.includes(PASSWORD) && !l.stderr.includes(PASSWORD) && !l.stdout.includes(PASSWORD));
  });
});
