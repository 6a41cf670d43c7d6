import type { CheckDefinition, CheckResult } from "../types.js";
import {
  firstDivergence,
  formatOffset,
  isoDate,
  systemTransitions,
  YEAR_SECONDS,
  zoneTransitions,
} from "./common.js";

export const tzConfigured: CheckDefinition = {
  id: "tz.configured",
  group: "tz",
  title: "SCHEDULER_TIMEZONE is valid and matches the system",
  description:
    "Finds SCHEDULER_TIMEZONE in the environment, --env/.env, [tool.schedctl] and the Flask config module; checks that it names a zone present in the target's zoneinfo and that its offset equals the system's now and at every transition in the next 12 months, reporting the first date they diverge.",
  run(facts): CheckResult {
    const values = facts.app.schedulerTimezone;
    const evidence: Record<string, unknown> = { found: values, system: facts.tz.libc.how };
    if (values.length === 0) {
      const usesScheduler = facts.app.flaskApscheduler.imported || facts.app.bareSchedulers.length > 0;
      if (!usesScheduler) {
        return {
          status: "skip",
          summary: `no SCHEDULER_TIMEZONE found (environment, .env, schedctl config, ${facts.app.filesScanned} Python files in ${facts.app.dir})`,
          details: [],
          evidence,
        };
      }
      return {
        status: "warn",
        summary:
          "the app starts a scheduler but sets no SCHEDULER_TIMEZONE: jobs run in whatever zone tzlocal finds",
        details: ["Flask-APScheduler falls back to tzlocal's zone, which is UTC in most containers"],
        evidence,
        fix: {
          text: "Set the zone explicitly in the Flask config:",
          commands: ['SCHEDULER_TIMEZONE = "Area/City"'],
        },
      };
    }
    const chosen = values[0];
    if (!chosen) throw new Error("unreachable");
    const details: string[] = [];
    const distinct = [...new Set(values.map((v) => v.value))];
    if (distinct.length > 1)
      details.push(
        `different values: ${values.map((v) => `${v.value} (${v.source})`).join(", ")}; ${chosen.value} wins`,
      );
    const l = facts.tz.layout;
    if (!l.zones.exists(chosen.value)) {
      return {
        status: "fail",
        summary: `SCHEDULER_TIMEZONE=${chosen.value} (${chosen.source}) is not a zone in the target's zoneinfo`,
        details: [
          ...details,
          `APScheduler 3.11 raises ZoneInfoNotFoundError: 'No time zone found with key ${chosen.value}'; 3.10 and older raise pytz.exceptions.UnknownTimeZoneError: '${chosen.value}'`,
        ],
        evidence,
        fix: {
          text: "Use an IANA name present in the image (and install tzdata if the image has none):",
          commands: ['SCHEDULER_TIMEZONE = "Area/City"  # e.g. "Asia/Shanghai", "Europe/Berlin"'],
        },
      };
    }
    const now = facts.now;
    const transitions = [
      ...systemTransitions(facts, now, now + YEAR_SECONDS),
      ...zoneTransitions(facts, chosen.value, now, now + YEAR_SECONDS),
    ];
    const at = firstDivergence(
      (t) => l.zones.offsetAt(chosen.value, t),
      (t) => l.systemOffsetAt(t),
      now,
      transitions,
    );
    evidence.offsetNow = l.zones.offsetAt(chosen.value, now);
    evidence.systemOffsetNow = l.systemOffsetAt(now);
    evidence.firstDivergence = at === null ? null : isoDate(at);
    if (at === null) {
      return {
        status: details.length > 0 ? "warn" : "pass",
        summary: `SCHEDULER_TIMEZONE=${chosen.value} (${chosen.source}) matches the system for the next 12 months`,
        details,
        evidence,
      };
    }
    const zoneOff = formatOffset(l.zones.offsetAt(chosen.value, at) ?? 0);
    const sysOff = formatOffset(l.systemOffsetAt(at));
    details.push(`system: ${facts.tz.libc.how}`);
    details.push(
      "triggers built without timezone= (CronTrigger.from_crontab, bare IntervalTrigger) and logs use the system zone",
    );
    return {
      status: at === now ? "fail" : "warn",
      summary:
        at === now
          ? `SCHEDULER_TIMEZONE=${chosen.value} is ${zoneOff} but the system is ${sysOff}`
          : `SCHEDULER_TIMEZONE=${chosen.value} and the system diverge from ${isoDate(at)} (${zoneOff} vs ${sysOff})`,
      details,
      evidence,
      fix: {
        text: `Run the container in the same zone as the scheduler: set TZ=${chosen.value} and link /etc/localtime to it.`,
        commands: [`ENV TZ=${chosen.value}`],
      },
    };
  },
};
