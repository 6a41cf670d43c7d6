import type { CheckDefinition, CheckResult } from "../types.js";

export const runsLogs: CheckDefinition = {
  id: "runs.logs",
  group: "runs",
  needs: ["live"],
  title: "Duplicate executions in the logs",
  description:
    'Streams the APScheduler logs given with --logs (plain, Gunicorn-prefixed, docker-prefixed or JSON lines, gzip accepted, any size) and finds the same job executed more than once for the same scheduled time ("Running job ... (scheduled at ...)"): the signature of one scheduler per worker or per instance.',
  run(facts): CheckResult {
    const logs = facts.live.logs;
    if (!logs) return { status: "skip", summary: "no --logs given", details: [], evidence: {} };
    const evidence = {
      files: logs.files,
      jobs: logs.jobs,
      runs: logs.runs,
      duplicates: logs.duplicates.slice(0, 50),
      truncatedDuplicates: logs.truncatedDuplicates,
    };
    const broken = logs.files.filter((f) => f.error);
    if (broken.length === logs.files.length) {
      return {
        status: "error",
        summary: broken.map((f) => `${f.path}: ${f.error}`).join("; "),
        details: [],
        evidence,
      };
    }
    const lines = logs.files.reduce((n, f) => n + f.lines, 0);
    const details = broken.map((f) => `${f.path}: ${f.error}`);
    if (logs.duplicates.length > 0) {
      const total = logs.duplicates.length + logs.truncatedDuplicates;
      const worst = logs.duplicates.reduce((a, b) => (b.count > a.count ? b : a));
      for (const d of logs.duplicates.slice(0, 10)) {
        details.push(
          `"${d.job}" scheduled at ${d.scheduledAt} ran ${d.count} times${d.runners.length > 0 ? ` (by ${d.runners.join(", ")})` : ""}: ${d.sources.slice(0, 3).join(", ")}`,
        );
      }
      return {
        status: "fail",
        summary: `${total} scheduled run${total > 1 ? "s" : ""} executed more than once; "${worst.job}" ran ${worst.count} times at ${worst.scheduledAt}`,
        details,
        evidence,
        fix: {
          text: "Every worker or instance runs its own scheduler. Start it in exactly one process (see locks.verdict and workers.guard), e.g. a single-worker scheduler instance:",
          commands: [
            "gunicorn --workers 1 app:app   # the scheduler instance",
            "SCHEDULER_ENABLED=0          # every other instance",
          ],
        },
      };
    }
    if (logs.runs === 0) {
      return {
        status: "warn",
        summary: `no "Running job" line in ${lines} lines: is the apscheduler logger at INFO?`,
        details,
        evidence,
        fix: {
          text: "Log APScheduler's executions:",
          commands: ['logging.getLogger("apscheduler").setLevel(logging.INFO)'],
        },
      };
    }
    return {
      status: broken.length > 0 ? "warn" : "pass",
      summary: `${logs.runs} runs of ${logs.jobs} job${logs.jobs > 1 ? "s" : ""} in ${lines} lines, none duplicated`,
      details,
      evidence,
    };
  },
};
