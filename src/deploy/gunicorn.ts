/**
 * Gunicorn's configuration as Gunicorn itself resolves it (gunicorn/app/base.py `load_config`, config.py):
 * command-line flags (argparse, with its abbreviations and `-w4`/`--workers=4` forms), GUNICORN_CMD_ARGS
 * (shlex-split, same parser), the config file (`-c` on the CLI, else `-c` in GUNICORN_CMD_ARGS, else
 * `./gunicorn.conf.py`), and the `workers` default read from WEB_CONCURRENCY when gunicorn.config is imported.
 * Precedence, lowest to highest: default (WEB_CONCURRENCY) < config file < GUNICORN_CMD_ARGS < CLI.
 * Also finds the gunicorn invocation inside a container command (`sh -c "exec gunicorn ..."`,
 * `python -m gunicorn`, `tini -- gunicorn`, an entrypoint script). Pure; no IO.
 */
import {
  blocks,
  type EvalContext,
  execBlocks,
  logicalLines,
  newContext,
  type PyBlock,
  type PyValue,
  pyIntFromString,
  pyRepr,
} from "./pyexpr.js";
import { parseShell, shlexSplit } from "./shell.js";

// ---------------------------------------------------------------------------------------------------------
// Command-line options (Gunicorn 20.1's settings with a `cli`; argparse types and actions)

type Action = "store" | "store_true" | "append" | "store_const";
interface OptSpec {
  setting: string;
  action: Action;
  int?: boolean;
  const?: boolean;
}

const OPTIONS: [string[], OptSpec][] = [
  [["-c", "--config"], { setting: "config", action: "store" }],
  [["-b", "--bind"], { setting: "bind", action: "append" }],
  [["--backlog"], { setting: "backlog", action: "store", int: true }],
  [["-w", "--workers"], { setting: "workers", action: "store", int: true }],
  [["-k", "--worker-class"], { setting: "worker_class", action: "store" }],
  [["--threads"], { setting: "threads", action: "store", int: true }],
  [["--worker-connections"], { setting: "worker_connections", action: "store", int: true }],
  [["--max-requests"], { setting: "max_requests", action: "store", int: true }],
  [["--max-requests-jitter"], { setting: "max_requests_jitter", action: "store", int: true }],
  [["-t", "--timeout"], { setting: "timeout", action: "store", int: true }],
  [["--graceful-timeout"], { setting: "graceful_timeout", action: "store", int: true }],
  [["--keep-alive"], { setting: "keepalive", action: "store", int: true }],
  [["--limit-request-line"], { setting: "limit_request_line", action: "store", int: true }],
  [["--limit-request-fields"], { setting: "limit_request_fields", action: "store", int: true }],
  [["--limit-request-field_size"], { setting: "limit_request_field_size", action: "store", int: true }],
  [["--reload"], { setting: "reload", action: "store_true" }],
  [["--reload-engine"], { setting: "reload_engine", action: "store" }],
  [["--reload-extra-file"], { setting: "reload_extra_files", action: "append" }],
  [["--spew"], { setting: "spew", action: "store_true" }],
  [["--check-config"], { setting: "check_config", action: "store_true" }],
  [["--print-config"], { setting: "print_config", action: "store_true" }],
  [["--preload"], { setting: "preload_app", action: "store_true" }],
  [["--no-sendfile"], { setting: "sendfile", action: "store_const", const: false }],
  [["--reuse-port"], { setting: "reuse_port", action: "store_true" }],
  [["--chdir"], { setting: "chdir", action: "store" }],
  [["-D", "--daemon"], { setting: "daemon", action: "store_true" }],
  [["-e", "--env"], { setting: "raw_env", action: "append" }],
  [["-p", "--pid"], { setting: "pidfile", action: "store" }],
  [["--worker-tmp-dir"], { setting: "worker_tmp_dir", action: "store" }],
  [["-u", "--user"], { setting: "user", action: "store" }],
  [["-g", "--group"], { setting: "group", action: "store" }],
  [["-m", "--umask"], { setting: "umask", action: "store" }],
  [["--initgroups"], { setting: "initgroups", action: "store_true" }],
  [["--forwarded-allow-ips"], { setting: "forwarded_allow_ips", action: "store" }],
  [["--access-logfile"], { setting: "accesslog", action: "store" }],
  [
    ["--disable-redirect-access-to-syslog"],
    { setting: "disable_redirect_access_to_syslog", action: "store_true" },
  ],
  [["--access-logformat"], { setting: "access_log_format", action: "store" }],
  [["--error-logfile", "--log-file"], { setting: "errorlog", action: "store" }],
  [["--log-level"], { setting: "loglevel", action: "store" }],
  [["--capture-output"], { setting: "capture_output", action: "store_true" }],
  [["--logger-class"], { setting: "logger_class", action: "store" }],
  [["--log-config"], { setting: "logconfig", action: "store" }],
  [["--log-syslog-to"], { setting: "syslog_addr", action: "store" }],
  [["--log-syslog"], { setting: "syslog", action: "store_true" }],
  [["--log-syslog-prefix"], { setting: "syslog_prefix", action: "store" }],
  [["--log-syslog-facility"], { setting: "syslog_facility", action: "store" }],
  [["-R", "--enable-stdio-inheritance"], { setting: "enable_stdio_inheritance", action: "store_true" }],
  [["--statsd-host"], { setting: "statsd_host", action: "store" }],
  [["--dogstatsd-tags"], { setting: "dogstatsd_tags", action: "store" }],
  [["--statsd-prefix"], { setting: "statsd_prefix", action: "store" }],
  [["-n", "--name"], { setting: "proc_name", action: "store" }],
  [["--pythonpath"], { setting: "pythonpath", action: "store" }],
  [["--paste", "--paster"], { setting: "paste", action: "store" }],
  [["--proxy-protocol"], { setting: "proxy_protocol", action: "store_true" }],
  [["--proxy-allow-from"], { setting: "proxy_allow_ips", action: "store" }],
  [["--keyfile"], { setting: "keyfile", action: "store" }],
  [["--certfile"], { setting: "certfile", action: "store" }],
  [["--ssl-version"], { setting: "ssl_version", action: "store" }],
  [["--cert-reqs"], { setting: "cert_reqs", action: "store" }],
  [["--ca-certs"], { setting: "ca_certs", action: "store" }],
  [["--suppress-ragged-eofs"], { setting: "suppress_ragged_eofs", action: "store_true" }],
  [["--do-handshake-on-connect"], { setting: "do_handshake_on_connect", action: "store_true" }],
  [["--ciphers"], { setting: "ciphers", action: "store" }],
  [["--paste-global"], { setting: "raw_paste_global_conf", action: "append" }],
  [["--strip-header-spaces"], { setting: "strip_header_spaces", action: "store_true" }],
  [["--tolerate-dangerous-framing"], { setting: "tolerate_dangerous_framing", action: "store_true" }],
  [["-v", "--version"], { setting: "version", action: "store_true" }],
  [["-h", "--help"], { setting: "help", action: "store_true" }],
];
const BY_FLAG = new Map<string, { spec: OptSpec; flags: string[] }>();
for (const [flags, spec] of OPTIONS) for (const f of flags) BY_FLAG.set(f, { spec, flags });
const LONG = [...BY_FLAG.keys()].filter((f) => f.startsWith("--"));

/** Settings whose config-file value goes through validate_pos_int. */
const POS_INT = new Set([
  "workers",
  "threads",
  "worker_connections",
  "max_requests",
  "max_requests_jitter",
  "timeout",
  "graceful_timeout",
  "keepalive",
  "backlog",
  "limit_request_line",
  "limit_request_fields",
  "limit_request_field_size",
]);
const BOOL = new Set([
  "preload_app",
  "reload",
  "daemon",
  "spew",
  "check_config",
  "print_config",
  "capture_output",
]);
const STRING = new Set(["worker_class", "wsgi_app", "chdir", "config", "proc_name", "loglevel"]);
const LIST = new Set(["bind", "raw_env"]);

/** Gunicorn's server hooks (gunicorn/config.py), settings a config file defines as functions. */
export const GUNICORN_HOOKS: ReadonlySet<string> = new Set([
  "on_starting",
  "on_reload",
  "when_ready",
  "pre_fork",
  "post_fork",
  "post_worker_init",
  "worker_int",
  "worker_abort",
  "pre_exec",
  "pre_request",
  "post_request",
  "child_exit",
  "worker_exit",
  "nworkers_changed",
  "on_exit",
]);

/** Every setting name Gunicorn 20.1 knows (a config file's other names are ignored). */
export const GUNICORN_SETTINGS = new Set([
  ...OPTIONS.map(([, s]) => s.setting).filter((s) => s !== "version" && s !== "help"),
  "wsgi_app",
  ...GUNICORN_HOOKS,
  "secure_scheme_headers",
  "forwarder_headers",
  "logconfig_dict",
  "raw_paste_global_conf",
  "default_proc_name",
  "sendfile",
  "reuse_port",
  "tmp_upload_dir",
  "proxy_allow_ips",
]);

export const GUNICORN_DEFAULTS: Record<string, number | boolean | string | string[] | null> = {
  workers: 1,
  threads: 1,
  max_requests: 0,
  max_requests_jitter: 0,
  timeout: 30,
  graceful_timeout: 30,
  keepalive: 2,
  preload_app: false,
  reload: false,
  worker_class: "sync",
  bind: ["127.0.0.1:8000"],
  config: "./gunicorn.conf.py",
};

export interface CliSetting {
  setting: string;
  /** The flag as written ("-w", "--workers=4"). */
  flag: string;
  raw: string;
  value: number | boolean | string | string[];
}

export interface GunicornArgs {
  /** Settings in the order given (later entries override earlier ones; `append` settings accumulate). */
  settings: CliSetting[];
  /** Positional arguments: the first is APP_MODULE. */
  positional: string[];
  app: string | null;
  /** What argparse/Gunicorn would reject: ambiguous or unknown options, missing or invalid values. */
  errors: string[];
}

/** Parses the arguments after `gunicorn` the way Gunicorn's argparse parser does. */
export function parseGunicornArgs(argv: string[]): GunicornArgs {
  const out: GunicornArgs = { settings: [], positional: [], app: null, errors: [] };
  const take = (flagWritten: string, spec: OptSpec, flags: string[], value: string | null) => {
    const name = flags.join("/");
    if (spec.action === "store_true") {
      if (value !== null) out.errors.push(`argument ${name}: ignored explicit argument '${value}'`);
      out.settings.push({ setting: spec.setting, flag: flagWritten, raw: flagWritten, value: true });
      return;
    }
    if (spec.action === "store_const") {
      out.settings.push({
        setting: spec.setting,
        flag: flagWritten,
        raw: flagWritten,
        value: spec.const ?? false,
      });
      return;
    }
    if (value === null) {
      out.errors.push(`argument ${name}: expected one argument`);
      return;
    }
    if (spec.int) {
      const n = pyIntFromString(value);
      if (n.t !== "int") {
        out.errors.push(`argument ${name}: invalid int value: '${value}'`);
        return;
      }
      out.settings.push({ setting: spec.setting, flag: flagWritten, raw: value, value: n.v });
      return;
    }
    out.settings.push({ setting: spec.setting, flag: flagWritten, raw: value, value });
  };
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (onlyPositional || !a.startsWith("-") || a === "-" || /^-\d/.test(a)) {
      out.positional.push(a);
      continue;
    }
    if (a === "--") {
      onlyPositional = true;
      continue;
    }
    const nextValue = (): string | null => {
      const n = argv[i + 1];
      if (n === undefined || (n.startsWith("-") && n !== "-" && !/^-\d/.test(n))) return null;
      i++;
      return n;
    };
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const flag = eq < 0 ? a : a.slice(0, eq);
      const inline = eq < 0 ? null : a.slice(eq + 1);
      let hit = BY_FLAG.get(flag);
      if (!hit) {
        const candidates = LONG.filter((f) => f.startsWith(flag));
        const settings = new Set(candidates.map((c) => BY_FLAG.get(c)?.spec.setting));
        if (candidates.length === 0) {
          out.errors.push(`unrecognized arguments: ${a}`);
          continue;
        }
        if (settings.size > 1) {
          out.errors.push(`ambiguous option: ${flag} could match ${candidates.join(", ")}`);
          continue;
        }
        hit = BY_FLAG.get(candidates[0] as string);
      }
      if (!hit) continue;
      const needsValue = hit.spec.action === "store" || hit.spec.action === "append";
      take(a, hit.spec, hit.flags, inline ?? (needsValue ? nextValue() : null));
      continue;
    }
    // Short options: -w 4, -w4, -w=4; flags may be grouped (-Dw4).
    let rest = a.slice(1);
    while (rest.length > 0) {
      const flag = `-${rest[0]}`;
      const hit = BY_FLAG.get(flag);
      if (!hit) {
        out.errors.push(`unrecognized arguments: ${a}`);
        break;
      }
      const needsValue = hit.spec.action === "store" || hit.spec.action === "append";
      if (needsValue) {
        let attached = rest.slice(1);
        if (attached.startsWith("=")) attached = attached.slice(1);
        take(flag, hit.spec, hit.flags, attached !== "" ? attached : nextValue());
        break;
      }
      take(flag, hit.spec, hit.flags, null);
      rest = rest.slice(1);
    }
  }
  out.app = out.positional[0] ?? null;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Finding gunicorn in a container command

export interface GunicornInvocation {
  /** The arguments after `gunicorn`. */
  args: string[];
  /** The whole gunicorn command as it runs, for display. */
  text: string;
  /** How it is reached: "exec form", "sh -c", "python -m gunicorn", "start.sh:3", ... */
  via: string[];
  /** Variables set on the way (`VAR=x gunicorn`, `env VAR=x`, `export VAR=x` in the script). */
  envOverrides: Record<string, string>;
  /** Shell expansions whose value is unknown (`$(nproc)`), in the order met. */
  unresolved: string[];
}

const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh"]);

function isGunicornWord(w: string): boolean {
  return (w.split("/").pop() ?? "") === "gunicorn";
}

/**
 * Finds gunicorn in a command vector (what the container executes: ENTRYPOINT + CMD, compose command, k8s
 * command + args). `env` is the container's environment (for `$VAR` in shell scripts); `scripts` maps script
 * names/paths to their text (entrypoint scripts found in the app dir).
 */
export function findGunicorn(
  argv: string[],
  env: Record<string, string>,
  scripts: Record<string, string> = {},
  unknownEnv: Set<string> = new Set(),
  depth = 0,
): GunicornInvocation | null {
  if (argv.length === 0 || depth > 4) return null;
  const first = argv[0] ?? "";
  // An entrypoint script we can read runs first (it may export variables, then `exec "$@"`).
  if (lookupScript(first, scripts) !== null) {
    const r = fromScriptFile(first, argv.slice(1), env, scripts, unknownEnv, depth);
    if (r) return r;
  }
  // 1. A word vector that names gunicorn directly (after wrappers like exec, env, tini --, ddtrace-run ...).
  const direct = fromWords(argv, env);
  if (direct) return direct;
  const base = first.split("/").pop() ?? "";
  // 2. sh -c "script" (also -ec, -lc, ...), possibly behind wrappers (tini --, dumb-init, gosu user).
  const shIdx = argv.findIndex(
    (a, i) =>
      SHELLS.has(a.split("/").pop() ?? "") && argv.slice(i + 1).some((x) => /^-[a-z]*c[a-z]*$/.test(x)),
  );
  if (shIdx >= 0) {
    const rest = argv.slice(shIdx);
    const ci = rest.findIndex((a, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(a));
    if (rest[ci + 1] !== undefined) {
      const sh = rest[0]?.split("/").pop() ?? "sh";
      const r = fromScript(
        rest[ci + 1] as string,
        env,
        rest.slice(ci + 2),
        scripts,
        unknownEnv,
        depth,
        `${sh} -c`,
      );
      if (r) return shIdx > 0 ? { ...r, via: [`wrapped by ${argv.slice(0, shIdx).join(" ")}`, ...r.via] } : r;
    }
  } else if (SHELLS.has(base) && argv[1] && !argv[1].startsWith("-")) {
    // sh script.sh args
    return fromScriptFile(argv[1], argv.slice(2), env, scripts, unknownEnv, depth);
  }
  // 3. An entrypoint script in the app dir (./entrypoint.sh, /app/start.sh, docker-entrypoint.sh ...)
  const script = lookupScript(first, scripts);
  if (script !== null) return fromScriptFile(first, argv.slice(1), env, scripts, unknownEnv, depth);
  // 4. A wrapper entrypoint (tini, dumb-init...) followed by a script.
  for (let i = 1; i < argv.length; i++) {
    if (lookupScript(argv[i] ?? "", scripts) !== null)
      return fromScriptFile(argv[i] as string, argv.slice(i + 1), env, scripts, unknownEnv, depth);
  }
  return null;
}

function lookupScript(path: string, scripts: Record<string, string>): string | null {
  if (path in scripts) return scripts[path] ?? null;
  const base = path.split("/").pop() ?? "";
  if (!base || !/\.(sh|bash)$|entrypoint|start|run|boot/i.test(base)) return null;
  for (const [k, v] of Object.entries(scripts)) if ((k.split("/").pop() ?? "") === base) return v;
  return null;
}

function fromScriptFile(
  path: string,
  args: string[],
  env: Record<string, string>,
  scripts: Record<string, string>,
  unknownEnv: Set<string>,
  depth: number,
): GunicornInvocation | null {
  const text = lookupScript(path, scripts);
  if (text === null) return null;
  const name = path.split("/").pop() ?? path;
  return fromScript(text, env, args, scripts, unknownEnv, depth, name);
}

function fromScript(
  script: string,
  env: Record<string, string>,
  positional: string[],
  scripts: Record<string, string>,
  unknownEnv: Set<string>,
  depth: number,
  label: string,
): GunicornInvocation | null {
  const local: Record<string, string> = { ...env };
  const lookup = (n: string): string | undefined | null => {
    if (n === "@" || n === "*") return positional.join(" ");
    if (/^\d$/.test(n)) return n === "0" ? label : positional[Number(n) - 1];
    if (n === "#") return String(positional.length);
    if (unknownEnv.has(n) && !(n in local)) return null;
    if (n in local) return local[n];
    return undefined;
  };
  const parsed = parseShell(script, lookup);
  const lines = script.split("\n");
  for (const cmd of parsed.commands) {
    const words = cmd.words.map((w) => w.text);
    const w0 = words[0] ?? "";
    if (w0 === "export" || (words.length === 0 && cmd.assignments.length > 0)) {
      for (const a of cmd.assignments) local[a.name] = a.value;
      for (const w of words.slice(1)) {
        const eq = w.indexOf("=");
        if (eq > 0) local[w.slice(0, eq)] = w.slice(eq + 1);
      }
      continue;
    }
    // exec "$@" / "$@": the container's CMD runs here.
    const rawIsArgs =
      cmd.words.some((w) => w.expanded) &&
      (w0 === "exec" ? words.slice(1) : words).join(" ") === positional.join(" ");
    if (rawIsArgs && positional.length > 0) {
      const inner = findGunicorn(positional, local, {}, unknownEnv, depth + 1);
      if (inner) {
        for (const [k, v] of Object.entries(local)) if (env[k] !== v) inner.envOverrides[k] ??= v;
        return { ...inner, via: [`${label}: exec "$@"`, ...inner.via] };
      }
      continue;
    }
    const hit = fromWords(words, local);
    if (hit) {
      for (const [k, v] of Object.entries(local)) if (env[k] !== v) hit.envOverrides[k] = v;
      for (const a of cmd.assignments) hit.envOverrides[a.name] = a.value;
      const unresolved = cmd.words.flatMap((w) => w.unresolved);
      const where = lineOfCommand(lines, words);
      return {
        ...hit,
        via: [where ? `${label}:${where}` : label, ...hit.via],
        unresolved: [...unresolved, ...hit.unresolved],
      };
    }
    // A nested script call (./start.sh) or sh -c inside the script.
    if (SHELLS.has(w0.split("/").pop() ?? "") || lookupScript(w0, scripts) !== null) {
      const inner = findGunicorn(words, local, scripts, unknownEnv, depth + 1);
      if (inner) return { ...inner, via: [label, ...inner.via] };
    }
  }
  return null;
}

function lineOfCommand(lines: string[], words: string[]): number | null {
  const idx = lines.findIndex((l) => /\bgunicorn\b/.test(l) && !/^\s*#/.test(l));
  if (idx >= 0) return idx + 1;
  const w = words[0];
  if (!w) return null;
  const i = lines.findIndex((l) => l.includes(w));
  return i >= 0 ? i + 1 : null;
}

function fromWords(words: string[], _env: Record<string, string>): GunicornInvocation | null {
  let k = -1;
  let via = "exec";
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? "";
    if (isGunicornWord(w)) {
      k = i;
      break;
    }
    if (
      /^python[\d.]*$/.test(w.split("/").pop() ?? "") &&
      words[i + 1] === "-m" &&
      words[i + 2] === "gunicorn"
    ) {
      k = i + 2;
      via = `${w} -m gunicorn`;
      break;
    }
    // Stop at a shell: its -c script is handled by the caller.
    if (SHELLS.has(w.split("/").pop() ?? "") && words.slice(i + 1).some((x) => /^-[a-z]*c[a-z]*$/.test(x)))
      return null;
  }
  if (k < 0) return null;
  const envOverrides: Record<string, string> = {};
  const wrappers: string[] = [];
  for (const w of words.slice(0, via === "exec" ? k : k - 2)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(w);
    if (m?.[1]) envOverrides[m[1]] = m[2] ?? "";
    else if (w !== "exec") wrappers.push(w);
  }
  const args = words.slice(k + 1);
  return {
    args,
    text: ["gunicorn", ...args].join(" "),
    via: [
      ...(wrappers.length > 0 ? [`wrapped by ${wrappers.join(" ")}`] : []),
      ...(via !== "exec" ? [via] : []),
    ],
    envOverrides,
    unresolved: [],
  };
}

/** The command a container runs: ENTRYPOINT/CMD composition (exec or shell form) as Docker does it. */
export function containerArgv(
  entrypoint: { json: string[] | null; shell: string | null } | null,
  cmd: { json: string[] | null; shell: string | null } | null,
  shell: string[] = ["/bin/sh", "-c"],
): string[] {
  const ep = entrypoint ? (entrypoint.json ?? [...shell, entrypoint.shell ?? ""]) : [];
  if (entrypoint && !entrypoint.json) return ep; // shell-form ENTRYPOINT ignores CMD
  const c = cmd ? (cmd.json ?? [...shell, cmd.shell ?? ""]) : [];
  return [...ep, ...c];
}

// ---------------------------------------------------------------------------------------------------------
// gunicorn.conf.py

export interface ConfigAssignment {
  name: string;
  line: number;
  /** The right-hand side as written. */
  expr: string;
  /** Enclosing `if` conditions (as written) when the assignment is conditional. */
  conditions: string[];
}

export interface GunicornHook {
  name: string;
  line: number;
  /** The function body as written (logical lines). */
  body: string;
}

export interface ParsedGunicornConfig {
  /** Module-level assignments to Gunicorn setting names, in order (also inside if/try/with blocks). */
  assignments: ConfigAssignment[];
  /** Server hooks defined (on_starting, when_ready, post_fork, post_worker_init, ...). */
  hooks: GunicornHook[];
  /** The module's blocks, kept for evaluation. */
  blocks: PyBlock[];
}

function bodyText(b: PyBlock): string {
  const out: string[] = [];
  const walk = (x: PyBlock, depth: number) => {
    out.push(`${"    ".repeat(depth)}${x.head.text}`);
    for (const c of x.body) walk(c, depth + 1);
  };
  for (const c of b.body) walk(c, 0);
  return out.join("\n");
}

/** Reads a gunicorn.conf.py statically: setting assignments (with their conditions) and hooks. */
export function parseGunicornConfig(text: string): ParsedGunicornConfig {
  const bs = blocks(logicalLines(text));
  const out: ParsedGunicornConfig = { assignments: [], hooks: [], blocks: bs };
  const walk = (list: PyBlock[], conds: string[]) => {
    for (const b of list) {
      const t = b.head.text;
      const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/.exec(t);
      if (def?.[1]) {
        if (GUNICORN_HOOKS.has(def[1]))
          out.hooks.push({ name: def[1], line: b.head.line, body: bodyText(b) });
        continue;
      }
      if (/^class\b/.test(t)) continue;
      const cond = /^(if|elif)\s+(.*):$/.exec(t);
      if (cond) {
        walk(b.body, [...conds, cond[2] ?? ""]);
        continue;
      }
      if (/^else\s*:$/.test(t)) {
        walk(b.body, [...conds, "else"]);
        continue;
      }
      if (/^(try|with|finally|except)\b/.test(t)) {
        walk(b.body, conds);
        continue;
      }
      if (/^(for|while)\b/.test(t)) {
        walk(b.body, [...conds, t.slice(0, -1)]);
        continue;
      }
      const m = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*(.+)$/.exec(t);
      if (m?.[1] && GUNICORN_SETTINGS.has(m[1]))
        out.assignments.push({ name: m[1], line: b.head.line, expr: m[2] ?? "", conditions: conds });
    }
  };
  walk(bs, []);
  return out;
}

export interface ConfigValue {
  name: string;
  value: PyValue;
  line: number;
  expr: string;
}

export interface EvaluatedConfig {
  /** The last value assigned to each setting, as Python would leave it. */
  values: Record<string, ConfigValue>;
  /** The exception that stops the file from loading (Gunicorn then exits), with its line. */
  error: { line: number; exc: string } | null;
  envRead: string[];
}

/** Runs a parsed gunicorn.conf.py's module level statically with an environment. */
export function evaluateGunicornConfig(
  cfg: ParsedGunicornConfig,
  env: Record<string, string>,
  opts: { cpuCount?: number | null; unknownEnv?: Set<string>; hostname?: string | null } = {},
): EvaluatedConfig {
  const ctx = newContext(env, {
    cpuCount: opts.cpuCount ?? null,
    unknownEnv: opts.unknownEnv,
    hostname: opts.hostname,
  });
  const values: Record<string, ConfigValue> = {};
  const flow = execBlocks(cfg.blocks, ctx, {
    onAssign: (name, value, line, expr) => {
      if (GUNICORN_SETTINGS.has(name)) values[name] = { name, value, line, expr };
    },
  });
  const error = flow.kind === "raise" ? { line: flow.line, exc: flow.exc } : null;
  return { values, error, envRead: [...ctx.envRead] };
}

// ---------------------------------------------------------------------------------------------------------
// Effective settings

export type SettingSourceKind = "cli" | "GUNICORN_CMD_ARGS" | "config" | "WEB_CONCURRENCY" | "default";

export interface SettingSource {
  kind: SettingSourceKind;
  /** Where: "Dockerfile:14 CMD", "compose service web: GUNICORN_CMD_ARGS", "gunicorn.conf.py:3". */
  where: string;
  /** As written: "-w 4", "workers = int(os.environ.get('WORKERS_COUNT', 2))", "3". */
  raw: string;
  value: number | boolean | string | string[] | null;
  /** Why the value is not known, or what it depends on. */
  note: string | null;
  wins: boolean;
}

export interface EffectiveSetting {
  name: string;
  /** null when unknown (see `unknown`) or when Gunicorn would not start (see `startupError`). */
  value: number | boolean | string | string[] | null;
  decidedBy: SettingSourceKind;
  /** Every source that sets it, lowest precedence first; exactly one `wins`. */
  sources: SettingSource[];
  /** The deciding source's value cannot be computed statically. */
  unknown: { expr: string; dependsOn: string[]; examples: { cpus: number; value: number | string }[] } | null;
  /** Gunicorn would refuse to start with this configuration (and why). */
  startupError: string | null;
}

export interface GunicornSources {
  /** The arguments after `gunicorn` in the container command, and where they were found. */
  cli?: { args: string[]; where: string } | null;
  /** Config files by the path Gunicorn would open (relative to its working directory), parsed. */
  configFiles?: Record<string, ParsedGunicornConfig>;
  /** The container's working directory (WORKDIR), to map absolute `-c` paths onto configFiles. */
  cwd?: string | null;
  /** Where each environment variable came from (for evidence). */
  envWhere?: Record<string, string>;
  /** Variables that are set but unknowable (Secrets). */
  unknownEnv?: Set<string>;
  /** Known CPU count for cpu_count(); default unknown. */
  cpuCount?: number | null;
  hostname?: string | null;
}

export interface ResolvedGunicorn {
  cli: GunicornArgs | null;
  cmdArgs: GunicornArgs | null;
  /** The config file Gunicorn loads, how it was chosen, and whether schedctl has its text. */
  config: {
    path: string;
    chosenBy: "cli" | "GUNICORN_CMD_ARGS" | "default";
    parsed: ParsedGunicornConfig | null;
    evaluated: EvaluatedConfig | null;
  } | null;
  /** Reasons Gunicorn would not start at all. */
  startupErrors: string[];
}

function normalizePath(p: string, cwd: string | null | undefined): string {
  let x = p.replace(/^file:/, "");
  if (x.startsWith("python:")) x = `${x.slice(7).replace(/\./g, "/")}.py`;
  if (cwd && x.startsWith(`${cwd.replace(/\/$/, "")}/`)) x = x.slice(cwd.replace(/\/$/, "").length + 1);
  return x.replace(/^\.\//, "");
}

function findConfig(path: string, sources: GunicornSources): [string, ParsedGunicornConfig] | null {
  const files = sources.configFiles ?? {};
  const want = normalizePath(path, sources.cwd);
  for (const [k, v] of Object.entries(files)) if (normalizePath(k, sources.cwd) === want) return [k, v];
  if (path.startsWith("/")) {
    const base = want.split("/").pop();
    const hits = Object.entries(files).filter(([k]) => k.split("/").pop() === base);
    if (hits.length === 1) return hits[0] as [string, ParsedGunicornConfig];
  }
  return null;
}

/** Resolves which command line, GUNICORN_CMD_ARGS and config file Gunicorn uses, and evaluates the file. */
export function resolveGunicorn(sources: GunicornSources, env: Record<string, string>): ResolvedGunicorn {
  const cli = sources.cli ? parseGunicornArgs(sources.cli.args) : null;
  const startupErrors: string[] = [];
  let cmdArgs: GunicornArgs | null = null;
  if (env.GUNICORN_CMD_ARGS !== undefined) {
    const split = shlexSplit(env.GUNICORN_CMD_ARGS);
    if (split.error) startupErrors.push(`GUNICORN_CMD_ARGS: ${split.error} (shlex)`);
    cmdArgs = parseGunicornArgs(split.words);
    for (const e of cmdArgs.errors) startupErrors.push(`GUNICORN_CMD_ARGS: ${e}`);
  }
  for (const e of cli?.errors ?? []) startupErrors.push(`gunicorn: error: ${e}`);
  const cliCfg = lastSetting(cli, "config");
  const envCfg = lastSetting(cmdArgs, "config");
  let config: ResolvedGunicorn["config"] = null;
  const pick = (path: string, chosenBy: "cli" | "GUNICORN_CMD_ARGS" | "default") => {
    const hit = findConfig(path, sources);
    const evaluated = hit
      ? evaluateGunicornConfig(hit[1], env, {
          cpuCount: sources.cpuCount ?? null,
          unknownEnv: sources.unknownEnv,
          hostname: sources.hostname,
        })
      : null;
    config = { path: hit?.[0] ?? path, chosenBy, parsed: hit?.[1] ?? null, evaluated };
    if (evaluated?.error)
      startupErrors.push(`${config.path}:${evaluated.error.line} raises ${evaluated.error.exc}`);
  };
  if (cliCfg) pick(String(cliCfg.value), "cli");
  else if (envCfg) pick(String(envCfg.value), "GUNICORN_CMD_ARGS");
  else if (findConfig("gunicorn.conf.py", sources)) pick("gunicorn.conf.py", "default");
  return { cli, cmdArgs, config, startupErrors };
}

function lastSetting(a: GunicornArgs | null, name: string): CliSetting | null {
  if (!a) return null;
  const xs = a.settings.filter((s) => s.setting === name);
  return xs[xs.length - 1] ?? null;
}

/** gunicorn's validator for a config-file value; returns the value or the error Gunicorn prints. */
function validate(
  name: string,
  v: PyValue,
): { value: number | boolean | string | string[] | null; error: string | null } {
  if (POS_INT.has(name)) {
    let n: PyValue;
    if (v.t === "int" || v.t === "bool") n = { t: "int", v: v.t === "bool" ? (v.v ? 1 : 0) : v.v };
    else if (v.t === "str") n = pyIntFromString(v.v, 0);
    else n = { t: "error", exc: "int() can't convert non-string with explicit base" };
    if (n.t === "error")
      return {
        value: null,
        error: `Invalid value for ${name}: ${pyShow(v)} (${n.exc.replace(/^\w+Error: /, "")})`,
      };
    if (n.t !== "int") return { value: null, error: null };
    if (n.v < 0)
      return { value: null, error: `Invalid value for ${name}: ${n.v} (Value must be positive: ${n.v})` };
    return { value: n.v, error: null };
  }
  if (BOOL.has(name)) {
    if (v.t === "bool") return { value: v.v, error: null };
    if (v.t === "none") return { value: null, error: null };
    if (v.t === "str") {
      const s = v.v.toLowerCase().trim();
      if (s === "true") return { value: true, error: null };
      if (s === "false") return { value: false, error: null };
      return { value: null, error: `Invalid value for ${name}: ${v.v} (Invalid boolean: ${v.v})` };
    }
    return {
      value: null,
      error: `Invalid value for ${name}: ${pyShow(v)} (Invalid type for casting: ${pyShow(v)})`,
    };
  }
  if (LIST.has(name)) {
    if (v.t === "str") return { value: [v.v], error: null };
    if ((v.t === "list" || v.t === "tuple") && v.v.every((x) => x.t === "str"))
      return { value: v.v.map((x) => (x as { v: string }).v), error: null };
    return { value: null, error: `Invalid value for ${name}: ${pyShow(v)}` };
  }
  if (STRING.has(name)) {
    if (v.t === "str") return { value: v.v.trim(), error: null };
    if (v.t === "none") return { value: null, error: null };
    return { value: null, error: `Invalid value for ${name}: ${pyShow(v)} (Not a string: ${pyShow(v)})` };
  }
  if (v.t === "int" || v.t === "str" || v.t === "bool") return { value: v.v, error: null };
  return { value: null, error: null };
}

/** Python's %s of a value (what Gunicorn prints in "Invalid value for workers: 2.0"). */
function pyShow(v: PyValue): string {
  return v.t === "str" ? v.v : pyRepr(v);
}

/**
 * One setting's effective value with Gunicorn's precedence: CLI > GUNICORN_CMD_ARGS > config file > default
 * (for `workers`, the default is WEB_CONCURRENCY, else 1). Lists every source and which one wins.
 */
export function effectiveSetting(
  name: string,
  sources: GunicornSources,
  env: Record<string, string>,
): EffectiveSetting {
  const resolved = resolveGunicorn(sources, env);
  const list: SettingSource[] = [];
  const startupErrors = [...resolved.startupErrors];
  const envWhere = sources.envWhere ?? {};
  // default (and WEB_CONCURRENCY)
  if (name === "workers" && env.WEB_CONCURRENCY !== undefined) {
    const n = pyIntFromString(env.WEB_CONCURRENCY);
    if (n.t === "error")
      startupErrors.unshift(
        `WEB_CONCURRENCY=${JSON.stringify(env.WEB_CONCURRENCY)}: gunicorn.config raises ${n.exc} at import`,
      );
    list.push({
      kind: "WEB_CONCURRENCY",
      where: envWhere.WEB_CONCURRENCY ?? "environment",
      raw: env.WEB_CONCURRENCY,
      value: n.t === "int" ? n.v : null,
      note: n.t === "error" ? n.exc : null,
      wins: false,
    });
  } else if (name in GUNICORN_DEFAULTS) {
    list.push({
      kind: "default",
      where: "Gunicorn default",
      raw: String(GUNICORN_DEFAULTS[name]),
      value: GUNICORN_DEFAULTS[name] ?? null,
      note: null,
      wins: false,
    });
  }
  let unknownInfo: EffectiveSetting["unknown"] = null;
  // config file
  const cfg = resolved.config as ResolvedGunicorn["config"];
  if (cfg) {
    if (!cfg.parsed) {
      list.push({
        kind: "config",
        where: cfg.path,
        raw: `-c ${cfg.path}`,
        value: null,
        note: `${cfg.path} is not in the app dir: its settings are unknown`,
        wins: false,
      });
    } else {
      const cv = cfg.evaluated?.values[name];
      if (cv) {
        const v = cv.value;
        let note: string | null = null;
        let value: SettingSource["value"] = null;
        if (v.t === "unknown") {
          note = `depends on ${v.dependsOn.join(", ")}`;
          const examples: { cpus: number; value: number | string }[] = [];
          if (v.dependsOn.some((d) => d.includes("CPU count")) && cfg.parsed) {
            for (const cpus of [1, 2, 4, 8]) {
              const e = evaluateGunicornConfig(cfg.parsed, env, {
                cpuCount: cpus,
                unknownEnv: sources.unknownEnv,
                hostname: sources.hostname,
              });
              const x = e.values[name]?.value;
              if (x && (x.t === "int" || x.t === "float" || x.t === "str"))
                examples.push({ cpus, value: x.v });
              else if (x?.t === "error") examples.push({ cpus, value: x.exc });
            }
          }
          unknownInfo = { expr: cv.expr, dependsOn: v.dependsOn, examples };
          if (examples.length > 0)
            note += `: ${examples.map((e) => `${e.value} on ${e.cpus} CPU${e.cpus === 1 ? "" : "s"}`).join(", ")}`;
        } else {
          const val = validate(name, v);
          value = val.value;
          if (val.error) {
            startupErrors.push(`${cfg.path}:${cv.line}: ${val.error}`);
            note = val.error;
          }
          if (cfg.evaluated?.envRead.length && !note) {
            const set = cfg.evaluated.envRead.filter((k) => env[k] !== undefined);
            const unset = cfg.evaluated.envRead.filter((k) => env[k] === undefined);
            note = [
              set.length ? `reads ${set.map((k) => `${k}=${JSON.stringify(env[k])}`).join(", ")}` : "",
              unset.length ? `${unset.join(", ")} unset` : "",
            ]
              .filter(Boolean)
              .join("; ");
          }
        }
        list.push({
          kind: "config",
          where: `${cfg.path}:${cv.line}`,
          raw: `${name} = ${cv.expr}`,
          value,
          note,
          wins: false,
        });
      }
    }
  }
  const fromArgs = (a: GunicornArgs | null, kind: "cli" | "GUNICORN_CMD_ARGS", where: string) => {
    if (!a) return;
    const xs = a.settings.filter((s) => s.setting === name);
    if (xs.length === 0) return;
    const last = xs[xs.length - 1] as CliSetting;
    const value = LIST.has(name)
      ? xs.flatMap((x) => (Array.isArray(x.value) ? x.value : [String(x.value)]))
      : last.value;
    let note: string | null = null;
    if (POS_INT.has(name) && typeof value === "number" && value < 0) {
      note = `Value must be positive: ${value}`;
      startupErrors.push(`${where}: ${last.flag} ${last.raw}: Value must be positive: ${value}`);
    }
    list.push({
      kind,
      where,
      raw: xs
        .map((x) => (x.flag === x.raw || x.flag.includes("=") ? x.flag : `${x.flag} ${x.raw}`))
        .join(" "),
      value,
      note,
      wins: false,
    });
  };
  fromArgs(resolved.cmdArgs, "GUNICORN_CMD_ARGS", envWhere.GUNICORN_CMD_ARGS ?? "GUNICORN_CMD_ARGS");
  fromArgs(resolved.cli, "cli", sources.cli?.where ?? "command line");
  const winner = list[list.length - 1];
  if (winner) winner.wins = true;
  const decidedBy = winner?.kind ?? "default";
  const value = winner?.kind === "config" && unknownInfo ? null : (winner?.value ?? null);
  if (winner?.kind !== "config") unknownInfo = null;
  return {
    name,
    value: startupErrors.length > 0 ? null : value,
    decidedBy,
    sources: list,
    unknown: unknownInfo,
    startupError: startupErrors[0] ?? null,
  };
}

/** The number of workers Gunicorn starts, with every source and the one that decides. */
export function effectiveWorkers(
  sources: GunicornSources,
  env: Record<string, string>,
): EffectiveSetting & { value: number | null; min: number | null } {
  const s = effectiveSetting("workers", sources, env);
  const value = typeof s.value === "number" ? s.value : null;
  let min: number | null = value;
  if (value === null && s.unknown) {
    const nums = s.unknown.examples.map((e) => e.value).filter((v): v is number => typeof v === "number");
    min = nums.length > 0 ? Math.min(...nums) : null;
  }
  return { ...s, value, min };
}

/** Convenience: CLI args, GUNICORN_CMD_ARGS and config file evaluated once for the settings schedctl uses. */
export function gunicornSettings(
  sources: GunicornSources,
  env: Record<string, string>,
): Record<
  | "workers"
  | "max_requests"
  | "max_requests_jitter"
  | "preload_app"
  | "graceful_timeout"
  | "timeout"
  | "threads"
  | "worker_class"
  | "reload",
  EffectiveSetting
> {
  return {
    workers: effectiveWorkers(sources, env),
    max_requests: effectiveSetting("max_requests", sources, env),
    max_requests_jitter: effectiveSetting("max_requests_jitter", sources, env),
    preload_app: effectiveSetting("preload_app", sources, env),
    graceful_timeout: effectiveSetting("graceful_timeout", sources, env),
    timeout: effectiveSetting("timeout", sources, env),
    threads: effectiveSetting("threads", sources, env),
    worker_class: effectiveSetting("worker_class", sources, env),
    reload: effectiveSetting("reload", sources, env),
  };
}

export type { EvalContext };
