/**
 * sampleSchedulerApi through a real nginx 1.22 balancing round-robin over real Gunicorn 20.1 instances of
 * test/fixtures/apps/dupe_app (each instance plays one container: 1 worker, its own APP_HOSTNAME), whose
 * GET /scheduler answers exactly like Flask-APScheduler's info endpoint. Also the failures: a dead
 * upstream, a wrong port, a server that never answers, something that is not the scheduler API.
 * Needs gunicorn, python3-flask, python3-apscheduler and nginx; never skips.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { redactUrl, sampleSchedulerApi, schedulerInfoUrl } from "../../src/runs/http.js";
import {
  freePort,
  type GunicornApp,
  type NginxProxy,
  requireRealParts,
  startGunicornApp,
  startNginxProxy,
} from "../helpers/gunicorn-app.js";

describe("the scheduler API through a real nginx", () => {
  let dir = "";
  let a: GunicornApp;
  let b: GunicornApp;
  let c: GunicornApp;
  const proxies: NginxProxy[] = [];
  let both: NginxProxy;
  let onlyA: NginxProxy;
  let sharedLock: NginxProxy;

  before(async () => {
    requireRealParts();
    dir = mkdtempSync(join(tmpdir(), "schedctl-runs-http-"));
    const lock = join(dir, "scheduler.lock");
    // sched-a and sched-b: both run a scheduler (the bug); sched-c shares sched-a's lock file and, started
    // after sched-a holds it, does not
    const started: GunicornApp[] = [];
    try {
      a = await startGunicornApp({
        workers: 1,
        guard: "flock",
        lockFile: lock,
        hostname: "sched-a",
        logFile: join(dir, "a.log"),
      });
      started.push(a);
      [b, c] = await Promise.all([
        startGunicornApp({ workers: 1, guard: "none", hostname: "sched-b", logFile: join(dir, "b.log") }),
        startGunicornApp({
          workers: 1,
          guard: "flock",
          lockFile: lock,
          hostname: "sched-c",
          logFile: join(dir, "c.log"),
        }),
      ]);
    } catch (e) {
      await Promise.all(started.map((x) => x.stop()));
      throw e;
    }
    both = await startNginxProxy({ upstreams: [a.port, b.port] });
    proxies.push(both);
    onlyA = await startNginxProxy({ upstreams: [a.port] });
    proxies.push(onlyA);
    sharedLock = await startNginxProxy({ upstreams: [a.port, c.port] });
    proxies.push(sharedLock);
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([a, b, c].filter(Boolean).map((x) => x.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("two instances behind the balancer, both running: 10 samples see 2 hosts, both running", async () => {
    const r = await sampleSchedulerApi(`http://127.0.0.1:${both.port}/scheduler`, {
      samples: 10,
      timeoutMs: 5000,
    });
    assert.equal(r.url, `http://127.0.0.1:${both.port}/scheduler`);
    assert.equal(r.samples, 10);
    assert.equal(r.errors, 0, JSON.stringify(r.answers));
    assert.deepEqual(
      [...r.hosts].sort((x, y) => x.host.localeCompare(y.host)),
      [
        { host: "sched-a", answers: 5, running: 5 },
        { host: "sched-b", answers: 5, running: 5 },
      ],
      "round-robin on fresh connections alternates",
    );
    for (const ans of r.answers) {
      assert.equal(ans.status, 200);
      assert.equal(ans.running, true);
      assert.ok(ans.ms >= 0 && ans.ms < 5000);
    }
  });

  test("a bare origin gets the default /scheduler prefix; concurrency keeps the counts", async () => {
    const r = await sampleSchedulerApi(`http://127.0.0.1:${both.port}/`, {
      samples: 8,
      timeoutMs: 5000,
      concurrency: 4,
    });
    assert.equal(r.url, `http://127.0.0.1:${both.port}/scheduler`);
    assert.equal(r.errors, 0);
    assert.equal(r.hosts.length, 2);
    assert.equal(
      r.hosts.reduce((n, h) => n + h.answers, 0),
      8,
    );
  });

  test("one instance only: one host", async () => {
    const r = await sampleSchedulerApi(`http://127.0.0.1:${onlyA.port}/scheduler`, {
      samples: 10,
      timeoutMs: 5000,
    });
    assert.deepEqual(r.hosts, [{ host: "sched-a", answers: 10, running: 10 }]);
    assert.equal(r.errors, 0);
  });

  test("the flock guard on a shared lock file: 2 hosts answer, 1 runs", async () => {
    assert.deepEqual([a.schedulerPids.length, c.schedulerPids.length], [1, 0], "sched-a holds the lock");
    const r = await sampleSchedulerApi(`http://127.0.0.1:${sharedLock.port}/scheduler`, {
      samples: 10,
      timeoutMs: 5000,
    });
    const byHost = Object.fromEntries(r.hosts.map((h) => [h.host, h]));
    assert.deepEqual(byHost["sched-a"], { host: "sched-a", answers: 5, running: 5 });
    assert.deepEqual(byHost["sched-c"], { host: "sched-c", answers: 5, running: 0 });
    assert.deepEqual(
      r.answers.filter((x) => x.currentHost === "sched-c").map((x) => x.running),
      [false, false, false, false, false],
    );
  });

  test("the only upstream down: every sample is an error with the balancer's 502, within the timeout", async () => {
    const port = await freePort();
    const dead = await startNginxProxy({ upstreams: [port] });
    proxies.push(dead);
    const t0 = Date.now();
    const r = await sampleSchedulerApi(`http://127.0.0.1:${dead.port}/scheduler`, {
      samples: 3,
      timeoutMs: 3000,
    });
    assert.ok(Date.now() - t0 < 3 * 3000);
    assert.equal(r.errors, 3);
    assert.deepEqual(r.hosts, []);
    for (const ans of r.answers) {
      assert.equal(ans.status, 502);
      assert.equal(ans.error, "HTTP 502 Bad Gateway from the load balancer: no upstream answered");
    }
  });

  test("a wrong port: connection refused, said plainly", async () => {
    const port = await freePort();
    const r = await sampleSchedulerApi(`http://127.0.0.1:${port}/scheduler`, { samples: 2, timeoutMs: 2000 });
    assert.equal(r.errors, 2);
    assert.deepEqual(
      r.answers.map((x) => [x.status, x.error]),
      [
        [null, `connection refused by 127.0.0.1:${port} (nothing listens there)`],
        [null, `connection refused by 127.0.0.1:${port} (nothing listens there)`],
      ],
    );
  });

  test("a server that accepts and never answers: each sample times out on time", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const t0 = Date.now();
      const r = await sampleSchedulerApi(`http://127.0.0.1:${port}/scheduler`, {
        samples: 3,
        timeoutMs: 300,
        concurrency: 3,
      });
      const took = Date.now() - t0;
      assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
      assert.equal(r.errors, 3);
      for (const ans of r.answers) {
        assert.equal(ans.error, "no answer within 300 ms");
        assert.ok(ans.ms >= 290 && ans.ms < 2000);
      }
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test("answers that are not Flask-APScheduler's: 404 and the wrong JSON are errors with the reason", async () => {
    const notFound = await sampleSchedulerApi(`http://127.0.0.1:${a.port}/nope`, {
      samples: 1,
      timeoutMs: 5000,
    });
    assert.match(notFound.answers[0]?.error ?? "", /^HTTP 404 NOT FOUND: no Flask-APScheduler API at \/nope/);
    const pid = await sampleSchedulerApi(`http://127.0.0.1:${a.port}/pid`, { samples: 1, timeoutMs: 5000 });
    assert.match(
      pid.answers[0]?.error ?? "",
      /^HTTP 200 OK but the JSON has no "current_host" and "running"/,
    );
  });
});

describe("URLs", () => {
  test("passwords (and secret-looking query values) are redacted, in the report too", async () => {
    assert.equal(
      redactUrl("https://admin:s3cret@app.example/scheduler"),
      "https://admin:***@app.example/scheduler",
    );
    assert.equal(
      redactUrl("https://app.example/scheduler?token=abc&x=1"),
      "https://app.example/scheduler?token=***&x=1",
    );
    assert.equal(redactUrl("not a url://u:pw@x"), "not a url://u:***@x");
    const seen: string[] = [];
    const srv = http.createServer((req, res) => {
      seen.push(req.headers.authorization ?? "");
      res.setHeader("Content-Type", "application/json");
      res.end('{"current_host": "h", "allowed_hosts": ["*"], "running": true}');
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const { port } = srv.address() as net.AddressInfo;
    try {
      const r = await sampleSchedulerApi(`http://admin:s3cret@127.0.0.1:${port}/api/scheduler/`, {
        samples: 2,
        timeoutMs: 2000,
      });
      assert.equal(r.url, `http://admin:***@127.0.0.1:${port}/api/scheduler`);
      assert.ok(!JSON.stringify(r).includes("s3cret"));
      assert.deepEqual(
        seen,
        [1, 2].map(() => `Basic ${Buffer.from("admin:s3cret").toString("base64")}`),
      );
      assert.deepEqual(r.hosts, [{ host: "h", answers: 2, running: 2 }]);
    } finally {
      srv.close();
    }
  });

  test("the endpoint: as given, a bare origin gets /scheduler, no trailing slash; only http(s)", () => {
    assert.equal(schedulerInfoUrl("https://app.example").href, "https://app.example/scheduler");
    assert.equal(schedulerInfoUrl("https://app.example/custom/api").href, "https://app.example/custom/api");
    assert.equal(schedulerInfoUrl("https://app.example/scheduler/#x").href, "https://app.example/scheduler");
    assert.throws(() => schedulerInfoUrl("ftp://x/scheduler"), /only http:\/\/ and https:\/\/ URLs/);
    assert.throws(() => schedulerInfoUrl("nope"), /not a URL/);
  });
});
