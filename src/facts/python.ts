import type { Target } from "../targets/target.js";
import type { PythonFacts, PythonPackage } from "./types.js";

/** Where distributions and images put Python packages. `*` expands to one directory level. */
const SITE_PATTERNS = [
  "/usr/lib/python3/dist-packages",
  "/usr/lib/python3*/site-packages",
  "/usr/local/lib/python3*/site-packages",
  "/usr/local/lib/python3*/dist-packages",
  "/opt/venv/lib/python3*/site-packages",
  "/venv/lib/python3*/site-packages",
  "/app/.venv/lib/python3*/site-packages",
  "/app/venv/lib/python3*/site-packages",
];

const INTERESTING = new Set([
  "tzlocal",
  "apscheduler",
  "flask-apscheduler",
  "pytz",
  "tzdata",
  "gunicorn",
  "flask",
  "redis",
  "pytz-deprecation-shim",
]);

export function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** "tzlocal-4.2.egg-info" / "Flask_APScheduler-1.13.1.dist-info" → name and version. */
export function parseDistInfoDir(entry: string): { name: string; version: string } | null {
  const m = /^(.+?)-(\d[^-]*?)(?:-py\d[\d.]*)?\.(?:dist-info|egg-info)$/.exec(entry);
  if (!m?.[1] || !m[2]) return null;
  return { name: normalizeDistName(m[1]), version: m[2] };
}

async function expand(target: Target, pattern: string): Promise<string[]> {
  const star = pattern.indexOf("*");
  if (star < 0) return (await target.stat(pattern))?.type === "dir" ? [pattern] : [];
  const slash = pattern.lastIndexOf("/", star);
  const parent = pattern.slice(0, slash);
  const end = pattern.indexOf("/", star);
  const seg = pattern.slice(slash + 1, end < 0 ? undefined : end);
  const rest = end < 0 ? "" : pattern.slice(end);
  const re = new RegExp(`^${seg.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
  const out: string[] = [];
  for (const e of (await target.readdir(parent)) ?? []) {
    if (re.test(e)) out.push(...(await expand(target, `${parent}/${e}${rest}`)));
  }
  return out;
}

export async function gatherPythonFacts(target: Target, extraSites: string[] = []): Promise<PythonFacts> {
  const sitePackages: string[] = [];
  for (const p of [...SITE_PATTERNS, ...extraSites]) sitePackages.push(...(await expand(target, p)));
  const packages: Record<string, PythonPackage> = {};
  for (const site of sitePackages) {
    for (const e of (await target.readdir(site)) ?? []) {
      const d = parseDistInfoDir(e);
      if (d && INTERESTING.has(d.name) && !packages[d.name]) packages[d.name] = { ...d, location: site };
    }
  }
  return { sitePackages, packages };
}

/** The pip tzdata package's zone files, which Python's zoneinfo uses when TZPATH has no match. */
export async function pipTzdataDir(target: Target, facts: PythonFacts): Promise<string | null> {
  const pkg = facts.packages.tzdata;
  if (!pkg) return null;
  const dir = `${pkg.location}/tzdata/zoneinfo`;
  return (await target.stat(dir))?.type === "dir" ? dir : null;
}
