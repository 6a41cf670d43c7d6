/**
 * Real parts for the runs tests: Debian's Gunicorn 20.1 serving test/fixtures/apps/dupe_app (a Flask app
 * that starts an APScheduler scheduler in every worker, optionally behind the community flock guard), and
 * Debian's nginx 1.22 as a round-robin load balancer in front of several Gunicorn instances. Never skips: a
 * missing part throws with the install command. Everything started here is stopped by stop(), and killed
 * at process exit if a test forgot.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const INSTALL_HINT = "apt-get install -y gunicorn python3-flask python3-apscheduler nginx";
export const GUNICORN = "/usr/bin/gunicorn";
export const PYTHON = "/usr/bin/python3";
export const NGINX = "/usr/sbin/nginx";
export const APP_DIR = fileURLToPath(new URL("../fixtures/apps/dupe_app", import.meta.url));

const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // its own process group (detached): the master and its workers
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

let checked = false;
/** Throws, with the install command, unless Gunicorn, Flask, APScheduler and nginx are all here. */
export function requireRealParts(): void {
  if (checked) return;
  const missing: string[] = [];
  if (!existsSync(GUNICORN)) missing.push(GUNICORN);
  if (!existsSync(NGINX)) missing.push(NGINX);
  if (!existsSync(PYTHON)) missing.push(PYTHON);
  else {
    try {
      execFileSync(PYTHON, ["-c", "import flask, apscheduler"], { stdio: "pipe", timeout: 10_000 });
    } catch {
      missing.push("python3 modules flask, apscheduler");
    }
  }
  if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}: run ${INSTALL_HINT}`);
  checked = true;
}

export interface GunicornAppOptions {
  workers: number;
  guard: "none" | "flock";
  /** Where the "apscheduler" logger writes (every worker appends to it). */
  logFile: string;
  /** GUARD=flock's lock file. */
  lockFile?: string;
  /** Default: a free port chosen by the kernel (-b 127.0.0.1:0). */
  port?: number;
  /** What /scheduler says as current_host (APP_HOSTNAME). */
  hostname?: string;
  logFormat?: "gunicorn" | "json";
  jobSeconds?: number;
  schedulerTz?: string;
}

export interface GunicornApp {
  port: number;
  masterPid: number;
  workerPids: number[];
  /** Worker pids whose app import started a scheduler. */
  schedulerPids: number[];
  /** Gunicorn's stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `gunicorn -w N -b 127.0.0.1:PORT wsgi:app` on dupe_app and resolves once every worker has
 * imported the app and the server answers GET /pid (bounded by 20 s).
 */
export async function startGunicornApp(opts: GunicornAppOptions): Promise<GunicornApp> {
  requireRealParts();
  const env: NodeJS.ProcessEnv = {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: process.env.HOME ?? "/root",
    LANG: "C.UTF-8",
    PYTHONDONTWRITEBYTECODE: "1",
    SCHED_LOG_FILE: opts.logFile,
    GUARD: opts.guard,
    LOG_FORMAT: opts.logFormat ?? "gunicorn",
    JOB_SECONDS: String(opts.jobSeconds ?? 1),
    SCHED_TZ: opts.schedulerTz ?? "UTC",
  };
  if (opts.lockFile !== undefined) env.LOCK_FILE = opts.lockFile;
  if (opts.hostname !== undefined) env.APP_HOSTNAME = opts.hostname;
  const child = spawn(
    GUNICORN,
    [
      "-w",
      String(opts.workers),
      "-b",
      `127.0.0.1:${opts.port ?? 0}`,
      "--chdir",
      APP_DIR,
      "--graceful-timeout",
      "2",
      "--log-level",
      "info",
      "wsgi:app",
    ],
    { env, detached: true, stdio: ["ignore", "ignore", "pipe"] },
  );
  running.add(child);
  let out = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  exited.then(() => running.delete(child));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    killGroup(child, "SIGKILL"); // a worker that outlived its master
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let port = 0;
    let ready: { pid: number; scheduler: boolean }[] = [];
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `gunicorn exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${out}`,
        );
      }
      const listen = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (listen) port = Number(listen[1]);
      ready = [...out.matchAll(/dupe_app ready pid=(\d+) scheduler=(on|off)/g)].map((m) => ({
        pid: Number(m[1]),
        scheduler: m[2] === "on",
      }));
      if (port > 0 && ready.length >= opts.workers && (await answers(port, "/pid"))) break;
      if (Date.now() > deadline) throw new Error(`gunicorn not ready within ${START_TIMEOUT_MS} ms:\n${out}`);
      await sleep(50);
    }
    return {
      port,
      masterPid: child.pid as number,
      workerPids: ready.map((r) => r.pid),
      schedulerPids: ready.filter((r) => r.scheduler).map((r) => r.pid),
      output: () => out,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface NginxProxy {
  port: number;
  /** The generated nginx.conf. */
  config: string;
  stop(): Promise<void>;
}

/**
 * Runs a real nginx in the foreground (`daemon off; master_process off;`) from a temp prefix, balancing
 * round-robin over 127.0.0.1:<upstreams> for every path.
 */
export async function startNginxProxy(opts: { upstreams: number[] }): Promise<NginxProxy> {
  requireRealParts();
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "schedctl-nginx-"));
    for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d));
    const servers = opts.upstreams.map((p) => `    server 127.0.0.1:${p};`).join("\n");
    const config = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_connect_timeout 2s;
      proxy_read_timeout 10s;
      proxy_set_header Host $host;
    }
  }
}
`;
    const conf = join(dir, "nginx.conf");
    writeFileSync(conf, config);
    const child = spawn(NGINX, ["-p", `${dir}/`, "-c", conf, "-e", `${dir}/error.log`], {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    running.add(child);
    let out = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => {
      out += d;
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    exited.then(() => running.delete(child));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 10_000;
    while (child.exitCode === null && Date.now() < deadline && !(await connects(port))) await sleep(30);
    if (child.exitCode === null && (await connects(port))) return { port, config, stop };
    const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
    lastError = `${out}${log}`;
    await stop();
    if (!/Address already in use/.test(lastError)) break;
  }
  throw new Error(`nginx did not start:\n${lastError}`);
}

/** A port nothing listens on right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

/** GET http://127.0.0.1:port/path answers 200 (fresh connection, 1 s timeout). */
export function answers(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
