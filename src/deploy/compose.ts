/**
 * docker compose files (compose-spec): services with image/build, command/entrypoint, environment (list and
 * map forms, env_file), `${VAR:-default}` interpolation against the given environment, replicas
 * (`deploy.replicas`, `scale`), `stop_grace_period`, hostname, container_name, healthcheck, volumes.
 * Pure: env_file contents are passed in. A syntax error is one line naming file:line.
 */

import { isMap, isPair, isScalar, LineCounter, parseDocument, type YAMLMap } from "yaml";
import { parseDotenv } from "../facts/app.js";
import { shlexSplit } from "./shell.js";

export interface ComposeService {
  name: string;
  line: number;
  image: string | null;
  build: { context: string; dockerfile: string; target: string | null; args: Record<string, string> } | null;
  /** The command as the container receives it (a string command is split like a shell would, no shell). */
  command: string[] | null;
  commandLine: number | null;
  entrypoint: string[] | null;
  /** Container environment from env_file then environment (environment wins). */
  environment: Record<string, string>;
  /** Where each variable came from: "docker-compose.yml:14", ".env.web:2". */
  envSources: Record<string, string>;
  /** env_file paths (relative to the compose file's directory). */
  envFiles: string[];
  /** deploy.replicas or scale when set (compose's default is 1). */
  replicas: number | null;
  replicasFrom: string | null;
  scale: number | null;
  deployReplicas: number | null;
  stopGracePeriod: { raw: string; seconds: number | null; line: number } | null;
  hostname: string | null;
  hostnameLine: number | null;
  containerName: string | null;
  healthcheck: { test: string[] | string | null; disable: boolean; line: number } | null;
  volumes: { type: string; source: string | null; target: string }[];
  profiles: string[];
}

export interface ComposeProject {
  file: string;
  /** Top-level `version:` (obsolete), with its line. */
  version: { value: string; line: number } | null;
  services: ComposeService[];
  /** Interpolation notes: unset variables defaulting to "", etc. */
  warnings: string[];
}

export interface ComposeParse {
  project: ComposeProject | null;
  /** One line: "docker-compose.yml:12: <what is wrong>". */
  error: string | null;
}

/** Go-style duration ("1m30s", "10s", "500ms", "2h") in seconds; null when unparseable. */
export function parseDuration(raw: string | number): number | null {
  if (typeof raw === "number") return raw;
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total +=
      unit === "h" ? n * 3600 : unit === "m" ? n * 60 : unit === "s" ? n : unit === "ms" ? n / 1000 : n / 1e6;
    consumed += m[0].length;
  }
  return consumed === s.length && consumed > 0 ? total : null;
}

/**
 * Compose interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:+r}`, `${VAR+r}`, `${VAR:?e}`,
 * `${VAR?e}`, nested defaults, `$$` for a literal `$`.
 */
export function interpolate(
  s: string,
  env: Record<string, string>,
  warn: (msg: string) => void,
): { value: string; error: string | null } {
  let out = "";
  let error: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "$") {
      out += c;
      continue;
    }
    if (s[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    if (s[i + 1] === "{") {
      // find the matching brace (nested ${...} allowed in the default)
      let depth = 1;
      let j = i + 2;
      while (j < s.length && depth > 0) {
        if (s[j] === "{") depth++;
        else if (s[j] === "}") depth--;
        if (depth > 0) j++;
      }
      const inner = s.slice(i + 2, j);
      i = j;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(inner);
      if (!m?.[1]) {
        error = `invalid interpolation format for "\${${inner}}"`;
        continue;
      }
      const name = m[1];
      const op = m[2];
      const word = m[3] ?? "";
      const v = env[name];
      const sub = () => {
        const r = interpolate(word, env, warn);
        if (r.error) error = r.error;
        return r.value;
      };
      switch (op) {
        case undefined:
          if (v === undefined) warn(`The "${name}" variable is not set. Defaulting to a blank string.`);
          out += v ?? "";
          break;
        case ":-":
          out += v === undefined || v === "" ? sub() : v;
          break;
        case "-":
          out += v === undefined ? sub() : v;
          break;
        case ":+":
          out += v === undefined || v === "" ? "" : sub();
          break;
        case "+":
          out += v === undefined ? "" : sub();
          break;
        case ":?":
        case "?":
          if (v === undefined || (op === ":?" && v === ""))
            error = `required variable ${name} is missing a value: ${sub()}`;
          else out += v;
          break;
      }
      continue;
    }
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
    if (m?.[1]) {
      const v = env[m[1]];
      if (v === undefined) warn(`The "${m[1]}" variable is not set. Defaulting to a blank string.`);
      out += v ?? "";
      i += m[0].length - 1;
      continue;
    }
    out += "$";
  }
  return { value: out, error };
}

function scalarString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return null;
}

/** One line for a YAML error: "file:line: message" (the message without yaml's position suffix and code frame). */
export function yamlErrorLine(
  file: string,
  e:
    | {
        message?: string;
        linePos?: [{ line: number; col: number }] | [{ line: number; col: number }, unknown];
        pos?: [number, number];
      }
    | undefined,
  lc: LineCounter,
): string {
  const line = e?.linePos?.[0]?.line ?? (e?.pos ? lc.linePos(e.pos[0]).line : 1);
  const msg =
    (e?.message ?? "invalid YAML").split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ??
    "invalid YAML";
  return `${file}:${line}: ${msg}`;
}

function lineAt(lc: LineCounter, offset: number | undefined): number {
  return offset === undefined ? 0 : lc.linePos(offset).line;
}

/** Parses a compose file with the deploy-time environment; env_file texts by path relative to the file's dir. */
export function parseCompose(
  text: string,
  file: string,
  env: Record<string, string>,
  envFiles: Record<string, string | null> = {},
): ComposeParse {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, merge: true });
  if (doc.errors.length > 0) return { project: null, error: yamlErrorLine(file, doc.errors[0], lc) };
  const root = doc.contents;
  if (!isMap(root))
    return { project: null, error: `${file}:1: not a compose file (the top level is not a mapping)` };
  const warnings = new Set<string>();
  const warn = (m: string) => warnings.add(m);
  let firstError: string | null = null;
  const interp = (s: string, line: number) => {
    const r = interpolate(s, env, warn);
    if (r.error && !firstError) firstError = `${file}:${line}: ${r.error}`;
    return r.value;
  };
  const js = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  const keyLine = (map: YAMLMap, key: string): number => {
    for (const p of map.items) {
      if (isPair(p) && isScalar(p.key) && p.key.value === key) return lineAt(lc, p.key.range?.[0]);
    }
    return 0;
  };
  const project: ComposeProject = { file, version: null, services: [], warnings: [] };
  if (js.version !== undefined)
    project.version = { value: String(js.version), line: keyLine(root, "version") };
  const servicesNode = root.get("services", true);
  const services = (js.services ?? {}) as Record<string, Record<string, unknown> | null>;
  for (const [name, rawSvc] of Object.entries(services)) {
    const svcNode = isMap(servicesNode) ? servicesNode.get(name, true) : null;
    const svcMap = isMap(svcNode) ? svcNode : null;
    const line = isMap(servicesNode) ? keyLine(servicesNode, name) : 0;
    const kl = (k: string) => (svcMap ? keyLine(svcMap, k) : line) || line;
    const svc = rawSvc ?? {};
    const str = (k: string): string | null => {
      const v = scalarString(svc[k]);
      return v === null ? null : interp(v, kl(k));
    };
    const argv = (k: string): string[] | null => {
      const v = svc[k];
      if (v === undefined || v === null) return null;
      if (Array.isArray(v)) return v.map((x) => interp(String(x), kl(k)));
      const s = scalarString(v);
      if (s === null) return null;
      return shlexSplit(interp(s, kl(k))).words;
    };
    // build
    let build: ComposeService["build"] = null;
    if (typeof svc.build === "string")
      build = { context: interp(svc.build, kl("build")), dockerfile: "Dockerfile", target: null, args: {} };
    else if (svc.build && typeof svc.build === "object") {
      const b = svc.build as Record<string, unknown>;
      const args: Record<string, string> = {};
      if (Array.isArray(b.args))
        for (const a of b.args) {
          const s = String(a);
          const eq = s.indexOf("=");
          if (eq > 0) args[s.slice(0, eq)] = interp(s.slice(eq + 1), kl("build"));
        }
      else if (b.args && typeof b.args === "object")
        for (const [k, v] of Object.entries(b.args as Record<string, unknown>)) {
          const s = scalarString(v);
          if (s !== null) args[k] = interp(s, kl("build"));
        }
      build = {
        context: interp(scalarString(b.context) ?? ".", kl("build")),
        dockerfile: interp(scalarString(b.dockerfile) ?? "Dockerfile", kl("build")),
        target: scalarString(b.target),
        args,
      };
    }
    // environment: env_file first, then environment
    const environment: Record<string, string> = {};
    const envSources: Record<string, string> = {};
    const envFileList: string[] = [];
    const ef = svc.env_file;
    const efs = ef === undefined || ef === null ? [] : Array.isArray(ef) ? ef : [ef];
    for (const e of efs) {
      const path = typeof e === "string" ? e : scalarString((e as Record<string, unknown>)?.path);
      if (!path) continue;
      envFileList.push(path);
      const t = envFiles[path];
      if (t === undefined || t === null) continue;
      for (const kv of parseDotenv(t)) {
        environment[kv.key] = kv.value;
        envSources[kv.key] = `${path}:${kv.line}`;
      }
    }
    const envLine = kl("environment");
    const envNode = svcMap?.get("environment", true);
    const itemLine = (idx: number, key?: string): number => {
      if (!envNode || !("items" in (envNode as object))) return envLine;
      const items = (envNode as unknown as { items: unknown[] }).items;
      if (key !== undefined) {
        for (const p of items)
          if (isPair(p) && isScalar(p.key) && p.key.value === key) return lineAt(lc, p.key.range?.[0]);
        return envLine;
      }
      const it = items[idx] as { range?: [number, number, number] } | undefined;
      return lineAt(lc, it?.range?.[0]) || envLine;
    };
    if (Array.isArray(svc.environment)) {
      svc.environment.forEach((item, idx) => {
        const s = String(item);
        const eq = s.indexOf("=");
        const l = itemLine(idx);
        if (eq < 0) {
          const v = env[s];
          if (v !== undefined) {
            environment[s] = v;
            envSources[s] = `${file}:${l} (from the shell environment)`;
          }
        } else {
          environment[s.slice(0, eq)] = interp(s.slice(eq + 1), l);
          envSources[s.slice(0, eq)] = `${file}:${l}`;
        }
      });
    } else if (svc.environment && typeof svc.environment === "object") {
      for (const [k, v] of Object.entries(svc.environment as Record<string, unknown>)) {
        const l = itemLine(0, k);
        if (v === null || v === undefined) {
          if (env[k] !== undefined) {
            environment[k] = env[k] as string;
            envSources[k] = `${file}:${l} (from the shell environment)`;
          }
          continue;
        }
        environment[k] = interp(scalarString(v) ?? JSON.stringify(v), l);
        envSources[k] = `${file}:${l}`;
      }
    }
    // replicas
    const deploy = (svc.deploy ?? null) as Record<string, unknown> | null;
    const dr =
      deploy && deploy.replicas !== undefined ? Number(interp(String(deploy.replicas), kl("deploy"))) : null;
    const sc = svc.scale !== undefined ? Number(interp(String(svc.scale), kl("scale"))) : null;
    const replicas = dr ?? sc;
    const replicasFrom =
      dr !== null
        ? `${file}:${kl("deploy")} deploy.replicas`
        : sc !== null
          ? `${file}:${kl("scale")} scale`
          : null;
    // stop_grace_period
    const sgpRaw = svc.stop_grace_period;
    const stopGracePeriod =
      sgpRaw === undefined || sgpRaw === null
        ? null
        : {
            raw: interp(String(sgpRaw), kl("stop_grace_period")),
            seconds: parseDuration(interp(String(sgpRaw), kl("stop_grace_period"))),
            line: kl("stop_grace_period"),
          };
    // healthcheck
    let healthcheck: ComposeService["healthcheck"] = null;
    if (svc.healthcheck && typeof svc.healthcheck === "object") {
      const h = svc.healthcheck as Record<string, unknown>;
      const test = Array.isArray(h.test) ? h.test.map(String) : (scalarString(h.test) ?? null);
      healthcheck = {
        test,
        disable: h.disable === true || (Array.isArray(test) && test[0] === "NONE"),
        line: kl("healthcheck"),
      };
    }
    // volumes
    const volumes: ComposeService["volumes"] = [];
    for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
      if (typeof v === "string") {
        const parts = interp(v, kl("volumes")).split(":");
        if (parts.length === 1) volumes.push({ type: "volume", source: null, target: parts[0] ?? "" });
        else {
          const source = parts[0] ?? "";
          volumes.push({
            type: /^[./~]/.test(source) ? "bind" : "volume",
            source,
            target: parts[1] ?? "",
          });
        }
      } else if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        volumes.push({
          type: scalarString(o.type) ?? "volume",
          source: scalarString(o.source),
          target: scalarString(o.target) ?? "",
        });
      }
    }
    const profiles = Array.isArray(svc.profiles) ? svc.profiles.map(String) : [];
    project.services.push({
      name,
      line,
      image: str("image"),
      build,
      command: argv("command"),
      commandLine: svc.command !== undefined ? kl("command") : null,
      entrypoint: argv("entrypoint"),
      environment,
      envSources,
      envFiles: envFileList,
      replicas: replicas !== null && Number.isFinite(replicas) ? replicas : null,
      replicasFrom,
      scale: sc,
      deployReplicas: dr,
      stopGracePeriod,
      hostname: str("hostname"),
      hostnameLine: svc.hostname !== undefined ? kl("hostname") : null,
      containerName: str("container_name"),
      healthcheck,
      volumes,
      profiles,
    });
  }
  project.warnings = [...warnings];
  if (firstError) return { project: null, error: firstError };
  return { project, error: null };
}

/** The env_file paths a compose text names (to read them before parsing for real). */
export function composeEnvFiles(text: string): string[] {
  try {
    const js = parseDocument(text, { merge: true }).toJS() as Record<string, unknown> | null;
    const out = new Set<string>();
    for (const svc of Object.values((js?.services ?? {}) as Record<string, Record<string, unknown> | null>)) {
      const ef = svc?.env_file;
      for (const e of ef === undefined || ef === null ? [] : Array.isArray(ef) ? ef : [ef]) {
        const p = typeof e === "string" ? e : scalarString((e as Record<string, unknown>)?.path);
        if (p) out.add(p);
      }
    }
    return [...out];
  } catch {
    return [];
  }
}
