import type { TzlocalPrediction } from "../../tz/tzlocal.js";
import type { CheckDefinition, CheckResult, Status } from "../types.js";
import {
  BUILD_TIME_CHECK,
  dockerfileTzLines,
  installedTzlocalLine,
  intendedZone,
  oneLineMessage,
  predictions,
} from "./common.js";

const STATUS_OF: Record<TzlocalPrediction["outcome"], Status> = {
  ok: "pass",
  warning: "warn",
  error: "fail",
};

function describe(p: TzlocalPrediction): string {
  if (p.outcome === "ok") return `returns ${p.zone}`;
  const text = oneLineMessage(p.message);
  if (p.outcome === "warning") return `returns ${p.zone} with ${p.exception ?? "a logged warning"}: ${text}`;
  return `raises ${p.exception}: ${text}`;
}

export const tzTzlocal: CheckDefinition = {
  id: "tz.tzlocal",
  group: "tz",
  title: "What tzlocal will do",
  description:
    "Predicts what tzlocal 2.x/3.x, 4.x and 5.x return, warn or raise with exactly this layout (the exception class and text), marking the version installed in the target. APScheduler calls tzlocal when a scheduler is built without timezone=, so an exception here crashes every Gunicorn worker at import.",
  run(facts): CheckResult {
    const all = predictions(facts);
    const installed = installedTzlocalLine(facts);
    const evidence = {
      installed: {
        tzlocal: facts.python.packages.tzlocal?.version ?? null,
        apscheduler: facts.python.packages.apscheduler?.version ?? null,
        line: installed.line,
        why: installed.why,
      },
      predictions: Object.fromEntries(
        all.map((p) => [
          p.line,
          {
            line: p.line,
            outcome: p.outcome,
            zone: p.zone,
            exception: p.exception,
            message: p.message,
            via: p.via,
            steps: p.steps,
            installed: p.line === installed.line,
          },
        ]),
      ),
    };
    const details = all.map(
      (p) => `tzlocal ${p.line}${p.line === installed.line ? " (installed)" : ""}: ${describe(p)}`,
    );
    for (const p of all) {
      if (p.line === "2.x" && p.outcome !== "error" && p.zone === "local") {
        details.push(
          'tzlocal 2.x: the zone is named "local"; APScheduler < 3.11 then raises "Unable to determine the name of the local timezone" in add_job',
        );
      }
    }

    let status: Status;
    let summary: string;
    const mine = all.find((p) => p.line === installed.line);
    if (mine) {
      status = STATUS_OF[mine.outcome];
      summary = `tzlocal ${facts.python.packages.tzlocal?.version ?? mine.line} ${describe(mine)}`;
      const others = all.filter((p) => p !== mine && p.outcome === "error");
      if (status === "pass" && others.length > 0) {
        status = "warn";
        summary += `; tzlocal ${others.map((p) => p.line).join(" and ")} would raise (an upgrade or downgrade breaks it)`;
      }
    } else {
      const errors = all.filter((p) => p.outcome === "error");
      const warnings = all.filter((p) => p.outcome === "warning");
      status = errors.length > 0 ? "fail" : warnings.length > 0 ? "warn" : "pass";
      const first = errors[0] ?? warnings[0] ?? all[0];
      summary =
        status === "pass"
          ? `every tzlocal line returns ${all[0]?.zone}`
          : `tzlocal ${first?.line} ${first ? describe(first) : ""}`;
    }

    const zone = intendedZone(facts);
    const fix =
      status === "pass"
        ? undefined
        : {
            text: `Give tzlocal one unambiguous answer: set TZ to a zone name and make /etc/localtime and /etc/timezone agree with it (${zone} here). In the Dockerfile, with a build-time check:`,
            commands: [...dockerfileTzLines(facts.os, zone), BUILD_TIME_CHECK],
          };
    return { status, summary, details, evidence, ...(fix ? { fix } : {}) };
  },
};
