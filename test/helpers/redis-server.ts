/**
 * Real Redis servers for tests (and bench/locks-redis.mjs): Debian's redis-server on free loopback ports,
 * nothing persisted (--save "" --appendonly no), each in its own temporary directory. Missing binaries make
 * the caller fail with the install command; nothing is ever skipped.
 *   startRedis({ password })       one server, optionally with --requirepass
 *   startRedisCluster(3)           three --cluster-enabled masters joined by redis-cli --cluster create
 *   startRedisSentinel(master)     one Sentinel monitoring a started server as "mymaster"
 * Every handle has stop(); call it from after()/finally.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";

export const REDIS_SERVER = "/usr/bin/redis-server";
export const REDIS_CLI = "/usr/bin/redis-cli";
export const PYTHON = "/usr/bin/python3";
export const INSTALL_HINT = "apt-get install -y redis-server python3-redis";
const HOST = "127.0.0.1";

export function requireRedisBinaries(): void {
  for (const bin of [REDIS_SERVER, REDIS_CLI]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install it with \`${INSTALL_HINT}\``);
  }
}

/** A port the OS just handed out on loopback (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends an inline PING; resolves with the first reply line ("+PONG", "-NOAUTH ...") or null. */
function pingOnce(port: number, useTls: boolean, timeoutMs = 300): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = useTls
      ? tls.connect({ host: HOST, port, rejectUnauthorized: false })
      : net.connect({ host: HOST, port });
    let buf = "";
    const done = (v: string | null) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on(useTls ? "secureConnect" : "connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const nl = buf.indexOf("\r\n");
      if (nl >= 0) done(buf.slice(0, nl));
    });
    sock.on("error", () => done(null));
  });
}

async function waitUntilAnswering(
  port: number,
  proc: ChildProcess,
  log: () => string,
  useTls = false,
  deadlineMs = 5000,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (proc.exitCode !== null)
      throw new Error(`redis-server on port ${port} exited (${proc.exitCode}): ${log()}`);
    const r = await pingOnce(port, useTls);
    if (r !== null && (r.startsWith("+") || r.startsWith("-"))) return;
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${deadlineMs} ms: ${log()}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RedisHandle {
  host: string;
  port: number;
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  password: string | null;
  dir: string;
  /** Runs redis-cli against this server (authenticated) and returns stdout. */
  cli(args: string[], opts?: { timeoutMs?: number }): Promise<string>;
  stop(): Promise<void>;
}

function runFile(cmd: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, encoding: "utf8", maxBuffer: 64 << 20, env },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

function stopProcess(proc: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

export interface StartRedisOptions {
  password?: string;
  args?: string[];
  /** Serve TLS only (--tls-port, --port 0) with a fresh self-signed certificate for 127.0.0.1 (openssl). */
  tls?: boolean;
}

async function spawnRedis(
  port: number,
  dir: string,
  args: string[],
  useTls = false,
): Promise<{ proc: ChildProcess; log: () => string }> {
  let out = "";
  const proc = spawn(REDIS_SERVER, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout?.on("data", (d) => {
    out = (out + d.toString()).slice(-4000);
  });
  proc.stderr?.on("data", (d) => {
    out = (out + d.toString()).slice(-4000);
  });
  const log = () => out.trim().split("\n").slice(-5).join(" | ");
  await waitUntilAnswering(port, proc, log, useTls);
  return { proc, log };
}

/** One redis-server on a free loopback port. Retries with another port if the port was taken meanwhile. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  requireRedisBinaries();
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "schedctl-redis-"));
    const tlsArgs = opts.tls ? await selfSignedTls(dir, port) : [];
    const args = [
      "--port",
      opts.tls ? "0" : String(port),
      ...tlsArgs,
      "--bind",
      HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning",
      ...(opts.password ? ["--requirepass", opts.password] : []),
      ...(opts.args ?? []),
    ];
    try {
      const { proc } = await spawnRedis(port, dir, args, opts.tls === true);
      return makeHandle(port, dir, opts.password ?? null, proc, opts.tls === true);
    } catch (e) {
      lastErr = e;
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw lastErr;
}

const OPENSSL = "/usr/bin/openssl";

/** A self-signed EC certificate for 127.0.0.1 in `dir`; the redis-server TLS flags that serve it on `port`. */
async function selfSignedTls(dir: string, port: number): Promise<string[]> {
  if (!existsSync(OPENSSL))
    throw new Error(`${OPENSSL} is missing: install it with \`apt-get install -y openssl\``);
  const key = join(dir, "tls.key");
  const cert = join(dir, "tls.crt");
  await runFile(
    OPENSSL,
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    10_000,
  );
  return [
    "--tls-port",
    String(port),
    "--tls-cert-file",
    cert,
    "--tls-key-file",
    key,
    "--tls-ca-cert-file",
    cert,
    "--tls-auth-clients",
    "no",
  ];
}

function makeHandle(
  port: number,
  dir: string,
  password: string | null,
  proc: ChildProcess,
  useTls = false,
): RedisHandle {
  const auth = [
    ...(password ? ["--no-auth-warning", "-a", password] : []),
    ...(useTls ? ["--tls", "--cacert", join(dir, "tls.crt")] : []),
  ];
  return {
    host: HOST,
    port,
    url: `${useTls ? "rediss" : "redis"}://${password ? `:${encodeURIComponent(password)}@` : ""}${HOST}:${port}`,
    password,
    dir,
    cli: (args, o) =>
      runFile(REDIS_CLI, ["-h", HOST, "-p", String(port), ...auth, ...args], o?.timeoutMs ?? 10_000),
    stop: async () => {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisClusterHandle {
  nodes: RedisHandle[];
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  url: string;
  stop(): Promise<void>;
}

/** N cluster-enabled masters (no replicas) joined with redis-cli --cluster create; waits for cluster_state:ok. */
export async function startRedisCluster(n = 3): Promise<RedisClusterHandle> {
  const nodes: RedisHandle[] = [];
  try {
    for (let i = 0; i < n; i++) {
      nodes.push(
        await startRedis({
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "3000",
          ],
        }),
      );
    }
    await runFile(
      REDIS_CLI,
      [
        "--cluster",
        "create",
        ...nodes.map((h) => `${HOST}:${h.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      20_000,
    );
    const end = Date.now() + 10_000;
    for (;;) {
      const states = await Promise.all(nodes.map((h) => h.cli(["cluster", "info"])));
      if (states.every((s) => s.includes("cluster_state:ok"))) break;
      if (Date.now() > end) throw new Error(`cluster did not reach cluster_state:ok in 10 s`);
      await sleep(50);
    }
  } catch (e) {
    await Promise.all(nodes.map((h) => h.stop()));
    throw e;
  }
  return {
    nodes,
    url: `redis+cluster://${nodes.map((h) => `${HOST}:${h.port}`).join(",")}`,
    stop: async () => {
      await Promise.all(nodes.map((h) => h.stop()));
    },
  };
}

export interface RedisSentinelHandle {
  port: number;
  masterName: string;
  /** redis+sentinel://127.0.0.1:port/mymaster */
  url: string;
  stop(): Promise<void>;
}

/** One Sentinel (quorum 1) monitoring `master` as "mymaster"; waits until it names the master's address. */
export async function startRedisSentinel(
  master: RedisHandle,
  masterName = "mymaster",
): Promise<RedisSentinelHandle> {
  requireRedisBinaries();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "schedctl-sentinel-"));
  const conf = join(dir, "sentinel.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      `bind ${HOST}`,
      `dir ${dir}`,
      "daemonize no",
      "loglevel warning",
      `sentinel monitor ${masterName} ${HOST} ${master.port} 1`,
      ...(master.password ? [`sentinel auth-pass ${masterName} ${JSON.stringify(master.password)}`] : []),
      `sentinel down-after-milliseconds ${masterName} 5000`,
      "",
    ].join("\n"),
  );
  let proc: ChildProcess | null = null;
  try {
    const spawned = await spawnRedis(port, dir, [conf, "--sentinel"]);
    proc = spawned.proc;
    const end = Date.now() + 5000;
    for (;;) {
      const out = await runFile(
        REDIS_CLI,
        ["-h", HOST, "-p", String(port), "sentinel", "get-master-addr-by-name", masterName],
        5000,
      ).catch(() => "");
      if (out.includes(String(master.port))) break;
      if (Date.now() > end) throw new Error(`sentinel on ${port} does not know ${masterName} after 5 s`);
      await sleep(25);
    }
  } catch (e) {
    if (proc) await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const p = proc;
  return {
    port,
    masterName,
    url: `redis+sentinel://${HOST}:${port}/${masterName}`,
    stop: async () => {
      await stopProcess(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Removes the common leading indentation of a snippet (Python cares; template literals are indented). */
export function dedent(code: string): string {
  const lines = code.split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const n = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(n, /^ */.exec(l)?.[0].length ?? 0))).join("\n");
}

/**
 * Runs a Python snippet with Debian's /usr/bin/python3 (python3-redis), with REDIS_HOST/REDIS_PORT/
 * REDIS_PASSWORD set; resolves with stdout. Fails with the install hint when python3-redis is missing.
 */
export async function runPython(
  code: string,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<string> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install it with \`${INSTALL_HINT}\``);
  try {
    return await runFile(PYTHON, ["-c", dedent(code)], timeoutMs, { ...process.env, ...env });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/No module named 'redis'/.test(msg))
      throw new Error(`python3-redis is missing: install it with \`${INSTALL_HINT}\``);
    throw e;
  }
}

/** Starts a long-running Python snippet (e.g. a lock renewer); stop() kills it. Resolves once it prints "ready". */
export async function spawnPython(
  code: string,
  env: Record<string, string> = {},
): Promise<{ proc: ChildProcess; stop(): Promise<void>; output(): string }> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install it with \`${INSTALL_HINT}\``);
  const proc = spawn(PYTHON, ["-u", "-c", dedent(code)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d) => {
    out += d.toString();
  });
  const end = Date.now() + 10_000;
  while (!out.includes("ready")) {
    if (proc.exitCode !== null) throw new Error(`python helper exited (${proc.exitCode}): ${out}`);
    if (Date.now() > end) {
      proc.kill("SIGKILL");
      throw new Error(`python helper not ready after 10 s: ${out}`);
    }
    await sleep(20);
  }
  return { proc, stop: () => stopProcess(proc), output: () => out };
}
