import { readFile } from "node:fs/promises";
import type { FactSet } from "../checks/types.js";
import { emptyDeployFacts } from "../deploy/empty.js";
import { UsageError } from "../errors.js";
import type { Target } from "../targets/target.js";
import { predictAllTzlocal } from "../tz/tzlocal.js";
import { gatherAppFacts, parseDotenv } from "./app.js";
import { AppDirReader } from "./app-dir.js";
import { gatherLiveFacts, type LiveOptions } from "./live.js";
import { gatherOsFacts } from "./os.js";
import { gatherPythonFacts, pipTzdataDir } from "./python.js";
import { emptyRoutesFacts, gatherRoutesFacts } from "./routes.js";
import type { ConfigValue, Facts } from "./types.js";
import { gatherTzFacts } from "./tz.js";
import { tzSources } from "./tz-sources.js";

export interface GatherOptions {
  appDir: string;
  /** Fact sets to gather beyond the basics; default all. Doctor passes what its selected checks need. */
  need?: ReadonlySet<FactSet>;
  /** --nginx FILE: the nginx configuration in front of the app. */
  nginxFile?: string;
  /** Live sources (--lock-file, --redis, --logs, --url); omitted: none. */
  live?: LiveOptions;
  /** --env KEY=VAL, in order */
  envPairs: string[];
  /** --env-file paths, in order */
  envFiles: string[];
  /** epoch seconds */
  now: number;
}

export function parseEnvPair(pair: string): [string, string] {
  const eq = pair.indexOf("=");
  if (eq <= 0) throw new UsageError(`--env ${JSON.stringify(pair)}: expected KEY=VALUE`);
  const key = pair.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    throw new UsageError(`--env ${JSON.stringify(pair)}: invalid variable name "${key}"`);
  return [key, pair.slice(eq + 1)];
}

const notGatheredLive: Facts["live"] = {
  fileLocks: null,
  fileLocksSkipped: "not gathered",
  lockFilePaths: [],
  redis: [],
  logs: null,
  http: null,
};

/** Gathers every fact the checks need, once, through the target. */
export async function gatherFacts(target: Target, opts: GatherOptions): Promise<Facts> {
  const notes: string[] = [];
  const need = opts.need ?? new Set<FactSet>(["deploy", "routes", "live"]);
  // The live facts (processes, Redis, a log that may take seconds) need nothing gathered below: started
  // first, they overlap the file reads of the rest.
  const livePromise = need.has("live")
    ? gatherLiveFacts(target, opts.live ?? {})
    : Promise.resolve(notGatheredLive);
  livePromise.catch(() => {}); // awaited below; until then a failure must not count as unhandled
  const env: Record<string, string> = {};
  const envSources: Record<string, string> = {};
  for (const [k, v] of Object.entries(await target.environment())) {
    env[k] = v;
    envSources[k] = target.kind === "container" ? "container environment" : "environment";
  }

  // one reader for the app dir: the deploy facts below walk it again and read the same sources
  const appFiles = new AppDirReader();
  const app = await gatherAppFacts(opts.appDir, appFiles);
  for (const e of app.dotenv) {
    env[e.key] = e.value;
    envSources[e.key] = e.source;
  }
  for (const file of opts.envFiles) {
    const text = await readFile(file, "utf8").catch((err: Error) => {
      throw new UsageError(`--env-file ${file}: ${err.message}`);
    });
    for (const e of parseDotenv(text)) {
      env[e.key] = e.value;
      envSources[e.key] = `${file}:${e.line}`;
    }
  }
  for (const pair of opts.envPairs) {
    const [k, v] = parseEnvPair(pair);
    env[k] = v;
    envSources[k] = "--env";
  }

  const deploy = need.has("deploy")
    ? await (await import("../deploy/gather.js")).gatherDeployFacts(opts.appDir, env, appFiles)
    : emptyDeployFacts(opts.appDir, env);
  notes.push(...deploy.errors.map((e) => e.message), ...deploy.notes);

  const os = await gatherOsFacts(target);
  const python = await gatherPythonFacts(target);
  const pipTzdata = await pipTzdataDir(target, python);
  const tz = await gatherTzFacts(target, { env, now: opts.now, libc: os.libc, pipTzdata, notes });

  // SCHEDULER_TIMEZONE: explicit deploy-time env first, then the app's config file, then schedctl's config.
  const schedulerTimezone: ConfigValue[] = [];
  if (env.SCHEDULER_TIMEZONE !== undefined) {
    schedulerTimezone.push({
      value: env.SCHEDULER_TIMEZONE,
      source: envSources.SCHEDULER_TIMEZONE ?? "environment",
    });
  }
  schedulerTimezone.push(...app.facts.schedulerTimezone);
  if (app.configTimezone) schedulerTimezone.push(app.configTimezone);
  app.facts.schedulerTimezone = schedulerTimezone;

  // The predictors may ask for zones no source named directly; load those and look again (a fixpoint).
  await tz.store.load(schedulerTimezone.map((s) => s.value));
  for (let round = 0; round < 4; round++) {
    tz.store.requested.clear();
    predictAllTzlocal(tz.layout);
    const missing = [...tz.store.requested].filter((n) => !tz.store.zones.has(n));
    if (missing.length === 0) break;
    await tz.store.load(missing);
  }
  const live = await livePromise;
  const routes = !need.has("routes")
    ? emptyRoutesFacts()
    : await gatherRoutesFacts({
        appDir: opts.appDir,
        ...(opts.nginxFile ? { nginxFile: opts.nginxFile } : {}),
        apiPrefix: app.configApiPrefix ?? app.facts.schedulerApiPrefix[0] ?? null,
        extraRoutes: app.configRoutes,
      });
  const { store: _store, ...tzRest } = tz;
  const tzFacts = {
    ...tzRest,
    zones: Object.fromEntries(tz.store.zones),
    sources: [] as Facts["tz"]["sources"],
  };
  tzFacts.sources = tzSources(tzFacts, schedulerTimezone);

  return {
    target: { kind: target.kind, description: target.description, live: target.live },
    now: opts.now,
    env,
    envSources,
    os,
    tz: tzFacts,
    python,
    app: app.facts,
    live,
    deploy,
    routes,
    notes,
  };
}
