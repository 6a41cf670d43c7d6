import type { Facts } from "../../facts/types.js";
import type { CheckDefinition, CheckResult } from "../types.js";
import { REDIS_LOCK_KINDS, schedulerFileLocks } from "./common.js";

interface Signal {
  source: string;
  /** How many live scheduler instances this signal proves (a lower bound). */
  instances: number;
  says: string;
}

/** Each signal is a lower bound on the number of schedulers running; the verdict is the largest. */
export function schedulerSignals(facts: Facts): Signal[] {
  const out: Signal[] = [];
  const logs = facts.live.logs;
  if (logs) {
    const worst = logs.duplicates.reduce((m, d) => Math.max(m, d.count), 0);
    const runners = new Set(logs.duplicates.flatMap((d) => d.runners));
    out.push({
      source: "runs.logs",
      instances: Math.max(worst, runners.size, logs.runs > 0 ? 1 : 0),
      says:
        worst > 1
          ? `the same job ran ${worst} times for one scheduled time (${logs.duplicates.length + logs.truncatedDuplicates} duplicated runs)`
          : `${logs.runs} runs, none duplicated`,
    });
  }
  const http = facts.live.http;
  if (http) {
    const running = http.hosts.filter((h) => h.running > 0);
    out.push({
      source: "runs.http",
      instances: running.length,
      says: `${running.length} of ${http.hosts.length} hosts answering ${http.url} say running: true`,
    });
  }
  const fileLocks = schedulerFileLocks(facts).filter((l) => l.state === "held");
  if (fileLocks.length > 0) {
    const byPath = new Map<string, Set<string>>();
    for (const l of fileLocks) byPath.set(l.name, (byPath.get(l.name) ?? new Set()).add(l.where));
    const most = Math.max(...[...byPath.values()].map((s) => s.size));
    out.push({
      source: "locks.file",
      instances: most,
      says: most > 1 ? `one scheduler lock file held per container (${most} files)` : "one file lock held",
    });
  }
  const redisLocks = facts.live.redis
    .flatMap((s) => s.locks)
    .filter((l) => REDIS_LOCK_KINDS.has(l.kind) && l.state !== "gone");
  if (redisLocks.length > 0) {
    out.push({
      source: "locks.redis",
      instances: 1,
      says: `${redisLocks.length} Redis lock${redisLocks.length > 1 ? "s" : ""} held, one owner each`,
    });
  }
  const cron = facts.live.redis
    .flatMap((s) => s.locks)
    .filter((l) => l.kind === "rq-cron" || l.kind === "rq-scheduler-instance");
  if (cron.length > 1)
    out.push({
      source: "locks.redis",
      instances: cron.length,
      says: `${cron.length} registered scheduler instances in Redis`,
    });
  return out;
}

export const locksVerdict: CheckDefinition = {
  id: "locks.verdict",
  group: "locks",
  needs: ["live"],
  title: "How many schedulers really run",
  description:
    "Puts every live signal together (duplicate runs in the logs, hosts answering running: true through the load balancer, file locks per container, Redis locks and registries) and reports how many scheduler instances they prove are running; more than one fails, with the evidence.",
  run(facts): CheckResult {
    const signals = schedulerSignals(facts);
    const evidence = { signals };
    if (signals.length === 0) {
      return {
        status: "skip",
        summary: "no live evidence: give --logs, --url, --lock-file or --redis",
        details: [],
        evidence,
      };
    }
    const n = Math.max(...signals.map((s) => s.instances));
    const details = signals.map((s) => `${s.source}: ${s.says}`);
    if (n > 1) {
      return {
        status: "fail",
        summary: `at least ${n} schedulers are running: every job runs ${n} times`,
        details,
        evidence: { ...evidence, instances: n },
        fix: {
          text: "Run exactly one scheduler: one single-worker scheduler instance (WORKERS_COUNT=1), the scheduler disabled in the web pool, and a leader lock across hosts. `schedctl gen all` writes that kit; `schedctl gen lock` just the Redis leader lock.",
          commands: [
            "SCHEDULER_ENABLED=0   # web pool",
            "SCHEDULER_ENABLED=1 WORKERS_COUNT=1   # the one scheduler instance",
          ],
        },
      };
    }
    return {
      status: n === 1 ? "pass" : "warn",
      summary: n === 1 ? "exactly one scheduler is running" : "no scheduler appears to be running",
      details,
      evidence: { ...evidence, instances: n },
    };
  },
};
