import { join, relative } from "node:path";
import { UsageError } from "../errors.js";
import { AppDirReader } from "./app-dir.js";
import type { AppFacts, ConfigValue } from "./types.js";

/** Directories under an app dir that are not the app's own sources (virtualenvs, caches, builds). */
export const NOT_APP_DIRS: ReadonlySet<string> = new Set([
  ".git",
  ".hg",
  ".venv",
  "venv",
  "env",
  ".env",
  "virtualenv",
  "node_modules",
  "__pycache__",
  "site-packages",
  "dist",
  "build",
  ".tox",
  ".nox",
  ".mypy_cache",
  ".pytest_cache",
  ".ruff_cache",
  ".idea",
  ".vscode",
]);
const MAX_PY_FILES = 2000;
const MAX_PY_BYTES = 1024 * 1024;
const MAX_DEPTH = 5;

/** KEY=VALUE lines as docker compose and python-dotenv read them (export prefix, quotes, comments). */
export function parseDotenv(text: string): { key: string; value: string; line: number }[] {
  const out: { key: string; value: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) return;
    let v = m[2] ?? "";
    const quoted = /^(["'])(.*?)\1(?:\s+#.*)?$/.exec(v);
    if (quoted) v = quoted[2] ?? "";
    else v = v.replace(/\s+#.*$/, "");
    out.push({ key: m[1], value: v, line: i + 1 });
  });
  return out;
}

async function pythonFiles(dir: string, files: AppDirReader): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || out.length >= MAX_PY_FILES) return;
    let entries: import("node:fs").Dirent[];
    try {
      entries = [...(await files.list(d))];
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (out.length >= MAX_PY_FILES) return;
      if (e.isDirectory() && !NOT_APP_DIRS.has(e.name) && !e.name.startsWith("."))
        await walk(join(d, e.name), depth + 1);
      else if (e.isFile() && e.name.endsWith(".py")) out.push(join(d, e.name));
    }
  };
  await walk(dir, 0);
  return out;
}

const TZ_ASSIGNMENTS = [
  // SCHEDULER_TIMEZONE = "Asia/Shanghai"   (module or class attribute, optional annotation)
  /^\s*SCHEDULER_TIMEZONE\s*(?::\s*[\w.[\]]+\s*)?=\s*(?:os\.(?:environ\.get|getenv)\(\s*["']SCHEDULER_TIMEZONE["']\s*,\s*)?["']([^"'\n]+)["']/,
  // app.config["SCHEDULER_TIMEZONE"] = "Asia/Shanghai"
  /config\[\s*["']SCHEDULER_TIMEZONE["']\s*\]\s*=\s*["']([^"'\n]+)["']/,
  // app.config.update(SCHEDULER_TIMEZONE="Asia/Shanghai")
  /SCHEDULER_TIMEZONE\s*=\s*["']([^"'\n]+)["']\s*[,)]/,
];

// SCHEDULER_API_PREFIX = "/jobs-api" (module or class attribute, or app.config[...] = ...)
const API_PREFIX_ASSIGNMENT = /SCHEDULER_API_PREFIX["']?\s*\]?\s*(?::\s*[\w.[\]]+\s*)?=\s*["']([^"'\n]*)["']/;

const SCHEDULER_CLASSES = /\b(Background|Blocking|AsyncIO|Gevent|Tornado|Twisted|Qt)Scheduler\s*\(/g;

/** The text of a call starting at `open` (index of '('), up to its matching ')', capped. */
function callText(src: string, open: number): string {
  let depth = 0;
  for (let i = open; i < src.length && i < open + 2000; i++) {
    const c = src[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return src.slice(open, i + 1);
  }
  return src.slice(open, open + 200);
}

function lineOf(src: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

export interface AppScan {
  facts: AppFacts;
  dotenv: { key: string; value: string; source: string }[];
  configTimezone: ConfigValue | null;
  /** [tool.schedctl] scheduler.api-prefix and scheduler.routes, read loosely. */
  configApiPrefix: ConfigValue | null;
  configRoutes: string[];
}

/** `files`: the reader this gather shares with the deploy facts (one is made when not given). */
export async function gatherAppFacts(dir: string, files = new AppDirReader()): Promise<AppScan> {
  const facts: AppFacts = {
    dir,
    schedulerTimezone: [],
    schedulerApiPrefix: [],
    flaskApscheduler: { imported: false, constructs: [] },
    bareSchedulers: [],
    filesScanned: 0,
  };

  const dotenv: AppScan["dotenv"] = [];
  const envText = await files.text(join(dir, ".env"));
  if (envText !== null)
    for (const e of parseDotenv(envText))
      dotenv.push({ key: e.key, value: e.value, source: `.env:${e.line}` });

  let configTimezone: ConfigValue | null = null;
  let configApiPrefix: ConfigValue | null = null;
  let configRoutes: string[] = [];
  for (const [file, pick] of [
    [
      "pyproject.toml",
      (d: Record<string, unknown>) => (d.tool as Record<string, unknown> | undefined)?.schedctl,
    ],
    ["schedctl.toml", (d: Record<string, unknown>) => d],
  ] as const) {
    const raw = await files.text(join(dir, file));
    if (raw === null) continue;
    const { parse } = await import("smol-toml");
    let doc: Record<string, unknown>;
    try {
      doc = parse(raw) as Record<string, unknown>;
    } catch (err) {
      const line = (err as { line?: number }).line;
      const first = ((err as Error).message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
      throw new UsageError(`${join(dir, file)}${line ? `:${line}` : ""}: invalid TOML: ${first}`);
    }
    const section = pick(doc) as Record<string, unknown> | undefined;
    if (!section) continue;
    // Read loosely: doctor uses what is there; `schedctl gen` validates the whole config.
    const label = file === "pyproject.toml" ? "pyproject.toml [tool.schedctl]" : "schedctl.toml";
    if (typeof section.timezone === "string")
      configTimezone = { value: section.timezone, source: `${label} timezone` };
    const sched = section.scheduler as Record<string, unknown> | undefined;
    if (typeof sched?.["api-prefix"] === "string") {
      configApiPrefix = { value: sched["api-prefix"], source: `${label} scheduler.api-prefix` };
    }
    if (Array.isArray(sched?.routes))
      configRoutes = sched.routes.filter((r): r is string => typeof r === "string");
    break;
  }

  for (const file of await pythonFiles(dir, files)) {
    const st = await files.stat(file).catch(() => null);
    if (!st || st.size > MAX_PY_BYTES) continue;
    const src = await files.text(file);
    if (src === null) continue;
    facts.filesScanned++;
    const rel = relative(dir, file);
    src.split(/\n/).forEach((line, i) => {
      if (/^\s*#/.test(line)) return;
      const prefix = API_PREFIX_ASSIGNMENT.exec(line);
      if (prefix?.[1] !== undefined)
        facts.schedulerApiPrefix.push({ value: prefix[1], source: `${rel}:${i + 1}` });
      for (const re of TZ_ASSIGNMENTS) {
        const m = re.exec(line);
        if (m?.[1]) {
          facts.schedulerTimezone.push({ value: m[1], source: `${rel}:${i + 1}` });
          break;
        }
      }
    });
    if (/^\s*(?:from\s+flask_apscheduler\s+import|import\s+flask_apscheduler)/m.test(src))
      facts.flaskApscheduler.imported = true;
    // Blank out comments (same length, so offsets and line numbers stay right) before looking for calls.
    const code = src.replace(/#[^\n]*/g, (c) => " ".repeat(c.length));
    for (const m of code.matchAll(/\bAPScheduler\s*\(/g)) {
      const text = callText(code, (m.index ?? 0) + m[0].length - 1);
      const args = text.slice(1, -1).trim();
      // APScheduler(scheduler=...) or APScheduler(BackgroundScheduler(...), app) hands over a configured scheduler.
      const passesScheduler = /\bscheduler\s*=/.test(args) || /^\w*Scheduler\s*\(/.test(args);
      facts.flaskApscheduler.constructs.push({
        source: `${rel}:${lineOf(src, m.index ?? 0)}`,
        text: `APScheduler${text}`,
        passesScheduler,
      });
    }
    for (const m of code.matchAll(SCHEDULER_CLASSES)) {
      const text = callText(code, (m.index ?? 0) + m[0].length - 1);
      if (!/\btimezone\s*=/.test(text))
        facts.bareSchedulers.push({
          source: `${rel}:${lineOf(src, m.index ?? 0)}`,
          text: `${m[1]}Scheduler${text}`,
        });
    }
  }
  return { facts, dotenv, configTimezone, configApiPrefix, configRoutes };
}
