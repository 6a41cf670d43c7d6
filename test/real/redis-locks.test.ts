/**
 * probeRedis / probeLock against real Redis servers holding locks the real libraries made: redis-py's Lock
 * (Debian python3-redis, through /usr/bin/python3) directly and as celery-redbeat / celery-beatx /
 * celerybeat-redis use it, a redbeat lock renewed by a live helper process, the rq / rq-scheduler / rq cron /
 * python-redis-lock / pottery / BullMQ key layouts written with redis-py, a real APScheduler 3 RedisJobStore,
 * schedctl's JSON lock, user patterns, keys of unexpected types, non-UTF-8 key bytes, a 3-master cluster and
 * a Sentinel. Never skips: a missing binary fails with the install command.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { matchGlob } from "../../src/locks/redis-classify.js";
import { probeLock, probeRedis } from "../../src/locks/redis-probe.js";
import type { LockRecord, RedisServerReport } from "../../src/locks/types.js";
import {
  type RedisClusterHandle,
  type RedisHandle,
  type RedisSentinelHandle,
  runPython,
  spawnPython,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
} from "../helpers/redis-server.js";

const SAMPLE_MS = 600;
const TIMEOUT_MS = 3000;

const SETUP = String.raw`
import base64, json, os, socket, time, uuid, datetime
import redis
r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
out = {"pid": os.getpid(), "hostname": socket.gethostname()}

def py_lock(name, timeout):
    t = time.time()
    lk = r.lock(name, timeout=timeout)
    assert lk.acquire(blocking=False), name
    tok = lk.local.token.decode()
    u = uuid.UUID(tok)
    out[name if isinstance(name, str) else "binary"] = {
        "t": t, "token": tok, "node": ":".join("%02x" % b for b in u.node.to_bytes(6, "big")),
        "uuid_unix": (u.time - 0x01B21DD213814000) / 1e7,
    }

py_lock("reports:nightly-lock", 30)      # redis-py Lock with a TTL
py_lock("billing:lock", None)            # ... and without (PTTL -1)
py_lock("name", 30)                      # a redis-py Lock under a name that does not look like a lock
py_lock("myapp::lock", 30)               # redbeat with prefix "myapp:", nobody renewing it
py_lock("celery:beat-lock", 60)          # celery-beatx
py_lock("celery:beat:task_lock", 30)     # celerybeat-redis
py_lock(b"lock:\xff\xfe\x00", 30)        # non-UTF-8 key bytes

# rq <= 2.9: the scheduler's pid, SET NX EX interval+60
r.set("rq:scheduler-lock:default", os.getpid(), nx=True, ex=61)
# rq 2.10: the scheduler's name, and its metadata hash
name = uuid.uuid4().hex
now = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
r.set("rq:scheduler-lock:high", name, nx=True, ex=61)
r.hset("rq:scheduler:" + name, mapping={"name": name, "hostname": socket.gethostname(), "pid": os.getpid(),
       "queues": "high", "created_at": now, "last_heartbeat": now})
r.expire("rq:scheduler:" + name, 61)
out["rq_name"] = name
# rq-scheduler: time.time() lock during a pass, and one instance hash
r.set("rq:scheduler_lock", time.time(), ex=70, nx=True)
inst = uuid.uuid4().hex
r.hset("rq:scheduler_instance:" + inst, "birth", time.time())
r.expire("rq:scheduler_instance:" + inst, 70)
out["rq_scheduler_instance"] = inst
# rq cron: two schedulers in the registry, each with its hash
for i in (1, 2):
    n = "%s:%d:%s" % (socket.gethostname(), 1000 + i, uuid.uuid4().hex[:8])
    r.zadd("rq:cron_schedulers", {n: time.time()})
    r.hset("rq:cron_scheduler:" + n, mapping={"hostname": socket.gethostname(), "pid": str(1000 + i), "name": n,
           "created_at": now, "config_file": "cron_config.py"})
    r.expire("rq:cron_scheduler:" + n, 60)
# python-redis-lock: lock:NAME = b64encode(urandom(18)) EX expire, plus a lock-signal list
lid = base64.b64encode(os.urandom(18)).decode()
r.set("lock:x", lid, nx=True, ex=60)
r.lpush("lock-signal:x", 1)
out["lock_x"] = lid
# pottery Redlock: redlock:KEY = str(uuid4()) PX auto_release_time
r.set("redlock:printer", str(uuid.uuid4()), px=10000, nx=True)
# BullMQ job lock: <worker uuid>:<n> PX lockDuration
worker = str(uuid.uuid4())
r.set("bull:emails:42:lock", worker + ":1", px=30000)
out["bull_worker"] = worker
# schedctl's own lock
since = datetime.datetime.now(datetime.timezone.utc).isoformat()
r.set("schedctl:lock:billing", json.dumps({"v": 1, "host": "web-1", "pid": 4242, "app": "billing", "since": since}), ex=30)
# a key only a user pattern finds
r.set("custom:leader", "web-3", ex=40)
# APScheduler 3 RedisJobStore, for real
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.jobstores.redis import RedisJobStore
sched = BackgroundScheduler(jobstores={"default": RedisJobStore(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))}, timezone="UTC")
sched.start(paused=True)
sched.add_job("time:time", "interval", minutes=5, id="tick")
sched.add_job("os:getpid", "cron", hour=3, id="nightly")
sched.shutdown(wait=False)
# db 1: keys of unexpected types under lock names
r1 = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]), db=1)
r1.rpush("redbeat::lock", "a", "b")
r1.hset("rq:scheduler_lock", "a", "1")
r1.sadd("celery:beat-lock", "x")
r1.xadd("bull:q:1:lock", {"a": "b"})
r1.zadd("lock:z", {"a": 1})
r1.set("rq:scheduler_instance:str", "not a hash")
print(json.dumps(out))
`;

// redbeat's tick(): lock.extend(lock_timeout) with a script that SETS the TTL back to lock_timeout
const RENEWER = `
import os, time, redis
r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
lk = r.lock("redbeat::lock", timeout=5)
assert lk.acquire(blocking=False)
print("ready", flush=True)
while True:
    time.sleep(0.2)
    lk.extend(5, replace_ttl=True)
`;

interface PyLock {
  t: number;
  token: string;
  node: string;
  uuid_unix: number;
}
interface Setup {
  pid: number;
  hostname: string;
  rq_name: string;
  rq_scheduler_instance: string;
  lock_x: string;
  bull_worker: string;
  [name: string]: unknown;
}

function byName(r: RedisServerReport, name: string): LockRecord {
  const l = r.locks.find((x) => x.name === name);
  assert.ok(l, `${name} not found among ${r.locks.map((x) => x.name).join(", ")}`);
  return l;
}

// The suites are independent (each has its own servers): run them side by side to keep the file fast.
describe("redis", { concurrency: true }, () => {
  describe("real locks on one Redis", { concurrency: false }, () => {
    let server: RedisHandle;
    let setup: Setup;
    let renewer: Awaited<ReturnType<typeof spawnPython>>;
    let report: RedisServerReport;
    let started: number;

    before(async () => {
      server = await startRedis();
      const env = { REDIS_PORT: String(server.port) };
      setup = JSON.parse(await runPython(SETUP, env)) as Setup;
      renewer = await spawnPython(RENEWER, env);
      started = Date.now();
      const progress: number[] = [];
      [report] = (await probeRedis({
        urls: [server.url],
        patterns: ["custom:*"],
        sampleIntervalMs: SAMPLE_MS,
        timeoutMs: TIMEOUT_MS,
        onProgress: (n) => progress.push(n),
      })) as [RedisServerReport];
      assert.ok(
        progress.length > 0 && progress.at(-1) === report.keysScanned,
        "progress ends at keysScanned",
      );
    });
    after(async () => {
      await renewer?.stop();
      await server?.stop();
    });

    test("the server report", () => {
      assert.equal(report.ok, true, String(report.error));
      assert.equal(report.error, null);
      assert.equal(report.mode, "standalone");
      assert.equal(report.url, server.url);
      assert.deepEqual(report.nodes, [`127.0.0.1:${server.port}`]);
      assert.ok(report.keysScanned >= 20, `keysScanned ${report.keysScanned}`);
      assert.ok(report.notes.some((n) => /^Redis 7\./.test(n)));
    });

    function assertUuid1(l: LockRecord, py: PyLock) {
      assert.equal(l.owner, `uuid1 node ${py.node}`);
      assert.equal(l.details.token, py.token);
      // the decoded acquire time is Python's own reading of the token, and within a second of time.time()
      const acquired = Date.parse(String(l.details.acquiredAt));
      assert.ok(Math.abs(acquired - py.uuid_unix * 1000) < 1, `${acquired} vs ${py.uuid_unix}`);
      assert.ok(Math.abs(acquired - py.t * 1000) < 1000, `acquired ${acquired} vs time.time() ${py.t}`);
      assert.ok(
        l.heldForMs !== null && Math.abs(l.heldForMs - (started - py.t * 1000)) < 5000,
        `heldFor ${l.heldForMs}`,
      );
    }

    test("redis-py Lock with timeout=30: redis-py, owner node and acquire time decoded, TTL falling", () => {
      const l = byName(report, "reports:nightly-lock");
      assert.equal(l.kind, "redis-py");
      assert.equal(l.state, "expiring");
      assert.ok(l.ttlMs !== null && l.ttlMs > 20_000 && l.ttlMs <= 30_000, `ttl ${l.ttlMs}`);
      assert.equal(l.backend, "redis");
      assert.equal(l.where, `127.0.0.1:${server.port}`);
      assertUuid1(l, setup["reports:nightly-lock"] as PyLock);
    });

    test("redis-py Lock without timeout: no-ttl", () => {
      const l = byName(report, "billing:lock");
      assert.equal(l.kind, "redis-py");
      assert.equal(l.state, "no-ttl");
      assert.equal(l.ttlMs, -1);
      assertUuid1(l, setup["billing:lock"] as PyLock);
    });

    test("redbeat::lock renewed by a live beat every 200 ms: held", () => {
      const l = byName(report, "redbeat::lock");
      assert.equal(l.kind, "redbeat");
      assert.equal(l.state, "held");
      assert.ok(l.ttlMs !== null && l.ttlMs > 4000 && l.ttlMs <= 5000, `ttl ${l.ttlMs}`);
      assert.match(String(l.owner), /^uuid1 node [0-9a-f:]{17}/);
    });

    test("a redbeat lock nobody renews (custom prefix): expiring", () => {
      const l = byName(report, "myapp::lock");
      assert.equal(l.kind, "redbeat");
      assert.equal(l.state, "expiring");
      assertUuid1(l, setup["myapp::lock"] as PyLock);
    });

    test("celery-beatx and celerybeat-redis", () => {
      assert.equal(byName(report, "celery:beat-lock").kind, "celery-beatx");
      assert.equal(byName(report, "celery:beat:task_lock").kind, "celerybeat-redis");
      assertUuid1(byName(report, "celery:beat-lock"), setup["celery:beat-lock"] as PyLock);
    });

    test("non-UTF-8 key bytes survive, escaped as \\xNN", () => {
      const l = byName(report, "lock:\\xff\\xfe\\x00");
      assert.equal(l.kind, "redis-py");
      assertUuid1(l, setup.binary as PyLock);
    });

    test("rq <= 2.9 (pid) and rq 2.10 (name + rq:scheduler:<name> hash)", () => {
      const old = byName(report, "rq:scheduler-lock:default");
      assert.equal(old.kind, "rq");
      assert.equal(old.owner, `pid ${setup.pid}`);
      assert.ok(old.ttlMs !== null && old.ttlMs > 55_000 && old.ttlMs <= 61_000);
      assert.equal(old.state, "expiring");
      const neu = byName(report, "rq:scheduler-lock:high");
      assert.equal(neu.kind, "rq");
      assert.equal(neu.owner, `host ${setup.hostname} pid ${setup.pid}`);
      assert.equal(neu.details.scheduler, setup.rq_name);
      assert.ok(neu.heldForMs !== null && neu.heldForMs < 10_000);
    });

    test("rq-scheduler: the time.time() lock and the instance hash", () => {
      const l = byName(report, "rq:scheduler_lock");
      assert.equal(l.kind, "rq-scheduler");
      assert.ok(l.heldForMs !== null && l.heldForMs >= 0 && l.heldForMs < 10_000, `heldFor ${l.heldForMs}`);
      const i = byName(report, `rq:scheduler_instance:${setup.rq_scheduler_instance}`);
      assert.equal(i.kind, "rq-scheduler-instance");
    });

    test("rq cron: one record per registered scheduler, registry noted", () => {
      const cron = report.locks.filter((l) => l.kind === "rq-cron");
      assert.equal(cron.length, 2);
      assert.deepEqual(cron.map((c) => c.owner).sort(), [
        `host ${setup.hostname} pid 1001`,
        `host ${setup.hostname} pid 1002`,
      ]);
      assert.ok(report.notes.some((n) => /rq:cron_schedulers registers 2 rq cron schedulers/.test(n)));
    });

    test("python-redis-lock, its lock-signal list, pottery, BullMQ", () => {
      const x = byName(report, "lock:x");
      assert.equal(x.kind, "python-redis-lock");
      assert.equal(x.owner, `id ${setup.lock_x}`);
      assert.ok(report.notes.some((n) => n.startsWith("lock-signal:x (python-redis-lock) exists")));
      assert.ok(!report.locks.some((l) => l.name === "lock-signal:x"));
      assert.equal(byName(report, "redlock:printer").kind, "pottery-redlock");
      const b = byName(report, "bull:emails:42:lock");
      assert.equal(b.kind, "bullmq");
      assert.equal(b.owner, `worker ${setup.bull_worker}`);
    });

    test("a real APScheduler RedisJobStore: apscheduler-jobstore, no lock", () => {
      const jobs = byName(report, "apscheduler.jobs");
      assert.equal(jobs.kind, "apscheduler-jobstore");
      assert.equal(jobs.details.jobs, 2);
      assert.equal(jobs.state, "no-ttl");
      assert.match(String(jobs.details.note), /not a lock/);
      const times = byName(report, "apscheduler.run_times");
      assert.equal(times.kind, "apscheduler-jobstore");
      assert.ok(Date.parse(String(times.details.nextRunAt)) > Date.now());
    });

    test("schedctl's JSON lock", () => {
      const l = byName(report, "schedctl:lock:billing");
      assert.equal(l.kind, "schedctl");
      assert.equal(l.owner, "host web-1 pid 4242");
      assert.ok(l.heldForMs !== null && l.heldForMs < 10_000);
    });

    test("--pattern finds the user's key; a lock under a plain name needs it", () => {
      const u = byName(report, "custom:leader");
      assert.equal(u.kind, "user-pattern");
      assert.equal(u.owner, "web-3");
      assert.ok(!report.locks.some((l) => l.name === "name"), "'name' is not read without --pattern");
      assert.ok(report.notes.some((n) => /a lock under another name needs --pattern/.test(n)));
    });

    test("the same plain-named lock with --pattern, with deep, and with probeLock", async () => {
      const [withPattern] = await probeRedis({
        urls: [server.url],
        patterns: ["na?e"],
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      const l = withPattern?.locks.find((x) => x.name === "name");
      assert.equal(l?.kind, "redis-py");
      const [deep] = await probeRedis({
        urls: [server.url],
        patterns: [],
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
        deep: true,
      });
      assert.equal(deep?.locks.find((x) => x.name === "name")?.kind, "redis-py");
      const one = await probeLock(server.url, "name", { sampleIntervalMs: 200, timeoutMs: TIMEOUT_MS });
      assert.equal(one.kind, "redis-py");
      assert.equal(one.state, "expiring");
      assertUuid1(one, setup.name as PyLock);
    });

    test("probeLock: a renewing lock, a binary key, an unknown key, a missing key", async () => {
      const held = await probeLock(server.url, "redbeat::lock", {
        sampleIntervalMs: 450,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(held.state, "held");
      assert.equal(held.kind, "redbeat");
      const bin = await probeLock(server.url, "lock:\\xff\\xfe\\x00", {
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(bin.kind, "redis-py");
      const other = await probeLock(server.url, "custom:leader", {
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(other.kind, "user-pattern");
      assert.equal(other.owner, "web-3");
      const gone = await probeLock(server.url, "no:such:lock", {
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(gone.state, "gone");
      assert.equal(gone.kind, "unknown");
    });

    test("keys of unexpected types under lock names (db 1): noted, never a crash", async () => {
      const [r1] = await probeRedis({
        urls: [`${server.url}/1`],
        patterns: [],
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.ok(r1);
      assert.equal(r1.ok, true, String(r1.error));
      assert.deepEqual(r1.locks, []);
      for (const re of [
        /redbeat::lock is a list/,
        /rq:scheduler_lock is a hash/,
        /celery:beat-lock is a set/,
        /bull:q:1:lock is a stream/,
        /rq:scheduler_instance:str is a string/,
      ])
        assert.ok(
          r1.notes.some((n) => re.test(n)),
          `${re} in ${r1.notes.join(" | ")}`,
        );
      // every type through the user-pattern path (HLEN/LLEN/SCARD/XLEN/ZCARD), deep mode too
      const [all] = await probeRedis({
        urls: [`${server.url}/1`],
        patterns: ["*"],
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
        deep: true,
      });
      assert.equal(all?.ok, true);
      const types = Object.fromEntries(
        (all?.locks ?? []).map((l) => [l.name, [l.kind, l.details.type, l.details.length ?? null]]),
      );
      assert.deepEqual(types, {
        "redbeat::lock": ["user-pattern", "list", 2],
        "rq:scheduler_lock": ["user-pattern", "hash", 1],
        "celery:beat-lock": ["user-pattern", "set", 1],
        "bull:q:1:lock": ["user-pattern", "stream", 1],
        "lock:z": ["user-pattern", "zset", 1],
        "rq:scheduler_instance:str": ["user-pattern", "string", null],
      });
    });

    test("globs agree with Redis's own SCAN MATCH", async () => {
      const keys = [
        "hello",
        "hallo",
        "hxllo",
        "hllo",
        "heeello",
        "a*b",
        "a]b",
        "ab",
        "a-b",
        "x\\y",
        "rq:scheduler-lock:q1",
      ];
      const patterns = [
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-e]llo",
        "h[e-a]llo",
        "a\\*b",
        "a[\\]]b",
        "a[]b",
        "a[-]b",
        "x\\\\y",
        "a[b",
        "rq:scheduler-lock:*",
        "*",
      ];
      await server.cli(["-n", "2", "mset", ...keys.flatMap((k) => [k, "1"])]);
      for (const p of patterns) {
        const out = await server.cli(["-n", "2", "--scan", "--pattern", p]);
        const redis = out
          .split("\n")
          .filter((l) => l !== "")
          .sort();
        const ours = keys.filter((k) => matchGlob(p, k.replace(/\\/g, "\\x5c"))).sort();
        assert.deepEqual(ours, redis, `pattern ${p}`);
      }
    });
  });

  describe("a 3-master cluster", { concurrency: false }, () => {
    let cluster: RedisClusterHandle;
    let placed: Record<string, number>;
    before(async () => {
      cluster = await startRedisCluster(3);
      const first = cluster.nodes[0] as RedisHandle;
      const out = await runPython(
        `
  import json, os
  from redis.cluster import RedisCluster
  rc = RedisCluster(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
  placed, i = {}, 0
  while len(set(placed.values())) < 3 or len(placed) < 6:
      name = "job-%d-lock" % i
      port = rc.get_node_from_key(name).port
      if list(placed.values()).count(port) < 2:
          assert rc.lock(name, timeout=30).acquire(blocking=False)
          placed[name] = port
      i += 1
  for j in range(300):
      rc.set("cache:item:%d" % j, "x")
  print(json.dumps(placed))
  `,
        { REDIS_PORT: String(first.port) },
      );
      placed = JSON.parse(out) as Record<string, number>;
    });
    after(async () => {
      await cluster?.stop();
    });

    test("scans every master once and finds the locks on each", async () => {
      const [r] = await probeRedis({
        urls: [cluster.url],
        patterns: [],
        sampleIntervalMs: 200,
        timeoutMs: TIMEOUT_MS,
      });
      assert.ok(r);
      assert.equal(r.ok, true, String(r.error));
      assert.equal(r.mode, "cluster");
      assert.deepEqual([...r.nodes].sort(), cluster.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
      assert.equal(r.keysScanned, 306);
      const found = Object.fromEntries(r.locks.map((l) => [l.name, l.where]));
      for (const [name, port] of Object.entries(placed)) assert.equal(found[name], `127.0.0.1:${port}`, name);
      assert.equal(new Set(Object.values(found)).size, 3, "locks on all three masters");
      for (const l of r.locks) {
        assert.equal(l.kind, "redis-py");
        assert.equal(l.state, "expiring");
      }
      const one = await probeLock(cluster.url, Object.keys(placed)[0] as string, {
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(one.kind, "redis-py");
    });
    test("a redis:// URL to one cluster node says it saw only that node's slots", async () => {
      const n = cluster.nodes[0] as RedisHandle;
      const [r] = await probeRedis({
        urls: [n.url],
        patterns: [],
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(r?.ok, true);
      assert.ok(r?.notes.some((x) => /is a cluster node: only its own slots were scanned/.test(x)));
    });
  });

  describe("Sentinel", { concurrency: false }, () => {
    let master: RedisHandle;
    let sentinel: RedisSentinelHandle;
    before(async () => {
      master = await startRedis({ password: "m@ster pw" });
      sentinel = await startRedisSentinel(master);
      await runPython(
        `
  import os, redis
  r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]), password=os.environ["PW"])
  assert r.lock("redbeat::lock", timeout=20).acquire(blocking=False)
  `,
        { REDIS_PORT: String(master.port), PW: "m@ster pw" },
      );
    });
    after(async () => {
      await sentinel?.stop();
      await master?.stop();
    });

    test("redis+sentinel:// finds the master and its lock; the password stays out", async () => {
      const url = `redis+sentinel://${encodeURIComponent("m@ster pw")}@127.0.0.1:${sentinel.port}/mymaster`;
      const [r] = await probeRedis({ urls: [url], patterns: [], sampleIntervalMs: 0, timeoutMs: TIMEOUT_MS });
      assert.ok(r);
      assert.equal(r.ok, true, String(r.error));
      assert.equal(r.mode, "sentinel");
      assert.deepEqual(r.nodes, [`127.0.0.1:${master.port}`]);
      assert.equal(r.url, `redis+sentinel://***@127.0.0.1:${sentinel.port}/mymaster`);
      assert.equal(byName(r, "redbeat::lock").kind, "redbeat");
      assert.ok(!JSON.stringify(r).includes("ster pw") && !JSON.stringify(r).includes("ster%20pw"));
    });
    test("an unknown master name and a redis:// URL aimed at the Sentinel are clear errors", async () => {
      const [a, b] = await probeRedis({
        urls: [`redis+sentinel://127.0.0.1:${sentinel.port}/nosuch`, `redis://127.0.0.1:${sentinel.port}`],
        patterns: [],
        sampleIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
      });
      assert.equal(a?.ok, false);
      assert.match(String(a?.error), /know no master named "nosuch"/);
      assert.equal(b?.ok, false);
      assert.equal(b?.errorKind, "protocol");
      assert.match(String(b?.error), /is a Redis Sentinel, not a data server: use redis\+sentinel:\/\//);
    });
  });
});
