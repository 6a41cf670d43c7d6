// Redis lock probe benchmark: fills a real redis-server (free loopback port, nothing persisted) with
// 1,000,000 keys — strings, hashes, zsets, lists like a busy app, a few thousand lock-like names that are
// not locks, and a few hundred real-format locks — then times, interleaved, median of N:
//   probeRedis (connect, well-known keys, ONE SCAN COUNT 1000 pass, reads of candidates, second PTTL sample
//   with sampleIntervalMs 0), a bare ioredis `SCAN cursor COUNT 1000` loop (connect + count keys), and
//   `redis-cli --scan` (redis-cli's fixed COUNT 10).
// Aim: probeRedis within 1.5x of the bare loop.
// Usage: node --import tsx bench/locks-redis.mjs [runs=3] [keys=1000000] [--no-cli]
import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { probeRedis } from "../src/locks/redis-probe.ts";
import { REDIS_CLI, startRedis } from "../test/helpers/redis-server.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const runs = Number(args[0] ?? 3);
const total = Number(args[1] ?? 1_000_000);
const withCli = !process.argv.includes("--no-cli");

/** A uuid1 hex token as redis-py writes it (uuid.uuid1().hex), made at `ms` on node 02:42:ac:11:00:02. */
function uuid1Hex(ms, seq) {
  const ts = BigInt(ms) * 10_000n + 0x01b21dd213814000n + BigInt(seq % 10_000);
  const low = (ts & 0xffffffffn).toString(16).padStart(8, "0");
  const mid = ((ts >> 32n) & 0xffffn).toString(16).padStart(4, "0");
  const hi = (((ts >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, "0");
  const clock = (0x8000 | (seq & 0x3fff)).toString(16).padStart(4, "0");
  return `${low}${mid}${hi}${clock}0242ac110002`;
}

/** One RESP command. */
function resp(...parts) {
  let out = `*${parts.length}\r\n`;
  for (const x of parts) {
    const b = Buffer.from(String(x));
    out += `$${b.length}\r\n${b.toString("latin1")}\r\n`;
  }
  return out;
}

/** Writes the keys with `redis-cli --pipe` (pipelined RESP, the fastest bulk load redis-cli offers). */
async function fill(port) {
  const t0 = performance.now();
  const now = Date.now();
  let locks = 0;
  const p = spawn(REDIS_CLI, ["-h", "127.0.0.1", "-p", String(port), "--pipe"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  p.stdout.on("data", (d) => {
    out += d.toString();
  });
  const done = new Promise((resolve, reject) =>
    p.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}: ${out}`)),
    ),
  );
  const TTL = 3600; // outlives the run: an expired lock would not be found
  let chunk = "";
  for (let i = 0; i < total; i++) {
    if (i % 4000 === 0 && locks < 250) {
      // a real-format lock: redis-py/redbeat uuid1, rq pid, BullMQ job lock, python-redis-lock id
      const kind = locks % 5;
      if (kind === 0) chunk += resp("SET", `reports:job-${i}:lock`, uuid1Hex(now - 60_000, i), "EX", TTL);
      else if (kind === 1)
        chunk += resp("SET", `rq:scheduler-lock:q${i}`, String(1000 + (i % 30_000)), "EX", TTL);
      else if (kind === 2)
        chunk += resp(
          "SET",
          `bull:mail:${i}:lock`,
          `0b7c5ed5-3a44-4d5e-9f7c-${String(i).padStart(12, "0")}:1`,
          "EX",
          TTL,
        );
      else if (kind === 3)
        chunk += resp(
          "SET",
          `lock:task-${i}`,
          Buffer.from(String(i).padStart(18, "x")).toString("base64"),
          "EX",
          TTL,
        );
      else chunk += resp("SET", `myapp-${i}::lock`, uuid1Hex(now - 5_000, i), "EX", TTL);
      locks++;
    } else if (i % 500 === 1)
      chunk += resp("SET", `cache:blocklist:${i}`, "1"); // lock-like name, not a lock
    else if (i % 10 < 7) chunk += resp("SET", `session:${i.toString(36)}`, "x".repeat(24));
    else if (i % 10 < 8) chunk += resp("HSET", `user:${i}`, "name", `u${i}`, "plan", "free");
    else if (i % 10 < 9) chunk += resp("ZADD", `leaderboard:${i}`, i, `m${i}`);
    else chunk += resp("RPUSH", `queue:${i}`, "job");
    if (chunk.length > 1 << 20) {
      if (!p.stdin.write(chunk, "latin1")) await new Promise((r) => p.stdin.once("drain", r));
      chunk = "";
    }
  }
  p.stdin.end(chunk, "latin1");
  await done;
  const r = new Redis({ host: "127.0.0.1", port });
  const dbsize = await r.dbsize();
  r.disconnect();
  return { ms: performance.now() - t0, dbsize, locks };
}

async function bareScan(url) {
  const r = new Redis(url, { lazyConnect: true, connectionName: "bare-scan" });
  await r.connect();
  let cursor = "0";
  let n = 0;
  do {
    const [next, keys] = await r.scanBuffer(cursor, "COUNT", 1000);
    cursor = next.toString();
    n += keys.length;
  } while (cursor !== "0");
  r.disconnect();
  return n;
}

function cliScan(port) {
  return new Promise((resolve, reject) => {
    const p = spawn(REDIS_CLI, ["-h", "127.0.0.1", "-p", String(port), "--scan"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let lines = 0;
    p.stdout.on("data", (d) => {
      for (const b of d) if (b === 10) lines++;
    });
    p.on("error", reject);
    p.on("close", (code) =>
      code === 0 ? resolve(lines) : reject(new Error(`redis-cli --scan exited ${code}`)),
    );
  });
}

async function probe(url) {
  const [rep] = await probeRedis({ urls: [url], patterns: [], sampleIntervalMs: 0, timeoutMs: 10_000 });
  if (!rep?.ok) throw new Error(`probe failed: ${rep?.error}`);
  return rep;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Wall time, and this process's CPU time (less disturbed by other load on the machine). */
const time = async (fn) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const v = await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpu: (c.user + c.system) / 1000, v };
};

const server = await startRedis();
try {
  const filled = await fill(server.port);
  console.log(
    `filled ${filled.dbsize} keys (${filled.locks} real-format locks) in ${(filled.ms / 1000).toFixed(1)} s — redis-server on 127.0.0.1:${server.port}`,
  );
  const t = { probe: [], bare: [], cli: [], probeCpu: [], bareCpu: [] };
  let report = null;
  for (let i = 0; i < runs; i++) {
    const a = await time(() => probe(server.url));
    report = a.v;
    t.probe.push(a.ms);
    t.probeCpu.push(a.cpu);
    const b = await time(() => bareScan(server.url));
    t.bare.push(b.ms);
    t.bareCpu.push(b.cpu);
    if (b.v < filled.dbsize) throw new Error(`bare SCAN saw ${b.v} keys of ${filled.dbsize}`);
    if (withCli) {
      const c = await time(() => cliScan(server.port));
      t.cli.push(c.ms);
    }
  }
  const locks = report.locks.length;
  const scanned = report.keysScanned;
  const mp = median(t.probe);
  const mb = median(t.bare);
  console.log(
    `probeRedis:              ${mp.toFixed(0).padStart(6)} ms  (client CPU ${median(t.probeCpu).toFixed(0)} ms; ${scanned} keys scanned, ${locks} locks found)`,
  );
  console.log(
    `bare ioredis SCAN 1000:  ${mb.toFixed(0).padStart(6)} ms  (client CPU ${median(t.bareCpu).toFixed(0)} ms)`,
  );
  if (withCli) console.log(`redis-cli --scan:        ${median(t.cli).toFixed(0).padStart(6)} ms`);
  console.log(
    `probe / bare loop:       ${(mp / mb).toFixed(2)}x wall, ${(median(t.probeCpu) / median(t.bareCpu)).toFixed(2)}x client CPU (aim <= 1.5x)`,
  );
  if (withCli) console.log(`probe / redis-cli:       ${(mp / median(t.cli)).toFixed(2)}x`);
  console.log(
    `runs: ${runs}; samples probe ${t.probe.map((x) => x.toFixed(0)).join(", ")}; bare ${t.bare.map((x) => x.toFixed(0)).join(", ")}${withCli ? `; cli ${t.cli.map((x) => x.toFixed(0)).join(", ")}` : ""}`,
  );
  if (locks < filled.locks) throw new Error(`probe found ${locks} locks, ${filled.locks} were written`);
} finally {
  await server.stop();
}
