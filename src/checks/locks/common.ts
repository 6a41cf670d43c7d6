import type { Facts } from "../../facts/types.js";
import type { LockHolder, LockRecord } from "../../locks/types.js";
import type { CheckResult } from "../types.js";

export function describeHolders(holders: LockHolder[], max = 4): string {
  if (holders.length === 0) return "no holder";
  const shown = holders
    .slice(0, max)
    .map((h) => `pid ${h.pid} (${h.role === "other" ? h.command.split(" ")[0] : h.role})`);
  return holders.length > max ? `${shown.join(", ")} and ${holders.length - max} more` : shown.join(", ");
}

/** File locks that belong to the app: on a --lock-file path, or held by a Python or Gunicorn process. */
export function schedulerFileLocks(facts: Facts): LockRecord[] {
  const fl = facts.live.fileLocks;
  if (!fl) return [];
  const paths = new Set(facts.live.lockFilePaths);
  return fl.locks.filter((l) => paths.has(l.name) || l.holders.some((h) => h.role !== "other"));
}

/** Kinds of Redis keys that are a scheduler's or job's lock (not stores or registries). */
export const REDIS_LOCK_KINDS = new Set([
  "redis-py",
  "python-redis-lock",
  "pottery-redlock",
  "redbeat",
  "rq",
  "rq-scheduler",
  "celery-beatx",
  "celerybeat-redis",
  "schedctl",
  "user-pattern",
]);

export { lockTable } from "../../render/locks.js";

/** The skip of a check that reads processes on a target without a process view (a --root, say). */
export function noProcessView(facts: Facts): CheckResult {
  return {
    status: "skip",
    summary: facts.live.fileLocksSkipped ?? "no process view",
    details: [],
    evidence: {},
  };
}
