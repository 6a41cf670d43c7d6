/**
 * Shared by the `workers` and `deploy` checks: the facts type they read (Facts plus `deploy`), the deployment
 * model built once per facts object, and small formatting helpers.
 */

import type { EffectiveSetting, SettingSource } from "../../deploy/gunicorn.js";
import type { DeployModel, Instance } from "../../deploy/model.js";
import { buildModel, rewriteGunicornArgs } from "../../deploy/model.js";
import { shlexSplit } from "../../deploy/shell.js";
import type { DeployFacts } from "../../deploy/types.js";
import type { Facts } from "../../facts/types.js";
import type { CheckDefinition, CheckResult } from "../types.js";

/** The facts the deploy/workers checks read: doctor's Facts with the deploy facts attached. */
export type FactsWithDeploy = Facts & { deploy: DeployFacts };

/** A CheckDefinition whose run() reads `facts.deploy` (assignable to CheckDefinition). */
export interface DeployCheckDefinition extends Omit<CheckDefinition, "run"> {
  run(facts: FactsWithDeploy): CheckResult;
}

const cache = new WeakMap<DeployFacts, DeployModel>();

/** The deployment model of these facts, built once. */
export function modelOf(facts: FactsWithDeploy): DeployModel {
  let m = cache.get(facts.deploy);
  if (!m) {
    m = buildModel(facts.deploy);
    cache.set(facts.deploy, m);
  }
  return m;
}

export function skip(summary: string, evidence: Record<string, unknown> = {}): CheckResult {
  return { status: "skip", summary, details: [], evidence };
}

/** What was looked for, for skip reasons: "no Dockerfile, compose file, Kubernetes manifest or Procfile in DIR". */
export function nothingFound(facts: FactsWithDeploy): string {
  const d = facts.deploy;
  return `no Gunicorn command in ${d.dockerfiles.length} Dockerfile${d.dockerfiles.length === 1 ? "" : "s"}, ${d.compose.length} compose file${d.compose.length === 1 ? "" : "s"}, ${d.k8s.length} Kubernetes manifest${d.k8s.length === 1 ? "" : "s"}${d.procfile ? ", the Procfile" : ""} and no gunicorn.conf.py under ${d.appDir}`;
}

export function noStarts(facts: FactsWithDeploy): string {
  return `no scheduler.start() in ${facts.deploy.guard.filesScanned} Python file${facts.deploy.guard.filesScanned === 1 ? "" : "s"} under ${facts.deploy.appDir}`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function showValue(v: unknown): string {
  if (v === null || v === undefined) return "?";
  if (Array.isArray(v)) return v.join(",");
  return String(v);
}

/** The sources table of one setting: "WEB_CONCURRENCY=3 (compose) < gunicorn.conf.py:4 workers = ... < -w 4 (wins)". */
export function sourcesLine(s: EffectiveSetting): string {
  return s.sources
    .map(
      (x: SettingSource) =>
        `${x.kind === "default" ? "default" : x.kind} ${x.raw}${x.value !== null ? ` → ${showValue(x.value)}` : ""}${x.note ? ` [${x.note}]` : ""} @ ${x.where}${x.wins ? " ← wins" : ""}`,
    )
    .join("\n    ");
}

export function workersText(i: Instance): string {
  const w = i.settings?.workers as (EffectiveSetting & { min?: number | null }) | undefined;
  if (!w) return "-";
  if (w.startupError) return "fails to start";
  if (typeof w.value === "number") return String(w.value);
  if (w.unknown)
    return `${w.min !== null && w.min !== undefined ? `≥${w.min}` : "?"} (${w.unknown.dependsOn.join(", ")})`;
  return "?";
}

export function replicasText(i: Instance): string {
  const r = i.replicas;
  return r.max !== r.count ? `${r.count}-${r.max}` : String(r.count);
}

export function guardText(i: Instance): string {
  const g = i.scheduler.guards.filter((x) => x.kind !== "condition");
  if (g.length === 0) return "none";
  return [...new Set(g.map((x) => x.kind))].join("+");
}

export function schedulersText(i: Instance): string {
  const s = i.scheduler;
  if (s.runs === "no") return "0";
  const per = s.perReplica === null ? `≥${s.perReplicaMin}` : String(s.perReplica);
  return `${per}${s.where === "master" ? " (master)" : s.where === "workers" ? " (in workers)" : ""}${s.runs === "unknown" ? "?" : ""}`;
}

/** The standard per-instance table used by the workers checks. */
export function instanceTable(instances: Instance[]): { columns: string[]; rows: string[][] } {
  return {
    columns: ["instance", "replicas", "workers", "decided by", "guard", "schedulers/replica"],
    rows: instances.map((i) => [
      i.id,
      replicasText(i),
      workersText(i),
      i.settings?.workers.decidedBy ?? "-",
      guardText(i),
      schedulersText(i),
    ]),
  };
}

/** Compact evidence of an instance (JSON-friendly). */
export function instanceEvidence(i: Instance): Record<string, unknown> {
  return {
    id: i.id,
    file: i.file,
    line: i.line,
    command: i.argv,
    commandFrom: i.argvFrom,
    gunicorn: i.gunicorn
      ? { args: i.gunicorn.args, via: i.gunicorn.via, envOverrides: i.gunicorn.envOverrides }
      : null,
    replicas: { count: i.replicas.count, max: i.replicas.max, from: i.replicas.from },
    hostname: i.hostname,
    config: i.config,
    workers: i.settings
      ? {
          value: i.settings.workers.value,
          decidedBy: i.settings.workers.decidedBy,
          sources: i.settings.workers.sources,
          unknown: i.settings.workers.unknown,
          startupError: i.settings.workers.startupError,
        }
      : null,
    scheduler: {
      runs: i.scheduler.runs,
      perReplica: i.scheduler.perReplica,
      where: i.scheduler.where,
      lockScope: i.scheduler.lockScope,
      why: i.scheduler.why,
      guards: i.scheduler.guards.map((g) => ({
        kind: g.kind,
        at: `${g.file}:${g.line}`,
        text: g.text,
        condition: g.condition,
      })),
    },
  };
}

/** The exact lines that set an environment variable for one instance, in that instance's own file format. */
export function envFixLines(i: Instance, key: string, value: string): { where: string; lines: string[] } {
  switch (i.kind) {
    case "compose":
      return {
        where: `${i.file}, service ${i.name}`,
        lines: [`services:`, `  ${i.name}:`, `    environment:`, `      ${key}: ${JSON.stringify(value)}`],
      };
    case "k8s":
      return {
        where: `${i.file}, ${i.id}`,
        lines: [`        env:`, `          - name: ${key}`, `            value: ${JSON.stringify(value)}`],
      };
    case "dockerfile":
      return {
        where: i.file,
        lines: [`ENV ${key}=${/^[\w@%+:,./-]*$/.test(value) ? value : JSON.stringify(value)}`],
      };
    default:
      return { where: i.file, lines: [`${key}=${value}`] };
  }
}

/** A gunicorn command line in the instance's own syntax (exec-form CMD, compose command, k8s args). */
export function commandFixLines(i: Instance, args: string[]): { where: string; lines: string[] } {
  const argv = ["gunicorn", ...args];
  const json = `[${argv.map((a) => JSON.stringify(a)).join(", ")}]`;
  if (i.argvFrom?.includes("CMD") && i.dockerfile) return { where: i.argvFrom, lines: [`CMD ${json}`] };
  if (i.kind === "compose") return { where: `${i.file}, service ${i.name}`, lines: [`    command: ${json}`] };
  if (i.kind === "k8s") return { where: `${i.file}, ${i.id}`, lines: [`          command: ${json}`] };
  if (i.kind === "procfile") return { where: i.file, lines: [`${i.name}: ${argv.join(" ")}`] };
  return { where: i.argvFrom ?? i.file, lines: [argv.join(" ")] };
}

/**
 * The exact change that makes one Gunicorn setting take `desired` (null: remove the flag) for an instance,
 * made where the winning source is: the command line, GUNICORN_CMD_ARGS, the config file (or the variable it
 * reads), or WEB_CONCURRENCY.
 */
export function settingFix(
  i: Instance,
  name: "workers" | "max_requests" | "preload_app",
  desired: string | null,
): { text: string; commands: string[] } {
  const s = i.settings?.[name];
  const winner = s?.sources.find((x) => x.wins);
  const pyValue = name === "preload_app" ? "False" : (desired ?? "0");
  const flagName = { workers: "--workers", max_requests: "--max-requests", preload_app: "--preload" }[name];
  if (!s || !winner)
    return { text: `Set ${name} = ${pyValue} in gunicorn.conf.py:`, commands: [`${name} = ${pyValue}`] };
  switch (winner.kind) {
    case "cli": {
      const args = rewriteGunicornArgs(i.gunicorn?.args ?? [], name, name === "preload_app" ? null : desired);
      const extra =
        name === "max_requests"
          ? rewriteGunicornArgs(args, "max_requests", null).filter(
              (a, k, xs) => !(a.startsWith("--max-requests-jitter") || xs[k - 1] === "--max-requests-jitter"),
            )
          : args;
      const c = commandFixLines(i, extra);
      return {
        text: `The command line decides (${winner.raw} at ${winner.where}); it wins over GUNICORN_CMD_ARGS and gunicorn.conf.py. Change it in ${c.where}:`,
        commands: c.lines,
      };
    }
    case "GUNICORN_CMD_ARGS": {
      const cur = i.env.GUNICORN_CMD_ARGS ?? "";
      const words = shlexSplit(cur).words;
      const next = rewriteGunicornArgs(words, name, name === "preload_app" ? null : desired).join(" ");
      const c = envFixLines(i, "GUNICORN_CMD_ARGS", next);
      return {
        text: `GUNICORN_CMD_ARGS decides (${winner.raw} at ${winner.where}); it wins over gunicorn.conf.py. Set it in ${c.where}:`,
        commands: c.lines,
      };
    }
    case "config": {
      const cfgPath = winner.where.replace(/:\d+$/, "");
      const vars = [
        ...winner.raw.matchAll(/environ(?:\.get)?\(?\[?\s*["'](\w+)["']|getenv\(\s*["'](\w+)["']/g),
      ]
        .map((m) => m[1] ?? m[2])
        .filter(Boolean) as string[];
      if (vars.length > 0 && name !== "preload_app" && desired !== null) {
        const c = envFixLines(i, vars[0] as string, desired);
        return {
          text: `${winner.where} reads ${vars[0]} (${winner.raw}). Set it on this instance in ${c.where}, or write the value in ${cfgPath}:`,
          commands: [...c.lines, `${name} = ${pyValue}  # ${cfgPath}`],
        };
      }
      return {
        text: `${winner.where} decides (${winner.raw}). Change it in ${cfgPath}:`,
        commands: [`${name} = ${pyValue}`],
      };
    }
    case "WEB_CONCURRENCY": {
      const c = envFixLines(i, "WEB_CONCURRENCY", desired ?? "1");
      return {
        text: `WEB_CONCURRENCY decides (${winner.where}). Set it in ${c.where}, or pass ${flagName}:`,
        commands: c.lines,
      };
    }
    default:
      return {
        text: `Gunicorn's default applies; set ${name} = ${pyValue} in gunicorn.conf.py:`,
        commands: [`${name} = ${pyValue}`],
      };
  }
}
