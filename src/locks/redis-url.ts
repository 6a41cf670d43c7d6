/**
 * `--redis URL` parsing and redaction (pure). Accepted forms:
 *   redis://[user:pass@]host[:port][/db]            rediss:// for TLS
 *   redis+sentinel://[pass@]host1:port1,host2:port2/<masterName>[/db]   (sentinel port default 26379)
 *   redis+cluster://host1:port1,host2:port2         (or redis://host:port?cluster=1)
 * `rediss+sentinel://` and `rediss+cluster://` add TLS. Query parameters understood: `cluster=1`, `db=N`,
 * `password=`, `username=`, `sentinelPassword=` (for Sentinels that need their own password) and
 * `ssl_cert_reqs=none` (TLS without certificate verification); others are listed in `ignoredParams`.
 *
 * Credentials: the userinfo ends at the LAST "@" (so an unencoded "@", "/", "?" or "#" in a password still
 * parses and is still redacted); "user:pass" splits at the first ":"; a userinfo without ":" is taken as a
 * password (the legacy `redis://password@host` form, and the brief's `redis+sentinel://pass@...`).
 * The password never leaves this module as text: it is wrapped in a RedisSecret whose JSON, string and
 * inspect forms are "***"; every error message and `redacted` carry "***" instead.
 */
import { UsageError } from "../errors.js";

export type RedisMode = "standalone" | "cluster" | "sentinel";

export interface RedisEndpoint {
  host: string;
  port: number;
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** A password that prints as "***" everywhere (JSON, template strings, console.log, util.inspect). */
export class RedisSecret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The real password, for the connection options only. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "***";
  }
  toJSON(): string {
    return "***";
  }
  [INSPECT](): string {
    return "RedisSecret(***)";
  }
}

export interface RedisTarget {
  mode: RedisMode;
  tls: boolean;
  /** ssl_cert_reqs=none: TLS without verifying the server certificate. */
  tlsInsecure: boolean;
  /** standalone: the server; cluster: the seed nodes; sentinel: the Sentinels. */
  endpoints: RedisEndpoint[];
  /** Sentinel only: the monitored master's name. */
  masterName: string | null;
  db: number;
  username: string | null;
  password: RedisSecret | null;
  sentinelPassword: RedisSecret | null;
  /** Query parameters this tool does not use (e.g. celery's `ssl_cert_reqs=required`). */
  ignoredParams: string[];
  /** The URL with every password replaced by "***": the only form of it that is ever printed. */
  redacted: string;
}

const SCHEMES: Record<string, { mode: RedisMode; tls: boolean }> = {
  redis: { mode: "standalone", tls: false },
  rediss: { mode: "standalone", tls: true },
  "redis+sentinel": { mode: "sentinel", tls: false },
  "rediss+sentinel": { mode: "sentinel", tls: true },
  "redis+cluster": { mode: "cluster", tls: false },
  "rediss+cluster": { mode: "cluster", tls: true },
};

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([\s\S]*)$/;
/** Query parameters whose value is a secret: anything with "pass" or "secret" or "token" in its name. */
const SECRET_PARAM_RE = /([?&][^=&#?]*(?:pass|secret|token|auth)[^=&#?]*=)[^&]*/gi;

/** Splits off the userinfo at the last "@". */
function splitCredentials(rest: string): { creds: string | null; after: string } {
  const at = rest.lastIndexOf("@");
  if (at < 0) return { creds: null, after: rest };
  return { creds: rest.slice(0, at), after: rest.slice(at + 1) };
}

function redactCredentials(creds: string): string {
  const colon = creds.indexOf(":");
  return colon >= 0 ? `${creds.slice(0, colon).replace(SECRET_PARAM_RE, "$1***")}:***` : "***";
}

/** A password-like query parameter whose value runs into the last "@": an unencoded "@" in its value. */
const SECRET_PARAM_TAIL_RE = /[?&][^=&#?]*(?:pass|secret|token|auth)[^=&#?]*=[^&]*$/i;

/**
 * The URL with any password replaced by "***" — in the userinfo and in password-like query parameters.
 * Works on malformed input too (it never parses more than it must), so error messages can use it.
 */
export function redactUrl(url: string): string {
  const m = SCHEME_RE.exec(url);
  const prefix = m ? `${m[1]}://` : "";
  const rest = m ? (m[2] ?? "") : url;
  const { creds, after } = splitCredentials(rest);
  if (creds === null) return `${prefix}${after.replace(SECRET_PARAM_RE, "$1***")}`;
  // "...?password=ab@cd": the "@" belongs to the parameter's value, so "cd" is secret too.
  const tail = SECRET_PARAM_TAIL_RE.test(creds) ? after.replace(/^[^&]*/, "***") : after;
  return `${prefix}${redactCredentials(creds)}@${tail.replace(SECRET_PARAM_RE, "$1***")}`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One line, quoted, control characters escaped: safe to print whatever the input was. */
function quote(redacted: string): string {
  return JSON.stringify(redacted);
}

class UrlProblem extends Error {}

function parseEndpoint(text: string, defaultPort: number): RedisEndpoint {
  let host: string;
  let portText: string | null = null;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new UrlProblem(`unterminated IPv6 address ${JSON.stringify(text)}`);
    host = text.slice(1, close);
    const tail = text.slice(close + 1);
    if (tail !== "") {
      if (!tail.startsWith(":"))
        throw new UrlProblem(`unexpected ${JSON.stringify(tail)} after ${JSON.stringify(`[${host}]`)}`);
      portText = tail.slice(1);
    }
    if (!/^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/.test(host) || !host.includes(":"))
      throw new UrlProblem(`invalid IPv6 address ${JSON.stringify(host)}`);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else host = text;
    if (host === "") throw new UrlProblem("no host");
    if (!/^[A-Za-z0-9_.-]+$/.test(host)) throw new UrlProblem(`invalid host ${JSON.stringify(host)}`);
  }
  if (host === "") throw new UrlProblem("no host");
  let port = defaultPort;
  if (portText !== null) {
    if (!/^\d{1,5}$/.test(portText)) throw new UrlProblem(`port ${JSON.stringify(portText)} is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new UrlProblem(`port ${port} is out of range (1-65535)`);
  }
  return { host, port };
}

function parseDb(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text))
    throw new UrlProblem(`${what} ${JSON.stringify(text)} is not a database number`);
  return Number(text);
}

function truthy(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (["1", "true", "yes", "on", ""].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new UrlProblem(`${name}=${JSON.stringify(value)} is not a yes/no value`);
}

/**
 * Parses one `--redis` URL. Throws UsageError with one line naming the (redacted) URL and what is wrong.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const redacted = redactUrl(url);
  try {
    return parse(url, redacted);
  } catch (e) {
    if (e instanceof UrlProblem) throw new UsageError(`Redis URL ${quote(redacted)}: ${e.message}`);
    throw e;
  }
}

function parse(url: string, redacted: string): RedisTarget {
  if (url.trim() === "") throw new UrlProblem("empty");
  const m = SCHEME_RE.exec(url);
  if (!m)
    throw new UrlProblem(
      "not a URL: expected redis://host:port (or rediss://, redis+sentinel://, redis+cluster://)",
    );
  const schemeText = (m[1] ?? "").toLowerCase();
  const scheme = SCHEMES[schemeText];
  if (!scheme)
    throw new UrlProblem(
      `unsupported scheme "${schemeText}://": use redis://, rediss://, redis+sentinel:// or redis+cluster://`,
    );
  let mode = scheme.mode;
  const { creds, after } = splitCredentials(m[2] ?? "");
  // (a password may contain anything; host and path may not)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f\s]/.test(after.split("?")[0] ?? ""))
    throw new UrlProblem("contains spaces or control characters");

  let username: string | null = null;
  let password: string | null = null;
  if (creds !== null && SECRET_PARAM_TAIL_RE.test(creds))
    throw new UrlProblem('an "@" in a query parameter must be percent-encoded as %40');
  if (creds !== null) {
    const colon = creds.indexOf(":");
    if (colon >= 0) {
      username = decode(creds.slice(0, colon)) || null;
      password = decode(creds.slice(colon + 1)) || null;
    } else password = decode(creds) || null;
  }

  // authority / path / query (a fragment is not meaningful in a Redis URL)
  // (the query runs to the end: "#" or spaces in an unencoded password value stay part of it)
  const q = after.indexOf("?");
  const beforeQuery = q >= 0 ? after.slice(0, q) : after;
  const query = q >= 0 ? after.slice(q + 1) : "";
  if (beforeQuery.includes("#")) throw new UrlProblem("a Redis URL has no #fragment");
  const slash = beforeQuery.indexOf("/");
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const path = slash >= 0 ? beforeQuery.slice(slash + 1) : "";

  let db: number | null = null;
  let sentinelPassword: string | null = null;
  let tlsInsecure = false;
  const ignoredParams: string[] = [];
  for (const part of query === "" ? [] : query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decode(eq >= 0 ? part.slice(0, eq) : part);
    const value = decode(eq >= 0 ? part.slice(eq + 1) : "");
    switch (name) {
      case "cluster":
        if (truthy(value, name)) {
          if (mode === "sentinel")
            throw new UrlProblem("cluster=1 cannot be combined with redis+sentinel://");
          mode = "cluster";
        }
        break;
      case "db":
        db = parseDb(value, "db=");
        break;
      case "password":
        password = value || null;
        break;
      case "username":
        username = value || null;
        break;
      case "sentinelPassword":
      case "sentinel_password":
        sentinelPassword = value || null;
        break;
      case "ssl_cert_reqs":
        tlsInsecure = ["none", "cert_none"].includes(value.toLowerCase());
        break;
      default:
        ignoredParams.push(/pass|secret|token|auth/i.test(name) ? `${name}=***` : name);
    }
  }

  if (authority === "") throw new UrlProblem("no host");
  const hostParts = authority.split(",");
  if (hostParts.some((h) => h === "")) throw new UrlProblem("empty host in the host list");
  const defaultPort = mode === "sentinel" ? 26379 : 6379;
  const endpoints = hostParts.map((h) => parseEndpoint(h, defaultPort));
  if (mode === "standalone" && endpoints.length > 1)
    throw new UrlProblem(
      "several hosts in a redis:// URL: use redis+cluster://h1:p1,h2:p2 or redis+sentinel://h1:p1,h2:p2/<master>",
    );

  let masterName: string | null = null;
  const segments = path === "" ? [] : path.split("/");
  if (segments.length > 0 && segments[segments.length - 1] === "") segments.pop();
  if (mode === "sentinel") {
    const [name, dbText, ...extra] = segments;
    if (name === undefined || name === "")
      throw new UrlProblem("no master name: expected redis+sentinel://host:port/<masterName>[/db]");
    if (extra.length > 0) throw new UrlProblem(`unexpected path after the database number`);
    masterName = decode(name);
    if (dbText !== undefined) db = parseDb(dbText, "database");
  } else {
    if (segments.length > 1)
      throw new UrlProblem(`unexpected path "/${path}": only /<db> may follow the host`);
    const [dbText] = segments;
    if (dbText !== undefined) db = parseDb(dbText, "database");
  }
  if (mode === "cluster" && db !== null && db !== 0)
    throw new UrlProblem(`a Redis Cluster has only database 0 (got ${db})`);

  return {
    mode,
    tls: scheme.tls,
    tlsInsecure,
    endpoints,
    masterName,
    db: db ?? 0,
    username,
    password: password === null ? null : new RedisSecret(password),
    sentinelPassword: sentinelPassword === null ? null : new RedisSecret(sentinelPassword),
    ignoredParams,
    redacted,
  };
}

function safeEncode(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return v;
  }
}

/** "host:port", with IPv6 hosts in brackets. */
export function formatEndpoint(e: RedisEndpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * Removes the target's passwords (raw and percent-encoded) from any text that may have picked them up,
 * e.g. an error message from a server or a client library. Defence in depth: nothing here should contain
 * one in the first place.
 */
export function scrubSecrets(text: string, target: RedisTarget): string {
  let out = text;
  for (const s of [target.password, target.sentinelPassword]) {
    if (s === null) continue;
    const v = s.reveal();
    if (v.length === 0) continue;
    for (const form of new Set([v, safeEncode(v)])) out = out.split(form).join("***");
    // A password made of "*" (or that the replacement recreates) cannot be scrubbed by replacement.
    if (out.includes(v)) return "[message withheld: it contained the Redis password]";
  }
  return out;
}
