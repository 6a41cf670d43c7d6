/**
 * Bad input against real sockets: Redis down (connection refused, within the timeout), a server that accepts
 * and never answers (timed out after N ms, within timeout + 1 s), wrong / missing password on a real
 * redis-server (clear message, the password nowhere in any output), a cluster URL aimed at a plain server,
 * and garbage URLs (UsageError before any connection).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { RunError, UsageError } from "../../src/errors.js";
import { probeLock, probeRedis } from "../../src/locks/redis-probe.js";
import { releaseRedisLock } from "../../src/locks/redis-release.js";
import { freePort, type RedisHandle, startRedis } from "../helpers/redis-server.js";

const opts = { patterns: [], sampleIntervalMs: 0 };

// The suites are independent (each has its own servers): run them side by side to keep the file fast.
describe("redis", { concurrency: true }, () => {
  describe("Redis down", () => {
    test("nothing listening: connection refused, fast", async () => {
      const port = await freePort();
      const t0 = performance.now();
      const [r] = await probeRedis({ ...opts, urls: [`redis://127.0.0.1:${port}`], timeoutMs: 1000 });
      const elapsed = performance.now() - t0;
      assert.ok(r);
      assert.equal(r.ok, false);
      assert.equal(r.errorKind, "connect");
      assert.equal(r.error, `connection refused at 127.0.0.1:${port}`);
      assert.deepEqual(r.locks, []);
      assert.ok(elapsed < 2000, `${elapsed} ms`);
      await assert.rejects(
        probeLock(`redis://127.0.0.1:${port}`, "x", { sampleIntervalMs: 0, timeoutMs: 1000 }),
        (e: unknown) => {
          assert.ok(e instanceof RunError);
          assert.match(e.message, /connection refused/);
          return true;
        },
      );
      await assert.rejects(
        releaseRedisLock(`redis://127.0.0.1:${port}`, "x", {
          force: false,
          sampleIntervalMs: 0,
          timeoutMs: 1000,
        }),
        RunError,
      );
    });

    describe("a server that accepts and never answers", { concurrency: true }, () => {
      let silent: net.Server;
      let port: number;
      const sockets = new Set<net.Socket>();
      before(async () => {
        silent = net.createServer((s) => {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
        });
        await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
        port = (silent.address() as net.AddressInfo).port;
      });
      after(async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => silent.close(() => r()));
      });

      for (const [mode, url] of [
        ["standalone", () => `redis://127.0.0.1:${port}`],
        ["cluster", () => `redis+cluster://127.0.0.1:${port}`],
        ["sentinel", () => `redis+sentinel://127.0.0.1:${port}/mymaster`],
      ] as const) {
        test(`${mode}: timed out after N ms, within timeout + 1 s`, async () => {
          const timeoutMs = 600;
          const t0 = performance.now();
          const [r] = await probeRedis({ ...opts, urls: [url()], timeoutMs });
          const elapsed = performance.now() - t0;
          assert.equal(r?.ok, false);
          assert.equal(r?.errorKind, "timeout", String(r?.error));
          assert.match(String(r?.error), /timed out after 600 ms/);
          assert.ok(elapsed < timeoutMs + 1000, `${Math.round(elapsed)} ms`);
        });
      }
      test("probeLock too", async () => {
        const t0 = performance.now();
        await assert.rejects(
          probeLock(`redis://127.0.0.1:${port}`, "x", { sampleIntervalMs: 0, timeoutMs: 500 }),
          /timed out after 500 ms/,
        );
        assert.ok(performance.now() - t0 < 1500);
      });
    });
  });

  describe("authentication", () => {
    const RIGHT = "correct-horse-battery";
    const WRONG = "Tr0ub4dor&3-wrong";
    let server: RedisHandle;
    before(async () => {
      server = await startRedis({ password: RIGHT });
    });
    after(async () => {
      await server?.stop();
    });

    function noSecret(x: unknown) {
      const s = JSON.stringify(x, (_k, v) => (v instanceof Error ? `${v.message} ${v.stack}` : v));
      for (const p of [RIGHT, WRONG, encodeURIComponent(WRONG)])
        assert.ok(!s.includes(p), `output contains ${p}: ${s}`);
    }

    test("wrong password: authentication failed (WRONGPASS ...), no password anywhere", async () => {
      const url = `redis://:${encodeURIComponent(WRONG)}@127.0.0.1:${server.port}`;
      const [r] = await probeRedis({ ...opts, urls: [url], timeoutMs: 2000 });
      assert.equal(r?.ok, false);
      assert.equal(r?.errorKind, "auth");
      assert.match(
        String(r?.error),
        /^authentication failed \(WRONGPASS invalid username-password pair or user is disabled\.\) at 127\.0\.0\.1:\d+$/,
      );
      assert.equal(r?.url, `redis://:***@127.0.0.1:${server.port}`);
      noSecret(r);
      const e = await probeLock(url, "x", { sampleIntervalMs: 0, timeoutMs: 2000 }).catch((x: unknown) => x);
      assert.ok(e instanceof RunError);
      assert.match(e.message, /authentication failed \(WRONGPASS/);
      noSecret({ message: e.message, stack: e.stack });
      const e2 = await releaseRedisLock(url, "x", {
        force: true,
        sampleIntervalMs: 0,
        timeoutMs: 2000,
      }).catch((x: unknown) => x);
      assert.ok(e2 instanceof RunError);
      noSecret({ message: (e2 as Error).message });
    });

    test("wrong user and password (ACL form)", async () => {
      const [r] = await probeRedis({
        ...opts,
        urls: [`redis://bob:${WRONG.replace("&", "%26")}@127.0.0.1:${server.port}`],
        timeoutMs: 2000,
      });
      assert.equal(r?.errorKind, "auth");
      assert.match(String(r?.error), /WRONGPASS/);
      assert.equal(r?.url, `redis://bob:***@127.0.0.1:${server.port}`);
      noSecret(r);
    });

    test("no password for a server that needs one: NOAUTH, with the fix", async () => {
      const [r] = await probeRedis({ ...opts, urls: [`redis://127.0.0.1:${server.port}`], timeoutMs: 2000 });
      assert.equal(r?.errorKind, "auth");
      assert.match(
        String(r?.error),
        /^authentication failed \(NOAUTH Authentication required\.\) .*redis:\/\/:PASSWORD@host:port/,
      );
    });

    test("the right password works, and still never shows", async () => {
      const [r] = await probeRedis({
        ...opts,
        urls: [`redis://:${RIGHT}@127.0.0.1:${server.port}`],
        timeoutMs: 2000,
      });
      assert.equal(r?.ok, true, String(r?.error));
      noSecret(r);
    });

    test("a cluster URL aimed at a plain server is a clear error", async () => {
      const [r] = await probeRedis({
        ...opts,
        urls: [`redis+cluster://:${RIGHT}@127.0.0.1:${server.port}`],
        timeoutMs: 2000,
      });
      assert.equal(r?.ok, false);
      assert.match(String(r?.error), /cluster support disabled/);
      noSecret(r);
    });
  });

  describe("TLS (rediss://) against a TLS-only redis-server", () => {
    let server: RedisHandle;
    before(async () => {
      server = await startRedis({ tls: true });
      await server.cli(["set", "redbeat::lock", "0cc75480eca911f1ac5002fc00000001", "EX", "60"]);
    });
    after(async () => {
      await server?.stop();
    });
    test("ssl_cert_reqs=none reads it", async () => {
      const [r] = await probeRedis({ ...opts, urls: [`${server.url}?ssl_cert_reqs=none`], timeoutMs: 2000 });
      assert.equal(r?.ok, true, String(r?.error));
      assert.deepEqual(
        r?.locks.map((l) => l.kind),
        ["redbeat"],
      );
    });
    test("a self-signed certificate is refused with a clear line", async () => {
      const [r] = await probeRedis({ ...opts, urls: [server.url], timeoutMs: 2000 });
      assert.equal(r?.errorKind, "protocol");
      assert.equal(r?.error, `TLS handshake failed at 127.0.0.1:${server.port} (self-signed certificate)`);
    });
    test("plain redis:// to a TLS port says to try rediss://", async () => {
      const [r] = await probeRedis({
        ...opts,
        urls: [server.url.replace("rediss:", "redis:")],
        timeoutMs: 2000,
      });
      assert.equal(r?.ok, false);
      assert.match(String(r?.error), /try rediss:\/\/|timed out/);
    });
  });

  describe("garbage URLs: UsageError before connecting anywhere", () => {
    for (const url of [
      "not a url",
      "http://127.0.0.1:6379",
      "redis://h:99999",
      "redis://:s3cret-pw@h:port",
    ]) {
      test(JSON.stringify(url), async () => {
        for (const p of [
          probeRedis({ ...opts, urls: ["redis://127.0.0.1:1", url], timeoutMs: 500 }),
          probeLock(url, "x", { sampleIntervalMs: 0, timeoutMs: 500 }),
          releaseRedisLock(url, "x", { force: false, sampleIntervalMs: 0, timeoutMs: 500 }),
        ]) {
          await assert.rejects(p, (e: unknown) => {
            assert.ok(e instanceof UsageError, String(e));
            assert.match(e.message, /^Redis URL "/);
            assert.ok(!e.message.includes("s3cret-pw"));
            return true;
          });
        }
      });
    }
  });
});
