/**
 * `--url URL`: asks the Flask-APScheduler info endpoint (`GET <prefix>`, answering
 * `{"current_host": ..., "allowed_hosts": [...], "running": true|false}`) N times through the load
 * balancer, each time on a fresh connection (no agent, no keep-alive, `Connection: close`) so the balancer
 * can pick another upstream, and counts the distinct hosts and how many of them run the scheduler.
 * Every request has its own timeout; failures are answers with an `error`, never exceptions.
 */
import http from "node:http";
import https from "node:https";
import { UsageError } from "../errors.js";
import { VERSION } from "../version.js";
import type { HttpReport } from "./types.js";

export type { HttpReport } from "./types.js";

export type HttpAnswer = HttpReport["answers"][number];

export interface SampleOptions {
  samples: number;
  /** Per request: connect, send, whole answer. */
  timeoutMs: number;
  /** Requests in flight at once (default 1: one after the other). */
  concurrency?: number;
}

/** Flask-APScheduler's default SCHEDULER_API_PREFIX. */
export const DEFAULT_API_PREFIX = "/scheduler";
const MAX_BODY_BYTES = 64 * 1024;
const SECRET_PARAM = /pass|secret|token|key|auth|sig/i;

/**
 * The endpoint to ask: the URL as given, except that a bare origin (`https://app.example` or `.../`) gets
 * Flask-APScheduler's default prefix, and a trailing slash is dropped (`GET /scheduler/` is a 404 in
 * Flask-APScheduler: the info rule is the prefix itself). Throws UsageError for anything but http(s).
 */
export function schedulerInfoUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(redactUrl(url))}: not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new UsageError(`--url ${redactUrl(url)}: only http:// and https:// URLs`);
  }
  u.hash = "";
  if (u.pathname === "" || u.pathname === "/") u.pathname = DEFAULT_API_PREFIX;
  else if (u.pathname.endsWith("/")) u.pathname = u.pathname.replace(/\/+$/, "") || DEFAULT_API_PREFIX;
  return u;
}

/** The URL with its password (and secret-looking query values) replaced by "***". */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // not a URL: hide anything between "://user:" and "@"
    return String(url).replace(/(\/\/[^/:@\s]*:)[^@/\s]*@/, "$1***@");
  }
  if (u.password !== "") u.password = "***";
  for (const [k] of [...u.searchParams]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, "***");
  return u.href;
}

/**
 * GETs the info endpoint `samples` times (at most `concurrency` at once) and reports every answer and the
 * hosts that answered. An answer is an error unless it is HTTP 2xx with Flask-APScheduler's JSON.
 */
export async function sampleSchedulerApi(url: string, opts: SampleOptions): Promise<HttpReport> {
  const target = schedulerInfoUrl(url);
  const n = Math.max(0, Math.floor(opts.samples));
  const timeoutMs = Math.max(1, opts.timeoutMs);
  const concurrency = Math.max(1, Math.min(n, Math.floor(opts.concurrency ?? 1)));
  const answers: HttpAnswer[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      answers[i] = await sampleOnce(target, timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const hosts = new Map<string, { host: string; answers: number; running: number }>();
  for (const a of answers) {
    if (a.currentHost === null) continue;
    const h = hosts.get(a.currentHost) ?? { host: a.currentHost, answers: 0, running: 0 };
    h.answers++;
    if (a.running === true) h.running++;
    hosts.set(a.currentHost, h);
  }
  return {
    url: redactUrl(target),
    samples: n,
    answers,
    hosts: [...hosts.values()],
    errors: answers.filter((a) => a.error !== null).length,
  };
}

/** One GET on a fresh connection; always resolves, within timeoutMs. */
export function sampleOnce(u: URL, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    let status: number | null = null;
    const finish = (a: Omit<HttpAnswer, "ms" | "status">): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ status, ...a, ms: Math.round(performance.now() - t0) });
    };
    const fail = (error: string): void => finish({ currentHost: null, running: null, error });
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request(
      u,
      {
        method: "GET",
        agent: false,
        headers: { Accept: "application/json", Connection: "close", "User-Agent": `schedctl/${VERSION}` },
      },
      (res) => {
        status = res.statusCode ?? null;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) fail(`HTTP ${status}: answer larger than ${MAX_BODY_BYTES / 1024} KiB`);
          else chunks.push(c);
        });
        res.on("end", () =>
          finish(interpret(u, status, res.statusMessage, res.headers, Buffer.concat(chunks))),
        );
        res.on("error", (e) => fail(describeNetError(e, u)));
        res.on("aborted", () => fail("connection closed in the middle of the answer"));
      },
    );
    req.on("error", (e) => fail(describeNetError(e, u)));
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    req.end();
  });
}

function interpret(
  u: URL,
  status: number | null,
  statusMessage: string | undefined,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
): Omit<HttpAnswer, "ms" | "status"> {
  const none = { currentHost: null, running: null };
  const code = status ?? 0;
  const label = `HTTP ${code}${statusMessage ? ` ${statusMessage}` : ""}`;
  if (code >= 200 && code < 300) {
    let data: unknown;
    try {
      data = JSON.parse(body.toString("utf8"));
    } catch {
      return {
        ...none,
        error: `${label} but not JSON (${snippet(body)}): is ${u.pathname} the Flask-APScheduler info endpoint?`,
      };
    }
    const rec = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {};
    const host = rec.current_host;
    const running = rec.running;
    if (typeof host !== "string" || typeof running !== "boolean") {
      return {
        ...none,
        error: `${label} but the JSON has no "current_host" and "running" (${snippet(body)}): is ${u.pathname} the Flask-APScheduler info endpoint?`,
      };
    }
    return { currentHost: host, running, error: null };
  }
  if (code === 401 || code === 403) {
    return {
      ...none,
      error: `${label}: the scheduler API wants credentials (SCHEDULER_AUTH); give them in the URL, https://user:password@host${u.pathname}`,
    };
  }
  if (code === 404) {
    return {
      ...none,
      error: `${label}: no Flask-APScheduler API at ${u.pathname} (SCHEDULER_API_ENABLED = True? SCHEDULER_API_PREFIX?)`,
    };
  }
  if (code >= 300 && code < 400) {
    return { ...none, error: `${label}: redirected to ${String(headers.location ?? "?")}, not followed` };
  }
  if (code === 502 || code === 503 || code === 504) {
    return { ...none, error: `${label} from the load balancer: no upstream answered` };
  }
  return { ...none, error: `${label} (${snippet(body)})` };
}

/** The first 80 characters of a body, one line. */
function snippet(body: Buffer): string {
  const text = body.subarray(0, 200).toString("utf8").replace(/\s+/g, " ").trim();
  if (text === "") return "empty body";
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

function describeNetError(e: unknown, u: URL): string {
  const err = e as NodeJS.ErrnoException;
  const where = `${u.hostname}:${u.port || (u.protocol === "https:" ? 443 : 80)}`;
  switch (err?.code) {
    case "ECONNREFUSED":
      return `connection refused by ${where} (nothing listens there)`;
    case "ECONNRESET":
      return `connection reset by ${where}`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host ${u.hostname} not found (DNS)`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${where} unreachable`;
    case "ETIMEDOUT":
      return `connecting to ${where} timed out`;
    case "EPROTO":
    case "ERR_SSL_WRONG_VERSION_NUMBER":
      return `TLS handshake with ${where} failed (plain http on an https URL?): ${err.message}`;
    default:
      if (typeof err?.code === "string" && /CERT|SSL|TLS|SELF_SIGNED/.test(err.code)) {
        return `TLS: ${err.message} (${where})`;
      }
      return `${err?.message ?? String(e)} (${where})`;
  }
}
