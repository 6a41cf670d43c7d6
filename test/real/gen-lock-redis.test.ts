/**
 * The generated schedctl_lock.py with Debian's python3-redis against a real redis-server on a free loopback
 * port: two Python processes running a real APScheduler, exactly one leader; kill -9 the leader and the
 * other takes over within the TTL; the value is the JSON `schedctl locks` decodes; renew only while ours;
 * release by compare-and-delete. Then the same with the single-host file lock.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { parseConfigText } from "../../src/config/load.js";
import { generateLock } from "../../src/gen/lock.js";
import { loadTemplates } from "../../src/gen/templates.js";
import { classifyKey } from "../../src/locks/redis-classify.js";
import { runCli } from "../helpers/cli.js";
import { FILE_LOCK_TOML, FULL_TOML, PYTHON, requirePython, sleep, waitFor } from "../helpers/gen-fixtures.js";
import { type RedisHandle, startRedis } from "../helpers/redis-server.js";

const TTL = 3;
const KEY = "schedctl:lock:shop";

const RUNNER = `import logging, os, signal, sys, time
sys.path.insert(0, sys.argv[1])
import schedctl_lock
from apscheduler.schedulers.background import BackgroundScheduler

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
scheduler = BackgroundScheduler(timezone="UTC")
scheduler.add_job(lambda: print("TICK", os.getpid(), flush=True), "interval", seconds=0.2, id="tick")
leadership = schedctl_lock.lead(scheduler)


def stop(*_):
    leadership.stop()
    print("STOPPED", os.getpid(), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(0.05)
`;

interface Runner {
  proc: ChildProcess;
  pid: number;
  out: () => string;
  exited: Promise<void>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const p of children)
    if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(p.pid, "SIGKILL");
});

function moduleDir(toml: string, kind: "pyproject" | "toml"): string {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-lock-"));
  writeFileSync(
    join(dir, "schedctl_lock.py"),
    generateLock(parseConfigText(toml, "x.toml", kind), loadTemplates()).content,
  );
  writeFileSync(join(dir, "runner.py"), RUNNER);
  return dir;
}

function startRunner(dir: string, env: Record<string, string>): Runner {
  const proc = spawn(PYTHON, [join(dir, "runner.py"), dir], {
    env: { PATH: "/usr/bin:/bin", PYTHONUNBUFFERED: "1", SCHEDCTL_LOCK_TTL: String(TTL), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(proc);
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return {
    proc,
    pid: proc.pid as number,
    out: () => out,
    exited: new Promise((r) => proc.once("exit", () => r())),
  };
}

const isLeader = (r: Runner) => /schedctl: leader \(/.test(r.out());
const ticks = (r: Runner) => (r.out().match(/^TICK /gm) ?? []).length;

describe("schedctl_lock.py", { concurrency: true }, () => {
  describe("Redis backend, real redis-server", { concurrency: 1 }, () => {
    let server: RedisHandle;
    let redis: { url: string; client: Redis };
    let dir: string;
    let a: Runner;
    let b: Runner;

    before(async () => {
      requirePython(["redis", "apscheduler"], ["python3-redis", "python3-apscheduler"]);
      server = await startRedis();
      const client = new Redis({
        host: server.host,
        port: server.port,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      await client.connect();
      redis = { url: `${server.url}/0`, client };
      dir = moduleDir(FULL_TOML, "pyproject");
    });
    after(async () => {
      redis?.client.disconnect();
      await server?.stop();
    });

    test("two processes: exactly one leader; the value is schedctl's JSON with our host and pid", async () => {
      const env = { SCHEDCTL_REDIS_URL: redis.url };
      a = startRunner(dir, env);
      await waitFor(
        () => `first leader: ${a.out()}`,
        () => isLeader(a),
        30_000,
      );
      b = startRunner(dir, env);
      await sleep(1500); // > ttl/3: b has tried several times
      assert.equal(isLeader(b), false, `b must be a standby: ${b.out()}`);
      assert.ok(ticks(a) > 0, "the leader's scheduler runs");
      assert.equal(ticks(b), 0, "the standby's scheduler does not");

      const raw = await redis.client.get(KEY);
      assert.ok(raw, "the key exists");
      const v = JSON.parse(raw) as Record<string, unknown>;
      assert.deepEqual(Object.keys(v), ["v", "host", "pid", "app", "since"]);
      assert.equal(v.v, 1);
      assert.equal(v.host, hostname());
      assert.equal(v.pid, a.pid);
      assert.equal(v.app, "shop");
      assert.match(String(v.since), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(String(v.since)) - Date.now()) < 10_000);
      const pttl = await redis.client.pttl(KEY);
      assert.ok(pttl > 0 && pttl <= TTL * 1000, `PTTL ${pttl}`);
      // schedctl's own reader (`schedctl locks`) decodes it
      const rec = classifyKey({ key: KEY, type: "string", value: raw, pttl }, Date.now(), []);
      assert.equal(rec?.kind, "schedctl");
      assert.equal(rec?.owner, `host ${hostname()} pid ${a.pid}`);
      // and the built binary shows the owner's host and pid, renewing (sampled across one renewal: TTL/3 = 1 s)
      const list = runCli([
        "locks",
        "list",
        "--redis",
        redis.url,
        "--format",
        "json",
        "--sample-interval",
        "700",
      ]);
      assert.equal(list.code, 0, list.stderr);
      const shown = (
        JSON.parse(list.stdout) as { locks: { name: string; kind: string; owner: string; state: string }[] }
      ).locks.find((l) => l.name === KEY);
      assert.equal(shown?.kind, "schedctl");
      assert.equal(shown?.owner, `host ${hostname()} pid ${a.pid}`);
      assert.equal(shown?.state, "held");
    });

    test("the leader renews: its key outlives the TTL", async () => {
      await sleep(TTL * 1000 + 300);
      const v = JSON.parse((await redis.client.get(KEY)) ?? "{}") as { pid?: number };
      assert.equal(v.pid, a.pid);
    });

    test("kill -9 the leader: the standby takes over within the TTL (+ one retry interval + slack)", async () => {
      const killedAt = Date.now();
      process.kill(a.pid, "SIGKILL");
      await a.exited;
      await waitFor(
        () => `b takes over: ${b.out()}`,
        () => isLeader(b),
        (TTL + TTL / 3 + 5) * 1000,
        20,
      );
      const took = Date.now() - killedAt;
      assert.ok(took <= (TTL + TTL / 3 + 2) * 1000, `took ${took} ms (TTL ${TTL} s)`);
      const v = JSON.parse((await redis.client.get(KEY)) ?? "{}") as { pid?: number; host?: string };
      assert.equal(v.pid, b.pid);
      assert.equal(v.host, hostname());
      const before = ticks(b);
      await waitFor("b's scheduler ticks", () => ticks(b) > before + 1, 10_000);
    });

    test("renews only while the value is ours: another value in the key pauses the scheduler", async () => {
      await redis.client.set(
        KEY,
        '{"v":1,"host":"intruder","pid":1,"app":"shop","since":"2026-01-01T00:00:00.000Z"}',
      );
      await waitFor(
        () => `b notices: ${b.out()}`,
        () => /no longer the leader .*the key no longer holds our value/.test(b.out()),
        10_000,
      );
      await sleep(500);
      const paused = ticks(b);
      await sleep(800);
      assert.equal(ticks(b), paused, "no ticks while not the leader");
      assert.equal(
        JSON.parse((await redis.client.get(KEY)) ?? "{}").host,
        "intruder",
        "the intruder's value was not extended or deleted by us",
      );
      // the intruder goes away: b is elected again and resumes
      await redis.client.del(KEY);
      await waitFor("b leads again", () => (b.out().match(/schedctl: leader \(/g) ?? []).length >= 2, 10_000);
      await waitFor("b ticks again", () => ticks(b) > paused + 1, 10_000);
    });

    test("a graceful stop releases by compare-and-delete", async () => {
      process.kill(b.pid, "SIGTERM");
      await b.exited;
      assert.match(b.out(), /STOPPED/);
      assert.equal(await redis.client.exists(KEY), 0, "the key is gone at once, not after the TTL");
    });
  });

  describe("file backend (one host)", () => {
    test("one leader; kill -9 and the other takes over; the file holds the owner", async () => {
      requirePython(["apscheduler"], ["python3-apscheduler"]);
      const dir = moduleDir(FILE_LOCK_TOML, "toml");
      const lockFile = join(dir, "scheduler.lock");
      const env = { SCHEDCTL_LOCK_FILE: lockFile, SCHEDCTL_LOCK_TTL: "0.6" };
      const a = startRunner(dir, env);
      await waitFor(
        () => `a leads: ${a.out()}`,
        () => isLeader(a),
        30_000,
      );
      const b = startRunner(dir, env);
      await sleep(1200);
      assert.equal(isLeader(b), false, b.out());
      const v = JSON.parse(readFileSync(lockFile, "utf8")) as { pid: number; app: string };
      assert.equal(v.pid, a.pid);
      assert.equal(v.app, "billing-worker");
      process.kill(a.pid, "SIGKILL");
      await a.exited;
      await waitFor(
        () => `b takes over: ${b.out()}`,
        () => isLeader(b),
        10_000,
        20,
      );
      assert.equal((JSON.parse(readFileSync(lockFile, "utf8")) as { pid: number }).pid, b.pid);
      process.kill(b.pid, "SIGTERM");
      await b.exited;
    });
  });
});
