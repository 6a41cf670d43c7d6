/**
 * The value patterns of the schedctl config. schema/config.schema.json carries exactly these strings (a test
 * compares them), and the runtime validator uses them as its final gate, so the two always agree.
 *
 * Every pattern is anchored and admits only characters that are inert in every file schedctl writes:
 * nginx (no `;`, `{`, `}`, quotes, whitespace, `$` outside quoted regexes), YAML (written by the `yaml`
 * package anyway), Python string literals and Dockerfile instructions (no quotes, backslashes, newlines).
 * They are ECMAScript patterns valid with and without the `u` flag (ajv compiles with `u`).
 */

/** An app name: a DNS-1123 label short enough to take "-scheduler" and stay a Kubernetes name. */
export const APP = "^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$";

/** A Python dotted name. */
const DOTTED = "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*";

/** Gunicorn's WSGI entry: `module:attr` or `module:factory()` (no arguments). */
export const WSGI = `^${DOTTED}:${DOTTED}(?:\\(\\))?$`;

/** A Python object path `module:attr` (the scheduler object, when it is not the Flask app's `apscheduler`). */
export const PY_OBJECT = `^${DOTTED}:${DOTTED}$`;

/** A supported CPython minor version. */
export const PYTHON = "^3\\.(?:[89]|1[0-9])$";

/** An IANA zone name's shape (its existence is checked separately). */
export const TIMEZONE = "^[A-Za-z][A-Za-z0-9_+-]{0,29}(?:/[A-Za-z0-9][A-Za-z0-9_+-]{0,29}){0,2}$";

/** The base images schedctl knows how to write a timezone-correct Dockerfile for. */
export const BASE_IMAGE =
  "^(?:python:3\\.(?:[89]|1[0-9])-(?:slim(?:-bookworm|-trixie)?|alpine(?:3\\.[0-9]{1,2})?)|ubuntu:(?:22\\.04|24\\.04|jammy|noble)|gcr\\.io/distroless/python3-debian1[23](?::(?:latest|nonroot|debug|debug-nonroot))?)$";

/** A Docker image reference for the app's own image: [registry[:port]/]path[:tag]. */
export const IMAGE =
  "^(?:[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?(?::[0-9]{1,5})?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$";

/** A relative file path inside the build context, no `..` segment. */
export const REL_PATH = "^(?!.*(?:^|/)\\.\\.?(?:/|$))[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$";

/** An absolute file path (the file lock), no `.` or `..` segment. */
export const ABS_PATH = "^(?!.*/\\.\\.?(?:/|$))(?:/[A-Za-z0-9._-]+)+$";

/** A URL path probed by healthchecks: `/` or `/a/b`, optionally with a trailing slash. */
export const HEALTH_PATH = "^/(?:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*/?)?$";

/** Flask-APScheduler's SCHEDULER_API_PREFIX: at least one segment, no trailing slash. */
export const API_PREFIX = "^(?:/[A-Za-z0-9._~-]+)+$";

/** Characters a location path may hold (nginx literal, URI-safe). */
const PATH_CHARS = "[A-Za-z0-9._~/:@+,=-]";
/** Characters a location regex may hold: printable ASCII except space, quotes, `;` and the backslash. */
const REGEX_CHAR = "[!#-&(-:<-\\[\\]-~]";
/** What may follow a backslash in a regex: the same, minus t, n and r (nginx unescapes those in quotes). */
const ESCAPED_CHAR = "[!#-&(-:<-\\[\\]-mo-qsu-~]";

/**
 * A route sent to the scheduler instance: `= /x` (exact), `^~ /x/` (prefix, no regex after), `/x` (plain
 * prefix), `~ regex` / `~* regex` (case-sensitive / caseless PCRE, written quoted). In a regex a backslash
 * must escape a character from the allowed set (so `\d`, `\.`, but never `\\`, `\"`, a trailing `\`, or `\t`, `\n`,
 * `\r`, which nginx itself would turn into raw control characters inside the quotes).
 */
export const ROUTE = `^(?:(?:= |\\^~ )?/${PATH_CHARS}*|~\\*? (?:${REGEX_CHAR}|\\\\${ESCAPED_CHAR})+)$`;

/** A host name as Flask-APScheduler compares it (lower case, one DNS label: it is also the compose service). */
export const HOST = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$";

/** nginx server_name: `_` or lower-case DNS names, optionally a leading `*.` wildcard. */
export const SERVER_NAME =
  "^(?:_|(?:\\*\\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)$";

/**
 * A Redis URL without a password (it would land in generated files; give it at deploy time in
 * SCHEDCTL_REDIS_URL instead): redis[s]://[user@]host[:port][/db].
 */
export const REDIS_URL =
  "^rediss?://(?:[A-Za-z0-9._~-]+@)?(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]{2,45}\\])(?::[0-9]{1,5})?(?:/[0-9]{1,2})?$";

/** The leader lock key: schedctl's namespace, so `schedctl locks` and doctor recognise it. */
export const LOCK_KEY = "^schedctl:lock:[A-Za-z0-9._:-]{1,200}$";

const cache = new Map<string, RegExp>();
/** The compiled pattern (with the `u` flag, as ajv compiles it). */
export function re(pattern: string): RegExp {
  let r = cache.get(pattern);
  if (!r) {
    r = new RegExp(pattern, "u");
    cache.set(pattern, r);
  }
  return r;
}
