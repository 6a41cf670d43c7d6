import { gunicornInstances, schedulerInstances } from "../../deploy/model.js";
import {
  type DeployCheckDefinition,
  modelOf,
  noStarts,
  nothingFound,
  settingFix,
  skip,
  sourcesLine,
} from "../deploy/common.js";
import type { CheckResult } from "../types.js";

export const workersRecycling: DeployCheckDefinition = {
  id: "workers.recycling",
  group: "workers",
  needs: ["deploy"],
  title: "Worker recycling (max_requests) on the scheduler instance",
  description:
    "Checks max_requests (with Gunicorn's precedence) on every instance whose scheduler runs inside a worker. Gunicorn replaces a worker after max_requests (+ random jitter) requests; the BackgroundScheduler thread dies with it, mid-job, and a new one starts only if the new worker's import starts it again (never with a worker.age == 1 guard).",
  run(facts): CheckResult {
    const m = modelOf(facts);
    if (gunicornInstances(m).length === 0) return skip(nothingFound(facts));
    if (!m.hasStarts) return skip(noStarts(facts));
    const sched = schedulerInstances(m).filter((i) => i.role === "gunicorn");
    if (sched.length === 0)
      return {
        status: "pass",
        summary: "no Gunicorn worker runs the scheduler, so recycling workers cannot kill it",
        details: [],
        evidence: {},
      };
    const rows: string[][] = [];
    const details: string[] = [];
    let worst: { status: "fail" | "warn"; summary: string; inst: (typeof sched)[number] } | null = null;
    for (const i of sched) {
      const mr = i.settings?.max_requests;
      const jit = i.settings?.max_requests_jitter;
      if (!mr) continue;
      rows.push([i.id, i.scheduler.where, String(mr.value ?? "?"), String(jit?.value ?? 0), mr.decidedBy]);
      details.push(`${i.id}: max_requests = ${mr.value ?? "?"}\n    ${sourcesLine(mr)}`);
      if (i.scheduler.where !== "workers") {
        details.push(
          `${i.id}: the scheduler runs in the ${i.scheduler.where}, which recycling does not replace`,
        );
        continue;
      }
      const v = typeof mr.value === "number" ? mr.value : null;
      if (v !== null && v > 0) {
        const jitter =
          typeof jit?.value === "number" && jit.value > 0 ? ` (+ up to ${jit.value} jitter)` : "";
        const summary = i.scheduler.ageGuard
          ? `${i.id} recycles workers every ${v}${jitter} requests and starts the scheduler only in the worker with age 1: after the first recycle no scheduler runs at all`
          : `${i.id} recycles the scheduler's worker every ${v}${jitter} requests (${mr.decidedBy}: ${mr.sources.find((s) => s.wins)?.raw}): the in-worker scheduler dies mid-job and restarts with the next worker`;
        if (worst?.status !== "fail") worst = { status: "fail", summary, inst: i };
      } else if (v === null && !worst) {
        worst = {
          status: "warn",
          summary: `${i.id}: max_requests cannot be determined (${mr.unknown?.dependsOn.join(", ") ?? mr.startupError ?? "unknown"})`,
          inst: i,
        };
      }
    }
    const evidence = {
      table: { columns: ["instance", "scheduler in", "max_requests", "jitter", "decided by"], rows },
    };
    if (!worst) {
      return {
        status: "pass",
        summary: `max_requests is 0 on ${sched.map((i) => i.id).join(", ")}: workers running the scheduler are never recycled`,
        details,
        evidence,
      };
    }
    const fix = settingFix(worst.inst, "max_requests", "0");
    return {
      status: worst.status,
      summary: worst.summary,
      details,
      evidence,
      fix: {
        text: `Never recycle the scheduler's worker (max_requests = 0, no --max-requests). ${fix.text}`,
        commands: fix.commands,
      },
    };
  },
};
