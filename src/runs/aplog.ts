/**
 * APScheduler 3.x log lines → job events, and a constant-memory detector of duplicate executions. Pure.
 *
 * The executor (apscheduler/executors/base.py `run_job`) and the scheduler (schedulers/base.py) log, with
 * `job` rendered by Job.__str__ as `NAME (trigger: TRIGGER, next run at: YYYY-MM-DD HH:MM:SS TZ)` (or
 * `, paused)` / `, pending)`) and `run_time` by str(datetime) (`2026-11-30 10:00:00+08:00`, microseconds
 * when non-zero):
 *
 *   Running job "%s" (scheduled at %s)                                       INFO, once per execution
 *   Job "%s" executed successfully                                           INFO
 *   Job "%s" raised an exception                                             ERROR (+ traceback lines)
 *   Run time of job "%s" was missed by %s                                    WARNING
 *   Execution of job "%s" skipped: maximum number of running instances reached (%d)   WARNING
 *
 * Around the message: any logging prefix (time, pid, host, logger name; Gunicorn's
 * `[2026-11-30 10:00:00 +0000] [12] [INFO] `, syslog `host app[12]: `), a docker compose prefix
 * (`web-1  | `), a `kubectl logs --prefix` prefix (`[pod/NAME/CONTAINER] `), or a JSON line whose message
 * is in `message`, `msg`, `@message`, `event`, `log` (docker's json-file) or `MESSAGE` (journald), which
 * may itself carry a prefix. Whatever says who ran it (pid, hostname, container) is kept.
 */

import type { DuplicateRun } from "./types.js";

export type ApEventKind = "run" | "executed" | "error" | "missed" | "skipped";

export interface ApEvent {
  kind: ApEventKind;
  /** The job's name (Job.name: the function's name unless name= was given). */
  job: string;
  /** str(trigger): `interval[0:00:01]`, `cron[hour='3', minute='0']`, `date[2026-11-30 10:00:00 CST]`. */
  trigger: string;
  /** The job's status as logged: `next run at: 2026-11-30 10:00:01 CST`, `paused` or `pending`. */
  status: string;
  /** kind "run": the `(scheduled at ...)` text as logged; null for the other kinds. */
  scheduledAt: string | null;
  /** scheduledAt as microseconds since the epoch (a time without offset is read as UTC); null when absent. */
  scheduledUs: number | null;
  /** kind "missed": the `was missed by` duration as logged (`0:00:03.000212`). */
  missedBy: string | null;
  /** kind "skipped": max_instances. */
  maxInstances: number | null;
  /** Who ran it, when the line says. */
  pid: number | null;
  host: string | null;
  container: string | null;
}

export interface ApOther {
  kind: "other";
}

export interface ApUnparsed {
  kind: "unparsed";
  reason: string;
}

/** Every line is exactly one of: an APScheduler job event, another line, or a broken one. */
export type ApLine = ApEvent | ApOther | ApUnparsed;

/** One execution, as the detector needs it (an ApEvent of kind "run" is one). */
export interface RunRecord {
  job: string;
  trigger: string;
  scheduledAt: string;
  scheduledUs: number;
  pid: number | null;
  host: string | null;
  container: string | null;
  /**
   * A record of this run that stays valid after the call it was passed to, for a run read straight from a
   * reader's buffer (valid only during that call). Absent: the record itself stays valid.
   */
  keep?(): RunRecord;
}

const OTHER: ApOther = Object.freeze({ kind: "other" }) as ApOther;
const unparsed = (reason: string): ApUnparsed => ({ kind: "unparsed", reason });

const RUN_HEAD = 'Running job "';
const RUN_TAIL = '" (scheduled at ';
const JOB_HEAD = 'Job "';
const EXECUTED_TAIL = '" executed successfully';
const RAISED_TAIL = '" raised an exception';
const MISSED_HEAD = 'Run time of job "';
const MISSED_TAIL = '" was missed by ';
const SKIPPED_HEAD = 'Execution of job "';
const SKIPPED_TAIL = '" skipped: maximum number of running instances reached';
const TRIGGER_SEP = " (trigger: ";
const NEXT_RUN = ", next run at: ";

/** JSON fields that carry the log message, in the order they are tried. */
const MESSAGE_FIELDS = ["message", "msg", "@message", "event", "log", "MESSAGE"] as const;
const MAX_DEPTH = 3;

/**
 * Classifies one log line (without its newline; a trailing \r is ignored). Never throws. A line that is
 * not valid UTF-8 (decoded with U+FFFD replacement characters) is "unparsed", and so is one that starts an
 * APScheduler job message but is cut short or garbled.
 */
export function parseApLogLine(line: string): ApLine {
  if (line.indexOf("job ") === -1 && line.indexOf("Job ") === -1) {
    return line.indexOf("\uFFFD") === -1 ? OTHER : unparsed("not valid UTF-8");
  }
  if (line.indexOf("\uFFFD") !== -1) return unparsed("not valid UTF-8");
  return parseText(line, null, null, null, 0, -1);
}

function parseText(
  text: string,
  pid: number | null,
  host: string | null,
  outerContainer: string | null,
  depth: number,
  runAt: number,
): ApLine {
  let s = text;
  let container = outerContainer;
  let at = runAt;
  const c0 = s.charCodeAt(0);
  if (c0 === 91 /* [ */) {
    // `kubectl logs --prefix`: [pod/NAME/CONTAINER]
    if (s.startsWith("[pod/")) {
      const m = /^\[pod\/([^/\]\s]+)\/[^\]\s]*\] ?/.exec(s);
      if (m) {
        container ??= m[1] ?? null;
        s = s.slice(m[0].length);
        at = -1;
      }
    }
  } else if (isAlnum(c0)) {
    // docker compose: `web-1  | ` (v1: `web_1  | `)
    const n = composePrefix(s);
    if (n > 0) {
      const name = s.slice(0, s.indexOf(" "));
      if (!LEVELS.has(name.toUpperCase())) {
        container ??= name;
        s = s.slice(n);
        at = -1;
      }
    }
  }
  const lead = firstNonSpace(s);
  if (s.charCodeAt(lead) === 123 /* { */) {
    return depth < MAX_DEPTH ? parseJson(s, lead, pid, host, container, depth) : OTHER;
  }
  return parsePlain(s, pid, host, container, at);
}

const LEVELS = new Set(["DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL", "TRACE", "NOTICE"]);

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Length of a compose prefix `NAME +| ?` at the start of s, or 0. */
function composePrefix(s: string): number {
  let i = 1;
  const max = Math.min(s.length, 80);
  for (; i < max; i++) {
    const c = s.charCodeAt(i);
    if (!(isAlnum(c) || c === 95 || c === 45 || c === 46)) break;
  }
  if (s.charCodeAt(i) !== 32) return 0;
  while (i < max && s.charCodeAt(i) === 32) i++;
  if (s.charCodeAt(i) !== 124 /* | */) return 0;
  i++;
  if (s.charCodeAt(i) === 32) i++;
  return i;
}

function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return i;
}

function parseJson(
  s: string,
  lead: number,
  pid: number | null,
  host: string | null,
  container: string | null,
  depth: number,
): ApLine {
  let obj: unknown;
  try {
    obj = JSON.parse(lead === 0 ? s : s.slice(lead));
  } catch {
    return looksLikeApscheduler(s) ? unparsed("truncated or invalid JSON line") : OTHER;
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return OTHER;
  const rec = obj as Record<string, unknown>;
  let message: string | null = null;
  for (const f of MESSAGE_FIELDS) {
    const v = rec[f];
    if (typeof v === "string" && (v.includes("job ") || v.includes("Job "))) {
      message = v;
      break;
    }
  }
  if (message === null) return OTHER;
  // docker's json-file and journald keep the line's own newline; the message may carry its own prefix.
  const inner = message.endsWith("\n") ? message.slice(0, -1) : message;
  return parseText(
    inner,
    pid ?? jsonPid(rec),
    host ?? jsonHost(rec),
    container ?? jsonContainer(rec),
    depth + 1,
    -1,
  );
}

function looksLikeApscheduler(s: string): boolean {
  return (
    s.includes("Running job ") ||
    s.includes("Run time of job ") ||
    s.includes("Execution of job ") ||
    (s.includes("Job ") && s.includes("(trigger: "))
  );
}

function num(v: unknown): number | null {
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  if (typeof v === "string" && /^\d{1,10}$/.test(v)) return Number(v);
  return null;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 && v.length <= 255 ? v : null;
}

function field(v: unknown, key: string): unknown {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}

function jsonPid(r: Record<string, unknown>): number | null {
  return (
    num(r.process) ??
    num(r.pid) ??
    num(r._PID) ??
    num(r.process_id) ??
    num(r.processId) ??
    num(field(r.process, "pid"))
  );
}

function jsonHost(r: Record<string, unknown>): string | null {
  return (
    str(r.hostname) ??
    str(r.host) ??
    str(r._HOSTNAME) ??
    str(r.HOSTNAME) ??
    str(field(r.host, "name")) ??
    str(field(r.host, "hostname"))
  );
}

function jsonContainer(r: Record<string, unknown>): string | null {
  return (
    str(r.container_name) ??
    str(r.CONTAINER_NAME) ??
    str(field(r.container, "name")) ??
    str(field(r.kubernetes, "pod_name"))
  );
}

/** What the caller knows about who wrote the line, completed from the prefix before the message. */
class Who {
  pid: number | null;
  host: string | null;
  constructor(
    pid: number | null,
    host: string | null,
    readonly container: string | null,
    line: string,
    at: number,
  ) {
    this.pid = pid;
    this.host = host;
    if (at > 0 && (pid === null || host === null)) {
      const p = prefixRunner(line.slice(0, at));
      this.pid ??= p.pid;
      this.host ??= p.host;
    }
  }
}

function event(
  kind: ApEventKind,
  job: JobText,
  scheduledAt: string | null,
  scheduledUs: number | null,
  who: Who,
): ApEvent {
  return {
    kind,
    job: job.name,
    trigger: job.trigger,
    status: job.status,
    scheduledAt,
    scheduledUs,
    missedBy: null,
    maxInstances: null,
    pid: who.pid,
    host: who.host,
    container: who.container,
  };
}

function parsePlain(
  s: string,
  pid: number | null,
  host: string | null,
  container: string | null,
  runAt: number,
): ApLine {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 13 || s.charCodeAt(end - 1) === 32)) end--;
  const line = end === s.length ? s : s.slice(0, end);

  let at = runAt >= 0 && line.startsWith(RUN_HEAD, runAt) ? runAt : line.indexOf(RUN_HEAD);
  if (at !== -1) return parseRun(line, at, pid, host, container);
  if (runAt >= 0) {
    // the caller saw "Running job" but not followed by a quote
    return line.includes('Running job \\"') ? unparsed("escaped JSON message outside a JSON line") : OTHER;
  }
  at = line.indexOf(JOB_HEAD);
  if (at !== -1) {
    const start = at + JOB_HEAD.length;
    let kind: ApEventKind | null = null;
    let t = -1;
    if (line.endsWith(EXECUTED_TAIL)) [kind, t] = ["executed", line.length - EXECUTED_TAIL.length];
    else if (line.endsWith(RAISED_TAIL)) [kind, t] = ["error", line.length - RAISED_TAIL.length];
    else {
      const ex = line.lastIndexOf(EXECUTED_TAIL);
      const ra = line.lastIndexOf(RAISED_TAIL);
      if (ex > start) [kind, t] = ["executed", ex];
      else if (ra > start) [kind, t] = ["error", ra];
    }
    if (kind === null || t < start) {
      return line.includes(TRIGGER_SEP, start) ? unparsed('truncated "Job ..." line') : OTHER;
    }
    const job = splitJob(line, start, t);
    if (job === null) return unparsed(`"Job ..." line without "(trigger: ..., ...)"`);
    return event(kind, job, null, null, new Who(pid, host, container, line, at));
  }
  at = line.indexOf(MISSED_HEAD);
  if (at !== -1) {
    const start = at + MISSED_HEAD.length;
    const t = line.lastIndexOf(MISSED_TAIL);
    if (t < start) return unparsed('truncated "Run time of job" line');
    const job = splitJob(line, start, t);
    if (job === null) return unparsed('"Run time of job" line without "(trigger: ..., ...)"');
    const ev = event("missed", job, null, null, new Who(pid, host, container, line, at));
    ev.missedBy = line.slice(t + MISSED_TAIL.length).trim() || null;
    return ev;
  }
  at = line.indexOf(SKIPPED_HEAD);
  if (at !== -1) {
    const start = at + SKIPPED_HEAD.length;
    const t = line.lastIndexOf(SKIPPED_TAIL);
    if (t < start) return unparsed('truncated "Execution of job" line');
    const job = splitJob(line, start, t);
    if (job === null) return unparsed('"Execution of job" line without "(trigger: ..., ...)"');
    const ev = event("skipped", job, null, null, new Who(pid, host, container, line, at));
    const m = /^ \((\d+)\)/.exec(line.slice(t + SKIPPED_TAIL.length));
    ev.maxInstances = m ? Number(m[1]) : null;
    return ev;
  }
  if (line.includes('Running job \\"') || line.includes('Job \\"')) {
    return unparsed("escaped JSON message outside a JSON line");
  }
  return OTHER;
}

function parseRun(
  line: string,
  at: number,
  pid: number | null,
  host: string | null,
  container: string | null,
): ApLine {
  const start = at + RUN_HEAD.length;
  // The line ends in `" (scheduled at TIME)` (TIME has no parentheses): find it from the end, which is much
  // cheaper than a substring search; anything after the ")" falls back to the search.
  let t = -1;
  let close = line.length - 1;
  if (line.charCodeAt(close) === 41 /* ) */) {
    let p = close - 1;
    const stop = Math.max(start, close - 48);
    while (p > stop && line.charCodeAt(p) !== 40 /* ( */) p--;
    if (line.startsWith(RUN_TAIL, p - 2)) t = p - 2;
  }
  if (t === -1) {
    t = line.lastIndexOf(RUN_TAIL);
    if (t < start) return unparsed('truncated "Running job" line: no "(scheduled at ...)"');
    close = line.indexOf(")", t + RUN_TAIL.length);
    if (close === -1) return unparsed('truncated "Running job" line: unterminated scheduled time');
  }
  const scheduledAt = line.slice(t + RUN_TAIL.length, close);
  const scheduledUs = parseScheduledAt(scheduledAt);
  if (scheduledUs === null) return unparsed(`unreadable scheduled time "${scheduledAt.slice(0, 40)}"`);
  const job = splitJob(line, start, t);
  if (job === null) return unparsed('"Running job" line without "(trigger: ..., ...)"');
  return event("run", job, scheduledAt, scheduledUs, new Who(pid, host, container, line, at));
}

interface JobText {
  name: string;
  trigger: string;
  status: string;
}

/** `NAME (trigger: TRIGGER, next run at: ...)` (or `, paused)`, `, pending)`) in line[start, end). */
function splitJob(line: string, start: number, end: number): JobText | null {
  const close = end - 1;
  if (end - start < TRIGGER_SEP.length + 2 || line.charCodeAt(close) !== 41 /* ) */) return null;
  // The status has no comma: the last comma before the ")" starts it.
  let q = close - 1;
  while (q > start && line.charCodeAt(q) !== 44 /* , */) q--;
  let triggerEnd = -1;
  if (line.startsWith(NEXT_RUN, q) || line.startsWith(", paused)", q) || line.startsWith(", pending)", q)) {
    triggerEnd = q;
  } else {
    const n = line.lastIndexOf(NEXT_RUN, close);
    if (n > start) triggerEnd = n;
    else return null;
  }
  // " (trigger: " before it, found from the end (job names may contain it too).
  let k = triggerEnd - 1;
  while (k > start && !(line.charCodeAt(k) === 40 /* ( */ && line.startsWith(TRIGGER_SEP, k - 1))) k--;
  if (k <= start) return null;
  return {
    name: line.slice(start, k - 1),
    trigger: line.slice(k - 1 + TRIGGER_SEP.length, triggerEnd),
    status: line.slice(triggerEnd + 2, close),
  };
}

const SYSLOG =
  /^(?:<\d{1,3}>\d? ?)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (\S+) [^\s[]+\[(\d{1,10})\]:/;
const HAS_KEY = /pid|process|host/i;
const PID_KV = /\b(?:pid|process(?:[_ ]?id)?)[=: ]\s*(\d{1,10})\b/i;
const HOST_KV = /\bhost(?:name)?[=:]\s*"?([A-Za-z0-9][\w.-]{0,253})/i;

/** pid and host from a logging prefix: key=value pairs, Gunicorn's `[12]`, syslog `host app[12]:`. */
export function prefixRunner(prefix: string): { pid: number | null; host: string | null } {
  let pid: number | null = null;
  let host: string | null = null;
  const c0 = prefix.charCodeAt(0);
  if (c0 === 60 /* < */ || (c0 >= 65 && c0 <= 90) || (c0 >= 48 && c0 <= 57)) {
    const sys = SYSLOG.exec(prefix);
    if (sys) {
      host = sys[1] ?? null;
      pid = Number(sys[2]);
    }
  }
  if (HAS_KEY.test(prefix)) {
    if (pid === null) {
      const m = PID_KV.exec(prefix);
      if (m) pid = Number(m[1]);
    }
    if (host === null) {
      const m = HOST_KV.exec(prefix);
      if (m) host = m[1] ?? null;
    }
  }
  if (pid === null) pid = bracketedNumber(prefix);
  return { pid, host };
}

/** The first `[digits]` in s (Gunicorn's `[%(process)d]`), or null. */
function bracketedNumber(s: string): number | null {
  let i = s.indexOf("[");
  while (i !== -1) {
    let k = i + 1;
    let v = 0;
    while (k < s.length && k - i <= 10) {
      const c = s.charCodeAt(k) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      k++;
    }
    if (k > i + 1 && s.charCodeAt(k) === 93 /* ] */) return v;
    i = s.indexOf("[", i + 1);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Fast path for streaming readers

/** What parseRunView remembers from the previous lines: the last message, job text and scheduled time. */
export class RunViewCache {
  /** The message of the last run, or NO_TEXT. */
  message = "";
  job = "";
  trigger = "";
  /** The job text `NAME (trigger: TRIGGER` as it appears in the view. */
  key = "";
  schedText = "";
  schedUs = 0;
  /** job and trigger are those of the last line the line scan found well formed (its SAME_KEY flag can use them). */
  scanKey = false;

  /**
   * The job text `NAME (trigger: TRIGGER` of the line the scan found well formed: job and trigger from it (the
   * message and key texts are then unknown). False, and scanKey off, when it names no trigger.
   */
  readJobText(text: string): boolean {
    const k = text.lastIndexOf(TRIGGER_SEP);
    this.message = NO_TEXT;
    this.key = NO_TEXT;
    this.scanKey = k >= 0;
    if (k < 0) return false;
    this.job = text.slice(0, k);
    this.trigger = text.slice(k + TRIGGER_SEP.length);
    return true;
  }

  /** A run was read with its time only (not its texts): the message and time texts are unknown. */
  timeOnly(us: number): void {
    this.message = NO_TEXT;
    this.schedText = NO_TEXT;
    this.schedUs = us;
  }
}

/** Never equal to a slice of a view (one character per byte): marks cache.message as unknown. */
const NO_TEXT = "\uffff";

/**
 * The fast path of parseApLogLine for streaming readers. `view` holds a chunk of a log one character per
 * byte (Buffer#latin1Slice of bytes known to be valid UTF-8), line = view[ls, le) without its newline, with
 * `Running job "` at `at`; `decode(start, end)` gives the real (UTF-8) text of view[start, end). Repeated
 * messages (the copies of one run, logged one after the other) are parsed once. Returns null whenever the
 * line needs the full parser (JSON, docker/kubectl prefixes, key=value or syslog prefixes, anything
 * unusual): the caller then decodes the line and calls parseApLogLine, which gives the same answer.
 */
export function parseRunView(
  view: string,
  ls: number,
  le: number,
  at: number,
  cache: RunViewCache,
  decode: (start: number, end: number) => string,
): RunRecord | null {
  let e = le;
  let last = view.charCodeAt(e - 1);
  while (e > at && (last === 13 || last === 32)) last = view.charCodeAt(--e - 1);
  if (last !== 41 /* ) */) return null;
  if (at > ls && !plainPrefix(view, ls, at)) return null;
  // The copies of one run have the same message.
  const mlen = e - at;
  const message = mlen === cache.message.length ? view.slice(at, e) : null;
  if (message === cache.message) {
    return new ViewRun(cache.job, cache.trigger, cache.schedText, cache.schedUs, view, ls, at);
  }
  // `" (scheduled at TIME)`: TIME has no parenthesis
  const open = lastCharBefore(view, 40 /* ( */, e - 2, e - 50);
  const t = open - 2;
  if (open < 0 || t < at + RUN_HEAD.length || e - open > 50 || view.slice(t, open + 14) !== RUN_TAIL)
    return null;
  const s0 = t + RUN_TAIL.length;
  const s1 = e - 1;
  let scheduledAt: string;
  let scheduledUs: number;
  if (s1 - s0 === cache.schedText.length && view.slice(s0, s1) === cache.schedText) {
    scheduledAt = cache.schedText;
    scheduledUs = cache.schedUs;
  } else {
    scheduledAt = decode(s0, s1);
    const us = parseScheduledAt(scheduledAt);
    if (us === null || scheduledAt.length !== s1 - s0) return null;
    scheduledUs = us;
  }
  // `NAME (trigger: TRIGGER, next run at: ...)`: the status has no comma
  const j0 = at + RUN_HEAD.length;
  const close = t - 1;
  if (close <= j0 || view.charCodeAt(close) !== 41) return null;
  const q = lastCharBefore(view, 44 /* , */, close - 1, j0);
  if (q <= j0) return null;
  const status = view.slice(q, q + NEXT_RUN.length);
  if (status !== NEXT_RUN && !status.startsWith(", paused)") && !status.startsWith(", pending)")) return null;
  let job: string;
  let trigger: string;
  if (q - j0 === cache.key.length && view.slice(j0, q) === cache.key) {
    job = cache.job;
    trigger = cache.trigger;
  } else {
    const text = decode(j0, q);
    const k = text.lastIndexOf(TRIGGER_SEP);
    if (k < 0) return null;
    job = text.slice(0, k);
    trigger = text.slice(k + TRIGGER_SEP.length);
    cache.key = view.slice(j0, q);
    cache.job = job;
    cache.trigger = trigger;
    cache.scanKey = false;
  }
  cache.message = message ?? view.slice(at, e);
  cache.schedText = scheduledAt;
  cache.schedUs = scheduledUs;
  return new ViewRun(job, trigger, scheduledAt, scheduledUs, view, ls, at);
}

/**
 * parseRunView for a line the line scan (src/runs/linescan.wat) found well formed, with a plain prefix: the
 * job text is view[at + 13, q), the scheduled time view[s0, s1), `us` that time when the scan could read it
 * (NaN otherwise); `sameKey`: the job text is byte for byte that of the scan's previous well-formed line.
 * Gives what parseRunView gives; null when the line needs the full parser.
 */
export function scannedRunView(
  view: string,
  at: number,
  q: number,
  s0: number,
  s1: number,
  us: number,
  sameKey: boolean,
  cache: RunViewCache,
  decode: (start: number, end: number) => string,
): RunRecord | null {
  if (!(sameKey && cache.scanKey) && !cache.readJobText(decode(at + RUN_HEAD.length, q))) return null;
  let scheduledAt: string;
  let scheduledUs = us;
  if (!Number.isNaN(us)) {
    scheduledAt = view.slice(s0, s1); // the scan read it: ASCII
  } else {
    scheduledAt = decode(s0, s1);
    const parsed = parseScheduledAt(scheduledAt);
    if (parsed === null || scheduledAt.length !== s1 - s0) return null;
    scheduledUs = parsed;
  }
  cache.message = NO_TEXT;
  cache.schedText = scheduledAt;
  cache.schedUs = scheduledUs;
  return new ViewRun(cache.job, cache.trigger, scheduledAt, scheduledUs, view, 0, at);
}

/**
 * The last position <= from of character c in s, not below min; -1 when none. (String#lastIndexOf is a call
 * into the runtime: slow for the short backward searches of parseRunView.)
 */
function lastCharBefore(s: string, c: number, from: number, min: number): number {
  for (let i = from; i >= min && i >= 0; i--) if (s.charCodeAt(i) === c) return i;
  return -1;
}

/**
 * The run of a line whose message is byte for byte the message parseRunView read last (the scan compares
 * them): the same job, trigger and scheduled time, only the prefix (who ran it) is new. Null when the prefix
 * needs the full parser, as in parseRunView.
 */
export function repeatRunView(view: string, ls: number, at: number, cache: RunViewCache): RunRecord | null {
  if (cache.schedText === NO_TEXT || (at > ls && !plainPrefix(view, ls, at))) return null;
  return new ViewRun(cache.job, cache.trigger, cache.schedText, cache.schedUs, view, ls, at);
}

/**
 * The run of view[ls, ...) (a line, one character per byte) with `Running job` at `at`, whose job, trigger and
 * scheduled time are known: who ran it is read from the prefix view[ls, at) only when asked.
 */
export function runOfView(
  job: string,
  trigger: string,
  scheduledAt: string,
  scheduledUs: number,
  view: string,
  ls: number,
  at: number,
): RunRecord {
  return new ViewRun(job, trigger, scheduledAt, scheduledUs, view, ls, at);
}

/**
 * A run read by the fast path. Who ran it (prefixRunner on the prefix, the same as the full parser) is worked
 * out only when asked for: the detector asks when it remembers a new run or records a sample, not for the
 * thousandth copy of a duplicate it no longer lists.
 */
class ViewRun implements RunRecord {
  readonly container = null;
  private resolved = false;
  private p: number | null = null;
  private h: string | null = null;
  constructor(
    readonly job: string,
    readonly trigger: string,
    readonly scheduledAt: string,
    readonly scheduledUs: number,
    private readonly view: string,
    private readonly ls: number,
    private readonly at: number,
  ) {}
  get pid(): number | null {
    if (!this.resolved) this.resolve();
    return this.p;
  }
  get host(): string | null {
    if (!this.resolved) this.resolve();
    return this.h;
  }
  private resolve(): void {
    this.resolved = true;
    if (this.at <= this.ls) return;
    const r = prefixRunner(this.view.slice(this.ls, this.at));
    this.p = r.pid;
    this.h = r.host;
  }
}

/**
 * Whether view[ls, at) is a prefix the full parser would not transform (strip and re-read) before the
 * message: no JSON or indented line, no kubectl `[pod/` or compose `NAME  | ` prefix.
 */
export function plainPrefix(view: string, ls: number, at: number): boolean {
  const c = view.charCodeAt(ls);
  if (c === 123 || c === 32 || c === 9) return false;
  if (c === 91 /* [ */) return view.charCodeAt(ls + 1) !== 112 /* p */;
  if (!isAlnum(c)) return true;
  let i = ls + 1;
  for (; i < at; i++) {
    const d = view.charCodeAt(i);
    if (!(isAlnum(d) || d === 95 || d === 45 || d === 46)) break;
  }
  if (view.charCodeAt(i) !== 32) return true;
  while (i < at && view.charCodeAt(i) === 32) i++;
  return view.charCodeAt(i) !== 124 /* | */;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
let lastText = "";
let lastUs: number | null = null;
let lastMinute = "";
let lastTail = "";
let lastSec = 0;

/**
 * str(datetime) as APScheduler logs `run_time` (`2026-11-30 10:00:00+08:00`, `2026-11-30 10:00:00.250000-05:00`,
 * LMT offsets with seconds `+05:53:28`; also `T`, `Z`, `+0800`) → microseconds since the epoch. A time without
 * offset is read as UTC. null when it is not such a time (out-of-range fields included).
 */
export function parseScheduledAt(text: string): number | null {
  if (text === lastText) return lastUs;
  // The next second of the same minute (the common case in a log): only the seconds change.
  if (lastUs !== null && text.length === lastText.length && text.length >= 19) {
    const sec = digits(text, 17, 2);
    if (sec >= 0 && sec <= 59 && text.slice(0, 17) === lastMinute && text.slice(19) === lastTail) {
      const us = lastUs + (sec - lastSec) * 1e6;
      lastText = text;
      lastUs = us;
      lastSec = sec;
      return us;
    }
  }
  const us = scheduledUs(text.trim());
  lastText = text;
  lastUs = us;
  if (us !== null && text.length >= 19) {
    lastMinute = text.slice(0, 17);
    lastTail = text.slice(19);
    lastSec = digits(text, 17, 2);
  }
  return us;
}

/** The value of n ASCII digits at s[i], or -1. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function scheduledUs(s: string): number | null {
  if (s.length < 19) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const sep = s.charCodeAt(10);
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    sec < 0 ||
    sec > 59 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (sep !== 32 && sep !== 84) ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  ) {
    return null;
  }
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] as number))) return null;
  let i = 19;
  let frac = 0;
  const dot = s.charCodeAt(i);
  if (dot === 46 || dot === 44) {
    let n = 0;
    i++;
    while (i < s.length && n < 9) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (n < 6) frac = frac * 10 + c;
      n++;
      i++;
    }
    if (n === 0) return null;
    for (let k = n; k < 6; k++) frac *= 10;
  }
  if (s.charCodeAt(i) === 32) i++;
  let offsetUs = 0;
  if (i < s.length) {
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) {
      // +HH:MM, +HHMM, +HH:MM:SS, +HH:MM:SS.ffffff
      const oh = digits(s, i + 1, 2);
      let k = i + 3;
      if (s.charCodeAt(k) === 58) k++;
      const om = digits(s, k, 2);
      k += 2;
      let os = 0;
      let ou = 0;
      if (k < s.length) {
        if (s.charCodeAt(k) === 58) k++;
        os = digits(s, k, 2);
        k += 2;
        if (k < s.length) {
          if (s.charCodeAt(k) !== 46) return null;
          const n = s.length - k - 1;
          if (n < 1 || n > 6) return null;
          ou = digits(s, k + 1, n);
          if (ou < 0) return null;
          for (let z = n; z < 6; z++) ou *= 10;
          k = s.length;
        }
      }
      if (k !== s.length || oh < 0 || oh > 23 || om < 0 || om > 59 || os < 0 || os > 59) return null;
      offsetUs = ((oh * 3600 + om * 60 + os) * 1e6 + ou) * (sign === 45 ? -1 : 1);
    } else {
      const rest = s.slice(i);
      if (rest !== "Z" && rest !== "UTC" && rest !== "GMT") return null;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec) * 1000 + frac - offsetUs;
}

/** "web-1 host sched-a pid 12": who ran it, from what the line says; null when it says nothing. */
export function formatRunner(r: {
  pid: number | null;
  host: string | null;
  container: string | null;
}): string | null {
  const parts: string[] = [];
  if (r.container !== null) parts.push(r.container);
  if (r.host !== null && r.host !== r.container) parts.push(`host ${r.host}`);
  if (r.pid !== null) parts.push(`pid ${r.pid}`);
  return parts.length > 0 ? parts.join(" ") : null;
}

// ---------------------------------------------------------------------------------------------------
// Duplicate detection

export type { DuplicateRun };

export interface DetectorOptions {
  /** Executions are matched against the ones scheduled up to this long before the newest seen (default 3600). */
  windowSec?: number;
  /** Hard cap on remembered executions, oldest dropped first (default 50 000). */
  maxEntries?: number;
  /** Duplicates listed; the rest are only counted in truncatedDuplicates (default 1000). */
  maxDuplicates?: number;
  /** Sample sources and runners kept per duplicate (default 5). */
  maxSamples?: number;
  /** Distinct jobs counted (default 10 000). */
  maxJobs?: number;
  /**
   * Scheduled times this close count as the same run (default 0: the same instant to the microsecond). An
   * interval trigger built without start_date gets a different phase in every process, so its copies are
   * not scheduled at the same instant; a tolerance below half the interval pairs them.
   */
  toleranceMs?: number;
}

export interface DetectorStats {
  lines: number;
  runs: number;
  /** Recognised job events other than runs (executed, raised, missed, skipped). */
  events: number;
  unparsed: number;
  /** Executions currently remembered (≤ maxEntries). */
  entries: number;
  /** Executions forgotten because they left the window or the cap. */
  evicted: number;
  /** Executions scheduled before the window when they arrived (out-of-order logs). */
  late: number;
}

interface JobState {
  key: string;
  job: string;
  trigger: string;
  /** Remembered runs of this job in insertion order, from `head` on (evicted slots are cleared). */
  entries: (Entry | undefined)[];
  head: number;
  /** false once evicted from jobStates. */
  live: boolean;
  /** The latest scheduled time ever added (never lowered): nothing later can match. */
  maxUs: number;
  /** The largest tolerance this job allows: under half its interval, 0 for cron and date triggers. */
  tolCapUs: number;
}

/**
 * Interval jobs started without start_date get a different phase in every process, so their duplicates are
 * close but not equal; cron and date triggers fire at the same instant everywhere and are matched exactly.
 */
export function toleranceCapUs(trigger: string): number {
  const m = /^interval\[(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.(\d+))?\]/.exec(trigger);
  if (!m) return 0;
  const seconds =
    Number(m[1] ?? 0) * 86400 +
    Number(m[2]) * 3600 +
    Number(m[3]) * 60 +
    Number(m[4]) +
    Number(`0.${m[5] ?? "0"}`);
  return Math.max(0, Math.floor((seconds * 1e6) / 2) - 1);
}

interface Entry {
  state: JobState;
  us: number;
  /** The first copy; who ran it is read only if it turns out to be a duplicate (ViewRun works that out late). */
  run: RunRecord | null;
  count: number;
  source: string | null;
  line: number;
  dup: DuplicateRun | null | false;
}

const SCAN_BACK = 256;

/**
 * Finds executions of the same job (name + trigger) for the same scheduled time. Fed line by line (or with
 * parsed run events) in log order; memory is bounded: only executions scheduled within `windowSec` of the
 * newest one are remembered, and at most `maxEntries` of them.
 */
export class DuplicateRunDetector {
  private readonly windowUs: number;
  private readonly maxEntries: number;
  private readonly maxDuplicates: number;
  private readonly maxSamples: number;
  private readonly maxJobs: number;
  private readonly toleranceUs: number;
  private readonly jobStates = new Map<string, JobState>();
  private readonly seenJobs = new Set<string>();
  private fifo: (Entry | undefined)[] = [];
  private fifoHead = 0;
  private newestUs = Number.NEGATIVE_INFINITY;
  private lastState: JobState | null = null;
  /** The job state before lastState. */
  private otherState: JobState | null = null;
  /** The entry the last addRun remembered or matched (null: it was too late to remember). */
  private lastEntry: Entry | null = null;
  private readonly spare: Entry[] = [];
  private readonly found: DuplicateRun[] = [];
  private truncated = 0;
  private readonly counters: DetectorStats = {
    lines: 0,
    runs: 0,
    events: 0,
    unparsed: 0,
    entries: 0,
    evicted: 0,
    late: 0,
  };
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(opts: DetectorOptions = {}) {
    this.windowUs = (opts.windowSec ?? 3600) * 1e6;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 50_000);
    this.maxDuplicates = Math.max(0, opts.maxDuplicates ?? 1000);
    this.maxSamples = Math.max(1, opts.maxSamples ?? 5);
    this.maxJobs = Math.max(1, opts.maxJobs ?? 10_000);
    this.toleranceUs = Math.max(0, (opts.toleranceMs ?? 0) * 1000);
  }

  /**
   * One log line (a string, or its bytes: bytes that are not UTF-8 make it "unparsed"). `source` and `lineNo`
   * name it in the samples (`app.log:12`). Returns what the line was.
   */
  feed(line: string | Uint8Array, source?: string, lineNo?: number): ApLine {
    this.counters.lines++;
    let text: string;
    if (typeof line === "string") text = line;
    else {
      try {
        text = this.decoder.decode(line);
      } catch {
        this.counters.unparsed++;
        return unparsed("not valid UTF-8");
      }
    }
    const r = parseApLogLine(text);
    if (r.kind === "unparsed") this.counters.unparsed++;
    else if (r.kind === "run") this.addRun(r, source, lineNo ?? this.counters.lines);
    else if (r.kind !== "other") this.counters.events++;
    return r;
  }

  /** A parsed execution (an ApEvent of another kind is ignored), for callers that parse themselves. */
  addRun(ev: RunRecord | ApEvent, source?: string | null, lineNo = 0): void {
    // (a RunRecord's scheduledAt is only read when needed: it may be worked out on demand)
    if (ev.scheduledUs === null || ("kind" in ev && (ev.kind !== "run" || ev.scheduledAt === null))) return;
    this.counters.runs++;
    const us = ev.scheduledUs;
    let st = this.lastState;
    if (st === null || !st.live || st.job !== ev.job || st.trigger !== ev.trigger) {
      // two jobs taking turns (one every second, one every minute) need no lookup either
      const other = this.otherState;
      this.otherState = st;
      if (other?.live && other.job === ev.job && other.trigger === ev.trigger) {
        this.lastState = other;
        this.addRunOf(other, ev, us, source, lineNo);
        return;
      }
      const key = `${ev.job}\u0000${ev.trigger}`;
      if (this.seenJobs.size < this.maxJobs) this.seenJobs.add(key);
      st = this.jobStates.get(key) ?? null;
      if (st === null) {
        st = {
          key,
          job: ev.job,
          trigger: ev.trigger,
          entries: [],
          head: 0,
          live: true,
          maxUs: us,
          tolCapUs: toleranceCapUs(ev.trigger),
        };
        this.jobStates.set(key, st);
      }
      this.lastState = st;
    }
    this.addRunOf(st, ev, us, source, lineNo);
  }

  private addRunOf(
    st: JobState,
    ev: RunRecord | ApEvent,
    us: number,
    source: string | null | undefined,
    lineNo: number,
  ): void {
    const match = this.find(st, us);
    this.lastEntry = match;
    if (match !== null) {
      this.repeat(match, ev, source ?? null, lineNo);
      return;
    }
    if (us < this.newestUs - this.windowUs) {
      // older than the window (out-of-order logs): counted, not remembered
      this.counters.late++;
      return;
    }
    // evicted entries are reused: they would otherwise all die old, the expensive kind of garbage
    const e = this.spare.pop() ?? ({} as Entry);
    e.state = st;
    e.us = us;
    // once maxDuplicates are listed, a new run is never listed: who ran it is not needed
    const run = ev as RunRecord;
    e.run = this.found.length < this.maxDuplicates ? (run.keep?.() ?? run) : null;
    e.count = 1;
    e.source = source ?? null;
    e.line = lineNo;
    e.dup = null;
    st.entries.push(e);
    this.lastEntry = e;
    if (us > st.maxUs) st.maxUs = us;
    this.fifo.push(e);
    if (us > this.newestUs) this.newestUs = us;
    this.evict();
  }

  private find(st: JobState, us: number): Entry | null {
    const tol = Math.min(this.toleranceUs, st.tolCapUs);
    if (us - tol > st.maxUs) return null;
    const stop = Math.max(st.head, st.entries.length - SCAN_BACK);
    for (let i = st.entries.length - 1; i >= stop; i--) {
      const e = st.entries[i] as Entry;
      const d = e.us - us;
      if (d <= tol && d >= -tol) return e;
    }
    return null;
  }

  /**
   * One more copy of the run addRun was last given (same job, trigger and scheduled time), when the detector
   * has no use for who ran it or where: the duplicate is already listed with all its samples, or is past
   * maxDuplicates. Returns false, counting nothing, when the copy needs addRun (or when the last run was not
   * remembered); streaming readers then build the run and call addRun, which gives the same result.
   */
  addCopyOfLast(): boolean {
    const e = this.lastEntry;
    if (e === null) return false;
    const d = e.dup;
    if (d === null) {
      if (this.found.length < this.maxDuplicates) return false;
      e.dup = false;
      this.truncated++;
    } else if (d !== false) {
      if (d.sources.length < this.maxSamples || d.runners.length < this.maxSamples) return false;
      d.count = e.count + 1;
    }
    e.count++;
    this.counters.runs++;
    return true;
  }

  private repeat(e: Entry, ev: RunRecord | ApEvent, source: string | null, lineNo: number): void {
    e.count++;
    if (e.dup === false) {
      return;
    }
    if (e.dup === null) {
      if (this.found.length >= this.maxDuplicates) {
        e.dup = false;
        this.truncated++;
        return;
      }
      const run = e.run as RunRecord;
      const first = formatRunner(run);
      e.dup = {
        job: e.state.job,
        trigger: e.state.trigger,
        scheduledAt: run.scheduledAt,
        count: 1,
        sources: [sourceText(e.source, e.line, first)],
        runners: first === null ? [] : [first],
      };
      this.found.push(e.dup);
    }
    const d = e.dup;
    d.count = e.count;
    if (d.sources.length >= this.maxSamples && d.runners.length >= this.maxSamples) return;
    const runner = formatRunner(ev);
    if (d.sources.length < this.maxSamples) d.sources.push(sourceText(source, lineNo, runner));
    if (runner !== null && d.runners.length < this.maxSamples && !d.runners.includes(runner))
      d.runners.push(runner);
  }

  private evict(): void {
    const cutoff = this.newestUs - this.windowUs;
    const fifo = this.fifo;
    let head = this.fifoHead;
    while (head < fifo.length) {
      const e = fifo[head] as Entry;
      if (e.us >= cutoff && fifo.length - head <= this.maxEntries) break;
      fifo[head] = undefined;
      head++;
      this.counters.evicted++;
      // per job, insertion order is the FIFO's: e is its job's oldest entry
      const st = e.state;
      st.entries[st.head] = undefined;
      st.head++;
      if (this.spare.length < 4096) {
        e.dup = null;
        e.run = null;
        this.spare.push(e);
      }
      if (st.head >= st.entries.length) {
        this.jobStates.delete(st.key);
        st.live = false;
      } else if (st.head >= 32 && st.head * 2 >= st.entries.length) {
        st.entries = st.entries.slice(st.head);
        st.head = 0;
      }
    }
    if (head >= 1024 && head * 2 >= fifo.length) {
      this.fifo = fifo.slice(head);
      head = 0;
    }
    this.fifoHead = head;
  }

  /** Counters so far (lines, runs, events and unparsed count only what went through feed()). */
  get stats(): DetectorStats {
    return { ...this.counters, entries: this.fifo.length - this.fifoHead };
  }

  /** Distinct jobs (name + trigger) seen running, up to maxJobs. */
  get jobs(): number {
    return this.seenJobs.size;
  }

  /** Every (job, scheduled time) executed more than once, in the order they were found (maxDuplicates). */
  get duplicates(): DuplicateRun[] {
    return this.found.map((d) => ({ ...d, sources: [...d.sources], runners: [...d.runners] }));
  }

  /** Duplicates found beyond maxDuplicates. */
  get truncatedDuplicates(): number {
    return this.truncated;
  }
}

function sourceText(source: string | null, line: number, runner: string | null): string {
  const where = source === null ? `line ${line}` : `${source}:${line}`;
  return runner === null ? where : `${where} (${runner})`;
}
