/**
 * effectiveWorkers / effectiveSetting against the REAL Gunicorn (Debian's /usr/bin/gunicorn 20.1 on
 * /usr/bin/python3 with python3-flask): for combinations of command-line flags, GUNICORN_CMD_ARGS,
 * gunicorn.conf.py and WEB_CONCURRENCY, start Gunicorn on a tiny Flask app on a free loopback port, count the
 * worker processes it really forks (children of the master in /proc), and require the prediction to agree.
 * Argument-parsing corners and startup failures are checked with --print-config / --check-config, which
 * answer without serving. Every process started here is killed by pid. Never skips: a missing Gunicorn or
 * Flask fails with the install command.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  effectiveSetting,
  effectiveWorkers,
  type ParsedGunicornConfig,
  parseGunicornConfig,
} from "../../src/deploy/gunicorn.js";

const GUNICORN = "/usr/bin/gunicorn";
const PYTHON = "/usr/bin/python3";
const INSTALL = "apt-get install -y gunicorn python3-flask";

const APP = `from flask import Flask\napp = Flask(__name__)\n\n@app.get("/")\ndef index():\n    return "ok"\n`;

const dirs: string[] = [];
const procs: ChildProcess[] = [];

before(() => {
  assert.ok(existsSync(GUNICORN), `${GUNICORN} is missing: ${INSTALL}`);
  const flask = spawnSync(PYTHON, ["-c", "import flask, gunicorn; print(gunicorn.__version__)"], {
    encoding: "utf8",
  });
  assert.equal(flask.status, 0, `Flask or Gunicorn is missing for ${PYTHON}: ${INSTALL}\n${flask.stderr}`);
});

after(() => {
  for (const p of procs) killTree(p.pid);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function appDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "schedctl-gunicorn-"));
  dirs.push(d);
  writeFileSync(join(d, "app.py"), APP);
  for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
  return d;
}

function parsedConfigs(files: Record<string, string>): Record<string, ParsedGunicornConfig> {
  return Object.fromEntries(
    Object.entries(files)
      .filter(([k]) => k.endsWith(".py"))
      .map(([k, v]) => [k, parseGunicornConfig(v)]),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Direct children of a pid, from /proc/<pid>/stat (field 4 is the parent pid). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) out.push(Number(name));
    } catch {
      // the process went away
    }
  }
  return out;
}

function killTree(pid: number | undefined): void {
  if (!pid) return;
  const kids = children(pid);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
  for (const k of kids) {
    try {
      process.kill(k, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function httpOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts gunicorn, waits until it serves and its worker count is stable, returns the count, kills it. */
async function countWorkers(
  dir: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ workers: number; stderr: string }> {
  const port = await freePort();
  const p = spawn(GUNICORN, [...args, "-b", `127.0.0.1:${port}`, "app:app"], {
    cwd: dir,
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  procs.push(p);
  let stderr = "";
  p.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  let exited = false;
  p.on("exit", () => {
    exited = true;
  });
  // Generous: nine Gunicorns and their workers import Flask at once on a small machine.
  const deadline = Date.now() + 45_000;
  try {
    while (!(await httpOk(port))) {
      if (exited) throw new Error(`gunicorn exited before serving:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`gunicorn did not serve within 45 s:\n${stderr}`);
      await sleep(100);
    }
    // Workers boot one by one; wait until the count has not changed for 1 s.
    let last = -1;
    let since = Date.now();
    for (;;) {
      const n = children(p.pid as number).length;
      if (n !== last) {
        last = n;
        since = Date.now();
      } else if (Date.now() - since >= 1000) break;
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    return { workers: last, stderr };
  } finally {
    killTree(p.pid);
  }
}

interface Case {
  name: string;
  files?: Record<string, string>;
  args?: string[];
  env?: Record<string, string>;
}

const CONF_WORKERS_COUNT = 'import os\nworkers = int(os.environ.get("WORKERS_COUNT", 2))\n';
const CASES: Case[] = [
  { name: "CLI -w 3 alone", args: ["-w", "3"] },
  { name: "WEB_CONCURRENCY=2 alone", env: { WEB_CONCURRENCY: "2" } },
  { name: "nothing at all: 1", args: [] },
  {
    name: "gunicorn.conf.py reading WORKERS_COUNT beats WEB_CONCURRENCY",
    files: { "gunicorn.conf.py": CONF_WORKERS_COUNT },
    env: { WORKERS_COUNT: "4", WEB_CONCURRENCY: "3" },
  },
  {
    name: "GUNICORN_CMD_ARGS beats gunicorn.conf.py and WEB_CONCURRENCY (reference §3's verified case)",
    files: { "gunicorn.conf.py": CONF_WORKERS_COUNT },
    env: { GUNICORN_CMD_ARGS: "--workers=5", WEB_CONCURRENCY: "3" },
  },
  {
    name: "the command line beats GUNICORN_CMD_ARGS",
    files: { "gunicorn.conf.py": CONF_WORKERS_COUNT },
    args: ["--workers=2"],
    env: { GUNICORN_CMD_ARGS: "-w 5", WORKERS_COUNT: "4" },
  },
  {
    name: "-c in GUNICORN_CMD_ARGS replaces ./gunicorn.conf.py",
    files: { "gunicorn.conf.py": "workers = 4\n", "other.py": "workers = 3\n" },
    env: { GUNICORN_CMD_ARGS: "-c other.py" },
  },
  {
    name: "an if/else in the config on an environment role",
    files: {
      "gunicorn.conf.py":
        'import os\nif os.environ.get("ROLE") == "scheduler":\n    workers = 1\nelse:\n    workers = 3\n',
    },
    env: { ROLE: "scheduler" },
  },
  { name: "-w4 (attached value)", args: ["-w4"] },
];

// Every Gunicorn of this file starts at once (see the `before` at the end): the file then takes about as long
// as its slowest case.
const results = new Map<string, Promise<{ workers: number; stderr: string }>>();

describe("effectiveWorkers agrees with the worker processes real Gunicorn forks", () => {
  for (const c of CASES)
    test(c.name, async () => {
      const predicted = effectiveWorkers(
        {
          cli: { args: [...(c.args ?? []), "app:app"], where: "test" },
          configFiles: parsedConfigs(c.files ?? {}),
        },
        c.env ?? {},
      );
      const real = await (results.get(c.name) as Promise<{ workers: number; stderr: string }>);
      assert.equal(predicted.startupError, null);
      assert.equal(
        predicted.value,
        real.workers,
        `predicted ${predicted.value} (${predicted.decidedBy}), Gunicorn forked ${real.workers}\n${real.stderr}`,
      );
    });
});

/** Runs gunicorn with --print-config (or --check-config); resolves to its exit code and the printed settings. */
function printConfig(
  files: Record<string, string>,
  args: string[],
  env: Record<string, string>,
  flag = "--print-config",
): Promise<{ status: number | null; settings: Record<string, string>; stderr: string }> {
  const dir = appDir(files);
  return new Promise((resolve) => {
    const p = spawn(GUNICORN, [flag, ...args, "app:app"], {
      cwd: dir,
      env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    procs.push(p);
    let stdout = "";
    let stderr = "";
    p.stdout?.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    p.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => killTree(p.pid), 45_000);
    p.on("close", (status) => {
      clearTimeout(timer);
      const settings: Record<string, string> = {};
      for (const line of stdout.split("\n")) {
        const m = /^(\w+)\s+= (.*)$/.exec(line);
        if (m?.[1]) settings[m[1]] = m[2] ?? "";
      }
      resolve({ status, settings, stderr });
    });
  });
}

const PRINT_CASES: {
  name: string;
  files?: Record<string, string>;
  args?: string[];
  env?: Record<string, string>;
}[] = [
  { name: "-w=4", args: ["-w=4"] },
  {
    name: "--workers 0 is accepted (the master then listens with no worker; measured by hand)",
    args: ["--workers", "0"],
  },
  { name: "--workers 08 (argparse int(), base 10)", args: ["--workers", "08"] },
  { name: "repeated -w: the last wins", args: ["-w", "2", "-w", "3"] },
  { name: "--pre is an unambiguous prefix of --preload", args: ["--pre"] },
  {
    name: "GUNICORN_CMD_ARGS with the app in it",
    env: { GUNICORN_CMD_ARGS: "-w 5 app:app --max-requests 7" },
  },
  {
    name: "preload_app and max_requests from the config file, overridden by GUNICORN_CMD_ARGS",
    files: { "gunicorn.conf.py": "preload_app = True\nmax_requests = 1000\nworkers = 2\n" },
    env: { GUNICORN_CMD_ARGS: "--max-requests 0" },
  },
  {
    name: "workers = '0x4' in the config (validate_pos_int: int(s, 0))",
    files: { "gunicorn.conf.py": "workers = '0x4'\n" },
  },
  { name: "WORKERS ignored (settings are lower-case)", files: { "gunicorn.conf.py": "WORKERS = 7\n" } },
];
const printRuns = new Map<string, ReturnType<typeof printConfig>>();

describe("argument parsing and settings, against gunicorn --print-config", () => {
  for (const c of PRINT_CASES)
    test(c.name, async () => {
      const r = await (printRuns.get(c.name) as ReturnType<typeof printConfig>);
      assert.equal(r.status, 0, r.stderr);
      const sources = {
        cli: { args: [...(c.args ?? []), "app:app"], where: "test" },
        configFiles: parsedConfigs(c.files ?? {}),
      };
      const env = c.env ?? {};
      assert.equal(String(effectiveWorkers(sources, env).value), r.settings.workers, "workers");
      assert.equal(
        effectiveSetting("preload_app", sources, env).value ? "True" : "False",
        r.settings.preload_app,
        "preload_app",
      );
      assert.equal(
        String(effectiveSetting("max_requests", sources, env).value),
        r.settings.max_requests,
        "max_requests",
      );
    });
});

const CHECK_CASES: {
  name: string;
  files?: Record<string, string>;
  args?: string[];
  env?: Record<string, string>;
}[] = [
  { name: "WEB_CONCURRENCY=abc fails even with -w", args: ["-w", "2"], env: { WEB_CONCURRENCY: "abc" } },
  { name: "WEB_CONCURRENCY= (empty) fails", env: { WEB_CONCURRENCY: "" } },
  { name: "workers = 4 / 2 is a float", files: { "gunicorn.conf.py": "workers = 4 / 2\n" } },
  { name: "workers = '08' (int('08', 0))", files: { "gunicorn.conf.py": "workers = '08'\n" } },
  {
    name: "os.environ[...] of an unset variable",
    files: { "gunicorn.conf.py": 'import os\nworkers = int(os.environ["WORKERS_COUNT"])\n' },
  },
  { name: "--workers -1", args: ["--workers", "-1"] },
  { name: "--work is ambiguous", args: ["--work", "2"] },
  { name: "preload_app = 1 is not a bool", files: { "gunicorn.conf.py": "preload_app = 1\n" } },
];
const checkRuns = new Map<string, ReturnType<typeof printConfig>>();
let valid: ReturnType<typeof printConfig>;

describe("configurations Gunicorn refuses, against gunicorn --check-config", () => {
  for (const c of CHECK_CASES)
    test(c.name, async () => {
      const r = await (checkRuns.get(c.name) as ReturnType<typeof printConfig>);
      assert.notEqual(r.status, 0, `gunicorn accepted it:\n${r.stderr}`);
      const sources = {
        cli: { args: [...(c.args ?? []), "app:app"], where: "test" },
        configFiles: parsedConfigs(c.files ?? {}),
      };
      const errors = ["workers", "preload_app"]
        .map((s) => effectiveSetting(s, sources, c.env ?? {}).startupError)
        .filter(Boolean);
      assert.ok(errors.length > 0, `schedctl predicted a clean start; gunicorn said:\n${r.stderr}`);
    });
  test("and a valid configuration passes --check-config", async () => {
    const r = await valid;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      effectiveWorkers(
        {
          cli: { args: ["app:app"], where: "t" },
          configFiles: parsedConfigs({ "gunicorn.conf.py": CONF_WORKERS_COUNT }),
        },
        { WORKERS_COUNT: "3" },
      ).startupError,
      null,
    );
  });
});

before(() => {
  for (const c of CASES) results.set(c.name, countWorkers(appDir(c.files ?? {}), c.args ?? [], c.env ?? {}));
  for (const c of PRINT_CASES) printRuns.set(c.name, printConfig(c.files ?? {}, c.args ?? [], c.env ?? {}));
  for (const c of CHECK_CASES)
    checkRuns.set(c.name, printConfig(c.files ?? {}, c.args ?? [], c.env ?? {}, "--check-config"));
  valid = printConfig(
    { "gunicorn.conf.py": CONF_WORKERS_COUNT },
    [],
    { WORKERS_COUNT: "3" },
    "--check-config",
  );
});
