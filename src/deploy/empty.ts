import type { GuardAnalysis } from "./guard.js";
import type { DeployFacts } from "./types.js";

/** Deploy facts of nothing: what checks see before (or without) reading the app dir. */
export function emptyDeployFacts(appDir: string, env: Record<string, string>): DeployFacts {
  return {
    appDir,
    env: { ...env },
    dockerfiles: [],
    compose: [],
    k8s: [],
    procfile: null,
    gunicornConfigs: {},
    scripts: {},
    guard: emptyGuardAnalysis(0),
    files: [],
    errors: [],
    notes: [],
  };
}

/** A guard analysis that found nothing yet (analyzeGuards fills it in). */
export function emptyGuardAnalysis(filesScanned: number): GuardAnalysis {
  return {
    filesScanned,
    flaskApscheduler: false,
    starts: [],
    allowedHosts: [],
    fromPrefixedEnv: false,
    apiEnabled: [],
    calledAtImport: [],
    modules: {},
    lockModule: null,
  };
}
