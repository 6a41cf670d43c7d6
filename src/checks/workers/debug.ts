import { flaskDebug, gunicornInstances, type Instance } from "../../deploy/model.js";
import { type DeployCheckDefinition, envFixLines, modelOf, nothingFound, skip } from "../deploy/common.js";
import type { CheckResult } from "../types.js";

function removalLine(i: Instance, key: string): string[] {
  const where = i.envWhere[key] ?? "";
  const m = /^(.+):(\d+) ENV$/.exec(where);
  if (m) return [`# delete line ${m[2]} of ${m[1]}: ENV ${key}=${i.env[key]}`, `ENV ${key}=0`];
  return envFixLines(i, key, "0").lines;
}

export const workersDebug: DeployCheckDefinition = {
  id: "workers.debug",
  group: "workers",
  needs: ["deploy"],
  title: "FLASK_DEBUG in Gunicorn instances",
  description:
    "Looks for FLASK_DEBUG (and FLASK_ENV=development, which Flask < 2.3 reads the same way) in the environment of every Gunicorn instance: Dockerfile ENV, compose environment and env_file, Kubernetes env and ConfigMaps, the deploy environment. Flask-APScheduler's start() returns silently when the debug flag is on and WERKZEUG_RUN_MAIN is not \"true\" (the reloader's child), which it never is under Gunicorn: the scheduler never starts.",
  run(facts): CheckResult {
    const m = modelOf(facts);
    const gi = gunicornInstances(m);
    if (gi.length === 0) return skip(nothingFound(facts));
    const rows: string[][] = [];
    const hits: { i: Instance; via: string; where: string }[] = [];
    for (const i of gi) {
      const d = flaskDebug(i.env);
      const key = i.env.FLASK_DEBUG ? "FLASK_DEBUG" : "FLASK_ENV";
      rows.push([
        i.id,
        i.env.FLASK_DEBUG ?? "-",
        i.env.FLASK_ENV ?? "-",
        d.on ? "on" : "off",
        i.envWhere[key] ?? "-",
      ]);
      if (d.on && i.env.WERKZEUG_RUN_MAIN !== "true")
        hits.push({ i, via: d.via ?? key, where: i.envWhere[key] ?? "environment" });
    }
    const evidence = {
      table: { columns: ["instance", "FLASK_DEBUG", "FLASK_ENV", "debug flag", "set at"], rows },
      flaskApscheduler: facts.deploy.guard.flaskApscheduler,
    };
    if (hits.length === 0)
      return {
        status: "pass",
        summary: `the Flask debug flag is off in every Gunicorn instance (${gi.map((i) => i.id).join(", ")})`,
        details: [],
        evidence,
      };
    const first = hits[0] as (typeof hits)[number];
    const flaskAps = facts.deploy.guard.flaskApscheduler;
    const envOnly = first.via.startsWith("FLASK_ENV");
    const key = envOnly ? "FLASK_ENV" : "FLASK_DEBUG";
    return {
      status: flaskAps && !envOnly ? "fail" : "warn",
      summary: flaskAps
        ? `${first.via} in ${hits.map((h) => h.i.id).join(", ")} (${first.where}): Flask-APScheduler's start() returns without starting, so the scheduler never runs there`
        : `${first.via} in ${hits.map((h) => h.i.id).join(", ")} (${first.where}): debug mode under Gunicorn`,
      details: [
        ...hits.map((h) => `${h.i.id}: ${h.via} (${h.where})`),
        "Flask-APScheduler: `if flask.helpers.get_debug_flag() and not werkzeug.serving.is_running_from_reloader(): return`",
        ...(envOnly ? ["FLASK_ENV=development counts only on Flask < 2.3 (Flask 2.3 removed it)"] : []),
      ],
      evidence,
      fix: {
        text: `Turn the debug flag off in the Gunicorn containers (keep it for \`flask run\` on a workstation). In ${first.where}:`,
        commands: removalLine(first.i, key),
      },
    };
  },
};
