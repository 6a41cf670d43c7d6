/**
 * Recognises scheduler and job locks among Redis keys (pure; the reads are in redis-probe.ts). Formats and
 * their sources: /work/shared/reference/locks.md §1. Keys are handled as text in which every byte that is
 * not printable UTF-8 (and the backslash itself) is written \xNN, so binary key names survive a round trip:
 * escapeKey(bytes) for display, unescapeKey(text) back to the bytes Redis knows.
 */
import type { LockRecord, LockState } from "./types.js";

/** What the probe read about one key. */
export interface KeySample {
  /** The key as text, non-printable bytes escaped \xNN (escapeKey). */
  key: string;
  /** TYPE reply: string, hash, zset, list, set, stream, none... */
  type: string;
  /** String value (escaped like keys when not printable UTF-8), null for other types or when not read. */
  value: string | null;
  /** PTTL reply: ms, -1 no expiry, -2 missing. */
  pttl: number;
  /** Hash fields (HGETALL of a small hash), or zset member -> score (ZRANGE ... WITHSCORES). */
  hash?: Record<string, string>;
  /** HLEN / ZCARD / LLEN when read. */
  length?: number;
  /** The value was cut at the read limit (GETRANGE 0 n-1). */
  valueTruncated?: boolean;
}

export type ClassifiedKey = Omit<LockRecord, "state" | "holders" | "where">;

// ---------------------------------------------------------------------------------------------------------
// key text <-> bytes

/** Bytes -> text: printable UTF-8 as is; control characters, backslash and invalid UTF-8 as \xNN per byte. */
export function escapeKey(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  const n = bytes.length;
  const hex = (b: number) => `\\x${b.toString(16).padStart(2, "0")}`;
  while (i < n) {
    const b0 = bytes[i] as number;
    if (b0 < 0x80) {
      out += b0 < 0x20 || b0 === 0x7f || b0 === 0x5c ? hex(b0) : String.fromCharCode(b0);
      i++;
      continue;
    }
    let len = 0;
    let cp = 0;
    let min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    }
    let ok = len > 0 && i + len <= n;
    for (let k = 1; ok && k < len; k++) {
      const b = bytes[i + k] as number;
      if ((b & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (b & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    // C1 controls and the BOM-less invisible specials stay escaped.
    if (ok && cp >= 0x80 && cp <= 0x9f) ok = false;
    if (!ok) {
      out += hex(b0);
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += len;
  }
  return out;
}

/** Text -> bytes: \xNN (either case) is one byte, everything else UTF-8. The inverse of escapeKey. */
export function unescapeKey(text: string): Buffer {
  if (!text.includes("\\x")) return Buffer.from(text, "utf8");
  const parts: Buffer[] = [];
  let last = 0;
  const re = /\\x([0-9a-fA-F]{2})/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push(Buffer.from(text.slice(last, m.index), "utf8"));
    parts.push(Buffer.from([Number.parseInt(m[1] as string, 16)]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(Buffer.from(text.slice(last), "utf8"));
  return Buffer.concat(parts);
}

/** Escaped key text -> the latin1 string of its bytes (one char per byte), which globs and filters test. */
export function keyBytesText(key: string): string {
  return unescapeKey(key).toString("latin1");
}

// ---------------------------------------------------------------------------------------------------------
// Redis glob (stringmatchlen in redis/src/util.c), compiled to a RegExp over latin1 byte strings

const byteClass = (c: number) => `\\x${c.toString(16).padStart(2, "0")}`;

/**
 * Compiles a Redis MATCH glob (`*`, `?`, `[abc]`, `[^a-z]`, `\` escapes) into a RegExp that tests the latin1
 * string of a key's bytes (keyBytesText, or Buffer.toString("latin1")). The pattern's own text is UTF-8.
 */
export function globToRegExp(pattern: string): RegExp {
  const p = Buffer.from(pattern, "utf8");
  let re = "^";
  let i = 0;
  while (i < p.length) {
    const c = p[i] as number;
    if (c === 0x2a /* * */) {
      re += "[\\s\\S]*";
      while (p[i + 1] === 0x2a) i++;
      i++;
    } else if (c === 0x3f /* ? */) {
      re += "[\\s\\S]";
      i++;
    } else if (c === 0x5b /* [ */) {
      i++;
      const negate = p[i] === 0x5e; /* ^ */
      if (negate) i++;
      const items: string[] = [];
      for (;;) {
        if (i >= p.length) break; // unterminated: the rest of the pattern is the set (as Redis does)
        const d = p[i] as number;
        if (d === 0x5c /* \ */ && i + 1 < p.length) {
          items.push(byteClass(p[i + 1] as number));
          i += 2;
        } else if (d === 0x5d /* ] */) {
          i++;
          break;
        } else if (i + 2 < p.length && p[i + 1] === 0x2d /* - */) {
          let a = d;
          let b = p[i + 2] as number;
          if (a > b) [a, b] = [b, a];
          items.push(`${byteClass(a)}-${byteClass(b)}`);
          i += 3;
        } else {
          items.push(byteClass(d));
          i++;
        }
      }
      if (items.length === 0) re += negate ? "[\\s\\S]" : "(?!)";
      else re += `[${negate ? "^" : ""}${items.join("")}]`;
    } else if (c === 0x5c /* \ */ && i + 1 < p.length) {
      re += byteClass(p[i + 1] as number);
      i += 2;
    } else {
      re += byteClass(c);
      i++;
    }
  }
  return new RegExp(`${re}$`);
}

/** Does the (escaped) key match the Redis glob? */
export function matchGlob(pattern: string, key: string): boolean {
  return globToRegExp(pattern).test(keyBytesText(key));
}

/** A RegExp (over latin1 byte text, like globToRegExp's) that matches exactly this (escaped) key. */
export function exactKeyRegExp(key: string): RegExp {
  const latin1 = keyBytesText(key);
  let re = "^";
  for (let i = 0; i < latin1.length; i++) re += byteClass(latin1.charCodeAt(i));
  return new RegExp(`${re}$`);
}

// ---------------------------------------------------------------------------------------------------------
// which keys the probe reads at all

/**
 * Key names worth a TYPE/PTTL round trip in a full SCAN (tested on the latin1 text of the key's bytes): every
 * known format contains "lock", "scheduler" or "cron"; the other words catch hand-named leader locks. Each
 * matching key costs reads, so broad words stay out ("leaderboard", a common sorted-set name, "beat", which
 * matches every heartbeat key, "sched", which matches "scheduled:*"). Other keys are read only when a
 * --pattern names them (or the probe runs deep): a redis-py Lock under a name like "x" is seen only that way.
 */
export const LOCKISH_RE = /lock|leader(?!board)|mutex|scheduler|cron|singleton|semaphore/i;

/** Keys every probe reads directly, before the SCAN (present or not). */
export const WELL_KNOWN_KEYS = [
  "redbeat::lock",
  "rq:scheduler_lock",
  "rq:cron_schedulers",
  "celery:beat-lock",
  "celery:beat:task_lock",
  "apscheduler.jobs",
  "apscheduler.run_times",
] as const;

const LOCKISH_GLOBAL = new RegExp(LOCKISH_RE.source, "gi");

/**
 * The indexes of the keys whose names are lock-like (LOCKISH_RE on their latin1 text), for one SCAN reply.
 * The SCAN loop runs this on every key of the database, so it makes no string per key: the batch is joined
 * into one buffer ("\n" between keys; no word contains it), decoded once, and searched by one global regex.
 */
export function lockishIndexes(keys: Uint8Array[]): number[] {
  const n = keys.length;
  if (n === 0) return [];
  const starts = new Array<number>(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    starts[i] = total;
    total += (keys[i] as Uint8Array).length + 1;
  }
  starts[n] = total;
  const joined = Buffer.allocUnsafe(total);
  for (let i = 0; i < n; i++) {
    const k = keys[i] as Uint8Array;
    const at = starts[i] as number;
    joined.set(k, at);
    joined[at + k.length] = 0x0a;
  }
  const text = joined.toString("latin1");
  const out: number[] = [];
  const re = LOCKISH_GLOBAL;
  re.lastIndex = 0;
  let lo = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    // the key holding this match: the last start <= m.index (matches come in order, so search from lo)
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= m.index) lo = mid;
      else hi = mid - 1;
    }
    out.push(lo);
    re.lastIndex = starts[lo + 1] as number; // one hit per key is enough
    lo++;
    if (lo >= n) break;
  }
  re.lastIndex = 0;
  return out;
}

export function isCandidateKey(latin1Key: string, userPatterns: RegExp[], deep = false): boolean {
  if (deep || LOCKISH_RE.test(latin1Key)) return true;
  for (const r of userPatterns) if (r.test(latin1Key)) return true;
  return false;
}

/** What else to read for a key of this TYPE, beyond TYPE and PTTL. */
export interface SampleNeeds {
  /** GETRANGE 0 limit-1 (strings). */
  value: boolean;
  /** HLEN / ZCARD / LLEN. */
  length: boolean;
  /** HGETALL when HLEN <= this (hashes). */
  hashFieldsUpTo: number;
  /** ZRANGE key 0 n-1 WITHSCORES (zsets). */
  zrange: number;
}

const INSTANCE_HASH_RE = /^rq:(?:scheduler|cron_scheduler|scheduler_instance):/;
const JOBSTORE_JOBS_RE = /apscheduler[^:]*jobs$/i;
const JOBSTORE_TIMES_RE = /apscheduler[^:]*run_times$/i;

export function sampleNeeds(key: string, type: string, userPatterns: RegExp[]): SampleNeeds {
  const latin1 = keyBytesText(key);
  const user = userPatterns.some((r) => r.test(latin1));
  const none: SampleNeeds = { value: false, length: false, hashFieldsUpTo: 0, zrange: 0 };
  switch (type) {
    case "string":
      return { ...none, value: true };
    case "hash":
      if (INSTANCE_HASH_RE.test(key)) return { ...none, length: true, hashFieldsUpTo: 64 };
      if (JOBSTORE_JOBS_RE.test(key)) return { ...none, length: true };
      return user ? { ...none, length: true, hashFieldsUpTo: 16 } : none;
    case "zset":
      if (key === "rq:cron_schedulers") return { ...none, length: true, zrange: 50 };
      if (JOBSTORE_TIMES_RE.test(key)) return { ...none, length: true, zrange: 1 };
      return user ? { ...none, length: true } : none;
    case "list":
      return key.startsWith("lock-signal:") || user || isKnownLockName(key)
        ? { ...none, length: true }
        : none;
    case "set":
    case "stream":
      return user ? { ...none, length: true } : none;
    default:
      return none;
  }
}

/** rq >= 2.10 writes the scheduler's name into the lock and its metadata into this hash. */
export function rqSchedulerHashKey(sample: KeySample): string | null {
  if (sample.type !== "string" || sample.value === null) return null;
  if (!sample.key.startsWith("rq:scheduler-lock:")) return null;
  if (/^\d+$/.test(sample.value) || sample.value === "") return null;
  return `rq:scheduler:${sample.value}`;
}

// ---------------------------------------------------------------------------------------------------------
// token decoders

export interface Uuid1Info {
  /** Acquire time (Unix ms) from the uuid1 timestamp. */
  timeMs: number;
  /** The node field as a MAC address, "02:42:ac:11:00:02". */
  node: string;
  /** Multicast bit set: a random node id, not a real MAC. */
  nodeRandom: boolean;
  clockSeq: number;
}

const UUID_EPOCH_OFFSET = 0x01b21dd213814000n; // 100 ns intervals between 1582-10-15 and 1970-01-01

/**
 * Decodes `uuid.uuid1().hex` (32 hex digits, version nibble 1, RFC 4122 variant): the time it was made and
 * the node. Null when the text is not such a token. `strict` also requires lowercase hex (what Python's
 * .hex gives) and a time between 2000-01-01 and a day after `now`.
 */
export function decodeUuid1(text: string, now?: number): Uuid1Info | null {
  let hex = text;
  if (text.length === 36) {
    if (!UUID_ANY_RE.test(text)) return null;
    hex = text.replace(/-/g, "");
  }
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  if (hex[12] !== "1" || !"89ab".includes(hex[16] as string)) return null;
  const low = BigInt(`0x${hex.slice(0, 8)}`);
  const mid = BigInt(`0x${hex.slice(8, 12)}`);
  const hi = BigInt(`0x${hex.slice(12, 16)}`) & 0x0fffn;
  const ts = (hi << 48n) | (mid << 32n) | low;
  const timeMs = Number((ts - UUID_EPOCH_OFFSET) / 10_000n);
  if (now !== undefined && (timeMs < Date.UTC(2000, 0, 1) || timeMs > now + 86_400_000)) return null;
  const clockSeq =
    ((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) << 8) | Number.parseInt(hex.slice(18, 20), 16);
  const nodeHex = hex.slice(20, 32);
  const node = (nodeHex.match(/../g) as string[]).join(":");
  return { timeMs, node, nodeRandom: (Number.parseInt(nodeHex.slice(0, 2), 16) & 1) === 1, clockSeq };
}

const UUID4_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_ANY_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** python-redis-lock: b64encode(urandom(18)) -> 24 base64 characters, no padding. */
const REDIS_LOCK_ID_RE = /^[A-Za-z0-9+/]{24}$/;
const FLOAT_RE = /^\d{9,11}(?:\.\d+)?$/;

/** Parses ISO-8601 (with or without zone; no zone = UTC, as rq writes) or Unix seconds. */
export function parseTime(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  if (FLOAT_RE.test(text)) return Math.round(Number(text) * 1000);
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text,
  );
  if (!m) return null;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let ms =
    Date.UTC(
      +(m[1] as string),
      +(m[2] as string) - 1,
      +(m[3] as string),
      +(m[4] as string),
      +(m[5] as string),
      +(m[6] as string),
    ) + Math.floor(frac);
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isFinite(ms) ? ms : null;
}

/** Short printable text (no escapes, no control characters): fit to show as an owner. */
function printable(value: string | null, max = 80): value is string {
  return value !== null && value.length > 0 && value.length <= max && !value.includes("\\x");
}

function clip(value: string | null, max = 200): string | null {
  if (value === null) return null;
  return value.length > max ? `${value.slice(0, max)}...` : value;
}

// ---------------------------------------------------------------------------------------------------------
// classification

function record(
  sample: KeySample,
  kind: string,
  owner: string | null,
  heldForMs: number | null,
  details: Record<string, unknown>,
): ClassifiedKey {
  return {
    backend: "redis",
    name: sample.key,
    kind,
    owner,
    ttlMs: sample.pttl === -2 ? null : sample.pttl,
    heldForMs: heldForMs === null ? null : Math.max(0, heldForMs),
    details: { type: sample.type, ...details },
  };
}

/** The uuid1 token fields of a redis-py Lock value, for the records of every library built on it. */
function redisPyToken(
  sample: KeySample,
  now: number,
): { owner: string | null; held: number | null; details: Record<string, unknown> } {
  const v = sample.value ?? "";
  const u = decodeUuid1(v, now);
  if (!u)
    return {
      owner: printable(v) ? `token ${v}` : null,
      held: null,
      details: { token: clip(v), tokenFormat: "other" },
    };
  return {
    owner: `uuid1 node ${u.node}${u.nodeRandom ? " (random node id)" : ""}`,
    held: now - u.timeMs,
    details: {
      token: v,
      tokenFormat: "uuid1",
      acquiredAt: new Date(u.timeMs).toISOString(),
      node: u.node,
      nodeRandom: u.nodeRandom,
      clockSeq: u.clockSeq,
    },
  };
}

const HOST_PID = (host: string | undefined, pid: string | undefined): string | null =>
  host && pid ? `host ${host} pid ${pid}` : host ? `host ${host}` : pid ? `pid ${pid}` : null;

/** Known string-lock names: a key with one of these names and another type is noted, never a lock. */
export function isKnownLockName(key: string): boolean {
  return (
    key === "rq:scheduler_lock" ||
    key.startsWith("rq:scheduler-lock:") ||
    key.startsWith("schedctl:lock:") ||
    key === "celery:beat-lock" ||
    key === "celery:beat:task_lock" ||
    key.endsWith("::lock") ||
    key.startsWith("redlock:") ||
    (key.startsWith("bull:") && key.endsWith(":lock"))
  );
}

/**
 * Recognises one key. Null when it is not a lock the tool knows (or a user pattern names). A recognised name
 * with an unexpected TYPE (a list called redbeat::lock) is not a lock: null here, explained by explainKey.
 */
export function classifyKey(
  sample: KeySample,
  now: number,
  userPatterns: string[] | RegExp[],
): ClassifiedKey | null {
  const k = sample.key;
  const v = sample.value;
  const isString = sample.type === "string";
  if (sample.type === "none" || sample.pttl === -2) return null;

  if (isString && v !== null) {
    // schedctl's own leader lock (schedctl gen lock)
    if (k.startsWith("schedctl:lock:")) {
      const app = k.slice("schedctl:lock:".length);
      try {
        const j = JSON.parse(v) as Record<string, unknown>;
        if (j === null || typeof j !== "object") throw new Error("not an object");
        const host = typeof j.host === "string" ? j.host : undefined;
        const pid = typeof j.pid === "number" || typeof j.pid === "string" ? String(j.pid) : undefined;
        const since = typeof j.since === "string" ? parseTime(j.since) : null;
        return record(sample, "schedctl", HOST_PID(host, pid), since === null ? null : now - since, {
          app: typeof j.app === "string" ? j.app : app,
          host: host ?? null,
          pid: pid === undefined ? null : Number(pid),
          since: typeof j.since === "string" ? j.since : null,
          version: j.v ?? null,
        });
      } catch {
        return record(sample, "schedctl", null, null, {
          app,
          value: clip(v),
          error: 'value is not the JSON schedctl writes ({"v":1,"host","pid","app","since"})',
        });
      }
    }

    // rq built-in scheduler: rq:scheduler-lock:<queue> = pid (<= 2.9) or scheduler name (2.10+)
    if (k.startsWith("rq:scheduler-lock:")) {
      const queue = k.slice("rq:scheduler-lock:".length);
      if (/^\d+$/.test(v))
        return record(sample, "rq", `pid ${v}`, null, { queue, pid: Number(v), rqVersion: "<= 2.9" });
      const h = sample.hash;
      if (h && Object.keys(h).length > 0) {
        const created = parseTime(h.created_at);
        return record(
          sample,
          "rq",
          HOST_PID(h.hostname, h.pid) ?? `scheduler ${v}`,
          created === null ? null : now - created,
          {
            queue,
            scheduler: v,
            rqVersion: ">= 2.10",
            hostname: h.hostname ?? null,
            pid: h.pid === undefined ? null : Number(h.pid),
            createdAt: h.created_at ?? null,
            lastHeartbeat: h.last_heartbeat ?? null,
            queues: h.queues ?? null,
          },
        );
      }
      return record(sample, "rq", printable(v) ? `scheduler ${v}` : null, null, {
        queue,
        scheduler: clip(v),
        rqVersion: ">= 2.10",
        note: `no rq:scheduler:${clip(v, 64)} hash: the scheduler's metadata expired or was never written`,
      });
    }

    // rq-scheduler: rq:scheduler_lock = time.time() while one enqueue pass runs
    if (k === "rq:scheduler_lock") {
      const t = FLOAT_RE.test(v) ? Math.round(Number(v) * 1000) : null;
      return record(sample, "rq-scheduler", null, t === null ? null : now - t, {
        acquiredAt: t === null ? null : new Date(t).toISOString(),
        value: clip(v),
        note: "rq-scheduler holds this lock only while it moves due jobs; several rq-scheduler processes are normal and take turns",
      });
    }

    if (k === "celery:beat-lock") {
      const t = redisPyToken(sample, now);
      return record(sample, "celery-beatx", t.owner, t.held, t.details);
    }
    if (k === "celery:beat:task_lock") {
      const t = redisPyToken(sample, now);
      return record(sample, "celerybeat-redis", t.owner, t.held, t.details);
    }

    // celery-redbeat: <prefix>:lock with the default prefix "redbeat:" -> redbeat::lock
    if (k.endsWith("::lock")) {
      const t = redisPyToken(sample, now);
      return record(sample, "redbeat", t.owner, t.held, { prefix: k.slice(0, -"lock".length), ...t.details });
    }

    // BullMQ / Bull job locks: <prefix>:<queue>:<jobId>:lock = <worker uuid>:<n> (BullMQ) or <uuid> (Bull)
    if (k.endsWith(":lock")) {
      const bm = /^([0-9a-f-]{36}):(\d+)$/.exec(v);
      const parts = k.split(":");
      if ((bm && UUID_ANY_RE.test(bm[1] as string)) || (k.startsWith("bull:") && parts.length >= 4)) {
        const prefixQueueJob =
          parts.length >= 4 ? { queue: parts[1], jobId: parts.slice(2, -1).join(":") } : {};
        return record(sample, "bullmq", bm ? `worker ${bm[1]}` : printable(v) ? `token ${v}` : null, null, {
          ...prefixQueueJob,
          prefix: parts[0],
          worker: bm ? bm[1] : null,
          lockCount: bm ? Number(bm[2]) : null,
          flavour: bm ? "bullmq" : "bull",
          token: clip(v),
        });
      }
    }

    // pottery Redlock: redlock:<key> = str(uuid4())
    if (k.startsWith("redlock:")) {
      return record(sample, "pottery-redlock", printable(v) ? `token ${v}` : null, null, {
        resource: k.slice("redlock:".length),
        token: clip(v),
        tokenFormat: UUID4_RE.test(v) ? "uuid4" : "other",
      });
    }

    // python-redis-lock: lock:<name> = b64encode(urandom(18))
    if (k.startsWith("lock:") && REDIS_LOCK_ID_RE.test(v)) {
      return record(sample, "python-redis-lock", `id ${v}`, null, {
        lockName: k.slice("lock:".length),
        id: v,
      });
    }

    // redis-py Lock anywhere: a uuid1 token
    if (decodeUuid1(v, now) !== null) {
      const t = redisPyToken(sample, now);
      return record(sample, "redis-py", t.owner, t.held, t.details);
    }
  }

  // registries and stores (hashes / zsets)
  if (sample.type === "hash" && k.startsWith("rq:scheduler_instance:")) {
    const h = sample.hash ?? {};
    if (h.death !== undefined) return null; // a dead instance, see explainKey
    const birth = parseTime(h.birth);
    const name = k.slice("rq:scheduler_instance:".length);
    return record(sample, "rq-scheduler-instance", `scheduler ${name}`, birth === null ? null : now - birth, {
      scheduler: name,
      birth: birth === null ? null : new Date(birth).toISOString(),
      note: "one running rq-scheduler process (its hash expires interval+10 s after its last pass)",
    });
  }
  if (sample.type === "hash" && k.startsWith("rq:cron_scheduler:")) {
    const h = sample.hash ?? {};
    const created = parseTime(h.created_at);
    const name = k.slice("rq:cron_scheduler:".length);
    return record(
      sample,
      "rq-cron",
      HOST_PID(h.hostname, h.pid) ?? `scheduler ${name}`,
      created === null ? null : now - created,
      {
        scheduler: name,
        hostname: h.hostname ?? null,
        pid: h.pid === undefined ? null : Number(h.pid),
        createdAt: h.created_at ?? null,
        lastHeartbeat: h.last_heartbeat ?? null,
        configFile: h.config_file || null,
        note: "one running rq cron scheduler; rq cron takes no lock, so every one of them enqueues every cron job",
      },
    );
  }
  if (
    (sample.type === "hash" && JOBSTORE_JOBS_RE.test(k)) ||
    (sample.type === "zset" && JOBSTORE_TIMES_RE.test(k))
  ) {
    const h = sample.hash ?? {};
    const next = Object.values(h)
      .map(Number)
      .filter(Number.isFinite)
      .sort((a, b) => a - b)[0];
    return record(sample, "apscheduler-jobstore", null, null, {
      store: sample.type === "hash" ? "jobs" : "run_times",
      jobs: sample.length ?? null,
      ...(next !== undefined ? { nextRunAt: new Date(next * 1000).toISOString() } : {}),
      note: "an APScheduler 3 RedisJobStore: it holds jobs, not a lock; every scheduler sharing it runs each job",
    });
  }

  // the user's own keys
  if (userPatterns.length > 0) {
    const latin1 = keyBytesText(k);
    const res = userPatterns.map((p) => (typeof p === "string" ? globToRegExp(p) : p));
    if (res.some((r) => r.test(latin1))) {
      return record(sample, "user-pattern", isString && printable(v) ? v : null, null, {
        ...(isString ? { value: clip(v), ...(sample.valueTruncated ? { valueTruncated: true } : {}) } : {}),
        ...(sample.length !== undefined ? { length: sample.length } : {}),
        ...(sample.hash && sample.type === "hash" ? { fields: sample.hash } : {}),
      });
    }
  }
  return null;
}

/**
 * A one-line note for keys that look like part of a known format but are not a lock: a known lock name with
 * another TYPE, python-redis-lock's lock-signal lists, the rq cron registry, dead rq-scheduler instances.
 */
export function explainKey(sample: KeySample, now: number): string | null {
  const k = sample.key;
  if (sample.type === "none") return null;
  if (isKnownLockName(k) && sample.type !== "string")
    return `${k} is a ${sample.type}, not the string a lock library writes under that name: not counted as a lock`;
  if (k.startsWith("lock-signal:") && sample.type === "list")
    return `${k} (python-redis-lock) exists: lock:${k.slice("lock-signal:".length)} was released in the last second and its waiters woken; not a lock`;
  if (k === "rq:cron_schedulers" && sample.type === "zset") {
    const members = Object.entries(sample.hash ?? {});
    const n = sample.length ?? members.length;
    const shown = members
      .slice(0, 5)
      .map(([name, score]) => {
        const t = Number(score);
        return Number.isFinite(t)
          ? `${name} (heartbeat ${Math.max(0, Math.round((now - t * 1000) / 1000))} s ago)`
          : name;
      })
      .join(", ");
    return `rq:cron_schedulers registers ${n} rq cron scheduler${n === 1 ? "" : "s"}${shown ? `: ${shown}` : ""}; rq cron takes no lock`;
  }
  if (k.startsWith("rq:scheduler_instance:") && sample.type === "hash" && sample.hash?.death !== undefined) {
    const t = parseTime(sample.hash.death);
    return `${k}: rq-scheduler instance stopped${t === null ? "" : ` at ${new Date(t).toISOString()}`}; not counted`;
  }
  if (k.startsWith("rq:scheduler_instance:") && sample.type !== "hash")
    return `${k} is a ${sample.type}, not the hash rq-scheduler writes: not counted`;
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// state from two PTTL samples

/** Tolerance for PTTL's 1 ms granularity and clock rounding between the two samples. */
export const RENEW_SLACK_MS = 5;

/**
 * The lock's state from two PTTL samples taken at least `intervalMs` apart (pass the smallest elapsed time
 * the two replies allow: second request sent minus first reply received). Unrenewed, a TTL falls by at
 * least that much; a PTTL that fell less was renewed in between.
 *   held:     TTL set and renewed (pttl2 > pttl1 - intervalMs + slack)
 *   expiring: TTL falling, not renewed
 *   no-ttl:   PTTL -1 (never expires)
 *   gone:     PTTL -2 (the key vanished)
 *   unknown:  only one sample with a TTL, or a TTL that appeared between the samples (re-acquired)
 */
export function lockState(pttl1: number, pttl2: number | null, intervalMs: number): LockState {
  if (pttl1 === -2 || pttl2 === -2) return "gone";
  if (pttl2 === null) return pttl1 === -1 ? "no-ttl" : "unknown";
  if (pttl2 === -1) return "no-ttl";
  if (pttl1 === -1) return "unknown";
  return pttl2 > pttl1 - intervalMs + RENEW_SLACK_MS ? "held" : "expiring";
}
