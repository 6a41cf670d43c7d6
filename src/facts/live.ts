import { access } from "node:fs/promises";
import { UsageError } from "../errors.js";
import type { RedisServerReport } from "../locks/types.js";
import type { Target } from "../targets/target.js";
import type { LiveFacts } from "./types.js";

export interface LiveOptions {
  lockFiles?: string[];
  redisUrls?: string[];
  patterns?: string[];
  logs?: string[];
  url?: string;
  samples?: number;
  sampleIntervalMs?: number;
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;
export const DEFAULT_SAMPLES = 10;
/**
 * Interval jobs in different workers run out of phase: two runs of one interval job this close together
 * (and under half its interval apart) are one scheduled run executed twice.
 */
export const RUN_TOLERANCE_MS = 2000;

/** Rejects bad live inputs before anything runs: a --logs file that does not exist is a usage error. */
export async function validateLiveOptions(opts: LiveOptions): Promise<void> {
  const logs = opts.logs ?? [];
  if (logs.filter((l) => l === "-").length > 1)
    throw new UsageError("--logs -: standard input can be read only once");
  if (logs.includes("-") && process.stdin.isTTY) {
    throw new UsageError(
      "--logs -: standard input is a terminal; pipe the log in (zcat app.log.gz | schedctl doctor --logs -)",
    );
  }
  for (const l of logs) {
    if (l === "-") continue;
    await access(l).catch(() => {
      throw new UsageError(`--logs ${l}: no such file`);
    });
  }
  if (opts.url !== undefined) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new UsageError(`--url ${JSON.stringify(opts.url)}: not a URL`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new UsageError(`--url ${u.protocol}//...: only http and https`);
  }
}

/**
 * Gathers the live facts, each source only when asked for and each module imported only then (ioredis and
 * the /proc walker stay out of `doctor --only tz`). Sources run concurrently; each has its own timeout.
 */
export async function gatherLiveFacts(target: Target, opts: LiveOptions): Promise<LiveFacts> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lockFiles = opts.lockFiles ?? [];

  const fileLocks = target.live
    ? import("./procs.js").then(({ gatherFileLocks }) => gatherFileLocks({ lockFiles }))
    : Promise.resolve(null);
  const fileLocksSkipped = target.live
    ? null
    : target.kind === "container"
      ? `the process view of ${target.description} is not read through docker exec; run schedctl on the host or inside the container`
      : `${target.description} has no live processes`;

  const urls = opts.redisUrls ?? [];
  const redis: Promise<RedisServerReport[]> =
    urls.length === 0
      ? Promise.resolve([])
      : import("../locks/redis-probe.js").then(({ probeRedis }) =>
          probeRedis({
            urls,
            patterns: opts.patterns ?? [],
            sampleIntervalMs: opts.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS,
            timeoutMs,
            onProgress: progressReporter("scanning Redis"),
          }),
        );

  const logPaths = opts.logs ?? [];
  const logs =
    logPaths.length === 0
      ? Promise.resolve(null)
      : import("../runs/logs.js").then(({ analyzeLogs }) =>
          analyzeLogs(logPaths, { toleranceMs: RUN_TOLERANCE_MS }),
        );

  const url = opts.url;
  const http =
    url === undefined
      ? Promise.resolve(null)
      : import("../runs/http.js").then(({ sampleSchedulerApi }) =>
          sampleSchedulerApi(url, { samples: opts.samples ?? DEFAULT_SAMPLES, timeoutMs }),
        );

  const [fl, r, l, h] = await Promise.all([fileLocks, redis, logs, http]);
  if (urls.length > 0 && process.stderr.isTTY) process.stderr.write("\r\u001b[K");
  return { fileLocks: fl, fileLocksSkipped, lockFilePaths: lockFiles, redis: r, logs: l, http: h };
}

/** "\rscanning Redis: 120000 keys" on stderr, only when stderr is a terminal. */
export function progressReporter(label: string): ((n: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (n: number) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    process.stderr.write(`\r${label}: ${n} keys\u001b[K`);
  };
}
