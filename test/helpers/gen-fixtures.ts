/** Configs, tools and process helpers shared by the config/gen/init tests. */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { parseConfigText } from "../../src/config/load.js";
import type { SchedctlConfig } from "../../src/config/types.js";

/** The main example: every route kind, a Redis lock, explicit timeouts. */
export const FULL_TOML = `[project]
name = "shop"
version = "1.0.0"

[tool.schedctl]
app = "shop"
wsgi = "app:create_app()"
port = 8000
timezone = "Europe/Berlin"
base-image = "python:3.12-slim"

[tool.schedctl.scheduler]
api-prefix = "/scheduler"
routes = [
  "= /jobs/run",
  "^~ /admin/jobs/",
  "/tasks",
  "~ ^/api/v[0-9]{1,2}/cron$",
  "~* \\\\.job$",
]

[tool.schedctl.instances]
web-replicas = 3
web-workers = 4
scheduler-host = "scheduler"

[tool.schedctl.lock]
backend = "redis"
ttl = 30

[tool.schedctl.timeouts]
request = 60
graceful = 30
`;

/** A single-host setup: file lock, Alpine, no extra routes, workers "auto". */
export const FILE_LOCK_TOML = `app = "billing-worker"
wsgi = "wsgi:app"
port = 5000
timezone = "Asia/Shanghai"
base-image = "python:3.12-alpine"
health-path = "/healthz"

[scheduler]
api-prefix = "/api/scheduler"

[instances]
web-replicas = 2
web-host = "api"
scheduler-host = "jobs"
scheduler-port = 5001

[lock]
backend = "file"

[timeouts]
request = 120
graceful = 45

[nginx]
listen = 80
server-name = "billing.example.com"
`;

/** No leader lock: one scheduler instance, nothing else. */
export const NO_LOCK_TOML = `app = "tiny"
wsgi = "tiny.web:application"
timezone = "America/New_York"
python = "3.11"
base-image = "python:3.11-slim-bookworm"

[scheduler]
object = "tiny.jobs:scheduler"
`;

export function fullConfig(): SchedctlConfig {
  return parseConfigText(FULL_TOML, "pyproject.toml", "pyproject");
}

/** The full example on another base image (python follows the image where the distro fixes it). */
export function configFor(baseImage: string, python?: string): SchedctlConfig {
  let t = FULL_TOML.replace('base-image = "python:3.12-slim"', `base-image = "${baseImage}"`);
  if (python) t = t.replace("port = 8000\n", `port = 8000\npython = "${python}"\n`);
  return parseConfigText(t, "pyproject.toml", "pyproject");
}

export const BASE_IMAGES: { image: string; python?: string; golden: string }[] = [
  { image: "python:3.12-slim", golden: "python-3.12-slim" },
  { image: "python:3.12-slim-bookworm", golden: "python-3.12-slim-bookworm" },
  { image: "python:3.12-alpine", golden: "python-3.12-alpine" },
  { image: "ubuntu:24.04", golden: "ubuntu-24.04" },
  { image: "ubuntu:22.04", python: "3.10", golden: "ubuntu-22.04" },
  { image: "gcr.io/distroless/python3-debian12", python: "3.11", golden: "distroless-python3-debian12" },
];

/** The path of a system binary, or an Error telling how to install it (tests fail, never skip). */
export function requireTool(bin: string, pkg: string): string {
  const candidates = bin.startsWith("/")
    ? [bin]
    : [`/usr/sbin/${bin}`, `/usr/bin/${bin}`, `/sbin/${bin}`, `/bin/${bin}`];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${bin} is missing: apt-get install -y --no-install-recommends ${pkg}`);
  return found;
}

export const PYTHON = "/usr/bin/python3";

/** Debian's python3 with the modules the real tests import, or an Error with the install command. */
export function requirePython(modules: string[], packages: string[]): string {
  requireTool(PYTHON, "python3");
  const r = spawnSync(PYTHON, ["-c", modules.map((m) => `import ${m}`).join("; ")], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `${PYTHON} cannot import ${modules.join(", ")}: apt-get install -y --no-install-recommends ${packages.join(" ")}`,
    );
  return PYTHON;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws `what`, computed then). */
export async function waitFor<T>(
  what: string | (() => string),
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`,
      );
    await sleep(everyMs);
  }
}

/** Direct children of `pid`, from /proc. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out.sort((a, b) => a - b);
}
