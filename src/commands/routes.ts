/**
 * `schedctl routes explain URI... [--nginx FILE] [--server NAME] [--real] [--format text|json]`: which
 * nginx location wins for each URI and why, step by step as nginx decides; with --real, the answer of the
 * real nginx on an instrumented copy of the configuration (and any disagreement with the explanation).
 */
import { dirname } from "node:path";
import { RunError, UsageError } from "../errors.js";
import { NginxParseError } from "../nginx/lexer.js";
import { extractHttp, formatLocation, type NginxServer, selectServer } from "../nginx/locations.js";
import { type Explanation, explainUri } from "../nginx/match.js";
import { cleanText } from "../render/table.js";
import { SCHEMA_VERSION } from "../render/types.js";

export const DEFAULT_NGINX_CONF = "/etc/nginx/nginx.conf";

export interface RoutesExplainOptions {
  nginx?: string;
  server?: string;
  real?: boolean;
  format?: string;
}

export interface ResultRow {
  explanation: Explanation;
  /** With --real: what nginx answered. */
  real?: {
    status: number | null;
    match: Explanation["match"];
    redirect: Explanation["redirect"];
    summary: string;
    disagreement: string | null;
  };
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, " ");

export function validateUri(uri: string): void {
  if (!uri.startsWith("/")) {
    throw new UsageError(
      `URI ${JSON.stringify(uri)}: must start with "/" (the path as the client sends it, e.g. /scheduler/jobs)`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  const bad = /[\u0000-\u0020\u007f]/.exec(uri);
  if (bad) {
    const hex = (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(2, "0");
    throw new UsageError(
      `URI ${JSON.stringify(uri)}: contains a ${bad[0] === " " ? "space" : "control character"}; write it percent-encoded (%${hex})`,
    );
  }
}

function matchLine(e: {
  match: Explanation["match"];
  redirect: Explanation["redirect"];
  status: number | null;
}): string {
  if (e.status === 400) return "400 Bad Request (nginx refuses the URI)";
  if (e.redirect) {
    return `301 → ${e.redirect.location}${e.match ? `  (${formatLocation(e.match)}, ${e.match.file}:${e.match.line})` : ""}`;
  }
  if (!e.match) return "no location (the server's own configuration answers)";
  const loc = `${formatLocation(e.match)}  (${e.match.file}:${e.match.line})`;
  return e.status === 404 ? `404: ${loc} is internal` : loc;
}

/**
 * The human report. `baseDir` (the main configuration's directory) is left out of file names, so a
 * location reads `location ^~ /scheduler/  (sites-enabled/app:12)`.
 */
export function renderRoutesText(
  server: NginxServer,
  rows: ResultRow[],
  realVersion?: string,
  baseDir?: string,
): string {
  const out: string[] = [];
  out.push(
    `server ${server.names.filter((n) => n !== "").join(" ") || '""'}  (${server.file}:${server.line})${realVersion ? ` — real nginx ${realVersion}` : ""}`,
  );
  for (const r of rows) {
    const e = r.explanation;
    out.push("");
    out.push(e.uri);
    const shown = r.real
      ? { match: r.real.match, redirect: r.real.redirect, status: r.real.status }
      : { match: e.match, redirect: e.redirect, status: e.status };
    out.push(`  → ${matchLine(shown)}`);
    e.steps.forEach((s, i) => {
      out.push(`    ${i + 1}. ${s}`);
    });
    for (const w of e.pcreWarnings) out.push(`    warning: ${w}`);
    if (r.real) {
      out.push(`    real nginx: ${r.real.summary}`);
      if (r.real.disagreement) out.push(`    DISAGREEMENT: ${r.real.disagreement}`);
    }
  }
  const prefix = baseDir ? `${baseDir.replace(/\/+$/, "")}/` : null;
  const short = (l: string) => (prefix && prefix !== "./" ? l.split(prefix).join("") : l);
  return `${out.map((l) => cleanText(short(l))).join("\n")}\n`;
}

export function renderRoutesJson(server: NginxServer, rows: ResultRow[], real: boolean): string {
  const doc = {
    schemaVersion: SCHEMA_VERSION,
    server: { names: server.names, file: server.file, line: server.line },
    results: rows.map((r) => {
      const e = r.explanation;
      const steps = [...e.steps, ...e.pcreWarnings.map((w) => `warning: ${w}`)];
      if (!real || !r.real) return { uri: e.uri, match: e.match, redirect: e.redirect, steps };
      return {
        uri: e.uri,
        match: r.real.match,
        redirect: r.real.redirect,
        steps: [...steps, `real nginx: ${r.real.summary}`],
        real: true,
        ...(r.real.disagreement ? { disagreement: r.real.disagreement } : {}),
      };
    }),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Where the command writes (the process streams; tests pass their own). */
export interface RoutesIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const processIo: RoutesIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

export async function routesExplain(
  uris: string[],
  opts: RoutesExplainOptions,
  io: RoutesIo = processIo,
): Promise<number> {
  const format = opts.format ?? "text";
  if (format !== "text" && format !== "json")
    throw new UsageError(`--format ${format}: expected text or json`);
  if (uris.length === 0) throw new UsageError("routes explain: give at least one URI, e.g. /scheduler/jobs");
  for (const u of uris) validateUri(u);
  const file = opts.nginx ?? DEFAULT_NGINX_CONF;

  const { fsParseOptions } = await import("../nginx/fs.js");
  const { parseNginxFile } = await import("../nginx/parse.js");
  let parsed: ReturnType<typeof parseNginxFile>;
  try {
    parsed = parseNginxFile(file, fsParseOptions());
  } catch (err) {
    if (err instanceof NginxParseError) {
      if (err.file === file && err.line === 0 && /no such file/.test(err.detail)) {
        throw new UsageError(`--nginx ${file}: no such file (or it cannot be read)`);
      }
      throw new UsageError(`--nginx ${file}: ${oneLine(err.message)}`);
    }
    throw err;
  }
  const http = extractHttp(parsed);
  const refused = http.findings.find((f) => f.severity === "error");
  if (refused) {
    throw new UsageError(
      `--nginx ${file}: nginx would refuse this configuration: ${refused.file}:${refused.line}: ${refused.message}`,
    );
  }
  const sel = selectServer(http, opts.server);
  if (!sel) throw new UsageError(`--nginx ${file}: no server block and no location in this configuration`);
  if (opts.server && !sel.reason.startsWith("server_name")) io.stderr(`schedctl: ${sel.reason}\n`);
  const server = sel.server;

  const rows: ResultRow[] = uris.map((u) => ({ explanation: explainUri(server, u) }));
  let version: string | undefined;
  if (opts.real) {
    const real = await import("../nginx/real.js");
    let run: Awaited<ReturnType<typeof real.explainWithRealNginx>>;
    try {
      run = await real.explainWithRealNginx({ path: file }, uris, opts.server ? { server: opts.server } : {});
    } catch (err) {
      if (err instanceof real.NginxUnavailableError) throw new RunError(err.message);
      if (err instanceof real.RealNginxError) throw new RunError(`--real: ${oneLine(err.message)}`);
      if (err instanceof NginxParseError) throw new UsageError(`--nginx ${file}: ${oneLine(err.message)}`);
      throw err;
    }
    version = run.version;
    run.answers.forEach((a, i) => {
      const row = rows[i] as ResultRow;
      const disagreement = real.compareWithReal(row.explanation, a);
      const summary =
        a.status === 400
          ? "400 Bad Request"
          : a.redirect
            ? `301 Location: ${a.locationHeader}`
            : a.match
              ? `${a.internalId !== null ? "404 from internal " : ""}${formatLocation(a.match)} (${a.match.file}:${a.match.line})`
              : `no location (HTTP ${a.httpStatus})`;
      row.real = {
        status: a.status,
        match: a.match,
        redirect: a.redirect,
        summary: `${summary}${disagreement ? "" : " — agrees"}`,
        disagreement,
      };
      if (disagreement)
        io.stderr(`schedctl: ${a.uri}: the explanation disagrees with the real nginx: ${disagreement}\n`);
    });
  }
  io.stdout(
    format === "json"
      ? renderRoutesJson(server, rows, Boolean(opts.real))
      : renderRoutesText(server, rows, version, dirname(file)),
  );
  return 0;
}
