/**
 * The five static workers checks on fixture app dirs (test/fixtures/deploy/*): the broken patterns of
 * locks.md §2 and the correct design. Assertions are on what the user reads: status, summary, and the exact
 * fix lines.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FactsWithDeploy } from "../../src/checks/deploy/common.js";
import type { CheckResult } from "../../src/checks/types.js";
import { workersConfig } from "../../src/checks/workers/config.js";
import { workersDebug } from "../../src/checks/workers/debug.js";
import { workersGuard } from "../../src/checks/workers/guard.js";
import { workersPreload } from "../../src/checks/workers/preload.js";
import { workersRecycling } from "../../src/checks/workers/recycling.js";
import { factsForDir, fixtureFacts, tempApp } from "../helpers/deploy-facts.js";

const GOLDEN_FULL = fileURLToPath(new URL("../golden/full", import.meta.url));

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

const cache = new Map<string, Promise<FactsWithDeploy>>();
const facts = (name: string) => {
  let f = cache.get(name);
  if (!f) {
    f = fixtureFacts(name);
    cache.set(name, f);
  }
  return f;
};
const run = async (check: { run(f: FactsWithDeploy): CheckResult }, name: string) =>
  check.run(await facts(name));
async function temp(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<FactsWithDeploy> {
  const t = tempApp(files);
  cleanups.push(t.cleanup);
  return factsForDir(t.dir, { env });
}

describe("the correct design passes every workers check", () => {
  for (const check of [workersConfig, workersRecycling, workersPreload, workersDebug, workersGuard])
    test(check.id, async () => {
      const r = await run(check, "correct");
      assert.equal(r.status, "pass", `${check.id}: ${r.summary}`);
    });
  test("workers.config names the winning source", async () => {
    const r = await run(workersConfig, "correct");
    assert.match(
      r.summary,
      /^the scheduler instance compose service scheduler runs 1 worker \(decided by config: workers = int\(os\.environ\.get\("WORKERS_COUNT"/,
    );
    assert.match(r.summary, /WORKERS_COUNT="1"/);
  });
  test("workers.guard counts one scheduler", async () => {
    const r = await run(workersGuard, "correct");
    assert.equal(
      r.summary,
      "1 scheduler: compose service scheduler (1 replica, 1 worker, guarded by an environment-variable flag)",
    );
    assert.equal((r.evidence as { total: number }).total, 1);
  });
});

/**
 * What `schedctl gen all` writes (test/golden/full, held to the generators by gen-golden.test.ts) deployed
 * with compose (its k8s.yaml, the other way to deploy it, left out), with an app.
 */
function generatedKit(edit: (files: Record<string, string>) => void = () => {}): Promise<FactsWithDeploy> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(GOLDEN_FULL))
    if (f !== "k8s.yaml") files[f] = readFileSync(join(GOLDEN_FULL, f), "utf8");
  files["app.py"] = [
    "from flask import Flask",
    "from flask_apscheduler import APScheduler",
    "",
    "app = Flask(__name__)",
    'app.config["SCHEDULER_API_ENABLED"] = True',
    'app.config["SCHEDULER_TIMEZONE"] = "Europe/Berlin"',
    "scheduler = APScheduler()",
    "scheduler.init_app(app)",
    "",
  ].join("\n");
  edit(files);
  return temp(files);
}

describe("schedctl's own generated kit (gen all: gunicorn.conf.py, schedctl_lock.py, compose.yaml...)", () => {
  const kit = generatedKit();
  for (const check of [workersConfig, workersRecycling, workersPreload, workersDebug, workersGuard])
    test(`${check.id} passes`, async () => {
      const r = check.run(await kit);
      assert.equal(r.status, "pass", `${check.id}: ${r.summary}`);
    });
  test("the scheduler is started through schedctl_lock.lead() with the Redis backend, only where SCHEDULER_ENABLED=1", async () => {
    const r = workersGuard.run(await kit);
    assert.equal(
      r.summary,
      "1 scheduler: a Redis lock (gunicorn.conf.py:116) lets one of 1 candidate process run it",
    );
    assert.ok(
      r.details.includes(
        "compose service scheduler: schedctl_lock.lead() at gunicorn.conf.py:116 uses the redis backend",
      ),
    );
    assert.ok(
      r.details.some(
        (d) =>
          d.startsWith("compose service web: gunicorn.conf.py:116") &&
          d.includes('is false here (SCHEDULER_ENABLED="0")'),
      ),
    );
    const cfg = workersConfig.run(await kit);
    assert.match(
      cfg.summary,
      /^the scheduler instance compose service scheduler runs 1 worker \(decided by config: workers = _workers\(\), reads SCHEDULER_ENABLED="1", WORKERS_COUNT="1"/,
    );
  });
  test("WORKERS_COUNT=2 on the scheduler instance: the generated config refuses to start (SystemExit)", async () => {
    const f = await generatedKit((files) => {
      const compose = files["compose.yaml"] ?? "";
      assert.equal(compose.split('WORKERS_COUNT: "1"').length, 2, "one scheduler instance with one worker");
      files["compose.yaml"] = compose.replace('WORKERS_COUNT: "1"', 'WORKERS_COUNT: "2"');
    });
    const r = workersConfig.run(f);
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "Gunicorn in compose service scheduler would not start: gunicorn.conf.py:56 raises SystemExit: gunicorn.conf.py: SCHEDULER_ENABLED=1 needs exactly one worker (WORKERS_COUNT=1), got 2: every worker would run its own copy of the scheduler",
    );
    assert.match(
      workersGuard.run(f).summary,
      /^no instance starts the scheduler: Gunicorn in compose service scheduler would not start/,
    );
  });
});

describe("workers.guard", () => {
  test("flock with 3 replicas: 3 schedulers, one per container", async () => {
    const r = await run(workersGuard, "flock-replicas");
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "3 schedulers, one per container: fcntl.flock on /tmp/scheduler.lock (app.py:14) locks only inside one container, and compose service web runs 3 replicas (docker-compose.yml:4 deploy.replicas)",
    );
    assert.deepEqual(r.fix?.commands, [
      "services:",
      "  scheduler:",
      "    <<: *app",
      "    environment:",
      '      RUN_SCHEDULER: "1"',
      '      WORKERS_COUNT: "1"',
      "    deploy:",
      "      replicas: 1",
    ]);
  });
  test("an env flag with 4 workers: 4 schedulers", async () => {
    const r = await run(workersGuard, "env-flag-workers");
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^4 schedulers: `os\.environ\.get\("RUN_SCHEDULER"\)` \(myapp\/__init__\.py:12\) is true for the whole of compose service scheduler, and each of its 4 Gunicorn workers reads it/,
    );
    assert.deepEqual(r.fix?.commands, [
      "services:",
      "  scheduler:",
      "    environment:",
      '      WORKERS_COUNT: "1"',
      "workers = 1  # gunicorn.conf.py",
    ]);
    assert.ok(
      r.details.some(
        (d) =>
          d.includes("compose service web: myapp/__init__.py:13") &&
          d.includes("is false here (RUN_SCHEDULER unset)"),
      ),
    );
  });
  test("no guard, one worker, one instance: pass", async () => {
    const r = await run(workersGuard, "no-guard-single");
    assert.equal(r.status, "pass");
    assert.equal(r.summary, "1 scheduler: Dockerfile (1 replica, 1 worker)");
  });
  test("a Redis lock: pass, whatever the workers × replicas", async () => {
    const r = await run(workersGuard, "redis-lock");
    assert.equal(r.status, "pass");
    assert.equal(
      r.summary,
      "1 scheduler: a Redis lock (app.py:10) lets one of 12 candidate processes run it",
    );
  });
  test("worker.age == 1: warn, one scheduler only until the first recycle", async () => {
    const r = await run(workersGuard, "age-recycle");
    assert.equal(r.status, "warn");
    assert.match(
      r.summary,
      /^1 scheduler until the first worker recycle: if worker\.age == 1: \(gunicorn\.conf\.py:9\)/,
    );
  });
  test("start only under __main__: no instance starts it", async () => {
    const r = await run(workersGuard, "main-block");
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      'no instance starts the scheduler: Dockerfile: app.py:8: only under `if __name__ == "__main__":`, which Gunicorn never runs',
    );
  });
  test("SCHEDULER_ALLOWED_HOSTS with no matching hostname: no instance starts it", async () => {
    const r = await run(workersGuard, "allowed-hosts-nohost");
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /hostname is the container ID \(no hostname: set\), not in SCHEDULER_ALLOWED_HOSTS \["scheduler"\]/,
    );
  });
  test("HPA-scaled scheduler Deployment: one per pod, up to maxReplicas", async () => {
    const r = await run(workersGuard, "k8s-rolling");
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^5 schedulers: Deployment scheduler starts one per container \(`os\.getenv\("ROLE"\) == "scheduler"` \(app\.py:8\) is true in every replica\) and runs 5 replicas \(HorizontalPodAutoscaler scheduler \(2-5\)\)/,
    );
    assert.deepEqual(r.fix?.commands, ["spec:", "  replicas: 1", "  strategy:", "    type: Recreate"]);
  });
  test("the scheduler Deployment reads its flag from a ConfigMap; the web Deployment does not start it", async () => {
    const r = await run(workersGuard, "k8s-good");
    assert.equal(r.status, "pass");
    assert.equal(
      r.summary,
      "1 scheduler: Deployment scheduler (1 replica, 1 worker, guarded by an environment-variable flag)",
    );
  });
  test("no scheduler.start() at all: skip with the reason", async () => {
    const f = await temp({
      "app.py": "from flask import Flask\napp = Flask(__name__)\n",
      Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "app:app"]\n',
    });
    const r = workersGuard.run(f);
    assert.equal(r.status, "skip");
    assert.match(r.summary, /^no scheduler\.start\(\) in 1 Python file under /);
  });
  test("a dedicated `python scheduler.py` process with one replica passes; scaled, it fails", async () => {
    const files = {
      "scheduler.py":
        'from apscheduler.schedulers.blocking import BlockingScheduler\nscheduler = BlockingScheduler(timezone="UTC")\nif __name__ == "__main__":\n    scheduler.start()\n',
      "app.py": "from flask import Flask\napp = Flask(__name__)\n",
      Dockerfile: 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "-w", "4", "app:app"]\n',
      "docker-compose.yml":
        "services:\n  web:\n    build: .\n    deploy:\n      replicas: 3\n  scheduler:\n    build: .\n    command: python scheduler.py\n",
    };
    const ok = workersGuard.run(await temp(files));
    assert.equal(ok.status, "pass");
    assert.equal(ok.summary, "1 scheduler: compose service scheduler (1 replica, its own process)");
    const scaled = workersGuard.run(
      await temp({ ...files, "docker-compose.yml": `${files["docker-compose.yml"]}    scale: 2\n` }),
    );
    assert.equal(scaled.status, "fail");
    assert.match(
      scaled.summary,
      /^2 schedulers: compose service scheduler starts one per container and runs 2 replicas/,
    );
  });
  test("the classic `if not app.debug or WERKZEUG_RUN_MAIN` reloader guard does nothing under Gunicorn", async () => {
    const f = await temp({
      "app.py":
        'import os\nfrom apscheduler.schedulers.background import BackgroundScheduler\nfrom flask import Flask\napp = Flask(__name__)\nscheduler = BackgroundScheduler()\nif not app.debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true":\n    scheduler.start()\n',
      Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "--workers", "3", "app:app"]\n',
    });
    const r = workersGuard.run(f);
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^3 schedulers: nothing guards scheduler\.start\(\) \(app\.py:7\), and Dockerfile runs 3 Gunicorn workers; each starts its own/,
    );
    assert.deepEqual(r.fix?.commands, ['CMD ["gunicorn", "--workers", "1", "app:app"]']);
  });
});

describe("workers.config", () => {
  test("env flag + WORKERS_COUNT=4 from the Dockerfile: fail, with the variable to set", async () => {
    const r = await run(workersConfig, "env-flag-workers");
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      'compose service scheduler starts the scheduler and runs 4 Gunicorn workers (config: workers = int(os.environ.get("WORKERS_COUNT", 2))): 4 schedulers per container, every job runs 4 times',
    );
    assert.ok(
      r.details.some((d) =>
        d.includes(
          'config workers = int(os.environ.get("WORKERS_COUNT", 2)) → 4 [reads WORKERS_COUNT="4"] @ gunicorn.conf.py:4 ← wins',
        ),
      ),
    );
  });
  test("a Redis lock makes 4 workers safe: pass", async () => {
    const r = await run(workersConfig, "redis-lock");
    assert.equal(r.status, "pass");
    assert.ok(
      r.details.some((d) =>
        d.includes("but a Redis lock (app.py:10) lets only one of them run the scheduler"),
      ),
    );
  });
  test("the CPU count decides: at least 3 workers on any machine", async () => {
    const r = await run(workersConfig, "cpu-workers");
    assert.equal(r.status, "fail");
    assert.match(r.summary, /^Procfile web starts the scheduler and runs at least 3 Gunicorn workers/);
    assert.ok(r.details.some((d) => d.includes("3 on 1 CPU, 5 on 2 CPUs, 9 on 4 CPUs, 17 on 8 CPUs")));
    assert.deepEqual(r.fix?.commands, ["workers = 1"]);
  });
  test("GUNICORN_CMD_ARGS beats gunicorn.conf.py; the fix edits GUNICORN_CMD_ARGS, not the file", async () => {
    const f = await temp({
      "app.py":
        "from apscheduler.schedulers.background import BackgroundScheduler\nscheduler = BackgroundScheduler()\nscheduler.start()\n",
      "gunicorn.conf.py": "workers = 1\n",
      Dockerfile:
        'FROM python:3.12\nENV GUNICORN_CMD_ARGS="--workers=3 --timeout 60"\nCMD ["gunicorn", "app:app"]\n',
    });
    const r = workersConfig.run(f);
    assert.equal(r.status, "fail");
    assert.match(r.summary, /runs 3 Gunicorn workers \(GUNICORN_CMD_ARGS: --workers=3\)/);
    assert.deepEqual(r.fix?.commands, ['ENV GUNICORN_CMD_ARGS="--workers=1 --timeout 60"']);
  });
  test("WEB_CONCURRENCY that is not a number: Gunicorn does not start", async () => {
    const f = await temp(
      {
        "app.py": "scheduler.start()\n",
        Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "-w", "1", "app:app"]\n',
      },
      { WEB_CONCURRENCY: "auto" },
    );
    const r = workersConfig.run(f);
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^Gunicorn in Dockerfile would not start: WEB_CONCURRENCY="auto": gunicorn\.config raises ValueError: invalid literal for int\(\) with base 10: 'auto' at import/,
    );
  });
  test("no scheduler.start() in the app: pass, with the worker counts for the record", async () => {
    const f = await temp({
      "app.py": "from flask import Flask\napp = Flask(__name__)\n",
      Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "-w", "4", "app:app"]\n',
    });
    const r = workersConfig.run(f);
    assert.equal(r.status, "pass");
    assert.match(
      r.summary,
      /^no scheduler\.start\(\) in 1 Python file under .*; Gunicorn workers: Dockerfile 4 \(cli\)$/,
    );
  });
  test("no Gunicorn anywhere: skip with the reason", async () => {
    const f = await temp({ "app.py": "print(1)\n" });
    const r = workersConfig.run(f);
    assert.equal(r.status, "skip");
    assert.match(
      r.summary,
      /^no Gunicorn command in 0 Dockerfiles, 0 compose files, 0 Kubernetes manifests and no gunicorn\.conf\.py under /,
    );
  });
});

describe("workers.recycling", () => {
  test("max_requests with worker.age == 1: the scheduler never comes back", async () => {
    const r = await run(workersRecycling, "age-recycle");
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "Dockerfile recycles workers every 1000 (+ up to 50 jitter) requests and starts the scheduler only in the worker with age 1: after the first recycle no scheduler runs at all",
    );
    assert.deepEqual(r.fix?.commands, ["max_requests = 0"]);
  });
  test("--max-requests on the command line: the fix removes it (and its jitter)", async () => {
    const f = await temp({
      "app.py": "scheduler.start()\n",
      Dockerfile:
        'FROM python:3.12\nCMD ["gunicorn", "-w", "1", "--max-requests", "500", "--max-requests-jitter=50", "app:app"]\n',
    });
    const r = workersRecycling.run(f);
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^Dockerfile recycles the scheduler's worker every 500 \(\+ up to 50 jitter\) requests \(cli: --max-requests 500\)/,
    );
    assert.deepEqual(r.fix?.commands, ['CMD ["gunicorn", "-w", "1", "app:app"]']);
  });
  test("max_requests = 0 when workers == 1 (the generated config): pass", async () => {
    assert.equal((await run(workersRecycling, "correct")).status, "pass");
  });
  test("a scheduler in the master (--preload) is not recycled", async () => {
    const r = await run(workersRecycling, "preload-api");
    assert.equal(r.status, "pass");
  });
});

describe("workers.preload", () => {
  test("--preload + start at import + API enabled: fail (dead copies answer the API)", async () => {
    const r = await run(workersPreload, "preload-api");
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "Dockerfile preloads the app (--preload) and starts the scheduler at import (app.py:8): one live scheduler in the master, thread-less copies in 4 workers answering the scheduler API (SCHEDULER_API_ENABLED at app.py:5)",
    );
    assert.deepEqual(r.fix?.commands, ['CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "app:app"]']);
  });
  test("preload_app in gunicorn.conf.py without the API: warn", async () => {
    const f = await temp({
      "app.py":
        "from apscheduler.schedulers.background import BackgroundScheduler\nscheduler = BackgroundScheduler()\nscheduler.start()\n",
      "gunicorn.conf.py": "workers = 2\npreload_app = True\n",
      Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "app:app"]\n',
    });
    const r = workersPreload.run(f);
    assert.equal(r.status, "warn");
    assert.deepEqual(r.fix?.commands, ["preload_app = False"]);
  });
  test("no preload: pass", async () => {
    assert.equal((await run(workersPreload, "correct")).status, "pass");
  });
});

describe("workers.debug", () => {
  test("FLASK_DEBUG=1 from an env_file with Flask-APScheduler: fail, the scheduler never starts", async () => {
    const r = await run(workersDebug, "debug-compose");
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "FLASK_DEBUG=1 in compose service app (.env.app:1): Flask-APScheduler's start() returns without starting, so the scheduler never runs there",
    );
    assert.deepEqual(r.fix?.commands, ["services:", "  app:", "    environment:", '      FLASK_DEBUG: "0"']);
  });
  test("FLASK_DEBUG=false is off (Flask's get_debug_flag)", async () => {
    const f = await temp({
      "app.py": "from flask_apscheduler import APScheduler\nscheduler = APScheduler()\nscheduler.start()\n",
      Dockerfile: 'FROM python:3.12\nENV FLASK_DEBUG=false\nCMD ["gunicorn", "app:app"]\n',
    });
    assert.equal(workersDebug.run(f).status, "pass");
  });
  test("ENV FLASK_DEBUG=1 in the Dockerfile: the fix names the line", async () => {
    const f = await temp({
      "app.py": "from flask_apscheduler import APScheduler\nscheduler = APScheduler()\nscheduler.start()\n",
      Dockerfile: 'FROM python:3.12\nENV FLASK_DEBUG=1\nCMD ["gunicorn", "app:app"]\n',
    });
    const r = workersDebug.run(f);
    assert.equal(r.status, "fail");
    assert.deepEqual(r.fix?.commands, [
      "# delete line 2 of Dockerfile: ENV FLASK_DEBUG=1",
      "ENV FLASK_DEBUG=0",
    ]);
  });
});
