import { gunicornInstances, type Instance, schedulerInstances } from "../../deploy/model.js";
import {
  type DeployCheckDefinition,
  instanceEvidence,
  instanceTable,
  modelOf,
  noStarts,
  nothingFound,
  plural,
  settingFix,
  skip,
  sourcesLine,
  workersText,
} from "../deploy/common.js";
import type { CheckResult } from "../types.js";

const GUARD_NAMES: Record<string, string> = {
  "file-lock": "a file lock",
  "socket-lock": "a bound socket",
  "redis-lock": "a Redis lock",
  "db-lock": "a database advisory lock",
};

export const workersConfig: DeployCheckDefinition = {
  id: "workers.config",
  group: "workers",
  needs: ["deploy"],
  title: "Gunicorn worker count of the scheduler instance",
  description:
    "Computes the number of Gunicorn workers of every instance that starts the scheduler from every source Gunicorn itself reads, with its precedence: command line (Dockerfile CMD/ENTRYPOINT, compose command, Kubernetes command/args, entrypoint scripts) > GUNICORN_CMD_ARGS > gunicorn.conf.py (evaluated, e.g. WORKERS_COUNT) > WEB_CONCURRENCY > 1. Lists every source and the one that wins; fails when the scheduler instance runs more than one worker and nothing lets only one of them start it.",
  run(facts): CheckResult {
    const m = modelOf(facts);
    const gi = gunicornInstances(m);
    if (gi.length === 0) return skip(nothingFound(facts));
    // A Gunicorn that refuses to start is a failure whatever else it runs.
    const broken = gi.find((i) => i.startupErrors.length > 0);
    if (broken)
      return {
        status: "fail",
        summary: `Gunicorn in ${broken.id} would not start: ${broken.startupErrors[0]}`,
        details: [
          ...broken.startupErrors.slice(1),
          ...gi
            .filter((i) => i !== broken && i.startupErrors.length > 0)
            .map((i) => `${i.id}: ${i.startupErrors[0]}`),
        ],
        evidence: { table: instanceTable(gi), instances: gi.map(instanceEvidence) },
        fix: {
          text: "Fix the value Gunicorn rejects (it exits before starting any worker):",
          commands: [broken.startupErrors[0] ?? ""],
        },
      };
    if (!m.hasStarts)
      return {
        status: "pass",
        summary: `${noStarts(facts)}; Gunicorn workers: ${gi.map((i) => `${i.id} ${workersText(i)} (${i.settings?.workers.decidedBy ?? "?"})`).join(", ")}`,
        details: gi.map((i) => `${i.id}: workers\n    ${i.settings ? sourcesLine(i.settings.workers) : "-"}`),
        evidence: { table: instanceTable(gi), instances: gi.map(instanceEvidence) },
      };
    const sched = schedulerInstances(m).filter((i) => i.role === "gunicorn");
    const targets = sched;
    const evidence: Record<string, unknown> = {
      table: instanceTable(targets.length > 0 ? targets : gi),
      instances: (targets.length > 0 ? targets : gi).map(instanceEvidence),
    };
    if (targets.length === 0) {
      const other = schedulerInstances(m);
      return {
        status: "pass",
        summary:
          other.length > 0
            ? `the scheduler runs outside Gunicorn (${other.map((i) => i.id).join(", ")}); Gunicorn's worker count does not multiply it`
            : "no Gunicorn instance starts the scheduler (see workers.guard)",
        details: gi.map(
          (i) => `${i.id}: ${i.settings?.workers.value ?? "?"} workers (${i.settings?.workers.decidedBy})`,
        ),
        evidence,
      };
    }
    const details: string[] = [];
    const problems: { status: "fail" | "warn"; summary: string; inst: Instance }[] = [];
    for (const i of targets) {
      const w = i.settings?.workers;
      if (!w) continue;
      const head = `${i.id}: workers = ${w.value ?? (w.unknown ? `?` : "?")} (decided by ${w.decidedBy}${w.sources.find((s) => s.wins) ? ` at ${w.sources.find((s) => s.wins)?.where}` : ""})`;
      details.push(`${head}\n    ${sourcesLine(w)}`);
      if (i.startupErrors.length > 0) {
        problems.push({
          status: "fail",
          summary: `Gunicorn in ${i.id} would not start: ${i.startupErrors[0]}`,
          inst: i,
        });
        continue;
      }
      const n = typeof w.value === "number" ? w.value : null;
      const min = n ?? (w as { min?: number | null }).min ?? null;
      if (n === 0) {
        problems.push({
          status: "fail",
          summary: `${i.id} runs 0 workers (${w.sources.find((s) => s.wins)?.raw}): Gunicorn starts no worker, so nothing serves requests`,
          inst: i,
        });
        continue;
      }
      if (min !== null && min > 1) {
        const s = i.scheduler;
        const count = n !== null ? String(n) : `at least ${min}`;
        if (s.lockScope !== "none") {
          const g = s.guards.find((x) => GUARD_NAMES[x.kind]);
          details.push(
            `${i.id}: ${count} workers, but ${GUARD_NAMES[g?.kind ?? ""] ?? "a lock"} (${g?.file}:${g?.line}) lets only one of them run the scheduler`,
          );
        } else if (s.where === "master") {
          problems.push({
            status: "warn",
            summary: `${i.id} runs ${count} workers; the scheduler lives in the master (--preload), but every worker answers the scheduler API with a dead copy (see workers.preload)`,
            inst: i,
          });
        } else if (s.ageGuard) {
          problems.push({
            status: "warn",
            summary: `${i.id} runs ${count} workers and relies on worker.age == 1, which no worker has after the first recycle (see workers.recycling)`,
            inst: i,
          });
        } else {
          problems.push({
            status: s.runs === "yes" ? "fail" : "warn",
            summary: `${i.id} ${s.runs === "yes" ? "starts the scheduler and" : "may start the scheduler and"} runs ${count} Gunicorn workers (${w.decidedBy}: ${w.sources.find((x) => x.wins)?.raw}): ${count} schedulers per container, every job runs ${count} times`,
            inst: i,
          });
        }
      } else if (n === null && w.unknown) {
        problems.push({
          status: "warn",
          summary: `${i.id}: the worker count depends on ${w.unknown.dependsOn.join(", ")} (${w.unknown.expr}); on one CPU it is ${min ?? "?"}`,
          inst: i,
        });
      }
    }
    const worst = problems.find((p) => p.status === "fail") ?? problems[0];
    if (!worst) {
      const i = targets[0] as Instance;
      return {
        status: "pass",
        summary: `${targets.length === 1 ? `the scheduler instance ${i.id} runs` : `${plural(targets.length, "scheduler instance")} run`} ${targets.map((t) => t.settings?.workers.value ?? "?").join("/")} worker${targets.every((t) => t.settings?.workers.value === 1) ? "" : "s"} (decided by ${i.settings?.workers.decidedBy}: ${i.settings?.workers.sources.find((s) => s.wins)?.raw}${i.settings?.workers.sources.find((s) => s.wins)?.note ? `, ${i.settings?.workers.sources.find((s) => s.wins)?.note}` : ""})`,
        details,
        evidence,
      };
    }
    const fix = worst.inst.startupErrors.length > 0 ? undefined : settingFix(worst.inst, "workers", "1");
    return {
      status: worst.status,
      summary: worst.summary,
      details: [...problems.filter((p) => p !== worst).map((p) => p.summary), ...details],
      evidence,
      fix: fix
        ? {
            text: `Run the scheduler instance with exactly one worker (and give the web traffic its own instance). ${fix.text}`,
            commands: fix.commands,
          }
        : {
            text: "Make Gunicorn start: fix the value it rejects.",
            commands: [worst.inst.startupErrors[0] ?? ""],
          },
    };
  },
};
