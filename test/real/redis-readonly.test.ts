/**
 * The read-only guarantee, checked on the wire: a real redis-server's MONITOR (through redis-cli) records
 * every command while probeRedis and probeLock run, and the test fails on any write — by an allow-list of the
 * commands the probe may send AND by Redis's own COMMAND INFO flags. Then releaseRedisLock, the only writer,
 * is shown to write exactly one EVAL whose script deletes exactly the one key (and only when the token
 * still matches).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { probeLock, probeRedis } from "../../src/locks/redis-probe.js";
import { COMPARE_AND_DELETE, releaseRedisLock } from "../../src/locks/redis-release.js";
import { ALLOWED, CLIENT_SUBCOMMANDS, monitor, NEVER, redisFlags } from "../helpers/redis-monitor.js";
import { type RedisHandle, runPython, spawnPython, startRedis } from "../helpers/redis-server.js";

// The suites are independent (each has its own servers): run them side by side to keep the file fast.
describe("redis", { concurrency: true }, () => {
  describe("probeRedis and probeLock send no write command (MONITOR)", { concurrency: false }, () => {
    let server: RedisHandle;
    before(async () => {
      server = await startRedis();
      await runPython(
        String.raw`
  import os, time, base64, json, uuid, redis
  r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
  assert r.lock("redbeat::lock", timeout=30).acquire(blocking=False)
  assert r.lock("stale:lock").acquire(blocking=False)
  r.set("rq:scheduler-lock:default", "123", ex=61)
  name = uuid.uuid4().hex
  r.set("rq:scheduler-lock:high", name, ex=61)
  r.hset("rq:scheduler:" + name, mapping={"hostname": "w", "pid": "1"})
  r.hset("rq:cron_scheduler:a", mapping={"hostname": "w", "pid": "2"})
  r.zadd("rq:cron_schedulers", {"a": time.time()})
  r.set("lock:x", base64.b64encode(os.urandom(18)), ex=60)
  r.rpush("lock-signal:x", 1)
  r.hset("apscheduler.jobs", "j", "x")
  r.zadd("apscheduler.run_times", {"j": time.time() + 60})
  r.set(b"lock:\xff", uuid.uuid1().hex)
  r.set("custom:leader", "web-1")
  r.rpush("custom:list", 1)
  r.sadd("custom:set", 1)
  r.xadd("custom:stream", {"a": "b"})
  for i in range(2000):
      r.set("session:%d" % i, "x")
  `,
        { REDIS_PORT: String(server.port) },
      );
    });
    after(async () => {
      await server?.stop();
    });

    test("every command is a read, by allow-list and by Redis's own flags", async () => {
      const mon = await monitor(server);
      const [report] = await probeRedis({
        urls: [server.url, `${server.url}/1`],
        patterns: ["custom:*"],
        sampleIntervalMs: 100,
        timeoutMs: 3000,
        scanCount: 100,
      });
      await probeRedis({
        urls: [server.url],
        patterns: ["*"],
        sampleIntervalMs: 0,
        timeoutMs: 3000,
        deep: true,
      });
      const one = await probeLock(server.url, "redbeat::lock", { sampleIntervalMs: 50, timeoutMs: 3000 });
      await probeLock(server.url, "lock:\\xff", { sampleIntervalMs: 0, timeoutMs: 3000 });
      await probeLock(server.url, "no:such:key", { sampleIntervalMs: 0, timeoutMs: 3000 });
      const seen = await mon.stop();

      assert.equal(report?.ok, true);
      assert.ok((report?.locks.length ?? 0) >= 8, "the probe found the locks");
      assert.equal(one.kind, "redbeat");
      assert.ok(seen.length > 50, `MONITOR saw ${seen.length} commands`);
      assert.ok(seen.some((c) => c.args[0]?.toLowerCase() === "scan"));

      const bad: string[] = [];
      for (const c of seen) {
        const name = (c.args[0] ?? "").toLowerCase();
        if (c.source === "lua") bad.push(`script command ${c.args.join(" ")}`);
        else if (NEVER.test(name)) bad.push(`write ${c.args.join(" ")}`);
        else if (name === "client") {
          if (!CLIENT_SUBCOMMANDS.has((c.args[1] ?? "").toLowerCase()))
            bad.push(`client ${c.args.join(" ")}`);
        } else if (!ALLOWED.has(name)) bad.push(`not allowed: ${c.args.join(" ")}`);
      }
      assert.deepEqual(bad, []);

      const names = [...new Set(seen.map((c) => (c.args[0] ?? "").toLowerCase()))].filter(
        (n) => n !== "client",
      );
      const flags = await redisFlags(server, names);
      const writes = [...flags].filter(([, f]) => f.includes("write")).map(([n]) => n);
      assert.deepEqual(writes, [], "Redis flags none of the probe's commands as a write");
      assert.ok(flags.get("scan")?.includes("readonly"), "COMMAND INFO parsing works (scan is readonly)");
    });
  });

  describe("releaseRedisLock writes exactly one compare-and-delete", { concurrency: false }, () => {
    let server: RedisHandle;
    before(async () => {
      server = await startRedis();
      await runPython(
        `
  import os, redis
  r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
  assert r.lock("stale:lock").acquire(blocking=False)
  assert r.lock("other:lock", timeout=60).acquire(blocking=False)
  `,
        { REDIS_PORT: String(server.port) },
      );
    });
    after(async () => {
      await server?.stop();
    });

    test("deleted: reads, then EVAL of the script, which runs get and del on that key only", async () => {
      const token = (await server.cli(["get", "stale:lock"])).trim();
      const mon = await monitor(server);
      const out = await releaseRedisLock(server.url, "stale:lock", {
        force: false,
        sampleIntervalMs: 50,
        timeoutMs: 3000,
      });
      const seen = await mon.stop();
      assert.equal(out.outcome, "deleted");
      assert.equal(out.token, token);
      assert.match(
        out.message,
        /^deleted stale:lock on 127\.0\.0\.1:\d+ \(token [0-9a-f]{32}\): it had no TTL$/,
      );
      assert.equal((await server.cli(["exists", "stale:lock"])).trim(), "0");

      const names = seen.filter((c) => c.source !== "lua").map((c) => (c.args[0] ?? "").toLowerCase());
      const flags = await redisFlags(
        server,
        [...new Set(names)].filter((n) => n !== "client"),
      );
      const writes = names.filter((n) => flags.get(n)?.includes("write") || n === "eval");
      assert.deepEqual(writes, ["eval"], "one EVAL, no other write");
      const ev = seen.find((c) => c.args[0]?.toLowerCase() === "eval");
      assert.deepEqual(ev?.args, ["eval", COMPARE_AND_DELETE, "1", "stale:lock", token]);
      const lua = seen.filter((c) => c.source === "lua").map((c) => c.args.join(" "));
      assert.deepEqual(lua, ["get stale:lock", `del stale:lock`]);
    });

    test("token-mismatch: the script only reads", async () => {
      const mon = await monitor(server);
      const out = await releaseRedisLock(server.url, "other:lock", {
        token: "not-the-token",
        force: false,
        sampleIntervalMs: 0,
        timeoutMs: 3000,
      });
      const seen = await mon.stop();
      assert.equal(out.outcome, "token-mismatch");
      assert.match(out.message, /not-the-token: another holder has it now; nothing deleted/);
      assert.deepEqual(
        seen.filter((c) => c.source === "lua").map((c) => c.args.join(" ")),
        ["get other:lock"],
      );
      assert.equal((await server.cli(["exists", "other:lock"])).trim(), "1");
    });

    test("a lock renewed between the two samples is refused without --force (no EVAL), deleted with it", async () => {
      const renewer = await spawnPython(
        `
  import os, time, redis
  r = redis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
  lk = r.lock("live:lock", timeout=5)
  assert lk.acquire(blocking=False)
  print("ready", flush=True)
  while True:
      time.sleep(0.1)
      lk.extend(5, replace_ttl=True)
  `,
        { REDIS_PORT: String(server.port) },
      );
      try {
        const mon = await monitor(server);
        const refused = await releaseRedisLock(server.url, "live:lock", {
          force: false,
          sampleIntervalMs: 400,
          timeoutMs: 3000,
        });
        const seen = await mon.stop();
        assert.equal(refused.outcome, "refused-renewing");
        assert.match(
          refused.message,
          /^refused: live:lock on .* is being renewed .*nothing deleted \(use --force to break it anyway\)$/,
        );
        assert.ok(!seen.some((c) => c.args[0]?.toLowerCase() === "eval" && c.source !== "lua"), "no EVAL");
        assert.equal((await server.cli(["exists", "live:lock"])).trim(), "1");
        const forced = await releaseRedisLock(server.url, "live:lock", {
          force: true,
          sampleIntervalMs: 400,
          timeoutMs: 3000,
        });
        assert.equal(forced.outcome, "deleted");
        assert.match(forced.message, /although it was being renewed \(--force\)/);
      } finally {
        await renewer.stop();
      }
    });

    test("not-found and not-a-string write nothing", async () => {
      await server.cli(["rpush", "list:lock", "a"]);
      const mon = await monitor(server);
      const a = await releaseRedisLock(server.url, "missing:lock", {
        force: true,
        sampleIntervalMs: 0,
        timeoutMs: 3000,
      });
      const b = await releaseRedisLock(server.url, "list:lock", {
        force: true,
        sampleIntervalMs: 0,
        timeoutMs: 3000,
      });
      const seen = await mon.stop();
      assert.equal(a.outcome, "not-found");
      assert.equal(a.message, `missing:lock: no such key on 127.0.0.1:${server.port}; nothing deleted`);
      assert.equal(b.outcome, "not-a-string");
      assert.equal(
        b.message,
        `list:lock is a list, not a string lock, on 127.0.0.1:${server.port}; nothing deleted`,
      );
      assert.ok(seen.every((c) => !["eval", "del"].includes((c.args[0] ?? "").toLowerCase())));
    });
  });
});
