/**
 * The generated gunicorn.conf.py against Debian's real python3 and gunicorn 20.1 on a tiny Flask app:
 * py_compile, --check-config, worker counts from WORKERS_COUNT / WEB_CONCURRENCY, the SCHEDULER_ENABLED
 * guard (start in the scheduler instance, stop an import-time start elsewhere), the leader lock glue, and
 * the healthcheck one-liner the Dockerfile, compose and Kubernetes use.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { healthProbeCode } from "../../src/gen/common.js";
import { generateGunicorn } from "../../src/gen/gunicorn.js";
import { generateLock } from "../../src/gen/lock.js";
import { loadTemplates } from "../../src/gen/templates.js";
import {
  childPids,
  FILE_LOCK_TOML,
  FULL_TOML,
  freePort,
  PYTHON,
  requirePython,
  requireTool,
  sleep,
  waitFor,
} from "../helpers/gen-fixtures.js";

const t = loadTemplates();
const GUNICORN = "/usr/bin/gunicorn";

const APP = `import os

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

app = Flask(__name__)
# What Flask-APScheduler's init_app does: the scheduler is reachable as app.apscheduler.
app.apscheduler = BackgroundScheduler(timezone="UTC")
app.apscheduler.add_job(lambda: None, "interval", seconds=60, id="noop")
if os.environ.get("START_ON_IMPORT") == "1":
    app.apscheduler.start()


@app.get("/state")
def state():
    return {"state": app.apscheduler.state, "pid": os.getpid()}
`;

/** An app dir with the tiny app and the generated gunicorn.conf.py (and schedctl_lock.py for file locks). */
function appDir(toml: string, kind: "pyproject" | "toml", app = APP): string {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-gunicorn-"));
  const cfg = parseConfigText(toml, "x.toml", kind);
  writeFileSync(join(dir, "app.py"), app);
  writeFileSync(join(dir, "gunicorn.conf.py"), generateGunicorn(cfg, t).content);
  if (cfg.lock.backend !== "none") writeFileSync(join(dir, "schedctl_lock.py"), generateLock(cfg, t).content);
  return dir;
}

/** No lock: a config without a [lock] table. */
const NO_LOCK = FULL_TOML.replace(/\[tool\.schedctl\.lock\][^[]*/s, "");

/** spawn, collected: the event loop keeps running (the tests' own HTTP servers must answer meanwhile). */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? { PATH: "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    p.on("error", reject);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

const PLAIN_APP = `import os

from flask import Flask

app = Flask(__name__)


@app.get("/state")
def state():
    return {"state": -1, "pid": os.getpid()}
`;

const running: ChildProcess[] = [];
after(async () => {
  for (const p of running) if (p.exitCode === null && p.pid) process.kill(p.pid, "SIGKILL");
});

async function startGunicorn(
  dir: string,
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; port: number; log: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = spawn(GUNICORN, ["--config", "gunicorn.conf.py", "app:app"], {
    cwd: dir,
    env: { PATH: "/usr/bin:/bin", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(proc);
  let log = "";
  proc.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return {
    proc,
    port,
    log: () => log,
    stop: async () => {
      if (proc.exitCode === null && proc.pid) process.kill(proc.pid, "SIGTERM");
      await exited;
    },
  };
}

function getJson(port: number, path: string): Promise<{ state: number; pid: number }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: "127.0.0.1", port, path, timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    }).on("error", reject);
  });
}

/** Waits until the master has exactly `n` workers and they serve, then returns them. */
async function workersOf(g: Awaited<ReturnType<typeof startGunicorn>>, n: number): Promise<number[]> {
  const pid = g.proc.pid as number;
  await waitFor(
    () => `gunicorn serving on ${g.port}: ${g.log()}`,
    async () => {
      if (g.proc.exitCode !== null) throw new Error(`gunicorn exited ${g.proc.exitCode}: ${g.log()}`);
      return (await getJson(g.port, "/state")).pid > 0;
    },
    30_000,
  );
  await waitFor(
    () => `${n} workers (have ${childPids(pid).length}): ${g.log()}`,
    () => childPids(pid).length === n,
    30_000,
  );
  await sleep(300); // and no more arrive
  return childPids(pid);
}

describe("generated gunicorn.conf.py with real python3 and gunicorn", { concurrency: true }, () => {
  requirePython(["flask", "apscheduler", "redis"], ["python3-flask", "python3-apscheduler", "python3-redis"]);
  requireTool(GUNICORN, "gunicorn");

  test("py_compile and gunicorn --check-config accept every scenario", async () => {
    await Promise.all(
      (
        [
          [FULL_TOML, "pyproject"],
          [FILE_LOCK_TOML, "toml"],
          [NO_LOCK, "pyproject"],
        ] as const
      ).map(async ([toml, kind]) => {
        // the Flask + APScheduler app once (it imports slowly), the plain app otherwise
        const dir = appDir(toml, kind, toml === FULL_TOML ? APP : PLAIN_APP);
        const c = await run(
          PYTHON,
          ["-m", "py_compile", "gunicorn.conf.py", ...(toml === NO_LOCK ? [] : ["schedctl_lock.py"])],
          { cwd: dir },
        );
        assert.equal(c.status, 0, c.out);
        const r = await run(GUNICORN, ["--check-config", "--config", "gunicorn.conf.py", "app:app"], {
          cwd: dir,
          env: { PATH: "/usr/bin:/bin", WORKERS_COUNT: "1" },
        });
        assert.equal(r.status, 0, r.out);
      }),
    );
  });

  test("gunicorn --print-config: max_requests 0 for one worker, bind, timeouts; a bad WORKERS_COUNT or SCHEDULER_ENABLED=1 with 3 workers stops it", async () => {
    const dir = appDir(NO_LOCK, "pyproject", PLAIN_APP);
    const check = (env: Record<string, string>) =>
      run(GUNICORN, ["--check-config", "--config", "gunicorn.conf.py", "app:app"], {
        cwd: dir,
        env: { PATH: "/usr/bin:/bin", ...env },
      });
    const printed = (env: Record<string, string>) =>
      run(GUNICORN, ["--print-config", "--config", "gunicorn.conf.py", "app:app"], {
        cwd: dir,
        env: { PATH: "/usr/bin:/bin", ...env },
      });
    const [bad, many, one, three] = await Promise.all([
      check({ WORKERS_COUNT: "three" }),
      check({ WORKERS_COUNT: "3", SCHEDULER_ENABLED: "1" }),
      printed({ WORKERS_COUNT: "1", PORT: "9001" }),
      printed({ WORKERS_COUNT: "3" }),
    ]);
    // gunicorn's own view of the settings: the single worker is never recycled, the pool is
    const settings = (out: string) =>
      Object.fromEntries([...out.matchAll(/^(\w+)\s*= (.*)$/gm)].map((m) => [m[1], m[2]]));
    assert.equal(one.status, 0, one.out);
    assert.deepEqual(
      [
        "workers",
        "max_requests",
        "bind",
        "timeout",
        "graceful_timeout",
        "preload_app",
        "accesslog",
        "errorlog",
      ].map((k) => settings(one.out)[k]),
      ["1", "0", "['0.0.0.0:9001']", "60", "30", "False", "-", "-"],
    );
    assert.deepEqual([settings(three.out).workers, settings(three.out).max_requests], ["3", "1000"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.out, /WORKERS_COUNT='three' is not a whole number/);
    assert.notEqual(many.status, 0);
    assert.match(many.out, /SCHEDULER_ENABLED=1 needs exactly one worker \(WORKERS_COUNT=1\), got 3/);
  });

  test("WORKERS_COUNT=1 starts exactly one worker; WORKERS_COUNT=3 three; WEB_CONCURRENCY=2 two", async () => {
    const dir = appDir(NO_LOCK, "pyproject", PLAIN_APP);
    const cases = [
      [{ WORKERS_COUNT: "1" }, 1],
      [{ WORKERS_COUNT: "3", WEB_CONCURRENCY: "5" }, 3],
      [{ WEB_CONCURRENCY: "2" }, 2],
    ] as const;
    const started = await Promise.all(cases.map(([env]) => startGunicorn(dir, env)));
    try {
      const counts = await Promise.all(started.map((g, i) => workersOf(g, cases[i]?.[1] ?? 0)));
      assert.deepEqual(
        counts.map((w) => w.length),
        [1, 3, 2],
      );
    } finally {
      await Promise.all(started.map((g) => g.stop()));
    }
  });

  test("the scheduler instance runs the scheduler; a web instance stops the one the app started on import", async () => {
    const dir = appDir(NO_LOCK, "pyproject");
    const sched = await startGunicorn(dir, { WORKERS_COUNT: "1", SCHEDULER_ENABLED: "1" });
    const web = await startGunicorn(dir, {
      WORKERS_COUNT: "2",
      SCHEDULER_ENABLED: "0",
      START_ON_IMPORT: "1",
    });
    try {
      await workersOf(sched, 1);
      await workersOf(web, 2);
      assert.equal((await getJson(sched.port, "/state")).state, 1, "running in the scheduler instance");
      for (let i = 0; i < 4; i++)
        assert.equal((await getJson(web.port, "/state")).state, 0, "stopped in the web pool");
      assert.match(
        web.log(),
        /SCHEDULER_ENABLED is not 1 but the app started its scheduler; shutting it down/,
      );
      assert.match(sched.log(), /schedctl: scheduler started in worker \d+/);
    } finally {
      await Promise.all([sched.stop(), web.stop()]);
    }
  });

  test("with the file lock, two scheduler instances on one host: one runs, the other takes over when it stops", async () => {
    const dir = appDir(FILE_LOCK_TOML, "toml");
    const env = {
      WORKERS_COUNT: "1",
      SCHEDULER_ENABLED: "1",
      SCHEDCTL_LOCK_FILE: join(dir, "scheduler.lock"),
      SCHEDCTL_LOCK_TTL: "1",
    };
    const a = await startGunicorn(dir, env);
    await workersOf(a, 1);
    await waitFor("a leads", async () => (await getJson(a.port, "/state")).state === 1, 15_000);
    const b = await startGunicorn(dir, env);
    try {
      await workersOf(b, 1);
      await sleep(800);
      assert.equal((await getJson(a.port, "/state")).state, 1);
      assert.equal((await getJson(b.port, "/state")).state, 0, "the standby's scheduler is not started");
      await a.stop(); // worker_exit: pause, release the lock
      await waitFor("b takes over", async () => (await getJson(b.port, "/state")).state === 1, 10_000);
      assert.match(b.log(), /schedctl: leader \(file lock .*scheduler\.lock = \{"v":1,/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe("the healthcheck one-liner (Dockerfile HEALTHCHECK, compose, Kubernetes readiness)", () => {
  test("any answer below 500 is healthy; a 5xx or a refused connection is not", async () => {
    requireTool(PYTHON, "python3");
    const cfg = parseConfigText(FULL_TOML, "pyproject.toml", "pyproject");
    const statusFor: Record<string, number> = { "/": 404 };
    let status = 404;
    const server = createServer((req, res) => {
      res.statusCode = statusFor[req.url ?? ""] === undefined ? 200 : status;
      res.end("x");
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    try {
      const probe = () => run(PYTHON, ["-c", healthProbeCode(cfg)], { env: { PORT: String(port) } });
      const outcomes: [number, number | null][] = [];
      for (const s of [200, 301, 404, 500, 503]) {
        status = s;
        outcomes.push([s, (await probe()).status]);
      }
      assert.deepEqual(outcomes, [
        [200, 0],
        [301, 0],
        [404, 0],
        [500, 1],
        [503, 1],
      ]);
    } finally {
      server.close();
    }
    const refused = await run(PYTHON, ["-c", healthProbeCode(cfg)], {
      env: { PORT: String(await freePort()) },
    });
    assert.equal(refused.status, 1, refused.out);
  });
});
