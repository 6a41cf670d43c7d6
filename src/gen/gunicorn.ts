/** `schedctl gen gunicorn`: gunicorn.conf.py driven by WORKERS_COUNT and SCHEDULER_ENABLED. */
import type { SchedctlConfig } from "../config/types.js";
import { FILE_NAMES, finish, type GeneratedFile, pyStr, timing } from "./common.js";
import { render, type Templates } from "./templates.js";

export function generateGunicorn(cfg: SchedctlConfig, t: Templates): GeneratedFile {
  const tm = timing(cfg);
  const startHow =
    cfg.lock.backend === "none"
      ? "directly (no leader lock configured)"
      : `only while it holds the ${cfg.lock.backend === "redis" ? "Redis" : "file"} leader lock (schedctl_lock.py)`;
  const text = render(
    t["gunicorn.conf.py"],
    {
      source: cfg.source,
      start_how: startHow,
      proxy_read_timeout: String(tm.proxyReadTimeout),
      stop_grace_period: String(tm.stopGracePeriod),
      app: cfg.app,
      scheduler_object: cfg.scheduler.object === null ? "None" : pyStr(cfg.scheduler.object),
      lock_backend: cfg.lock.backend,
      port: String(cfg.port),
      timeout: String(tm.gunicornTimeout),
      graceful_timeout: String(tm.gracefulTimeout),
    },
    "gunicorn.conf.py",
  );
  return { path: FILE_NAMES.gunicorn, content: finish(text) };
}
