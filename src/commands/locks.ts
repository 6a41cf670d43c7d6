import { UsageError } from "../errors.js";
import { progressReporter } from "../facts/live.js";
import type { LockRecord, RedisServerReport } from "../locks/types.js";
import { formatDuration } from "../render/duration.js";
import { renderLocksText } from "../render/locks.js";
import { SCHEMA_VERSION } from "../render/types.js";
import { networkOptions, validateRedisUrls } from "./options.js";

export interface LocksListOptions {
  redis: string[];
  lockFile: string[];
  pattern: string[];
  all?: boolean;
  format: "text" | "json";
  sampleInterval?: string;
  timeout?: string;
}

function lockJson(l: LockRecord) {
  return {
    backend: l.backend,
    name: l.name,
    kind: l.kind,
    state: l.state,
    owner: l.owner,
    ttlMs: l.ttlMs,
    heldForMs: l.heldForMs,
    holders: l.holders.map((h) => ({
      pid: h.pid,
      command: h.command,
      role: h.role,
      ...(h.container ? { container: h.container } : {}),
    })),
    where: l.where,
    details: l.details,
  };
}

interface Sources {
  redis: RedisServerReport[];
  fileLocks: { available: boolean; reason: string | null; notes: string[] };
}

async function gather(opts: LocksListOptions): Promise<{ locks: LockRecord[]; sources: Sources }> {
  const { timeoutMs, sampleIntervalMs } = networkOptions(opts);
  await validateRedisUrls(opts.redis);
  const { gatherFileLocks } = await import("../facts/procs.js");
  const [fl, redis] = await Promise.all([
    gatherFileLocks({ lockFiles: opts.lockFile }),
    opts.redis.length === 0
      ? Promise.resolve([] as RedisServerReport[])
      : import("../locks/redis-probe.js").then(({ probeRedis }) =>
          probeRedis({
            urls: opts.redis,
            patterns: opts.pattern,
            sampleIntervalMs,
            timeoutMs,
            onProgress: progressReporter("scanning Redis"),
          }),
        ),
  ]);
  if (opts.redis.length > 0 && process.stderr.isTTY) process.stderr.write("\r\u001b[K");
  const lockPaths = new Set(opts.lockFile);
  // Unheld --lock-file paths come back as stale/gone records: the answer to "is my scheduler running?".
  const fileLocks = opts.all
    ? fl.locks
    : fl.locks.filter((l) => lockPaths.has(l.name) || l.holders.some((h) => h.role !== "other"));
  return {
    locks: [...fileLocks, ...redis.flatMap((r) => r.locks)],
    sources: { redis, fileLocks: { available: fl.available, reason: fl.reason, notes: fl.notes } },
  };
}

function reportProblems(sources: Sources): number {
  let code = 0;
  for (const r of sources.redis) {
    if (!r.ok) {
      process.stderr.write(`schedctl: ${r.url}: ${r.error}\n`);
      code = 3;
    }
  }
  if (!sources.fileLocks.available)
    process.stderr.write(`schedctl: file locks: ${sources.fileLocks.reason}\n`);
  return code;
}

/** `schedctl locks list`: exit 0, or 3 when a Redis could not be read (what could be read is still shown). */
export async function locksList(opts: LocksListOptions): Promise<number> {
  const { locks, sources } = await gather(opts);
  const code = reportProblems(sources);
  if (opts.format === "json") {
    const doc = {
      schemaVersion: SCHEMA_VERSION,
      locks: locks.map(lockJson),
      sources: {
        redis: sources.redis.map((r) => ({
          url: r.url,
          mode: r.mode,
          ok: r.ok,
          error: r.error,
          nodes: r.nodes,
          keysScanned: r.keysScanned,
        })),
        fileLocks: sources.fileLocks,
      },
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(renderLocksText(locks));
  }
  return code;
}

export interface LocksProbeOptions {
  redis: string[];
  format: "text" | "json";
  sampleInterval?: string;
  timeout?: string;
}

/** `schedctl locks probe NAME`: exit 0 when held (and renewing, for Redis), 1 when not, 3 when unreachable. */
export async function locksProbe(name: string, opts: LocksProbeOptions): Promise<number> {
  const { timeoutMs, sampleIntervalMs } = networkOptions(opts);
  let lock: LockRecord;
  if (opts.redis.length > 1) throw new UsageError("locks probe: give one --redis URL");
  const url = opts.redis[0];
  if (url !== undefined) {
    await validateRedisUrls([url]);
    const { probeLock } = await import("../locks/redis-probe.js");
    lock = await probeLock(url, name, { sampleIntervalMs, timeoutMs });
  } else {
    if (!name.startsWith("/"))
      throw new UsageError(
        `locks probe ${JSON.stringify(name)}: a lock file needs an absolute path (or give --redis URL for a Redis key)`,
      );
    const { gatherFileLocks } = await import("../facts/procs.js");
    const fl = await gatherFileLocks({ lockFiles: [name] });
    const held = fl.locks.filter((l) => l.name === name && l.state === "held");
    const unheld = fl.locks.find((l) => l.name === name);
    if (!unheld) throw new Error(`no record for --lock-file ${name}`);
    lock = held[0] ?? unheld;
    if (held.length > 1)
      lock = { ...lock, details: { ...lock.details, sameLockOnOtherFiles: held.length - 1 } };
  }
  if (opts.format === "json")
    process.stdout.write(
      `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, lock: lockJson(lock) }, null, 2)}\n`,
    );
  else process.stdout.write(describeProbe(lock));
  return lock.state === "held" ? 0 : 1;
}

export function describeProbe(l: LockRecord): string {
  const lines = [`${l.name} (${l.backend}, ${l.kind}): ${l.state}`];
  if (l.owner) lines.push(`  owner:    ${l.owner}`);
  if (l.heldForMs !== null) lines.push(`  held for: ${formatDuration(l.heldForMs)}`);
  if (l.backend === "redis")
    lines.push(
      `  ttl:      ${formatDuration(l.ttlMs)}${l.state === "held" ? " (renewing)" : l.state === "expiring" ? " (not renewed)" : ""}`,
    );
  for (const h of l.holders) lines.push(`  holder:   pid ${h.pid} ${h.role} ${h.command}`);
  lines.push(`  where:    ${l.where}`);
  return `${lines.join("\n")}\n`;
}

export interface LocksReleaseOptions {
  redis: string[];
  token?: string;
  force?: boolean;
  sampleInterval?: string;
  timeout?: string;
}

/** `schedctl locks release NAME --redis URL`: the only write the tool ever makes. */
export async function locksRelease(name: string, opts: LocksReleaseOptions): Promise<number> {
  const url = opts.redis[0];
  if (url === undefined || opts.redis.length > 1)
    throw new UsageError("locks release: give exactly one --redis URL");
  await validateRedisUrls([url]);
  const { timeoutMs, sampleIntervalMs } = networkOptions(opts);
  const { releaseRedisLock } = await import("../locks/redis-release.js");
  const out = await releaseRedisLock(url, name, {
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    force: Boolean(opts.force),
    sampleIntervalMs,
    timeoutMs,
  });
  process.stdout.write(`${out.message}\n`);
  return out.outcome === "deleted" ? 0 : 1;
}
