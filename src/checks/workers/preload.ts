import { gunicornInstances } from "../../deploy/model.js";
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

export const workersPreload: DeployCheckDefinition = {
  id: "workers.preload",
  group: "workers",
  needs: ["deploy"],
  title: "--preload with a scheduler started at import",
  description:
    "Finds instances that preload the app (--preload / preload_app = True, with Gunicorn's precedence) while the app starts its scheduler at import: the master imports the app once and runs the only live scheduler; every forked worker holds a thread-less copy that still says running=True, answers the scheduler API and accepts jobs that never run (apscheduler#218, flask-apscheduler#87).",
  run(facts): CheckResult {
    const m = modelOf(facts);
    const gi = gunicornInstances(m);
    if (gi.length === 0) return skip(nothingFound(facts));
    if (!m.hasStarts) return skip(noStarts(facts));
    const preloaded = gi.filter((i) => i.settings?.preload_app.value === true);
    const rows = gi.map((i) => [
      i.id,
      String(i.settings?.preload_app.value ?? "?"),
      i.settings?.preload_app.decidedBy ?? "-",
      i.scheduler.where,
      String(i.scheduler.deadCopies ?? 0),
    ]);
    const evidence = {
      table: { columns: ["instance", "preload", "decided by", "scheduler in", "dead copies"], rows },
    };
    if (preloaded.length === 0)
      return {
        status: "pass",
        summary: `no instance preloads the app (${gi.map((i) => i.id).join(", ")}: preload_app off)`,
        details: [],
        evidence,
      };
    const bad = preloaded.filter(
      (i) => i.scheduler.where === "master" && i.scheduler.deadCopies !== 0 && i.scheduler.runs !== "no",
    );
    const details = preloaded.map(
      (i) =>
        `${i.id}: preload_app = true\n    ${sourcesLine(i.settings?.preload_app as NonNullable<typeof i.settings>["preload_app"])}`,
    );
    if (bad.length === 0)
      return {
        status: "pass",
        summary: `${preloaded.map((i) => i.id).join(", ")} preload${preloaded.length === 1 ? "s" : ""} the app, but none starts the scheduler at import`,
        details,
        evidence,
      };
    const i = bad[0] as (typeof bad)[number];
    const site = i.scheduler.sites.find((s) => s.context !== "hook" && s.context !== "main-block");
    const api = facts.deploy.guard.apiEnabled.find((a) => /^True$|^["']?(1|true|yes)["']?$/i.test(a.value));
    const dead = i.scheduler.deadCopies;
    const fix = settingFix(i, "preload_app", null);
    return {
      status: api ? "fail" : "warn",
      summary: `${i.id} preloads the app (${i.settings?.preload_app.sources.find((s) => s.wins)?.raw}) and starts the scheduler at import (${site ? `${site.file}:${site.line}` : "?"}): one live scheduler in the master, thread-less copies in ${dead ?? "every"} worker${dead === 1 ? "" : "s"}${api ? ` answering the scheduler API (SCHEDULER_API_ENABLED at ${api.file}:${api.line})` : ""}`,
      details: [
        ...details,
        "the master is the only process with the scheduler thread; workers inherit the object (running=True) without the thread",
        "jobs added, paused or run through a worker (the API, add_job in a view) change a copy that never fires; the master never sees them",
        "threads and locks copied by fork() can also deadlock the workers",
      ],
      evidence,
      fix: {
        text: `Stop preloading the scheduler instance and run it with one worker (or start the scheduler in a dedicated process). ${fix.text}`,
        commands: fix.commands,
      },
    };
  },
};
