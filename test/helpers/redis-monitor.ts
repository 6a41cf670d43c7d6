/**
 * Redis MONITOR for tests that prove schedctl's read-only guarantee on the wire: every command the server
 * saw while something ran, plus the allow-list of commands a probe may send and Redis's own command flags.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { REDIS_CLI, type RedisHandle, sleep } from "./redis-server.js";

export interface Seen {
  /** "lua" for commands a script ran, else the client address. */
  source: string;
  db: number;
  args: string[];
}

/** MONITOR through redis-cli; stop() returns every command the server saw meanwhile. */
export async function monitor(server: RedisHandle): Promise<{ stop(): Promise<Seen[]> }> {
  const auth = server.password ? ["--no-auth-warning", "-a", server.password] : [];
  const proc: ChildProcess = spawn(
    REDIS_CLI,
    ["-h", server.host, "-p", String(server.port), ...auth, "monitor"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d.toString("latin1");
  });
  const end = Date.now() + 5000;
  while (!out.startsWith("OK")) {
    if (Date.now() > end || proc.exitCode !== null)
      throw new Error(`redis-cli monitor did not start: ${out}`);
    await sleep(10);
  }
  return {
    async stop() {
      // a marker command, so everything sent before it has surely been printed
      await server.cli(["echo", "monitor-end-marker"]);
      const deadline = Date.now() + 5000;
      while (!out.includes("monitor-end-marker") && Date.now() < deadline) await sleep(10);
      proc.kill("SIGTERM");
      const seen: Seen[] = [];
      for (const line of out.split("\n")) {
        const m = /^\d+\.\d+ \[(\d+) ([^\]]+)\] (.*)$/.exec(line.trim());
        if (!m) continue;
        const args = [...(m[3] as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1] as string);
        if (args[0]?.toLowerCase() === "echo") continue;
        seen.push({ source: m[2] as string, db: Number(m[1]), args });
      }
      return seen;
    },
  };
}

/** The commands the probe is allowed to send (lowercase); CLIENT only with these subcommands. */
export const ALLOWED = new Set([
  "info",
  "select",
  "scan",
  "type",
  "pttl",
  "getrange",
  "get",
  "hgetall",
  "hlen",
  "zcard",
  "zrange",
  "llen",
  "scard",
  "xlen",
  "ping",
  "cluster",
  "command",
]);
export const CLIENT_SUBCOMMANDS = new Set(["setname", "setinfo"]);
export const NEVER =
  /^(set|setex|psetex|setnx|getset|getdel|getex|del|unlink|expire|pexpire|expireat|pexpireat|persist|eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro|script|function|keys|flushdb|flushall|rename|renamenx|hset|hdel|lpush|rpush|lpop|rpop|zadd|zrem|sadd|srem|xadd|restore|migrate|move|copy|config|debug|shutdown|save|bgsave|bgrewriteaof|swapdb|object)$/;

/** Redis's own view: the command's flags from COMMAND INFO (e.g. "write", "readonly"). */
export async function redisFlags(server: RedisHandle, names: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const n of names) {
    const txt = await server.cli(["command", "info", n]);
    // redis-cli (not on a terminal) prints one element a line: name, arity, then the flags up to first-key
    const lines = txt.split("\n").map((l) => l.trim());
    const flags: string[] = [];
    for (const l of lines.slice(2)) {
      if (/^-?\d+$/.test(l)) break;
      flags.push(l);
    }
    out.set(n, flags);
  }
  return out;
}
