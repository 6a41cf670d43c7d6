/**
 * `schedctl init`: a starter config from flags and from what the app dir already says (Flask config,
 * gunicorn.conf.py, Dockerfile, compose file, pyproject.toml), rendered as TOML, and merged into an existing
 * pyproject.toml without touching anything else in it. The readers here take text and return findings;
 * discoverApp() does the reading.
 */

import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../errors.js";
import { gatherAppFacts, NOT_APP_DIRS } from "../facts/app.js";
import { classifyBaseImage } from "./images.js";
import { type ConfigFileKind, issueLocation, parseToml, schedctlTable } from "./load.js";
import { tableHeaders } from "./locate.js";
import * as P from "./patterns.js";
import type { SchedctlConfig } from "./types.js";
import { describeValue, validateConfig } from "./validate.js";

/** A config value found in the app dir, and where. */
export interface Finding {
  /** Dotted config key: "timezone", "instances.web-workers". */
  key: string;
  value: string | number;
  source: string;
  /** A guess (the directory name, a create_app() found in the sources): never reported as a disagreement. */
  weak?: boolean;
}

export interface Discovery {
  findings: Finding[];
  /** What was seen but not used, and disagreements (printed on stderr). */
  notes: string[];
}

/** Every config key init knows, in the order it writes them, with its flag. */
export const INIT_KEYS = [
  { key: "app", flag: "--app" },
  { key: "wsgi", flag: "--wsgi" },
  { key: "port", flag: "--port", int: true },
  { key: "python", flag: "--python" },
  { key: "timezone", flag: "--timezone" },
  { key: "base-image", flag: "--base-image" },
  { key: "image", flag: "--image" },
  { key: "requirements", flag: "--requirements" },
  { key: "health-path", flag: "--health-path" },
  { key: "scheduler.api-prefix", flag: "--api-prefix" },
  { key: "scheduler.routes", flag: "--route" },
  { key: "scheduler.object", flag: "--scheduler-object" },
  { key: "instances.web-replicas", flag: "--web-replicas", int: true },
  { key: "instances.web-workers", flag: "--web-workers", int: true },
  { key: "instances.web-host", flag: "--web-host" },
  { key: "instances.scheduler-host", flag: "--scheduler-host" },
  { key: "instances.scheduler-port", flag: "--scheduler-port", int: true },
  { key: "lock.backend", flag: "--lock" },
  { key: "lock.url", flag: "--lock-url" },
  { key: "lock.key", flag: "--lock-key" },
  { key: "lock.ttl", flag: "--lock-ttl", int: true },
  { key: "lock.path", flag: "--lock-path" },
  { key: "timeouts.request", flag: "--request-timeout", int: true },
  { key: "timeouts.graceful", flag: "--graceful-timeout", int: true },
  { key: "nginx.listen", flag: "--nginx-listen", int: true },
  { key: "nginx.server-name", flag: "--server-name" },
] as const;

/** "--base-image" → "baseImage" (commander's option attribute). */
export const flagAttribute = (flag: string): string =>
  flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

// ---------------------------------------------------------------------------------------------------------
// Readers (pure)

/** Dockerfile instructions with their first line, continuation lines joined, comments dropped. */
export function dockerfileInstructions(text: string): { keyword: string; args: string; line: number }[] {
  const out: { keyword: string; args: string; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] as string;
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i + 1;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, " ");
      const next = lines[++i] as string;
      if (!/^\s*#/.test(next)) joined += next;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(joined);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: start });
  }
  return out;
}

/** Shell words, with '…' and "…" quoting (enough for command lines in Dockerfiles and compose files). */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re))
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3] ?? ""));
  return out;
}

function execOrShell(args: string): string[] {
  if (args.startsWith("[")) {
    try {
      const v = JSON.parse(args) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    } catch {
      // shell form after all
    }
  }
  return shellWords(args);
}

const VALUE_OPTIONS = new Set(
  "-w --workers -b --bind -c --config -k --worker-class --threads -t --timeout --graceful-timeout --keep-alive --max-requests --max-requests-jitter --log-level --access-logfile --error-logfile --chdir --pythonpath -e --env -n --name -u --user -g --group --worker-tmp-dir --forwarded-allow-ips --log-config --access-logformat --worker-connections --backlog".split(
    " ",
  ),
);

function portOf(bind: string): number | null {
  const m = /:(\d{1,5})$/.exec(bind);
  if (!m || bind.startsWith("unix:")) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= 65535 ? n : null;
}

/** What a gunicorn command line says: workers, port, WSGI entry, timeouts. Null when it is not gunicorn. */
export function gunicornCommandFacts(
  words: string[],
): { workers?: number; port?: number; wsgi?: string; timeout?: number; graceful?: number } | null {
  let i = words.findIndex((w) => /(^|\/)gunicorn$/.test(w));
  if (i < 0) {
    i = words.findIndex((w, k) => w === "-m" && words[k + 1] === "gunicorn");
    if (i < 0) return null;
    i++;
  }
  const out: { workers?: number; port?: number; wsgi?: string; timeout?: number; graceful?: number } = {};
  const positional: string[] = [];
  for (let k = i + 1; k < words.length; k++) {
    const w = words[k] as string;
    let opt = w;
    let val: string | undefined;
    const eq = /^(--[a-z-]+)=(.*)$/.exec(w);
    if (eq) [opt, val] = [eq[1] as string, eq[2] as string];
    else if (/^-[wbtck].+/.test(w)) [opt, val] = [w.slice(0, 2), w.slice(2)];
    else if (VALUE_OPTIONS.has(w)) val = words[++k];
    else if (w.startsWith("-")) continue;
    else {
      positional.push(w);
      continue;
    }
    if (val === undefined) continue;
    if ((opt === "-w" || opt === "--workers") && /^\d+$/.test(val)) out.workers = Number(val);
    if (opt === "-b" || opt === "--bind") {
      const p = portOf(val);
      if (p) out.port = p;
    }
    if ((opt === "-t" || opt === "--timeout") && /^\d+$/.test(val)) out.timeout = Number(val);
    if (opt === "--graceful-timeout" && /^\d+$/.test(val)) out.graceful = Number(val);
  }
  const app = positional.reverse().find((p) => P.re(P.WSGI).test(p));
  if (app) out.wsgi = app;
  return out;
}

/** Findings from a Dockerfile: the final FROM, ENV TZ, the gunicorn command (CMD/ENTRYPOINT). */
export function dockerfileFindings(text: string, file = "Dockerfile"): Discovery {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const instr = dockerfileInstructions(text);
  const from = instr.filter((x) => x.keyword === "FROM").at(-1);
  if (from) {
    const image = (from.args.split(/\s+/).find((w) => !w.startsWith("--")) ?? "").replace(
      /@sha256:[0-9a-f]+$/,
      "",
    );
    const base = P.re(P.BASE_IMAGE).test(image) ? classifyBaseImage(image) : null;
    if (base) {
      findings.push({ key: "base-image", value: image, source: `${file}:${from.line}` });
      findings.push({ key: "python", value: base.python, source: `${file}:${from.line}` });
    } else {
      const py = /^python:(3\.\d+)/.exec(image);
      if (py?.[1] && P.re(P.PYTHON).test(py[1]))
        findings.push({ key: "python", value: py[1], source: `${file}:${from.line}` });
      notes.push(`${file}:${from.line}: FROM ${image} is not a base image schedctl writes Dockerfiles for`);
    }
  }
  for (const x of instr.filter((y) => y.keyword === "ENV")) {
    const m = /(?:^|\s)TZ(?:=|\s+)("([^"]*)"|'([^']*)'|(\S+))/.exec(x.args);
    const tz = m ? (m[2] ?? m[3] ?? m[4] ?? "") : null;
    if (tz !== null) findings.push({ key: "timezone", value: tz, source: `${file}:${x.line}` });
  }
  const entry = instr.filter((x) => x.keyword === "ENTRYPOINT").at(-1);
  const cmd = instr.filter((x) => x.keyword === "CMD").at(-1);
  const words = [...(entry ? execOrShell(entry.args) : []), ...(cmd ? execOrShell(cmd.args) : [])];
  const g = gunicornCommandFacts(words);
  const line = (cmd ?? entry)?.line ?? 0;
  if (g) {
    if (g.wsgi) findings.push({ key: "wsgi", value: g.wsgi, source: `${file}:${line}` });
    if (g.workers)
      findings.push({ key: "instances.web-workers", value: g.workers, source: `${file}:${line}` });
    if (g.port) findings.push({ key: "port", value: g.port, source: `${file}:${line}` });
    if (g.timeout) findings.push({ key: "timeouts.request", value: g.timeout, source: `${file}:${line}` });
    if (g.graceful) findings.push({ key: "timeouts.graceful", value: g.graceful, source: `${file}:${line}` });
  }
  const expose = instr.find((x) => x.keyword === "EXPOSE");
  const ep = expose ? /^(\d{1,5})/.exec(expose.args) : null;
  if (ep && !g?.port)
    findings.push({ key: "port", value: Number(ep[1]), source: `${file}:${expose?.line}`, weak: true });
  return { findings, notes };
}

/** Findings from gunicorn.conf.py: literal `workers`, `bind`, `timeout`, `graceful_timeout`. */
export function gunicornConfFindings(text: string, file = "gunicorn.conf.py"): Discovery {
  const findings: Finding[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const src = `${file}:${i + 1}`;
    let m = /^workers\s*=\s*(\d+)\s*(#.*)?$/.exec(l);
    if (m) findings.push({ key: "instances.web-workers", value: Number(m[1]), source: src });
    m = /^bind\s*=\s*\[?\s*["']([^"']+)["']/.exec(l);
    const port = m?.[1] ? portOf(m[1]) : null;
    if (port) findings.push({ key: "port", value: port, source: src });
    m = /^timeout\s*=\s*(\d+)\s*(#.*)?$/.exec(l);
    if (m) findings.push({ key: "timeouts.request", value: Number(m[1]), source: src });
    m = /^graceful_timeout\s*=\s*(\d+)\s*(#.*)?$/.exec(l);
    if (m) findings.push({ key: "timeouts.graceful", value: Number(m[1]), source: src });
  });
  return { findings, notes: [] };
}

interface ComposeService {
  name: string;
  image: string | null;
  build: boolean;
  command: string[];
  env: Record<string, string>;
  replicas: number | null;
  hostname: string | null;
}

function composeServices(doc: unknown): ComposeService[] {
  const services = (doc as { services?: unknown } | null)?.services;
  if (typeof services !== "object" || services === null) return [];
  return Object.entries(services as Record<string, unknown>).map(([name, raw]) => {
    const s = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const env: Record<string, string> = {};
    if (Array.isArray(s.environment))
      for (const e of s.environment) {
        const m = /^([^=]+)=(.*)$/.exec(String(e));
        if (m) env[m[1] as string] = m[2] as string;
      }
    else if (typeof s.environment === "object" && s.environment !== null)
      for (const [k, v] of Object.entries(s.environment)) env[k] = v === null ? "" : String(v);
    const deploy = (s.deploy ?? {}) as Record<string, unknown>;
    const replicas =
      typeof deploy.replicas === "number" ? deploy.replicas : typeof s.scale === "number" ? s.scale : null;
    return {
      name,
      image: typeof s.image === "string" ? s.image : null,
      build: s.build !== undefined,
      command: Array.isArray(s.command)
        ? s.command.map(String)
        : typeof s.command === "string"
          ? shellWords(s.command)
          : [],
      env,
      replicas,
      hostname: typeof s.hostname === "string" ? s.hostname : null,
    };
  });
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/** Findings from a compose file: which service is the scheduler, the web pool's replicas, Redis. */
export function composeFindings(text: string, file: string): Discovery {
  const findings: Finding[] = [];
  const notes: string[] = [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return {
      findings,
      notes: [`${file}: not valid YAML (${(err as Error).message.split("\n")[0]}); ignored`],
    };
  }
  const services = composeServices(doc);
  const redis = services.find((s) => s.image !== null && /(^|\/)redis(:|$)/.test(s.image));
  if (redis && P.re(P.HOST).test(redis.name)) {
    findings.push({ key: "lock.backend", value: "redis", source: `${file}: service ${redis.name}` });
    findings.push({
      key: "lock.url",
      value: `redis://${redis.name}:6379/0`,
      source: `${file}: service ${redis.name}`,
    });
  }
  const appServices = services.filter(
    (s) => s !== redis && (s.build || gunicornCommandFacts(s.command) !== null || "WORKERS_COUNT" in s.env),
  );
  const scheduler =
    appServices.find((s) => truthy(s.env.SCHEDULER_ENABLED)) ??
    appServices.find((s) => /sched/i.test(s.name));
  if (scheduler) {
    const host = scheduler.hostname ?? scheduler.name;
    if (P.re(P.HOST).test(host))
      findings.push({
        key: "instances.scheduler-host",
        value: host,
        source: `${file}: service ${scheduler.name}`,
      });
    else notes.push(`${file}: service ${scheduler.name}: "${host}" is not a host name schedctl can use`);
    if ((scheduler.replicas ?? 1) > 1)
      notes.push(
        `${file}: service ${scheduler.name} runs ${scheduler.replicas} replicas: the scheduler must run once`,
      );
  }
  const web = appServices.find((s) => s !== scheduler);
  if (web) {
    const src = `${file}: service ${web.name}`;
    if (P.re(P.HOST).test(web.name))
      findings.push({ key: "instances.web-host", value: web.name, source: src });
    if (web.replicas !== null && web.replicas >= 1)
      findings.push({ key: "instances.web-replicas", value: web.replicas, source: src });
    if (/^\d+$/.test(web.env.WORKERS_COUNT ?? ""))
      findings.push({ key: "instances.web-workers", value: Number(web.env.WORKERS_COUNT), source: src });
  }
  for (const s of appServices) {
    const g = gunicornCommandFacts(s.command);
    if (g?.wsgi) findings.push({ key: "wsgi", value: g.wsgi, source: `${file}: service ${s.name}` });
    if (s.env.TZ) findings.push({ key: "timezone", value: s.env.TZ, source: `${file}: service ${s.name}` });
  }
  return { findings, notes };
}

/** "shop_api" → "shop-api"; null when nothing usable is left. */
export function sanitizeAppName(name: string): string | null {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[-0-9]+|-+$/g, "");
  s = s.slice(0, 40).replace(/-+$/, "");
  return P.re(P.APP).test(s) ? s : null;
}

const API_PREFIX_RE = [
  /^\s*SCHEDULER_API_PREFIX\s*(?::\s*\w+\s*)?=\s*["']([^"'\n]*)["']/,
  /config\[\s*["']SCHEDULER_API_PREFIX["']\s*\]\s*=\s*["']([^"'\n]*)["']/,
  /SCHEDULER_API_PREFIX\s*=\s*["']([^"'\n]*)["']\s*[,)]/,
];

/** Findings from Python sources: SCHEDULER_API_PREFIX and the WSGI entry (wsgi.py, create_app, Flask()). */
export function pythonFindings(files: { rel: string; text: string }[]): Discovery {
  const findings: Finding[] = [];
  const wsgi: Finding[] = [];
  for (const { rel, text } of files) {
    const module = rel
      .replace(/\.py$/, "")
      .replace(/\/__init__$/, "")
      .split("/")
      .join(".");
    text.split(/\r?\n/).forEach((l, i) => {
      if (/^\s*#/.test(l)) return;
      for (const re of API_PREFIX_RE) {
        const m = re.exec(l);
        if (m?.[1] !== undefined) {
          findings.push({ key: "scheduler.api-prefix", value: m[1], source: `${rel}:${i + 1}` });
          break;
        }
      }
      if (!/^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/.test(module)) return;
      if (/^def create_app\s*\(/.test(l))
        wsgi.push({ key: "wsgi", value: `${module}:create_app()`, source: `${rel}:${i + 1}`, weak: true });
      else if (/^(app|application)\s*=/.test(l) && (rel === "wsgi.py" || /=\s*Flask\s*\(/.test(l)))
        wsgi.push({
          key: "wsgi",
          value: `${module}:${/^(\w+)/.exec(l)?.[1]}`,
          source: `${rel}:${i + 1}`,
          weak: true,
        });
    });
  }
  // wsgi.py first, then app factories, then module-level apps
  const rank = (f: Finding) =>
    String(f.source).startsWith("wsgi.py") ? 0 : String(f.value).endsWith("()") ? 1 : 2;
  wsgi.sort((a, b) => rank(a) - rank(b));
  if (wsgi[0]) findings.push(wsgi[0]);
  return { findings, notes: [] };
}

// ---------------------------------------------------------------------------------------------------------
// Reading the app dir

// init reads the app itself, not its tests.
const SKIP_DIRS = new Set([...NOT_APP_DIRS, "tests", "test"]);

async function pyFiles(dir: string): Promise<{ rel: string; text: string }[]> {
  const out: { rel: string; text: string }[] = [];
  const walk = async (d: string, depth: number) => {
    if (depth > 2 || out.length >= 300) return;
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) await walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith(".py") && e.name !== "gunicorn.conf.py") {
        const st = await stat(p).catch(() => null);
        if (!st || st.size > 512 * 1024) continue;
        const text = await readFile(p, "utf8").catch(() => null);
        if (text !== null && !text.includes("\u0000"))
          out.push({ rel: relative(dir, p).split("\\").join("/"), text });
      }
    }
  };
  await walk(dir, 0);
  return out;
}

async function readText(path: string): Promise<string | null> {
  const st = await stat(path).catch(() => null);
  if (!st?.isFile() || st.size > 1024 * 1024) return null;
  const text = await readFile(path, "utf8").catch(() => null);
  return text === null || text.includes("\u0000") ? null : text;
}

export const COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

/** Everything init can learn from the app dir, strongest source first for each key. */
export async function discoverApp(dir: string): Promise<Discovery> {
  const parts: Discovery[] = [];
  const pyproject = await readText(join(dir, "pyproject.toml"));
  if (pyproject !== null) {
    try {
      const doc = parseToml(pyproject, "pyproject.toml");
      const project = doc.project as { name?: unknown } | undefined;
      const poetry = (doc.tool as { poetry?: { name?: unknown } } | undefined)?.poetry;
      const name =
        typeof project?.name === "string"
          ? project.name
          : typeof poetry?.name === "string"
            ? poetry.name
            : null;
      const app = name ? sanitizeAppName(name) : null;
      if (app)
        parts.push({
          findings: [
            {
              key: "app",
              value: app,
              source: `pyproject.toml ${project?.name ? "[project]" : "[tool.poetry]"} name`,
            },
          ],
          notes: [],
        });
    } catch {
      // a broken pyproject.toml is reported when init writes into it
    }
  }
  // The Flask config first: SCHEDULER_TIMEZONE is the app's intent (TZ in a Dockerfile is the container's).
  const scan = await gatherAppFacts(dir);
  const tz = scan.facts.schedulerTimezone[0];
  if (tz) parts.push({ findings: [{ key: "timezone", value: tz.value, source: tz.source }], notes: [] });
  const py = await pyFiles(dir);
  const pyFound = pythonFindings(py);
  parts.push({ findings: pyFound.findings.filter((f) => f.key !== "wsgi"), notes: [] });
  const dockerfile = await readText(join(dir, "Dockerfile"));
  if (dockerfile !== null) parts.push(dockerfileFindings(dockerfile));
  for (const f of COMPOSE_FILES) {
    const text = await readText(join(dir, f));
    if (text !== null) {
      parts.push(composeFindings(text, f));
      break;
    }
  }
  const gconf = await readText(join(dir, "gunicorn.conf.py"));
  if (gconf !== null) parts.push(gunicornConfFindings(gconf));
  parts.push({ findings: pyFound.findings.filter((f) => f.key === "wsgi"), notes: [] });
  const reqs = await readText(join(dir, "requirements.txt"));
  if (reqs !== null && /^redis\b/im.test(reqs))
    parts.push({
      findings: [{ key: "lock.backend", value: "redis", source: "requirements.txt (redis)" }],
      notes: [],
    });
  const app = sanitizeAppName(basename(resolve(dir)));
  if (app)
    parts.push({
      findings: [{ key: "app", value: app, source: "the directory name", weak: true }],
      notes: [],
    });
  return { findings: parts.flatMap((p) => p.findings), notes: parts.flatMap((p) => p.notes) };
}

// ---------------------------------------------------------------------------------------------------------
// Assembling and rendering

type Raw = Record<string, unknown>;

function setPath(raw: Raw, key: string, value: unknown): void {
  const parts = key.split(".");
  let t = raw;
  for (const p of parts.slice(0, -1)) {
    if (typeof t[p] !== "object" || t[p] === null) t[p] = {};
    t = t[p] as Raw;
  }
  t[parts[parts.length - 1] as string] = value;
}

/** A flag's string as the config holds it: digits become numbers for integer keys. */
function flagValue(def: (typeof INIT_KEYS)[number], v: unknown): unknown {
  if (typeof v === "string" && "int" in def && /^\d+$/.test(v.trim())) return Number(v.trim());
  return v;
}

/** Whether a finding's value passes the pattern of its key (a bad value in a Dockerfile is noted, not used). */
function findingIssue(f: Finding): string | null {
  const raw: Raw = { app: "x", wsgi: "x:app" };
  setPath(raw, f.key, f.value);
  if (f.key.startsWith("lock.") && f.key !== "lock.backend") setPath(raw, "lock.backend", "redis");
  const r = validateConfig(raw);
  if (r.config !== null) return null;
  const iss = r.issues.find((i) => i.path.join(".") === f.key) ?? r.issues[0];
  return iss ? iss.message : null;
}

export interface InitPlan {
  config: SchedctlConfig;
  /** Where each written key came from ("Dockerfile:3", "--port"); missing: a default. */
  sources: Record<string, string>;
  notes: string[];
}

/**
 * Flags over findings over defaults, validated. A bad flag is a UsageError naming the flag; a finding
 * that does not validate is dropped with a note.
 */
export function assembleConfig(flags: Record<string, unknown>, discovery: Discovery): InitPlan {
  const raw: Raw = {};
  const sources: Record<string, string> = {};
  const notes = [...discovery.notes];
  const chosen = new Map<string, Finding>();
  for (const f of discovery.findings) {
    const first = chosen.get(f.key);
    if (first) {
      if (String(first.value) !== String(f.value) && !f.weak)
        notes.push(
          `${f.key}: ${first.source} says ${describeValue(first.value)}, ${f.source} says ${describeValue(f.value)}; using ${describeValue(first.value)}`,
        );
      continue;
    }
    const why = findingIssue(f);
    if (why) {
      notes.push(`${f.source}: ${f.key} ${describeValue(f.value)} not used: ${why}`);
      continue;
    }
    chosen.set(f.key, f);
  }
  const flagged = new Set<string>();
  for (const def of INIT_KEYS) {
    const v = flags[flagAttribute(def.flag)];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    flagged.add(def.key);
    setPath(raw, def.key, flagValue(def, v));
    sources[def.key] = def.flag;
  }
  const lockFlagged = [...flagged].some((k) => k.startsWith("lock."));
  const imageFlagged = flagged.has("base-image") || flagged.has("python");
  for (const [key, f] of chosen) {
    if (flagged.has(key)) continue;
    // a lock backend from flags owns the lock table; a base image or python from flags owns both
    if (key.startsWith("lock.") && lockFlagged) continue;
    if ((key === "base-image" || key === "python") && imageFlagged) continue;
    setPath(raw, key, f.value);
    sources[key] = f.source;
  }
  // Lock settings without a backend name the backend they belong to.
  const lock = raw.lock as Raw | undefined;
  if (lock && lock.backend === undefined) lock.backend = "path" in lock ? "file" : "redis";
  // Only the base image was given: its Python is the Python.
  if (typeof raw["base-image"] === "string" && raw.python === undefined) {
    const img = P.re(P.BASE_IMAGE).test(raw["base-image"]) ? classifyBaseImage(raw["base-image"]) : null;
    if (img) raw.python = img.python;
  }
  if (raw.app === undefined) throw new UsageError("init: no app name found; pass --app NAME");
  if (raw.wsgi === undefined)
    throw new UsageError(
      'init: no WSGI entry found (no gunicorn command, wsgi.py or create_app); pass --wsgi "module:app"',
    );
  const r = validateConfig(raw, "pyproject.toml [tool.schedctl]");
  if (r.config === null) {
    const iss = r.issues[0] as (typeof r.issues)[number];
    const key = iss.path.filter((p) => typeof p === "string").join(".");
    const def = INIT_KEYS.find((d) => d.key === key);
    const where =
      def && sources[key] === def.flag
        ? def.flag
        : sources[key]
          ? `${sources[key]}: ${key}`
          : issueLocation("toml", iss.path);
    throw new UsageError(`init: ${where}: ${iss.message}`);
  }
  return { config: r.config, sources, notes };
}

function tomlValue(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (Array.isArray(v))
    return v.length === 0 ? "[]" : `[\n${v.map((x) => `  ${tomlValue(x)},`).join("\n")}\n]`;
  return JSON.stringify(String(v));
}

/** The config as TOML tables, every key written out; discovered keys say where they came from. */
export function renderConfigToml(plan: InitPlan, kind: ConfigFileKind): string {
  const c = plan.config;
  const tables: [string, [string, unknown][]][] = [
    [
      "",
      [
        ["app", c.app],
        ["wsgi", c.wsgi],
        ["port", c.port],
        ["python", c.python],
        ["timezone", c.timezone],
        ["base-image", c.baseImage.ref],
        ["image", c.image],
        ["requirements", c.requirements],
        ["health-path", c.healthPath],
      ],
    ],
    [
      "scheduler",
      [
        ["api-prefix", c.scheduler.apiPrefix],
        ["routes", c.scheduler.routes.map((r) => r.raw)],
        ["object", c.scheduler.object],
      ],
    ],
    [
      "instances",
      [
        ["web-replicas", c.instances.webReplicas],
        ["web-workers", c.instances.webWorkers],
        ["web-host", c.instances.webHost],
        ["scheduler-host", c.instances.schedulerHost],
        ["scheduler-port", c.instances.schedulerPort],
      ],
    ],
    [
      "lock",
      c.lock.backend === "redis"
        ? [
            ["backend", "redis"],
            ["url", c.lock.url],
            ["key", c.lock.key],
            ["ttl", c.lock.ttl],
          ]
        : c.lock.backend === "file"
          ? [
              ["backend", "file"],
              ["path", c.lock.path],
            ]
          : [["backend", "none"]],
    ],
    [
      "timeouts",
      [
        ["request", c.timeouts.request],
        ["graceful", c.timeouts.graceful],
      ],
    ],
    [
      "nginx",
      [
        ["listen", c.nginx.listen],
        ["server-name", c.nginx.serverName],
      ],
    ],
  ];
  const prefix = kind === "pyproject" ? "tool.schedctl" : "";
  const out: string[] = [];
  for (const [name, keys] of tables) {
    const header = [prefix, name].filter(Boolean).join(".");
    if (header) out.push(`${out.length > 0 ? "\n" : ""}[${header}]`);
    if (name === "")
      out.push(
        "# Written by `schedctl init`; the keys are described in schedctl's schema/config.schema.json.",
      );
    for (const [k, v] of keys) {
      const full = name ? `${name}.${k}` : k;
      if (v === null) {
        out.push(
          `# ${k} = "app.extensions:scheduler"  # the scheduler object, when it is not the Flask app's apscheduler`,
        );
        continue;
      }
      const src = plan.sources[full];
      const comment = src && !src.startsWith("--") ? `  # from ${src}` : "";
      out.push(`${k} = ${tomlValue(v)}${comment}`);
    }
  }
  return `${out.join("\n")}\n`;
}

const equalJson = (a: unknown, b: unknown): boolean =>
  JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b));
function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortDeep((v as Raw)[k])]),
    );
  return v;
}

/**
 * pyproject.toml with `table` (a rendered [tool.schedctl] block) appended; with `replace`, the existing
 * [tool.schedctl] and [tool.schedctl.*] tables are cut out first. Everything else stays byte for byte, and
 * the result is checked: re-parsed, it holds the same data as before apart from tool.schedctl.
 */
export function mergeIntoPyproject(original: string, table: string, replace: boolean): string {
  const before = parseToml(original, "pyproject.toml");
  const has = schedctlTable(before, "pyproject") !== undefined;
  if (has && !replace)
    throw new UsageError("pyproject.toml: already has [tool.schedctl]; use --force to replace it");
  const eol = original.includes("\r\n") ? "\r\n" : "\n";
  let lines = original.split(/\r?\n/);
  if (has) {
    const headers = tableHeaders(original);
    const drop = new Set<number>();
    headers.forEach((h, i) => {
      if (!(h.path[0] === "tool" && h.path[1] === "schedctl")) return;
      const end = (headers[i + 1]?.line ?? lines.length + 1) - 1;
      let last = end;
      // comments and blank lines just above the next table belong to it
      while (last > h.line && /^\s*(#.*)?$/.test(lines[last - 1] ?? "")) last--;
      for (let l = h.line; l <= last; l++) drop.add(l);
    });
    lines = lines.filter((_, i) => !drop.has(i + 1));
  }
  let text = lines.join(eol).replace(/(\r?\n)*$/, "");
  text = `${text}${text ? eol + eol : ""}${table
    .split("\n")
    .join(eol)
    .replace(/(\r?\n)*$/, "")}${eol}`;
  let after: Raw;
  try {
    after = parseToml(text, "pyproject.toml");
  } catch {
    throw new UsageError(
      "pyproject.toml: defines tool.schedctl keys outside [tool.schedctl] tables (dotted keys or inline tables); move them into [tool.schedctl] first",
    );
  }
  const strip = (d: Raw): Raw => {
    const copy = JSON.parse(JSON.stringify(sortDeep(d))) as Raw;
    const tool = copy.tool as Raw | undefined;
    if (tool) {
      delete tool.schedctl;
      if (Object.keys(tool).length === 0) delete copy.tool;
    }
    return copy;
  };
  if (!equalJson(strip(before), strip(after)) || schedctlTable(after, "pyproject") === undefined)
    throw new UsageError(
      "pyproject.toml: could not add [tool.schedctl] without changing other data (tool.schedctl keys outside its own tables?); edit it by hand",
    );
  return text;
}
