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
    guard: {
      filesScanned: 0,
      flaskApscheduler: false,
      starts: [],
      allowedHosts: [],
      fromPrefixedEnv: false,
      apiEnabled: [],
      calledAtImport: [],
      modules: {},
      lockModule: null,
    },
    files: [],
    errors: [],
    notes: [],
  };
}
