/**
 * The schedctl config validator: structural checks that mirror schema/config.schema.json exactly (a test
 * runs both on generated inputs and requires the same verdict), then semantic checks the schema cannot say
 * (the zone exists, the Python version matches the image, routes do not collide), then defaults.
 * Pure: no IO. Issues carry a key path; src/config/load.ts turns them into "file:line: [table] key: ..." lines.
 */
import { classifyBaseImage, pythonFixedByDistro } from "./images.js";
import * as P from "./patterns.js";
import type { ConfigIssue, LockConfig, Route, RouteModifier, SchedctlConfig } from "./types.js";

type Field =
  | { type: "string"; pattern: string; what: string; explain?: (v: string) => string | null }
  | { type: "integer"; min: number; max: number; unit: string }
  | { type: "enum"; values: readonly string[] }
  | { type: "workers" }
  | { type: "routes" }
  | { type: "table"; fields: Record<string, Field>; required?: readonly string[] };

export const LOCK_BACKENDS = ["redis", "file", "none"] as const;

/** Which lock keys each backend takes (the rest are rejected, as the schema's if/then says). */
export const LOCK_KEYS_BY_BACKEND: Record<(typeof LOCK_BACKENDS)[number], readonly string[]> = {
  redis: ["url", "key", "ttl"],
  file: ["path"],
  none: [],
};

/** The shape of the config table. schema/config.schema.json is this, written as JSON Schema. */
export const CONFIG_SPEC: Field & { type: "table" } = {
  type: "table",
  required: ["app", "wsgi"],
  fields: {
    app: {
      type: "string",
      pattern: P.APP,
      what: "an app name: lower-case letters, digits and '-', starting with a letter, at most 40 characters",
    },
    wsgi: {
      type: "string",
      pattern: P.WSGI,
      what: 'a WSGI entry "module:app" or "module:create_app()"',
      explain: (v) =>
        /\(.+\)$/.test(v) ? "factory arguments are not supported; use a factory without arguments" : null,
    },
    port: { type: "integer", min: 1, max: 65535, unit: "port number (1-65535)" },
    python: { type: "string", pattern: P.PYTHON, what: 'a Python version such as "3.12"' },
    timezone: { type: "string", pattern: P.TIMEZONE, what: 'an IANA zone name such as "Europe/Berlin"' },
    "base-image": {
      type: "string",
      pattern: P.BASE_IMAGE,
      what: 'one of "python:3.X-slim[-bookworm|-trixie]", "python:3.X-alpine[3.N]", "ubuntu:22.04", "ubuntu:24.04", "gcr.io/distroless/python3-debian12"',
    },
    image: {
      type: "string",
      pattern: P.IMAGE,
      what: 'a Docker image reference such as "registry.example/shop:1.4"',
    },
    requirements: {
      type: "string",
      pattern: P.REL_PATH,
      what: 'a relative path inside the build context such as "requirements.txt"',
    },
    "health-path": { type: "string", pattern: P.HEALTH_PATH, what: 'a URL path such as "/" or "/healthz"' },
    scheduler: {
      type: "table",
      fields: {
        "api-prefix": {
          type: "string",
          pattern: P.API_PREFIX,
          what: 'a URL path prefix without a trailing slash, such as "/scheduler"',
          explain: (v) =>
            v === "" || v === "/"
              ? 'the prefix cannot be empty or "/" (Flask-APScheduler then registers an invalid rule)'
              : v.endsWith("/")
                ? "drop the trailing slash (schedctl routes both the prefix and everything under it)"
                : null,
        },
        routes: { type: "routes" },
        object: {
          type: "string",
          pattern: P.PY_OBJECT,
          what: 'a Python object path "module:attribute", such as "app.extensions:scheduler"',
        },
      },
    },
    instances: {
      type: "table",
      fields: {
        "web-replicas": { type: "integer", min: 1, max: 1000, unit: "replica count (1-1000)" },
        "web-workers": { type: "workers" },
        "web-host": {
          type: "string",
          pattern: P.HOST,
          what: "a host name: one lower-case DNS label (it is also the compose service name)",
        },
        "scheduler-host": {
          type: "string",
          pattern: P.HOST,
          what: "a host name: one lower-case DNS label (Flask-APScheduler compares it to the lower-cased hostname)",
        },
        "scheduler-port": { type: "integer", min: 1, max: 65535, unit: "port number (1-65535)" },
      },
    },
    lock: {
      type: "table",
      required: ["backend"],
      fields: {
        backend: { type: "enum", values: LOCK_BACKENDS },
        url: {
          type: "string",
          pattern: P.REDIS_URL,
          what: 'a Redis URL "redis://host[:port][/db]" or "rediss://..."',
          explain: (v) =>
            /^rediss?:\/\/[^@/]*:[^@/]*@/.test(v)
              ? "must not contain a password (it would be written into generated files); set SCHEDCTL_REDIS_URL in the deploy environment instead"
              : null,
        },
        key: {
          type: "string",
          pattern: P.LOCK_KEY,
          what: 'a key in schedctl\'s namespace, "schedctl:lock:<name>" (letters, digits, ".", "_", ":", "-"), so `schedctl locks` recognises it',
        },
        ttl: { type: "integer", min: 2, max: 3600, unit: "seconds" },
        path: {
          type: "string",
          pattern: P.ABS_PATH,
          what: 'an absolute path such as "/tmp/schedctl-shop.lock" (letters, digits, ".", "_", "-")',
        },
      },
    },
    timeouts: {
      type: "table",
      fields: {
        request: { type: "integer", min: 1, max: 3600, unit: "seconds" },
        graceful: { type: "integer", min: 1, max: 3600, unit: "seconds" },
      },
    },
    nginx: {
      type: "table",
      fields: {
        listen: { type: "integer", min: 1, max: 65535, unit: "port number (1-65535)" },
        "server-name": {
          type: "string",
          pattern: P.SERVER_NAME,
          what: '"_" or a lower-case DNS name such as "shop.example.com"',
        },
      },
    },
  },
};

/** "30s" → `"30s"`, 30 → `30`, a table → `a table`. Strings are clipped and Redis passwords hidden. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") {
    const redacted = v.replace(/^(rediss?:\/\/[^@/]*?:)[^@/]*@/, "$1***@");
    const clipped = redacted.length > 80 ? `${redacted.slice(0, 77)}...` : redacted;
    return JSON.stringify(clipped);
  }
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Date) return "a date";
  if (Array.isArray(v)) return "an array";
  if (v === null || v === undefined) return "nothing";
  return "a table";
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  return (d[a.length] as number[])[b.length] as number;
}

function suggest(key: string, known: string[]): string {
  const best = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase().replace(/_/g, "-"), k) }))
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))[0];
  return best && best.d <= 2 ? ` (did you mean "${best.k}"?)` : ` (known keys: ${known.join(", ")})`;
}

/** Why a route string is not accepted, in words; null when ROUTE matches it. */
export function routeProblem(s: string): string | null {
  if (P.re(P.ROUTE).test(s)) return null;
  const m = /^(=|\^~|~\*|~)?(\s*)(.*)$/s.exec(s) as RegExpExecArray;
  const mod = m[1] ?? "";
  const rest = m[3] ?? "";
  const isRegex = mod === "~" || mod === "~*";
  if (/[\r\n]/.test(s)) return "a line break would end the nginx directive";
  if (s.includes(";")) return '";" would end the nginx directive';
  if (/["']/.test(s)) return "quotes are not allowed (schedctl quotes regexes itself)";
  if (!isRegex && /[{}]/.test(s)) return '"{" and "}" would open or close an nginx block';
  if (mod && m[2] !== " ") return `write exactly one space after "${mod}"`;
  if (/\s/.test(rest))
    return isRegex ? "whitespace is not allowed (use \\s in the regex)" : "whitespace is not allowed";
  if (isRegex) {
    if (rest === "") return "the regex is empty";
    if (/\\$/.test(rest)) return "a trailing backslash would escape schedctl's closing quote";
    if (rest.includes("\\\\")) return "a doubled backslash changes meaning inside nginx quotes";
    if (/\\[tnr]/.test(rest))
      return "nginx turns \\t, \\n and \\r inside quotes into raw control characters; use \\s or \\x09 instead";
    return "only printable ASCII is allowed in a regex";
  }
  if (!/^[=^~/]/.test(s))
    return 'expected "= /path", "^~ /path/", "/path", "~ regex" or "~* regex" (a path starts with "/")';
  if (!rest.startsWith("/")) return 'a path starts with "/"';
  if (rest.includes("$")) return '"$" would start an nginx variable';
  if (rest.includes("\\")) return "backslashes are not allowed in a path";
  return "only letters, digits and . _ ~ / : @ + , = - are allowed in a path";
}

function checkField(field: Field, value: unknown, path: (string | number)[], out: ConfigIssue[]): void {
  switch (field.type) {
    case "string": {
      if (typeof value !== "string") {
        out.push({ path, message: `expected ${field.what}, got ${describeValue(value)}` });
        return;
      }
      if (!P.re(field.pattern).test(value)) {
        const why = field.explain?.(value);
        out.push({
          path,
          message: why
            ? `${describeValue(value)}: ${why}`
            : `expected ${field.what}, got ${describeValue(value)}`,
        });
      }
      return;
    }
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        out.push({ path, message: `expected a whole number of ${field.unit}, got ${describeValue(value)}` });
        return;
      }
      if (value < field.min || value > field.max)
        out.push({
          path,
          message: `must be between ${field.min} and ${field.max} ${field.unit}, got ${value}`,
        });
      return;
    }
    case "enum": {
      if (typeof value !== "string" || !field.values.includes(value))
        out.push({
          path,
          message: `expected one of ${field.values.map((v) => `"${v}"`).join(", ")}, got ${describeValue(value)}`,
        });
      return;
    }
    case "workers": {
      if (value === "auto") return;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 256)
        out.push({
          path,
          message: `expected a whole number of workers (1-256) or "auto", got ${describeValue(value)}`,
        });
      return;
    }
    case "routes": {
      if (!Array.isArray(value)) {
        out.push({ path, message: `expected an array of routes, got ${describeValue(value)}` });
        return;
      }
      value.forEach((r, i) => {
        if (typeof r !== "string") {
          out.push({ path: [...path, i], message: `expected a route string, got ${describeValue(r)}` });
          return;
        }
        const why = routeProblem(r);
        if (why) out.push({ path: [...path, i], message: `${describeValue(r)}: ${why}` });
      });
      return;
    }
    case "table": {
      if (!isTable(value)) {
        out.push({ path, message: `expected a table, got ${describeValue(value)}` });
        return;
      }
      const known = Object.keys(field.fields);
      for (const k of Object.keys(value).sort()) {
        const sub = field.fields[k];
        if (!sub) out.push({ path: [...path, k], message: `unknown key${suggest(k, known)}` });
        else checkField(sub, value[k], [...path, k], out);
      }
      for (const r of field.required ?? [])
        if (!(r in value)) {
          const sub = field.fields[r];
          const what =
            sub?.type === "string"
              ? sub.what
              : sub?.type === "enum"
                ? `one of ${sub.values.map((v) => `"${v}"`).join(", ")}`
                : "a value";
          out.push({ path: [...path, r], message: `missing: expected ${what}` });
        }
      return;
    }
  }
}

/** The checks schema/config.schema.json makes: types, patterns, ranges, unknown keys, lock backend keys. */
export function structuralIssues(raw: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  checkField(CONFIG_SPEC, raw, [], out);
  if (isTable(raw) && isTable(raw.lock)) {
    const backend = raw.lock.backend;
    if (typeof backend === "string" && backend in LOCK_KEYS_BY_BACKEND) {
      const allowed = LOCK_KEYS_BY_BACKEND[backend as keyof typeof LOCK_KEYS_BY_BACKEND];
      for (const k of ["url", "key", "ttl", "path"])
        if (k in raw.lock && !allowed.includes(k)) {
          const owner = Object.entries(LOCK_KEYS_BY_BACKEND).find(([, keys]) => keys.includes(k))?.[0];
          out.push({
            path: ["lock", k],
            message: `only used with backend = "${owner}", not "${backend}"`,
          });
        }
    }
  }
  return out;
}

/**
 * Names the tz project keeps only for backward compatibility, which Debian 13 and Ubuntu 23.10+ moved to
 * tzdata-legacy (the same list as src/checks/tz/zoneinfo.ts). ZoneInfo() fails on them in such images.
 */
const LEGACY_ZONES = new Set(
  "PRC ROC ROK W-SU GB GB-Eire NZ NZ-CHAT Navajo Cuba Egypt Eire Hongkong Iceland Iran Israel Jamaica Japan Kwajalein Libya Poland Portugal Singapore Turkey UCT Universal Zulu Greenwich GMT0 GMT+0 GMT-0 EST MST HST EST5EDT CST6CDT MST7MDT PST8PDT CET EET MET WET".split(
    " ",
  ),
);
const LEGACY_PREFIX = /^(US|Canada|Mexico|Brazil|Chile)\//;

/** Why a zone name would fail in the generated images; null when it is a canonical IANA zone. */
export function zoneProblem(zone: string): string | null {
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return `${describeValue(zone)} is not a time zone the IANA database knows`;
  }
  if (LEGACY_ZONES.has(zone) || LEGACY_PREFIX.test(zone)) {
    const target = /^(UCT|Universal|Zulu)$/.test(zone)
      ? "Etc/UTC"
      : /^(Greenwich|GMT[0+-]+)$/.test(zone)
        ? "Etc/GMT"
        : canonical;
    const hint = target !== zone && target !== "UTC" ? `; use "${target}"` : "";
    return `${describeValue(zone)} is a legacy alias that Debian 13 and recent Ubuntu keep only in tzdata-legacy, so ZoneInfo() fails there${hint}`;
  }
  return null;
}

function parseRoute(raw: string): Route {
  const m = /^(=|\^~|~\*|~) (.*)$/s.exec(raw);
  if (m) return { raw, modifier: m[1] as RouteModifier, value: m[2] as string };
  return { raw, modifier: "", value: raw };
}

/** nginx's own location identity: exact names, and non-exact (plain/^~) prefix names, must be unique. */
function locationIdentity(r: { modifier: RouteModifier; value: string }): string {
  if (r.modifier === "=") return `exact ${r.value}`;
  if (r.modifier === "" || r.modifier === "^~") return `prefix ${r.value}`;
  return `${r.modifier} ${r.value}`;
}

type Raw = Record<string, unknown>;
const tbl = (raw: Raw, k: string): Raw => (isTable(raw[k]) ? (raw[k] as Raw) : {});

/** Checks only a whole config can fail. Run on structurally valid input. */
export function semanticIssues(raw: Raw): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  if (typeof raw.timezone === "string") {
    const why = zoneProblem(raw.timezone);
    if (why) out.push({ path: ["timezone"], message: why });
  }
  const baseRef = raw["base-image"];
  if (typeof baseRef === "string") {
    const image = classifyBaseImage(baseRef);
    if (!image)
      out.push({ path: ["base-image"], message: `${describeValue(baseRef)}: not a supported base image` });
    else if (typeof raw.python === "string" && raw.python !== image.python)
      out.push({
        path: ["python"],
        message: pythonFixedByDistro(image)
          ? `${describeValue(raw.python)} does not match base-image ${baseRef}, which runs Python ${image.python}; set python = "${image.python}"`
          : `${describeValue(raw.python)} does not match base-image ${baseRef}; make them agree`,
      });
  }
  const sched = tbl(raw, "scheduler");
  const prefix = typeof sched["api-prefix"] === "string" ? sched["api-prefix"] : "/scheduler";
  const taken = new Map<string, string>([
    [`exact ${prefix}`, `the scheduler API's "= ${prefix}"`],
    [`prefix ${prefix}/`, `the scheduler API's "^~ ${prefix}/"`],
    ["prefix /", 'the web pool\'s "location /"'],
  ]);
  const routes = Array.isArray(sched.routes) ? sched.routes : [];
  routes.forEach((r, i) => {
    if (typeof r !== "string") return;
    const id = locationIdentity(parseRoute(r));
    const clash = taken.get(id);
    if (clash)
      out.push({
        path: ["scheduler", "routes", i],
        message: `${describeValue(r)} is the same nginx location as ${clash} (nginx rejects duplicate locations)`,
      });
    else taken.set(id, describeValue(r));
  });
  return out;
}

const int = (v: unknown, d: number): number => (typeof v === "number" ? v : d);
const str = (v: unknown, d: string): string => (typeof v === "string" ? v : d);

/** Fills the defaults in. Run on a config without issues. */
export function normalize(raw: Raw, source: string): SchedctlConfig {
  const app = raw.app as string;
  const baseRef = raw["base-image"];
  let python = str(raw.python, "3.12");
  const image =
    classifyBaseImage(typeof baseRef === "string" ? baseRef : `python:${python}-slim`) ??
    (classifyBaseImage("python:3.12-slim") as NonNullable<ReturnType<typeof classifyBaseImage>>);
  python = image.python;
  const port = int(raw.port, 8000);
  const sched = tbl(raw, "scheduler");
  const inst = tbl(raw, "instances");
  const lockRaw = tbl(raw, "lock");
  const timeouts = tbl(raw, "timeouts");
  const nginx = tbl(raw, "nginx");
  const backend = str(lockRaw.backend, "none");
  const lock: LockConfig =
    backend === "redis"
      ? {
          backend,
          url: str(lockRaw.url, "redis://redis:6379/0"),
          key: str(lockRaw.key, `schedctl:lock:${app}`),
          ttl: int(lockRaw.ttl, 30),
        }
      : backend === "file"
        ? { backend, path: str(lockRaw.path, `/tmp/schedctl-${app}.lock`) }
        : { backend: "none" };
  const workers = inst["web-workers"];
  return {
    app,
    wsgi: raw.wsgi as string,
    port,
    python,
    timezone: str(raw.timezone, "Etc/UTC"),
    baseImage: image,
    image: str(raw.image, `${app}:latest`),
    requirements: str(raw.requirements, "requirements.txt"),
    healthPath: str(raw["health-path"], "/"),
    scheduler: {
      apiPrefix: str(sched["api-prefix"], "/scheduler"),
      routes: (Array.isArray(sched.routes) ? (sched.routes as string[]) : []).map(parseRoute),
      object: typeof sched.object === "string" ? sched.object : null,
    },
    instances: {
      webReplicas: int(inst["web-replicas"], 2),
      webWorkers: typeof workers === "number" ? workers : "auto",
      webHost: str(inst["web-host"], "web"),
      schedulerHost: str(inst["scheduler-host"], "scheduler"),
      schedulerPort: int(inst["scheduler-port"], port),
    },
    lock,
    timeouts: { request: int(timeouts.request, 60), graceful: int(timeouts.graceful, 30) },
    nginx: { listen: int(nginx.listen, 8080), serverName: str(nginx["server-name"], "_") },
    source,
  };
}

/** Validates a raw config table (the parsed [tool.schedctl] or schedctl.toml). */
export function validateConfig(
  raw: unknown,
  source = "schedctl.toml",
): { config: SchedctlConfig; issues: [] } | { config: null; issues: ConfigIssue[] } {
  const structural = structuralIssues(raw);
  if (structural.length > 0) return { config: null, issues: structural };
  const semantic = semanticIssues(raw as Raw);
  if (semantic.length > 0) return { config: null, issues: semantic };
  return { config: normalize(raw as Raw, source), issues: [] };
}
