/**
 * `schedctl locks release NAME`: the ONLY command that writes to Redis. It breaks one lock with an atomic
 * compare-and-delete (the EVAL below, the same check redis-py's release script makes), where the token is the
 * value it read just before (or --token). Before that it samples PTTL twice, `sampleIntervalMs` apart, and
 * refuses a lock whose TTL was renewed in between (a live holder) unless `force`.
 */
import type { Cluster, Redis } from "ioredis";
import { RunError } from "../errors.js";
import { escapeKey, lockState, unescapeKey } from "./redis-classify.js";
import { describeRedisError, openRedis, type RedisConnection } from "./redis-probe.js";
import { parseRedisUrl } from "./redis-url.js";

/** KEYS[1] = the lock, ARGV[1] = the token it must still hold. Returns 1 when deleted, 0 otherwise. */
export const COMPARE_AND_DELETE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export type ReleaseResult = "deleted" | "not-found" | "token-mismatch" | "refused-renewing" | "not-a-string";

export interface ReleaseOptions {
  /** The value the lock must hold (escaped text like key names); default: the value read just before. */
  token?: string;
  /** Delete even when the TTL was renewed between the two samples. */
  force: boolean;
  sampleIntervalMs: number;
  timeoutMs: number;
}

export interface ReleaseOutcome {
  outcome: ReleaseResult;
  /** One line saying exactly what was done (or not) and why. */
  message: string;
  /** The key as text (\xNN escapes). */
  key: string;
  /** The server (or "cluster"/"sentinel" label), password redacted. */
  where: string;
  /** The token compared (escaped), null when nothing was compared. */
  token: string | null;
  /** PTTL samples before the delete: [first, second]. */
  pttl: [number, number] | null;
  /** True when the delete script ran (the only write). */
  wrote: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v));

function ttlText(pttl: number): string {
  return pttl === -1 ? "no TTL" : pttl >= 0 ? `TTL ${(pttl / 1000).toFixed(1)} s` : "no key";
}

/**
 * Releases one Redis lock by compare-and-delete. Throws UsageError for a bad URL and RunError when the server
 * cannot be reached or read; every other result is an outcome with a message.
 */
export async function releaseRedisLock(
  url: string,
  key: string,
  opts: ReleaseOptions,
): Promise<ReleaseOutcome> {
  const target = parseRedisUrl(url);
  const keyBuf = unescapeKey(key);
  const keyText = escapeKey(keyBuf);
  let conn: RedisConnection;
  try {
    conn = await openRedis(target, opts.timeoutMs);
  } catch (e) {
    throw new RunError(
      `${target.redacted}: ${describeRedisError(e, target, opts.timeoutMs, target.redacted).message}`,
    );
  }
  const where = conn.masters.length === 1 ? (conn.masters[0]?.label ?? target.redacted) : target.redacted;
  const c: Redis | Cluster = conn.client;
  const out = (
    outcome: ReleaseResult,
    message: string,
    extra: Partial<ReleaseOutcome> = {},
  ): ReleaseOutcome => ({
    outcome,
    message,
    key: keyText,
    where,
    token: null,
    pttl: null,
    wrote: false,
    ...extra,
  });
  try {
    const type = text(await c.type(keyBuf));
    if (type === "none") return out("not-found", `${keyText}: no such key on ${where}; nothing deleted`);
    if (type !== "string")
      return out("not-a-string", `${keyText} is a ${type}, not a string lock, on ${where}; nothing deleted`);

    const p1 = await c.pttl(keyBuf);
    const t1 = performance.now();
    if (opts.sampleIntervalMs > 0) await sleep(opts.sampleIntervalMs);
    const sent = performance.now();
    const [p2, value] = await Promise.all([c.pttl(keyBuf), c.getBuffer(keyBuf)]);
    if (p2 === -2 || value === null)
      return out(
        "not-found",
        `${keyText} expired or was released while sampling on ${where}; nothing deleted`,
        {
          pttl: [p1, p2],
        },
      );
    const state = lockState(p1, p2, Math.max(0, Math.round(sent - t1)));
    const tokenBuf = opts.token !== undefined ? unescapeKey(opts.token) : value;
    const tokenText = escapeKey(tokenBuf);
    if (state === "held" && !opts.force)
      return out(
        "refused-renewing",
        `refused: ${keyText} on ${where} is being renewed (PTTL ${p1} ms, then ${p2} ms ${Math.round(sent - t1)} ms later): its holder is alive; nothing deleted (use --force to break it anyway)`,
        { token: tokenText, pttl: [p1, p2] },
      );

    const r = Number(await c.eval(COMPARE_AND_DELETE, 1, keyBuf, tokenBuf));
    if (r === 1) {
      const why =
        state === "held"
          ? `although it was being renewed (--force)`
          : state === "no-ttl"
            ? "it had no TTL"
            : `it was not renewed (${ttlText(p2)})`;
      return out("deleted", `deleted ${keyText} on ${where} (token ${tokenText}): ${why}`, {
        token: tokenText,
        pttl: [p1, p2],
        wrote: true,
      });
    }
    // Not deleted: tell a vanished key from a different holder (a read only, for the message).
    const after = await c.getBuffer(keyBuf).catch(() => null);
    if (after === null)
      return out("not-found", `${keyText} disappeared before the delete on ${where}; nothing deleted`, {
        token: tokenText,
        pttl: [p1, p2],
        wrote: true,
      });
    return out(
      "token-mismatch",
      `${keyText} on ${where} holds ${escapeKey(after)}, not ${tokenText}: another holder has it now; nothing deleted`,
      { token: tokenText, pttl: [p1, p2], wrote: true },
    );
  } catch (e) {
    if (e instanceof Error && /WRONGTYPE/.test(e.message))
      return out("not-a-string", `${keyText} changed to a non-string type on ${where}; nothing deleted`);
    throw new RunError(`${target.redacted}: ${describeRedisError(e, target, opts.timeoutMs, where).message}`);
  } finally {
    conn.close();
  }
}
