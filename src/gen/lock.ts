/** `schedctl gen lock`: schedctl_lock.py, the Redis (or single-host file) leader lock for the scheduler. */
import type { SchedctlConfig } from "../config/types.js";
import { UsageError } from "../errors.js";
import { FILE_NAMES, finish, type GeneratedFile } from "./common.js";
import { render, type Templates } from "./templates.js";

/** The lock settings baked into the module; the backend not chosen keeps schedctl's defaults. */
export function lockDefaults(cfg: SchedctlConfig): {
  backend: "redis" | "file";
  url: string;
  key: string;
  ttl: number;
  path: string;
} {
  if (cfg.lock.backend === "none")
    throw new UsageError(
      `${cfg.source}: lock backend is "none"; set [lock] backend = "redis" (or "file") to generate schedctl_lock.py`,
    );
  const base = {
    url: "redis://redis:6379/0",
    key: `schedctl:lock:${cfg.app}`,
    ttl: 30,
    path: `/tmp/schedctl-${cfg.app}.lock`,
  };
  return cfg.lock.backend === "redis"
    ? { ...base, backend: "redis", url: cfg.lock.url, key: cfg.lock.key, ttl: cfg.lock.ttl }
    : { ...base, backend: "file", path: cfg.lock.path };
}

export function generateLock(cfg: SchedctlConfig, t: Templates): GeneratedFile {
  const d = lockDefaults(cfg);
  // Every value below matched a pattern without quotes or backslashes: safe inside "..." in Python.
  const text = render(
    t["schedctl_lock.py"],
    {
      source: cfg.source,
      app: cfg.app,
      backend: d.backend,
      redis_url: d.url,
      key: d.key,
      ttl: String(d.ttl),
      file_path: d.path,
    },
    "schedctl_lock.py",
  );
  return { path: FILE_NAMES.lock, content: finish(text) };
}
