/**
 * Reads scheduler locks out of Redis, read-only (SPEC "Guarantees"). Per server: the well-known lock keys
 * directly, then exactly ONE SCAN pass (COUNT ~1000) per master with the key names filtered on the client;
 * keys that may be locks get pipelined TYPE + PTTL, then GETRANGE (strings, bounded) / HLEN, HGETALL (small
 * hashes) / ZCARD, ZRANGE (the known registries); after `sampleIntervalMs` a second PTTL of every lock gives
 * its state. Commands sent: PING-less connect (CLIENT SETNAME, SELECT, ready-check INFO), INFO server, SCAN,
 * TYPE, PTTL, GETRANGE, HLEN, HGETALL, ZCARD, ZRANGE, LLEN, SCARD, XLEN — never KEYS, EVAL, SET, DEL or EXPIRE.
 * Cluster: every master (cluster.nodes("master")) is scanned over its own connection. Sentinel: the master
 * the Sentinels name. ioredis is imported lazily.
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { RunError } from "../errors.js";
import {
  classifyKey,
  escapeKey,
  exactKeyRegExp,
  explainKey,
  globToRegExp,
  isCandidateKey,
  type KeySample,
  LOCKISH_RE,
  lockishIndexes,
  lockState,
  rqSchedulerHashKey,
  sampleNeeds,
  unescapeKey,
  WELL_KNOWN_KEYS,
} from "./redis-classify.js";
import { formatEndpoint, parseRedisUrl, type RedisTarget, scrubSecrets } from "./redis-url.js";
import type { LockRecord, RedisServerReport } from "./types.js";

export type { RedisServerReport } from "./types.js";

export interface ProbeRedisOptions {
  urls: string[];
  /** --pattern globs (Redis syntax): matching keys are read and reported (kind user-pattern when unknown). */
  patterns: string[];
  sampleIntervalMs: number;
  timeoutMs: number;
  /** SCAN COUNT hint (default 1000). */
  scanCount?: number;
  /** Total keys scanned so far, over every server. */
  onProgress?: (scanned: number) => void;
  /** Read every string key's value, not only lock-like names (slower: one GETRANGE per string key). */
  deep?: boolean;
}

export interface ProbeLockOptions {
  sampleIntervalMs: number;
  timeoutMs: number;
}

/** Bytes of a string value read (GETRANGE 0 VALUE_LIMIT-1): lock values are short; a huge value is not a lock. */
export const VALUE_LIMIT = 1024;
const BATCH = 500;
const MAX_NOTES = 25;

// ---------------------------------------------------------------------------------------------------------
// connections

export type ErrorKind = "connect" | "auth" | "timeout" | "protocol";

export class RedisProbeError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "RedisProbeError";
  }
}

export interface MasterConn {
  /** "host:port" (with "/db" when not 0). */
  label: string;
  redis: Redis;
}

export interface RedisConnection {
  target: RedisTarget;
  /** Key-routed commands: the server itself, or the Cluster client. */
  client: Redis | Cluster;
  masters: MasterConn[];
  close(): void;
}

const isCluster = (c: Redis | Cluster): c is Cluster => (c as { isCluster?: boolean }).isCluster === true;

/** Turns whatever ioredis or the socket reported into one clear line (no secrets) and its kind. */
export function describeRedisError(
  err: unknown,
  target: RedisTarget,
  timeoutMs: number,
  where: string,
): RedisProbeError {
  if (err instanceof RedisProbeError) return err;
  const e = err as { message?: string; code?: string; lastNodeError?: unknown } | null;
  if (e?.lastNodeError) return describeRedisError(e.lastNodeError, target, timeoutMs, where);
  const raw = scrubSecrets(String(e?.message ?? err), target)
    .replace(/\s+/g, " ")
    .trim();
  const code = e?.code ?? "";
  if (/WRONGPASS|invalid password|invalid username-password/i.test(raw))
    return new RedisProbeError("auth", `authentication failed (${raw}) at ${where}`);
  if (/NOAUTH/i.test(raw))
    return new RedisProbeError(
      "auth",
      `authentication failed (${raw}) at ${where}: the server needs a password; put it in the URL (redis://:PASSWORD@host:port)`,
    );
  if (/AUTH .*called without any password configured/i.test(raw))
    return new RedisProbeError(
      "auth",
      `authentication failed (${raw}) at ${where}: the server has no password; remove it from the URL`,
    );
  if (/NOPERM|no permissions/i.test(raw))
    return new RedisProbeError("auth", `permission denied (${raw}) at ${where}`);
  if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(raw))
    return new RedisProbeError("connect", `connection refused at ${where}`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /ENOTFOUND|EAI_AGAIN/.test(raw))
    return new RedisProbeError("connect", `host not found: ${where}`);
  if (code === "ECONNRESET" || /ECONNRESET/.test(raw))
    return new RedisProbeError(
      "connect",
      `connection reset by ${where}${target.tls ? "" : " (a TLS-only server does this to plain connections: try rediss://)"}`,
    );
  if (/EHOSTUNREACH|ENETUNREACH|EPIPE/.test(code + raw))
    return new RedisProbeError("connect", `${raw} (${where})`);
  if (code === "ETIMEDOUT" || /timed? ?out/i.test(raw))
    return new RedisProbeError("timeout", `timed out after ${timeoutMs} ms at ${where}`);
  if (/All sentinels are unreachable/i.test(raw)) {
    const last = /Last error: (.*)$/.exec(raw)?.[1];
    if (last && /No such master/i.test(last))
      return new RedisProbeError(
        "protocol",
        `the Sentinels at ${where} know no master named "${target.masterName}"`,
      );
    if (last) return describeRedisError(new Error(last), target, timeoutMs, where);
    return new RedisProbeError("connect", `no Sentinel answered at ${where}`);
  }
  if (/SSL|TLS|certificate|wrong version number|EPROTO/i.test(raw + code))
    return new RedisProbeError("protocol", `TLS handshake failed at ${where} (${raw})`);
  return new RedisProbeError("protocol", `${raw} (${where})`);
}

function targetLabel(target: RedisTarget): string {
  const hosts = target.endpoints.map(formatEndpoint).join(",");
  return target.mode === "sentinel" ? `sentinel ${hosts} master ${target.masterName}` : hosts;
}

/** ioredis, loaded on first use (never for `doctor --only tz`), then kept. */
type IoRedisModule = Awaited<ReturnType<typeof loadIoredis>>;
// ioredis is CommonJS: imported from the bundled ESM chunk, its classes may sit on the namespace or only on
// its `default` (module.exports); take them from wherever they are.
const loadIoredis = async () => {
  const ns = await import("ioredis");
  const cjs = (ns as unknown as { default?: typeof ns }).default;
  return { Redis: ns.Redis ?? cjs?.Redis, Cluster: ns.Cluster ?? cjs?.Cluster };
};
let ioredis: Promise<IoRedisModule> | null = null;

/**
 * Opens a read-only connection: connect/command timeouts from `timeoutMs`, no retries, no offline queue,
 * CLIENT SETNAME schedctl. Resolves when ready; rejects with a RedisProbeError (kind, one clear line) within
 * about `timeoutMs`. The caller must close() it.
 */
export async function openRedis(target: RedisTarget, timeoutMs: number): Promise<RedisConnection> {
  ioredis ??= loadIoredis();
  const { Redis: RedisCtor, Cluster: ClusterCtor } = await ioredis;
  const where = targetLabel(target);
  // (the TLS server name defaults to each node's own host name)
  const tls = target.tls ? { rejectUnauthorized: !target.tlsInsecure } : undefined;
  const common: RedisOptions = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password.reveal() } : {}),
    ...(tls ? { tls } : {}),
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // how long disconnect() waits for a socket to close before destroying it: ioredis' 2 s timer outlives
    // failed connections and would hold the process open
    disconnectTimeout: 100,
    maxRetriesPerRequest: 0,
    connectionName: "schedctl",
    enableReadyCheck: true,
    autoResubscribe: false,
    reconnectOnError: () => false,
  };
  let lastError: unknown = null;
  let client: Redis | Cluster;
  if (target.mode === "cluster") {
    const opts: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: () => null,
      slotsRefreshTimeout: timeoutMs,
      slotsRefreshInterval: 0,
      maxRedirections: 4,
      redisOptions: common,
    };
    const cluster = new ClusterCtor(
      target.endpoints.map((e) => ({ host: e.host, port: e.port })),
      opts,
    );
    cluster.on("node error", (err: unknown) => {
      lastError = err;
    });
    client = cluster;
  } else {
    const opts: RedisOptions = {
      ...common,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      db: target.db,
      ...(target.mode === "sentinel"
        ? {
            sentinels: target.endpoints.map((e) => ({ host: e.host, port: e.port })),
            name: target.masterName ?? "mymaster",
            role: "master" as const,
            sentinelRetryStrategy: () => null,
            sentinelCommandTimeout: timeoutMs,
            ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword.reveal() } : {}),
            ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
          }
        : { host: target.endpoints[0]?.host ?? "127.0.0.1", port: target.endpoints[0]?.port ?? 6379 }),
    };
    client = new RedisCtor(opts);
  }
  client.on("error", (err: unknown) => {
    lastError = err;
  });
  const close = () => {
    try {
      client.disconnect();
    } catch {
      // already closed
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisProbeError("timeout", `timed out after ${timeoutMs} ms connecting to ${where}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([client.connect(), deadline]);
  } catch (e) {
    close();
    throw describeRedisError(e instanceof RedisProbeError ? e : (lastError ?? e), target, timeoutMs, where);
  } finally {
    clearTimeout(timer);
  }

  let masters: MasterConn[];
  if (isCluster(client)) {
    masters = client.nodes("master").map((n) => ({ label: `${n.options.host}:${n.options.port}`, redis: n }));
    if (masters.length === 0) {
      close();
      throw new RedisProbeError("protocol", `the cluster at ${where} reports no master`);
    }
  } else {
    const s = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
    const ep =
      target.mode === "sentinel" && s?.remoteAddress && s.remotePort
        ? formatEndpoint({ host: s.remoteAddress, port: s.remotePort })
        : formatEndpoint(target.endpoints[0] ?? { host: "?", port: 0 });
    masters = [{ label: target.db !== 0 ? `${ep}/${target.db}` : ep, redis: client }];
  }
  return { target, client, masters, close };
}

// ---------------------------------------------------------------------------------------------------------
// batched reads

type Arg = string | Buffer | number;
type Cmd = [string, ...Arg[]];
interface Reply {
  err: Error | null;
  val: unknown;
}

/** Runs read commands: one pipeline on a server connection, routed one by one on a Cluster client. */
async function run(conn: Redis | Cluster, cmds: Cmd[]): Promise<Reply[]> {
  if (cmds.length === 0) return [];
  if (isCluster(conn)) {
    return Promise.all(
      cmds.map(([c, ...a]) =>
        conn.callBuffer(c, ...a).then(
          (val) => ({ err: null, val }),
          (err: Error) => ({ err, val: null }),
        ),
      ),
    );
  }
  const p = conn.pipeline();
  for (const [c, ...a] of cmds) p.callBuffer(c, ...a);
  const res = (await p.exec()) ?? [];
  const out = res.map(([err, val]) => ({ err: err ?? null, val }));
  // A dead connection fails every command the same way: surface it instead of "no locks".
  const first = out[0]?.err;
  if (first && !(first.name === "ReplyError") && out.every((r) => r.err && r.err.name !== "ReplyError"))
    throw first;
  return out;
}

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v));
const num = (v: unknown): number => (typeof v === "number" ? v : Number(text(v)));

function pairs(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (let i = 0; i + 1 < v.length; i += 2) out[escapeKey(v[i] as Buffer)] = escapeKey(v[i + 1] as Buffer);
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) out[k] = Buffer.isBuffer(x) ? escapeKey(x) : String(x);
  }
  return out;
}

interface Examined {
  key: Buffer;
  sample: KeySample;
  /** performance.now() when the first PTTL reply arrived. */
  sampledAt: number;
  where: string;
}

const LENGTH_CMD: Record<string, string> = {
  hash: "hlen",
  zset: "zcard",
  list: "llen",
  set: "scard",
  stream: "xlen",
};

/** TYPE + PTTL, then the reads each type needs (sampleNeeds), for a batch of keys on one connection. */
async function examine(
  conn: Redis | Cluster,
  keyConn: Redis | Cluster,
  keys: Buffer[],
  patterns: RegExp[],
  where: string,
): Promise<Examined[]> {
  if (keys.length === 0) return [];
  const a = await run(
    conn,
    keys.flatMap((k): Cmd[] => [
      ["type", k],
      ["pttl", k],
    ]),
  );
  const sampledAt = performance.now();
  const items: Examined[] = [];
  keys.forEach((k, i) => {
    const t = a[2 * i];
    const p = a[2 * i + 1];
    if (!t || !p || t.err || p.err) return;
    const type = text(t.val);
    const pttl = num(p.val);
    if (type === "none" || pttl === -2) return;
    items.push({ key: k, sample: { key: escapeKey(k), type, value: null, pttl }, sampledAt, where });
  });

  // second round: values, lengths, registries
  const b: Cmd[] = [];
  const bIdx: Array<{ item: Examined; what: "value" | "length" | "zrange" }> = [];
  const needs = new Map<Examined, ReturnType<typeof sampleNeeds>>();
  for (const it of items) {
    const n = sampleNeeds(it.sample.key, it.sample.type, patterns);
    needs.set(it, n);
    if (n.value) {
      b.push(["getrange", it.key, 0, VALUE_LIMIT - 1]);
      bIdx.push({ item: it, what: "value" });
    }
    const lc = LENGTH_CMD[it.sample.type];
    if (n.length && lc) {
      b.push([lc, it.key]);
      bIdx.push({ item: it, what: "length" });
    }
    if (n.zrange > 0) {
      b.push(["zrange", it.key, 0, n.zrange - 1, "WITHSCORES"]);
      bIdx.push({ item: it, what: "zrange" });
    }
  }
  const br = await run(conn, b);
  bIdx.forEach(({ item, what }, i) => {
    const r = br[i];
    if (!r || r.err) return; // the key changed type or vanished between the reads: leave it unread
    if (what === "value") {
      const buf = Buffer.isBuffer(r.val) ? r.val : Buffer.from(text(r.val));
      item.sample.value = escapeKey(buf);
      if (buf.length >= VALUE_LIMIT) item.sample.valueTruncated = true;
    } else if (what === "length") item.sample.length = num(r.val);
    else item.sample.hash = pairs(r.val);
  });

  // third round: small hashes, and rq >= 2.10's scheduler hash named by the lock's value
  const c: Cmd[] = [];
  const cIdx: Examined[] = [];
  for (const it of items) {
    const n = needs.get(it);
    if (
      n &&
      it.sample.type === "hash" &&
      n.hashFieldsUpTo > 0 &&
      (it.sample.length ?? 0) <= n.hashFieldsUpTo
    ) {
      c.push(["hgetall", it.key]);
      cIdx.push(it);
    }
  }
  const cr = await run(conn, c);
  cIdx.forEach((it, i) => {
    const r = cr[i];
    if (r && !r.err) it.sample.hash = pairs(r.val);
  });
  const d: Cmd[] = [];
  const dIdx: Examined[] = [];
  for (const it of items) {
    const hk = rqSchedulerHashKey(it.sample);
    if (hk) {
      d.push(["hgetall", unescapeKey(hk)]);
      dIdx.push(it);
    }
  }
  const dr = await run(keyConn, d); // may live in another slot: routed through the cluster client
  dIdx.forEach((it, i) => {
    const r = dr[i];
    if (r && !r.err) it.sample.hash = pairs(r.val);
  });
  return items;
}

// ---------------------------------------------------------------------------------------------------------
// probe

interface Found {
  ex: Examined;
  record: LockRecord;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Second PTTL of every lock, at least `intervalMs` after its first sample, and the state from the two. */
async function secondSample(
  found: Found[],
  connFor: (f: Found) => Redis | Cluster,
  intervalMs: number,
): Promise<void> {
  if (found.length === 0) return;
  const last = Math.max(...found.map((f) => f.ex.sampledAt));
  const wait = last + intervalMs - performance.now();
  if (wait > 0) await sleep(wait);
  const groups = new Map<Redis | Cluster, Found[]>();
  for (const f of found) {
    const c = connFor(f);
    groups.set(c, [...(groups.get(c) ?? []), f]);
  }
  await Promise.all(
    [...groups].map(async ([conn, fs]) => {
      for (let i = 0; i < fs.length; i += BATCH) {
        const chunk = fs.slice(i, i + BATCH);
        const sentAt = performance.now();
        const r = await run(
          conn,
          chunk.map((f): Cmd => ["pttl", f.ex.key]),
        );
        chunk.forEach((f, j) => {
          const reply = r[j];
          const p1 = f.ex.sample.pttl;
          const p2 = reply && !reply.err ? num(reply.val) : null;
          const elapsed = Math.max(0, Math.round(sentAt - f.ex.sampledAt));
          f.record.state = lockState(p1, p2, elapsed);
          if (p2 !== null && p2 >= -1) f.record.ttlMs = p2;
          f.record.details = { ...f.record.details, pttlSamples: [p1, p2], sampleIntervalMs: elapsed };
        });
      }
    }),
  );
}

function toRecord(ex: Examined, now: number, patterns: RegExp[]): LockRecord | null {
  const c = classifyKey(ex.sample, now, patterns);
  if (!c) return null;
  return { ...c, state: lockState(ex.sample.pttl, null, 0), holders: [], where: ex.where };
}

function compilePatterns(patterns: string[]): RegExp[] {
  return patterns.map((p) => globToRegExp(p));
}

/**
 * Probes every URL (concurrently). Throws UsageError for a malformed URL before connecting anywhere;
 * otherwise never throws: a server that cannot be read gets ok: false with error/errorKind.
 */
export async function probeRedis(opts: ProbeRedisOptions): Promise<RedisServerReport[]> {
  const targets = opts.urls.map((u) => parseRedisUrl(u));
  const patterns = compilePatterns(opts.patterns);
  let total = 0;
  const progress = (n: number) => {
    total += n;
    opts.onProgress?.(total);
  };
  return Promise.all(targets.map((t) => probeServer(t, opts, patterns, progress)));
}

async function probeServer(
  target: RedisTarget,
  opts: ProbeRedisOptions,
  patterns: RegExp[],
  progress: (n: number) => void,
): Promise<RedisServerReport> {
  const report: RedisServerReport = {
    url: target.redacted,
    mode: target.mode,
    ok: false,
    error: null,
    errorKind: null,
    nodes: target.endpoints.map(formatEndpoint),
    keysScanned: 0,
    locks: [],
    notes: [],
  };
  const notes = new Set<string>();
  if (target.ignoredParams.length > 0)
    notes.add(`ignored URL parameters: ${target.ignoredParams.join(", ")}`);
  const where = targetLabel(target);
  let conn: RedisConnection;
  try {
    conn = await openRedis(target, opts.timeoutMs);
  } catch (e) {
    const err = describeRedisError(e, target, opts.timeoutMs, where);
    report.error = err.message;
    report.errorKind = err.kind;
    report.notes = [...notes];
    return report;
  }
  const found: Found[] = [];
  const seen = new Map<string, Found | null>();
  const now = Date.now();
  const addFound = (items: Examined[]) => {
    for (const ex of items) {
      const id = ex.key.toString("latin1");
      const rec = toRecord(ex, now, patterns);
      const note = explainKey(ex.sample, now);
      if (note) notes.add(note);
      if (!rec) {
        seen.set(id, null);
        continue;
      }
      const f = { ex, record: rec };
      seen.set(id, f);
      found.push(f);
    }
  };
  let examinedCount = 0;
  try {
    report.nodes = conn.masters.map((m) => m.label);
    // server facts (one INFO server per master)
    const infos = await Promise.all(
      conn.masters.map((m) =>
        m.redis
          .info("server")
          .then(String, (e: unknown) => describeRedisError(e, target, opts.timeoutMs, m.label)),
      ),
    );
    for (const [i, info] of infos.entries()) {
      if (info instanceof RedisProbeError) {
        // a renamed or ACL-denied INFO is not fatal; a dead or unauthenticated connection is
        if (info.kind !== "protocol") throw info;
        notes.add(`INFO server failed on ${conn.masters[i]?.label}: ${info.message}`);
        continue;
      }
      const version = /redis_version:(\S+)/.exec(info)?.[1];
      const mode = /redis_mode:(\S+)/.exec(info)?.[1];
      if (mode === "sentinel")
        throw new RedisProbeError(
          "protocol",
          `${conn.masters[i]?.label} is a Redis Sentinel, not a data server: use redis+sentinel://${conn.masters[i]?.label}/<masterName>`,
        );
      if (mode === "cluster" && target.mode !== "cluster")
        notes.add(
          `${conn.masters[i]?.label} is a cluster node: only its own slots were scanned; use redis+cluster://${conn.masters[i]?.label} to scan every master`,
        );
      if (i === 0 && version)
        notes.add(
          `Redis ${version} (${target.mode}, ${conn.masters.length} master${conn.masters.length > 1 ? "s" : ""})`,
        );
    }

    // 1. the well-known keys, directly
    const direct = await examine(
      conn.client,
      conn.client,
      WELL_KNOWN_KEYS.map((k) => Buffer.from(k)),
      patterns,
      conn.masters.length === 1 ? (conn.masters[0]?.label ?? where) : where,
    );
    addFound(direct);

    // 2. one SCAN pass per master, candidates filtered on the client, then examined in batches
    const count = Math.max(10, Math.floor(opts.scanCount ?? 1000));
    const deep = opts.deep === true;
    await Promise.all(
      conn.masters.map(async (m) => {
        const candidates: Buffer[] = [];
        // The next SCAN is sent as soon as a reply gives its cursor, before this batch is filtered: the
        // client-side work then overlaps the server's, and the pass costs what a bare SCAN loop costs.
        const scan = (cursor: string) =>
          (m.redis.scanBuffer(cursor, "COUNT", count) as unknown as Promise<[Buffer, Buffer[]]>).catch(
            (e: unknown) => {
              const err = describeRedisError(e, target, opts.timeoutMs, m.label);
              throw new RedisProbeError(
                err.kind,
                `${err.message} during SCAN (after ${report.keysScanned} keys)`,
              );
            },
          );
        let pending: Promise<[Buffer, Buffer[]]> | null = scan("0");
        while (pending !== null) {
          const reply: [Buffer, Buffer[]] = await pending;
          const cursor = text(reply[0]);
          pending = cursor === "0" ? null : scan(cursor);
          // a rejected read-ahead is awaited (and thrown) on the next turn; never leave it unhandled
          pending?.catch(() => {});
          const keys = reply[1];
          report.keysScanned += keys.length;
          progress(keys.length);
          // most keys are dismissed in one regex pass over the whole reply, without a string per key
          const picked: Buffer[] =
            deep || patterns.length > 0
              ? keys.filter((k) => isCandidateKey(k.toString("latin1"), patterns, deep))
              : lockishIndexes(keys).map((i) => keys[i] as Buffer);
          for (const k of picked) {
            const id = k.toString("latin1");
            if (seen.has(id)) {
              // a well-known key probed directly (all are lock-like names): now we know which master holds it
              const f = seen.get(id);
              if (f && conn.masters.length > 1) f.record.where = m.label;
              continue;
            }
            seen.set(id, null);
            candidates.push(k);
          }
        }
        for (let i = 0; i < candidates.length; i += BATCH) {
          const items = await examine(
            m.redis,
            conn.client,
            candidates.slice(i, i + BATCH),
            patterns,
            m.label,
          );
          addFound(items);
        }
        examinedCount += candidates.length;
      }),
    );
    if (!opts.deep)
      notes.add(
        `read ${examinedCount} of ${report.keysScanned} scanned keys (and ${WELL_KNOWN_KEYS.length} well-known names): those with lock-like names (${LOCKISH_RE.source.replace("(?!board)", " but not leaderboard").replace(/\|/g, ", ")})${patterns.length > 0 ? " or matching --pattern" : ""}; a lock under another name needs --pattern`,
      );

    // 3. the second PTTL sample
    const byLabel = new Map(conn.masters.map((m) => [m.label, m.redis] as const));
    await secondSample(found, (f) => byLabel.get(f.record.where) ?? conn.client, opts.sampleIntervalMs);
    report.ok = true;
  } catch (e) {
    const err = describeRedisError(e, target, opts.timeoutMs, where);
    report.error = err.message;
    report.errorKind = err.kind;
  } finally {
    conn.close();
  }
  report.locks = found
    .map((f) => f.record)
    .sort((a, b) =>
      a.where < b.where ? -1 : a.where > b.where ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  const all = [...notes];
  report.notes =
    all.length > MAX_NOTES
      ? [...all.slice(0, MAX_NOTES), `... and ${all.length - MAX_NOTES} more notes`]
      : all;
  return report;
}

/**
 * `schedctl locks probe NAME`: one key (escaped text, \xNN for raw bytes), read like the scan reads it and
 * sampled twice. A key no format recognises is reported as kind user-pattern (the user named it); a missing
 * key comes back with state "gone" and kind "unknown". Throws UsageError for a bad URL, RunError when the
 * server cannot be read.
 */
export async function probeLock(url: string, name: string, opts: ProbeLockOptions): Promise<LockRecord> {
  const target = parseRedisUrl(url);
  let conn: RedisConnection;
  try {
    conn = await openRedis(target, opts.timeoutMs);
  } catch (e) {
    throw new RunError(
      `${target.redacted}: ${describeRedisError(e, target, opts.timeoutMs, targetLabel(target)).message}`,
    );
  }
  try {
    const key = unescapeKey(name);
    const patterns = [exactKeyRegExp(name)];
    const where =
      conn.masters.length === 1 ? (conn.masters[0]?.label ?? targetLabel(target)) : targetLabel(target);
    const [ex] = await examine(conn.client, conn.client, [key], patterns, where);
    const now = Date.now();
    const rec = ex ? toRecord(ex, now, patterns) : null;
    if (!ex || !rec) {
      return {
        backend: "redis",
        name: escapeKey(key),
        kind: "unknown",
        state: "gone",
        owner: null,
        ttlMs: null,
        heldForMs: null,
        holders: [],
        where,
        details: { note: "no such key" },
      };
    }
    const note = explainKey(ex.sample, now);
    if (note) rec.details = { ...rec.details, note };
    const f: Found = { ex, record: rec };
    await secondSample([f], () => conn.client, opts.sampleIntervalMs);
    return f.record;
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(
      `${target.redacted}: ${describeRedisError(e, target, opts.timeoutMs, targetLabel(target)).message}`,
    );
  } finally {
    conn.close();
  }
}
