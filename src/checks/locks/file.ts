import type { CheckDefinition, CheckResult } from "../types.js";
import { describeHolders, lockTable, noProcessView, schedulerFileLocks } from "./common.js";

export const locksFile: CheckDefinition = {
  id: "locks.file",
  group: "locks",
  needs: ["live"],
  title: "Scheduler file locks",
  description:
    "Reads the kernel's file locks (/proc/locks, then every holder through /proc/PID/fdinfo, as lslocks does) for the --lock-file paths and any lock a Python or Gunicorn process holds: who holds it (all processes sharing it after fork), stale lock files nobody holds, and one lock file per container (a per-container lock keeps nothing apart across instances). Never takes or creates a lock.",
  run(facts): CheckResult {
    const fl = facts.live.fileLocks;
    if (!fl) return noProcessView(facts);
    if (!fl.available)
      return {
        status: "skip",
        summary: `file locks not readable: ${fl.reason ?? "unknown reason"}`,
        details: fl.notes,
        evidence: {},
      };
    const locks = schedulerFileLocks(facts);
    const evidence = { table: lockTable(locks), lockFiles: fl.lockFiles, notes: fl.notes };
    const details: string[] = [];
    let status: "pass" | "warn" | "fail" = "pass";

    // The same path locked on different inodes: every container (or mount namespace) has its own file.
    const byPath = new Map<string, Set<string>>();
    for (const l of locks) {
      if (l.state !== "held") continue;
      const set = byPath.get(l.name) ?? new Set<string>();
      set.add(l.where);
      byPath.set(l.name, set);
    }
    for (const [path, inodes] of byPath) {
      if (inodes.size > 1) {
        status = "fail";
        details.push(
          `${path} is locked on ${inodes.size} different files (${[...inodes].join("; ")}): each container or host elects its own scheduler, so ${inodes.size} run at once`,
        );
      }
    }
    for (const lf of fl.lockFiles) {
      if (!lf.exists) {
        if (status === "pass") status = "warn";
        details.push(`${lf.path} does not exist: no scheduler on this target has taken it`);
      } else if (lf.heldBy.length === 0) {
        if (status === "pass") status = "warn";
        details.push(
          `${lf.path} exists but nobody holds a lock on it (stale): no scheduler runs here, or it does not lock this file`,
        );
      }
    }
    const held = locks.filter((l) => l.state === "held");
    if (locks.length === 0 && fl.lockFiles.length === 0) {
      return {
        status: "skip",
        summary: "no --lock-file given and no file lock held by a Python or Gunicorn process",
        details: [],
        evidence,
      };
    }
    const summary =
      status === "fail"
        ? (details[0] ?? "")
        : held.length > 0
          ? held
              .slice(0, 3)
              .map((l) => `${l.name} held by ${describeHolders(l.holders)}`)
              .join("; ")
          : (details[0] ?? "no scheduler file lock is held");
    return {
      status,
      summary,
      details: status === "fail" ? details.slice(1) : details,
      evidence,
      ...(status === "fail"
        ? {
            fix: {
              text: "A file lock only works on one kernel and one file. Across containers, use a Redis leader lock (schedctl gen lock) or run the scheduler in exactly one single-worker instance:",
              commands: ["SCHEDULER_LOCK_URL=redis://redis:6379/0  # one lock for every instance"],
            },
          }
        : {}),
    };
  },
};
