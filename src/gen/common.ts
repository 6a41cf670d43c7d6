/** What every generator shares: file names, the timeout alignment, the healthcheck probe, output hygiene. */
import type { SchedctlConfig } from "../config/types.js";

export interface GeneratedFile {
  /** Relative to the output dir. */
  path: string;
  content: string;
}

export const GENERATORS = ["dockerfile", "gunicorn", "nginx", "compose", "k8s", "lock"] as const;
export type GeneratorName = (typeof GENERATORS)[number];

export const FILE_NAMES: Record<GeneratorName, string> = {
  dockerfile: "Dockerfile",
  gunicorn: "gunicorn.conf.py",
  nginx: "nginx.conf",
  compose: "compose.yaml",
  k8s: "k8s.yaml",
  lock: "schedctl_lock.py",
};

/**
 * One set of timeouts for every layer, from [tool.schedctl.timeouts]:
 * gunicorn kills a request at `request` s, so nginx waits a little longer (it then sees gunicorn's answer
 * instead of cutting the request itself); the orchestrator waits a little longer than gunicorn's graceful
 * shutdown before it sends SIGKILL (compose's default of 10 s is shorter than gunicorn's 30 s).
 */
export function timing(cfg: SchedctlConfig): {
  gunicornTimeout: number;
  gracefulTimeout: number;
  proxyReadTimeout: number;
  stopGracePeriod: number;
} {
  return {
    gunicornTimeout: cfg.timeouts.request,
    gracefulTimeout: cfg.timeouts.graceful,
    proxyReadTimeout: cfg.timeouts.request + 5,
    stopGracePeriod: cfg.timeouts.graceful + 10,
  };
}

/** nginx upstream names. */
export function upstreamNames(cfg: SchedctlConfig): { web: string; scheduler: string } {
  return { web: `${cfg.app.replace(/-/g, "_")}_web`, scheduler: `${cfg.app.replace(/-/g, "_")}_scheduler` };
}

/**
 * Python for a healthcheck without curl: any HTTP answer below 500 from the health path on $PORT is
 * healthy (an app without a route at "/" still answers 404), a refused connection or a 5xx is not.
 * Plain urllib: the error processor is replaced so 4xx answers do not raise.
 */
export function healthProbeCode(cfg: SchedctlConfig): string {
  return (
    "import os, sys, urllib.request as u; " +
    "o = u.build_opener(type('P', (u.HTTPErrorProcessor,), {'http_response': lambda s, q, r: r})); " +
    `sys.exit(o.open('http://127.0.0.1:' + os.environ.get('PORT', '${cfg.port}') + '${cfg.healthPath}', timeout=4).status >= 500)`
  );
}

/** The healthcheck command: ["python", "-c", code]. */
export function healthCommand(cfg: SchedctlConfig): string[] {
  return [cfg.baseImage.pythonBin, "-c", healthProbeCode(cfg)];
}

/** Exec (JSON) form as Dockerfiles and YAML flow sequences write it: ["a", "b"]. */
export function execForm(args: string[]): string {
  return `[${args.map((a) => JSON.stringify(a)).join(", ")}]`;
}

/** A Python string literal (the values reaching Python are validated ASCII; JSON escapes are Python's). */
export function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** Trailing spaces removed, exactly one final newline. */
export function finish(text: string): string {
  return `${text
    .split("\n")
    .map((l) => l.replace(/[ \t]+$/, ""))
    .join("\n")
    .replace(/\n+$/, "")}\n`;
}

/** The gunicorn command line every image runs (after the interpreter on distroless). */
export function gunicornArgs(cfg: SchedctlConfig): string[] {
  return ["--config", "gunicorn.conf.py", cfg.wsgi];
}
