import { appendFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { CHECKS } from "../checks/registry.js";
import { exitCodeFor, runChecks, selectChecks, summarize } from "../checks/run.js";
import { RunError, UsageError } from "../errors.js";
import { gatherFacts } from "../facts/gather.js";
import { type LiveOptions, validateLiveOptions } from "../facts/live.js";
import { type DoctorReport, SCHEMA_VERSION } from "../render/types.js";
import type { Target } from "../targets/target.js";
import { VERSION } from "../version.js";
import { networkOptions, samplesOption, validateRedisUrls } from "./options.js";

export interface DoctorOptions {
  format: "text" | "json" | "github" | "junit";
  failOn: "warn" | "fail";
  only: string[];
  skip: string[];
  list?: boolean;
  root?: string;
  container?: string;
  appDir: string;
  env: string[];
  envFile: string[];
  at?: string;
  color: boolean;
  verbose?: boolean;
  lockFile: string[];
  redis: string[];
  pattern: string[];
  logs: string[];
  url?: string;
  samples?: string;
  sampleInterval?: string;
  timeout?: string;
  nginx?: string;
}

/** `--at`: an ISO-8601 instant with a date; offsets allowed, default UTC. */
export function parseAt(value: string): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      value.trim(),
    );
  const ms = m
    ? Date.parse(
        `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? "00"}:${m[5] ?? "00"}:${m[6] ?? "00"}${m[7] ? `.${m[7].slice(0, 3)}` : ""}${(m[8] ?? "Z").replace(/^([+-]\d{2})(\d{2})$/, "$1:$2")}`,
      )
    : Number.NaN;
  if (!m || Number.isNaN(ms))
    throw new UsageError(
      `--at ${JSON.stringify(value)}: not an ISO-8601 date or date-time (e.g. 2027-03-28T01:30:00Z)`,
    );
  return Math.floor(ms / 1000);
}

async function openTarget(opts: DoctorOptions): Promise<Target> {
  if (opts.root && opts.container)
    throw new UsageError("--root and --container are exclusive: pick one target");
  if (opts.root) {
    const dir = resolve(opts.root);
    const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") throw new UsageError(`--root ${opts.root}: no such directory`);
      throw new RunError(`--root ${opts.root}: cannot read: ${err.message}`);
    });
    if (!st.isDirectory()) throw new UsageError(`--root ${opts.root}: not a directory`);
    const { RootFsTarget } = await import("../targets/rootfs.js");
    const target = new RootFsTarget(dir);
    if ((await target.readdir("/").catch(() => null)) === null)
      throw new RunError(`--root ${opts.root}: cannot list the directory`);
    return target;
  }
  if (opts.container) {
    const { openContainerTarget } = await import("../targets/container.js");
    return openContainerTarget(opts.container);
  }
  const { RootFsTarget } = await import("../targets/rootfs.js");
  return new RootFsTarget("/");
}

function listChecks(format: DoctorOptions["format"]): string {
  if (format === "json") {
    return `${JSON.stringify(
      {
        schemaVersion: SCHEMA_VERSION,
        checks: CHECKS.map((c) => ({ id: c.id, group: c.group, title: c.title, description: c.description })),
      },
      null,
      2,
    )}\n`;
  }
  const width = Math.max(...CHECKS.map((c) => c.id.length));
  return `${CHECKS.map((c) => `${c.id.padEnd(width)}  ${c.title}\n${" ".repeat(width + 2)}${c.description}`).join("\n")}\n`;
}

export async function doctor(opts: DoctorOptions): Promise<number> {
  if (opts.list) {
    process.stdout.write(listChecks(opts.format));
    return 0;
  }
  const started = performance.now();
  const checks = selectChecks(opts.only, opts.skip);
  const now = opts.at ? parseAt(opts.at) : Math.floor(Date.now() / 1000);
  const appDir = resolve(opts.appDir);
  const appStat = await stat(appDir).catch(() => null);
  if (!appStat?.isDirectory()) throw new UsageError(`--app-dir ${opts.appDir}: no such directory`);

  const live: LiveOptions = {
    lockFiles: opts.lockFile,
    redisUrls: opts.redis,
    patterns: opts.pattern,
    logs: opts.logs,
    ...(opts.url !== undefined ? { url: opts.url } : {}),
    samples: samplesOption(opts.samples),
    ...networkOptions(opts),
  };
  await validateLiveOptions(live);
  const nginxFile = opts.nginx ? resolve(opts.nginx) : undefined;
  if (nginxFile && !(await stat(nginxFile).catch(() => null))?.isFile()) {
    throw new UsageError(`--nginx ${opts.nginx}: no such file`);
  }
  await validateRedisUrls(opts.redis);

  const target = await openTarget(opts);
  let report: DoctorReport;
  try {
    const facts = await gatherFacts(target, {
      appDir,
      envPairs: opts.env,
      envFiles: opts.envFile,
      now,
      live,
      need: new Set(checks.flatMap((c) => c.needs ?? [])),
      ...(nginxFile ? { nginxFile } : {}),
    });
    if (opts.verbose) for (const n of facts.notes) process.stderr.write(`note: ${n}\n`);
    const reports = runChecks(checks, facts);
    const summary = summarize(reports);
    report = {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: "schedctl", version: VERSION },
      target: { kind: target.kind, description: target.description },
      evaluatedAt: new Date(now * 1000).toISOString(),
      exitCode: exitCodeFor(summary, opts.failOn),
      failOn: opts.failOn,
      summary,
      checks: reports,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await target.close();
  }

  switch (opts.format) {
    case "json": {
      const { renderJson } = await import("../render/json.js");
      process.stdout.write(renderJson(report));
      break;
    }
    case "junit": {
      const { renderJunit } = await import("../render/junit.js");
      process.stdout.write(renderJunit(report));
      break;
    }
    case "github": {
      const { renderGithub } = await import("../render/github.js");
      const out = renderGithub(report);
      process.stdout.write(out.annotations);
      const summaryFile = process.env.GITHUB_STEP_SUMMARY;
      if (summaryFile) await appendFile(summaryFile, out.stepSummary);
      break;
    }
    default: {
      const { renderText } = await import("../render/text.js");
      const color = opts.color && !process.env.NO_COLOR && process.stdout.isTTY === true;
      process.stdout.write(renderText(report, { color, verbose: Boolean(opts.verbose) }));
    }
  }
  return report.exitCode;
}
