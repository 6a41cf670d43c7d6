import type { ProcessInfo } from "../../locks/types.js";
import { noProcessView, schedulerFileLocks } from "../locks/common.js";
import type { CheckDefinition, CheckResult } from "../types.js";

export const workersLive: CheckDefinition = {
  id: "workers.live",
  group: "workers",
  needs: ["live"],
  title: "Gunicorn processes on the target",
  description:
    "Lists the Gunicorn masters running on the target (from /proc), how many workers each has, and which processes hold the scheduler lock. Several workers with no lock held means every worker may start its own scheduler.",
  run(facts): CheckResult {
    const fl = facts.live.fileLocks;
    if (!fl) return noProcessView(facts);
    const masters = fl.processes.filter((p) => p.role === "gunicorn-master");
    if (masters.length === 0)
      return { status: "skip", summary: "no Gunicorn master runs on this target", details: [], evidence: {} };
    const workersOf = (m: ProcessInfo) =>
      fl.processes.filter((p) => p.role === "gunicorn-worker" && p.gunicornMaster === m.pid);
    const lockHolders = new Set(schedulerFileLocks(facts).flatMap((l) => l.holders.map((h) => h.pid)));
    const rows = masters.map((m) => {
      const ws = workersOf(m);
      const holding = [m, ...ws].filter((p) => lockHolders.has(p.pid)).map((p) => p.pid);
      return { master: m, workers: ws, holding };
    });
    const evidence = {
      table: {
        columns: ["master", "command", "workers", "lock held by", "container"],
        rows: rows.map((r) => [
          String(r.master.pid),
          r.master.command.slice(0, 60),
          String(r.workers.length),
          r.holding.length > 0 ? r.holding.join(",") : "-",
          r.master.container?.slice(0, 12) ?? "-",
        ]),
      },
      masters: rows.map((r) => ({
        pid: r.master.pid,
        command: r.master.command,
        workers: r.workers.map((w) => w.pid),
        lockHeldBy: r.holding,
      })),
    };
    const details: string[] = [];
    let status: "pass" | "warn" = "pass";
    for (const r of rows) {
      const n = r.workers.length;
      if (n > 1 && r.holding.length === 0) {
        status = "warn";
        details.push(
          `master ${r.master.pid} has ${n} workers and none holds a scheduler lock: if each starts the scheduler, every job runs ${n} times`,
        );
      } else if (r.holding.length > 1) {
        details.push(
          `master ${r.master.pid}: the lock is shared by ${r.holding.length} processes (taken before fork, e.g. --preload); only the process whose thread runs the scheduler does work`,
        );
      }
    }
    const total = rows.reduce((n, r) => n + r.workers.length, 0);
    return {
      status,
      summary:
        status === "warn"
          ? (details[0] ?? "")
          : `${masters.length} Gunicorn master${masters.length > 1 ? "s" : ""} with ${total} worker${total === 1 ? "" : "s"}${lockHolders.size > 0 ? `; the scheduler lock is held by ${[...lockHolders].join(", ")}` : ""}`,
      details: status === "warn" ? details.slice(1) : details,
      evidence,
    };
  },
};
