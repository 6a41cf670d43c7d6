import type { CheckDefinition, CheckResult } from "../types.js";
import { decisivePrediction, oneLineMessage } from "./common.js";

export const tzFlaskConstruct: CheckDefinition = {
  id: "tz.flask-construct",
  group: "tz",
  title: "Flask-APScheduler construct-before-configure",
  description:
    "Flask-APScheduler's APScheduler() builds a BackgroundScheduler() before init_app applies SCHEDULER_TIMEZONE, so tzlocal runs first: a tzlocal error crashes the import even when SCHEDULER_TIMEZONE is set. Finds APScheduler() and bare BackgroundScheduler() constructions in the app's sources.",
  run(facts): CheckResult {
    const fa = facts.app.flaskApscheduler;
    const risky = fa.constructs.filter((c) => !c.passesScheduler);
    const bare = facts.app.bareSchedulers;
    const evidence = {
      constructs: fa.constructs,
      bareSchedulers: bare,
      schedulerTimezone: facts.app.schedulerTimezone[0] ?? null,
    };
    if (fa.constructs.length === 0 && bare.length === 0) {
      return {
        status: "skip",
        summary: `no APScheduler() or *Scheduler() construction found in ${facts.app.dir} (${facts.app.filesScanned} Python files)`,
        details: [],
        evidence,
      };
    }
    const sites = [
      ...risky.map((c) => `${c.source}: ${c.text}`),
      ...bare.map((b) => `${b.source}: ${b.text}`),
    ];
    if (sites.length === 0) {
      return {
        status: "pass",
        summary: "every scheduler is built with an explicit scheduler/timezone",
        details: [],
        evidence,
      };
    }
    const { prediction } = decisivePrediction(facts);
    const tzSetting = facts.app.schedulerTimezone[0];
    const zone = tzSetting?.value ?? "Area/City";
    const fix = {
      text: "Build the scheduler with its timezone, so tzlocal is never asked:",
      commands: [
        "from apscheduler.schedulers.background import BackgroundScheduler",
        "from flask_apscheduler import APScheduler",
        `scheduler = APScheduler(scheduler=BackgroundScheduler(timezone="${zone}"))`,
      ],
    };
    if (prediction.outcome === "error") {
      return {
        status: "fail",
        summary: `${sites.length} scheduler construction${sites.length > 1 ? "s call" : " calls"} tzlocal, which raises ${prediction.exception} here${tzSetting ? ` even though SCHEDULER_TIMEZONE=${tzSetting.value} is set (it applies only later, in init_app)` : ""}`,
        details: [...sites, `tzlocal ${prediction.line}: ${oneLineMessage(prediction.message)}`],
        evidence,
        fix,
      };
    }
    return {
      status: tzSetting ? "warn" : "pass",
      summary: tzSetting
        ? `${sites.length} construction${sites.length > 1 ? "s call" : " calls"} tzlocal before SCHEDULER_TIMEZONE applies; harmless with today's layout, a crash the day the image's timezone files conflict`
        : `${sites.length} construction${sites.length > 1 ? "s" : ""} use tzlocal's zone (${prediction.zone})`,
      details: sites,
      evidence,
      ...(tzSetting ? { fix } : {}),
    };
  },
};
