/**
 * The real nginx, as an oracle and as a validator (IO):
 * - explainWithRealNginx: copies the configuration (every included file, one copy per inclusion) into a
 *   temporary prefix, edits the copies in place without moving any line (so nginx's file:line messages
 *   still point at the user's lines), instruments every location of the chosen server with
 *   `return 299 "loc:<id>";` as its first directive (`return` is not inherited, and the 301
 *   auto-redirect and the `internal` 404 happen in the find-config phase before it runs), makes it the
 *   only server, listening on a free 127.0.0.1 port, maps upstream/*_pass host names to 127.0.0.1 (no
 *   DNS at load), moves pid, temp paths and logs into the prefix, runs `nginx -p TMP/ -c … -g
 *   "daemon off; master_process off;"`, requests each URI over loopback with raw HTTP/1.1, reads
 *   `loc:<id>` (or the 301 Location, or the status) and always kills nginx. Every step has a timeout.
 * - nginxTest: `nginx -t` on a snippet (upstream/server blocks, or bare locations) or a full config,
 *   through the wrapper of reference §1.3 (pid, temp paths, logs in the prefix; listens on free loopback
 *   ports; hosts mapped to 127.0.0.1), so it needs no root paths and no DNS.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fsParseOptions } from "./fs.js";
import { extractHttp, type NginxHttp, type NginxServer, PASS_DIRECTIVES, selectServer } from "./locations.js";
import type { Explanation, LocationRef } from "./match.js";
import {
  type NginxDirective,
  NginxParseError,
  type ParsedConfig,
  type ParseOptions,
  parseNginx,
  parseNginxFile,
  quoteWord,
  walkDirectives,
} from "./parse.js";

export const NGINX_INSTALL_HINT =
  "apt-get install -y nginx   (Debian/Ubuntu; the `nginx` package is the real binary)";
const DEFAULT_TIMEOUT_MS = 5000;

export class NginxUnavailableError extends Error {
  constructor(detail: string) {
    super(`nginx is not available (${detail}); install it: ${NGINX_INSTALL_HINT}`);
    this.name = "NginxUnavailableError";
  }
}

export interface NginxMessage {
  file: string;
  line: number;
  message: string;
}

/** nginx refused the (instrumented) configuration or did not come up. */
export class RealNginxError extends Error {
  readonly output: string;
  readonly errors: NginxMessage[];
  constructor(message: string, output: string, errors: NginxMessage[]) {
    super(message);
    this.name = "RealNginxError";
    this.output = output;
    this.errors = errors;
  }
}

/** The nginx binary: `explicit`, else $SCHEDCTL_NGINX (only it, when set), else PATH, /usr/sbin, /usr/local/nginx/sbin. */
export function findNginxBinary(explicit?: string): string | null {
  const candidates: string[] = [];
  const chosen = explicit ?? process.env.SCHEDCTL_NGINX;
  if (chosen) candidates.push(chosen);
  else {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) candidates.push(join(dir, "nginx"));
    candidates.push("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx");
  }
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

function run(
  bin: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : null
          : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

const versionCache = new Map<string, string>();
/** "1.22.1" */
export async function nginxVersion(bin: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const hit = versionCache.get(bin);
  if (hit) return hit;
  const r = await run(bin, ["-v"], timeoutMs);
  const v = /nginx\/(\S+)/.exec(r.output)?.[1] ?? "unknown";
  versionCache.set(bin, v);
  return v;
}

/** A free TCP port on 127.0.0.1 (bound and released; nginx binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Editing copies in place (line-preserving)

interface Edit {
  start: number;
  end: number;
  text: string;
  blank: boolean;
  seq: number;
}

class Editor {
  private readonly edits = new Map<number, Edit[]>();
  private seq = 0;

  private add(instance: number, e: Omit<Edit, "seq">): void {
    let list = this.edits.get(instance);
    if (!list) {
      list = [];
      this.edits.set(instance, list);
    }
    list.push({ ...e, seq: this.seq++ });
  }

  blank(d: NginxDirective): void {
    if (!d.span) return;
    this.add(d.span.instance, { start: d.span.start, end: d.span.end, text: "", blank: true });
  }

  blankRange(instance: number, start: number, end: number): void {
    this.add(instance, { start, end, text: "", blank: true });
  }

  /** Replaces a whole (one-line) directive by text on the same line. */
  replace(d: NginxDirective, text: string): void {
    if (!d.span) return;
    this.add(d.span.instance, { start: d.span.start, end: d.span.end, text, blank: false });
  }

  replaceArg(d: NginxDirective, i: number, value: string): void {
    const a = d.span?.args[i];
    if (!d.span || !a) return;
    this.add(d.span.instance, { start: a[0], end: a[1], text: quoteWord(value), blank: false });
  }

  insertAfterOpen(d: NginxDirective, text: string): void {
    if (!d.span || d.span.blockStart === undefined) return;
    this.add(d.span.instance, {
      start: d.span.blockStart,
      end: d.span.blockStart,
      text: ` ${text} `,
      blank: false,
    });
  }

  apply(instance: number, text: string): string {
    const list = this.edits.get(instance) ?? [];
    const blanks = list.filter((e) => e.blank);
    const inBlank = (e: Edit) =>
      blanks.some(
        (b) =>
          b !== e &&
          e.start >= b.start &&
          e.end <= b.end &&
          !(b.start === e.start && b.end === e.end && b.seq > e.seq),
      );
    const kept = list.filter((e) => !inBlank(e)).sort((a, b) => b.start - a.start || b.seq - a.seq);
    let out = text;
    for (const e of kept) {
      const replacement = e.blank ? out.slice(e.start, e.end).replace(/[^\r\n]/g, " ") : e.text;
      if (e.text.includes("\n")) throw new Error("internal: an edit must not add lines");
      out = out.slice(0, e.start) + replacement + out.slice(e.end);
    }
    return out;
  }
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `host[:port]` of an upstream `server` line → 127.0.0.1[:port] (null: keep: IP literal, unix:). */
function loopbackAddress(addr: string): string | null {
  if (addr.startsWith("unix:") || addr.startsWith("[") || addr.includes("$")) return null;
  const m = /^([^:]+)(:\d+)?$/.exec(addr);
  if (!m) return null;
  if (IPV4.test(m[1] as string)) return null;
  return `127.0.0.1${m[2] ?? ""}`;
}

/** A *_pass target with its host name mapped to 127.0.0.1 (null: keep as is). */
export function loopbackPassTarget(target: string, upstreams: ReadonlySet<string>): string | null {
  if (target.includes("$")) return null;
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?(.*)$/i.exec(target);
  const scheme = m?.[1] ?? "";
  const rest = m?.[2] ?? target;
  if (rest.startsWith("unix:") || rest.startsWith("[")) return null;
  const hm = /^([^/:]+)(:\d+)?(.*)$/.exec(rest);
  if (!hm) return null;
  const host = hm[1] as string;
  if (IPV4.test(host)) return null;
  if (!hm[2] && upstreams.has(host.toLowerCase())) return null;
  return `${scheme}127.0.0.1${hm[2] ?? ""}${hm[3] ?? ""}`;
}

type ConfigKind = "full" | "http" | "server";

function configKind(parsed: ParsedConfig): ConfigKind {
  const top = parsed.directives.map((d) => d.directive);
  if (top.includes("http") || top.includes("events")) return "full";
  if (top.includes("location") || top.includes("listen") || top.includes("server_name")) return "server";
  return "http";
}

export interface PrepareOptions {
  mode: "real" | "test";
  tmp: string;
  /** real: the server that stays, and its port */
  server?: NginxServer;
  port?: number;
  /** test: port for each distinct original listen address */
  listenPorts?: Map<string, number>;
  /** test: certificate files that do not exist here are replaced by this throwaway pair */
  certStub?: { cert: string; key: string; exists: (path: string) => boolean };
}

export interface PreparedConfig {
  kind: ConfigKind;
  /** -c argument */
  conf: string;
  files: { path: string; text: string }[];
  /** copy path → original path */
  pathMap: Map<string, string>;
  host: string;
  /** What the copy changed that the user should know about. */
  notes: string[];
}

const TEMP_PATHS = [
  "client_body_temp_path",
  "proxy_temp_path",
  "fastcgi_temp_path",
  "uwsgi_temp_path",
  "scgi_temp_path",
];
const CACHE_PATHS = new Set([
  "proxy_cache_path",
  "fastcgi_cache_path",
  "uwsgi_cache_path",
  "scgi_cache_path",
]);
const MAIN_DROP = new Set([
  "pid",
  "daemon",
  "master_process",
  "user",
  "error_log",
  "lock_file",
  "working_directory",
]);
/**
 * Server-level directives dropped in the instrumented copy: the rewrite-module ones run before location
 * selection and could answer or rewrite the request (`set` stays: later directives may use its variable;
 * an `if` keeps only the `set`s inside it), root/try_files would serve real files, listen is replaced.
 */
const SERVER_DROP_REAL = new Set(["return", "rewrite", "break", "root", "try_files", "listen"]);
const isSslDirective = (name: string): boolean =>
  /(^|_)ssl(_|$)/.test(name) || name === "http2" || name === "http3";

function dropServerLevel(ed: Editor, d: NginxDirective): void {
  if (SERVER_DROP_REAL.has(d.directive)) ed.blank(d);
  else if (
    d.directive === "if" &&
    d.span &&
    d.span.blockStart !== undefined &&
    d.span.blockEnd !== undefined
  ) {
    // keep the `set`s (their variables are declared for the whole configuration), drop the rest
    ed.blankRange(d.span.instance, d.span.start, d.span.blockStart);
    ed.blankRange(d.span.instance, d.span.blockEnd, d.span.end);
    for (const x of d.block ?? []) if (x.directive !== "set") ed.blank(x);
  }
}

const listenKey = (arg: string): string => (/^\d+$/.test(arg) ? `*:${arg}` : arg);

/**
 * Builds the edited copies of every source file (pure: it only computes text; the caller writes it).
 * Edits never add or remove a line, so nginx's "in FILE:LINE" stays true for the user's files.
 */
export function prepareConfig(parsed: ParsedConfig, http: NginxHttp, opts: PrepareOptions): PreparedConfig {
  const ed = new Editor();
  const kind = configKind(parsed);
  const upstreamNames = new Set(http.upstreams.map((u) => u.name.toLowerCase()));
  const T = opts.tmp;
  const tempLine = `${TEMP_PATHS.map((t) => `${t} ${T}/${t.replace("_temp_path", "")};`).join(" ")} access_log off;`;
  const copyPath = (inst: number) => `${T}/f/${inst}.conf`;
  let cacheN = 0;
  let sockN = 0;
  const chosen = opts.server;
  const chosenLocs = new Map((chosen?.all ?? []).map((l) => [l.node, l]));
  const helpers: string[] = [];
  const notes: string[] = [];
  const serverHead = (): string =>
    `listen 127.0.0.1:${opts.port} default_server; root ${T}/noroot; ${helpers.join(" ")}`;

  const visit = (nodes: readonly NginxDirective[], parents: NginxDirective[]): void => {
    for (const d of nodes) {
      const parent = parents[parents.length - 1];
      const pname = parent?.directive ?? (kind === "full" ? "main" : kind);
      const name = d.directive;
      const inHttp = parents.some((p) => p.directive === "http") || kind !== "full";
      const inStream = parents.some((p) => p.directive === "stream" || p.directive === "mail");
      if (pname === "main" && MAIN_DROP.has(name)) {
        ed.blank(d);
        continue;
      }
      if (name === "error_log" || name === "access_log" || TEMP_PATHS.includes(name)) {
        ed.blank(d);
        continue;
      }
      if (opts.mode === "real" && isSslDirective(name)) {
        ed.blank(d);
        continue;
      }
      if (opts.mode === "real" && pname === "main" && (name === "stream" || name === "mail")) {
        ed.blank(d);
        continue;
      }
      if (
        opts.certStub &&
        (name === "ssl_certificate" || name === "ssl_certificate_key") &&
        d.args[0] &&
        !d.args[0].includes("$") &&
        !d.args[0].startsWith("data:") &&
        !opts.certStub.exists(d.args[0])
      ) {
        ed.replaceArg(d, 0, name === "ssl_certificate" ? opts.certStub.cert : opts.certStub.key);
        notes.push(
          `${d.file}:${d.line}: ${name} ${d.args[0]} does not exist here; checked with a throwaway self-signed one`,
        );
      }
      if (CACHE_PATHS.has(name) && d.args.length > 0) {
        ed.replaceArg(d, 0, `${T}/cache${cacheN++}`);
      }
      if (name === "include") {
        const insts = parsed.sources.filter(
          (s) =>
            s.includedFrom &&
            d.span &&
            s.includedFrom.instance === d.span.instance &&
            s.includedFrom.at === d.span.start,
        );
        if (insts.length === 0) ed.blank(d);
        else ed.replace(d, insts.map((s) => `include ${copyPath(s.instance)};`).join(" "));
        continue;
      }
      if (name === "server" && pname === "upstream" && d.args[0]) {
        const a = loopbackAddress(d.args[0]);
        if (a) ed.replaceArg(d, 0, a);
        continue;
      }
      if ((PASS_DIRECTIVES as readonly string[]).includes(name) && d.args[0]) {
        const t = loopbackPassTarget(d.args[0], upstreamNames);
        if (t) ed.replaceArg(d, 0, t);
      }
      if (name === "listen" && (opts.mode === "test" || inStream)) {
        const arg = d.args[0] ?? "";
        if (arg.startsWith("unix:")) ed.replaceArg(d, 0, `unix:${T}/sock${sockN++}`);
        else {
          const port = opts.listenPorts?.get(listenKey(arg));
          if (port) ed.replaceArg(d, 0, `127.0.0.1:${port}`);
        }
      }
      if (name === "http" && d.block) {
        ed.insertAfterOpen(d, tempLine);
      }
      if (
        opts.mode === "test" &&
        name === "server" &&
        d.block &&
        inHttp &&
        !inStream &&
        pname !== "upstream" &&
        !d.block.some((x) => x.directive === "listen")
      ) {
        // no listen: nginx would bind *:80
        ed.insertAfterOpen(d, `listen 127.0.0.1:${opts.listenPorts?.get("*:80") ?? 80};`);
      }
      if (opts.mode === "real" && inHttp && !inStream) {
        if (name === "error_page") {
          ed.blank(d);
          continue;
        }
        if (name === "server" && pname !== "upstream" && d.block) {
          if (d !== chosen?.node) {
            ed.blank(d);
            continue;
          }
          for (const x of d.block) dropServerLevel(ed, x);
        }
        const loc = chosenLocs.get(d);
        if (loc) {
          let ins = `return 299 "loc:${loc.id}";`;
          if (loc.isInternal) {
            ins += ` error_page 404 @schedctl_internal_${loc.id};`;
            helpers.push(`location @schedctl_internal_${loc.id} { return 298 "internal:${loc.id}"; }`);
          }
          ed.insertAfterOpen(d, ins);
        }
      }
      if (d.block) visit(d.block, [...parents, d]);
    }
  };
  visit(parsed.directives, []);

  // The chosen server's listen, root and helper locations go right after its "{".
  if (opts.mode === "real" && chosen?.node.span) {
    ed.insertAfterOpen(chosen.node, serverHead());
  }
  if (opts.mode === "real" && kind === "server") {
    // bare locations: their server-level rewrite directives are dropped too
    for (const d of parsed.directives) dropServerLevel(ed, d);
  }

  const files = parsed.sources.map((s) => ({
    path: copyPath(s.instance),
    text: ed.apply(s.instance, s.text),
  }));
  const pathMap = new Map(parsed.sources.map((s) => [copyPath(s.instance), s.path]));
  let conf = copyPath(0);
  const host =
    chosen?.names.find(
      (n) => n !== "" && n !== "_" && !n.startsWith("~") && !n.includes("*") && !n.startsWith("."),
    ) ?? "localhost";
  if (kind !== "full") {
    conf = `${T}/wrap.conf`;
    let body: string;
    if (kind === "server") {
      const listen =
        opts.mode === "real"
          ? serverHead()
          : `listen 127.0.0.1:${opts.listenPorts?.get("*:80") ?? opts.port ?? 80} default_server;`;
      body = `server { ${listen}\ninclude ${copyPath(0)};\n}`;
    } else body = `include ${copyPath(0)};`;
    files.push({ path: conf, text: `events {}\nhttp {\n${tempLine}\n${body}\n}\n` });
    pathMap.set(conf, "(schedctl wrapper)");
  }
  return { kind, conf, files, pathMap, host, notes };
}

/** nginx's "[emerg] message in FILE:LINE" lines, mapped back to the user's files. */
export function parseNginxMessages(output: string, pathMap: ReadonlyMap<string, string>): NginxMessage[] {
  const out: NginxMessage[] = [];
  for (const line of output.split("\n")) {
    const m = /\[(emerg|alert|crit|error)\] (?:\d+#\d+: )?(.*?)(?: in (\S+):(\d+))?$/.exec(line);
    if (!m) continue;
    const file = m[3] ? (pathMap.get(m[3]) ?? m[3]) : "";
    out.push({ file, line: m[4] ? Number(m[4]) : 0, message: m[2] as string });
  }
  return out;
}

function mapPaths(text: string, pathMap: ReadonlyMap<string, string>, tmp: string): string {
  let out = text;
  for (const [copy, orig] of [...pathMap].sort((a, b) => b[0].length - a[0].length))
    out = out.split(copy).join(orig);
  return out.split(`${tmp}/`).join("<tmp>/").split(tmp).join("<tmp>");
}

function writeFiles(prep: PreparedConfig, tmp: string): void {
  mkdirSync(join(tmp, "f"), { recursive: true });
  for (const f of prep.files) writeFileSync(f.path, f.text);
}

/** A configuration to read: a path (string or { path }) or text ({ text, file? }). */
export type ConfigSource = string | { path: string } | { text: string; file?: string };

function loadConfig(config: ConfigSource, parse: ParseOptions): ParsedConfig {
  if (typeof config === "string") return parseNginxFile(config, parse);
  if ("path" in config) return parseNginxFile(config.path, parse);
  return parseNginx(config.text, config.file ?? "<snippet>", parse);
}

// ---------------------------------------------------------------------------------------------------
// Running nginx

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

/** nginx processes started here and not yet stopped: killed if this process exits first. */
const LIVE = new Set<ChildProcess>();
function killLive(): void {
  for (const c of LIVE) {
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

function startNginx(bin: string, args: string[]): Running {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (b: Buffer) => {
    output += b.toString("utf8");
  });
  child.stderr?.on("data", (b: Buffer) => {
    output += b.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
  LIVE.add(child);
  if (LIVE.size === 1) process.on("exit", killLive);
  const stop = async () => {
    LIVE.delete(child);
    if (LIVE.size === 0) process.off("exit", killLive);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(t);
  };
  return { child, output: () => output, exited, stop };
}

async function waitForPort(port: number, r: Running, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedCode: number | null | undefined;
  void r.exited.then((c) => {
    exitedCode = c;
  });
  for (;;) {
    if (exitedCode !== undefined) throw new Error(`nginx exited (code ${exitedCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      const done = (v: boolean) => {
        s.destroy();
        resolve(v);
      };
      s.once("connect", () => done(true));
      s.once("error", () => done(false));
      s.setTimeout(500, () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nginx did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One raw HTTP/1.1 GET (the URI bytes sent as given), with a timeout. */
export function rawGet(port: number, host: string, uri: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer for ${uri} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on("connect", () => {
      s.write(
        Buffer.concat([
          Buffer.from("GET ", "latin1"),
          Buffer.from(uri, "utf8"),
          Buffer.from(
            ` HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: schedctl\r\nConnection: close\r\n\r\n`,
            "latin1",
          ),
        ]),
      );
    });
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString("latin1");
      const headEnd = raw.indexOf("\r\n\r\n");
      const head = headEnd >= 0 ? raw.slice(0, headEnd) : raw;
      const [statusLine, ...lines] = head.split("\r\n");
      const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status, headers, body: headEnd >= 0 ? raw.slice(headEnd + 4) : "" });
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// explain with the real nginx

export interface RealAnswer {
  uri: string;
  /** HTTP status nginx answered (299 = one of the instrumented locations). */
  httpStatus: number;
  /** The location that answered (its id in the server), or null. */
  locationId: number | null;
  match: LocationRef | null;
  redirect: { status: number; location: string } | null;
  /** The raw Location header of a 301. */
  locationHeader: string | null;
  /** The internal location that produced a 404 (instrumented through error_page), or null. */
  internalId: number | null;
  /** Same meaning as Explanation.status: 301 / 404 (internal) / 400, else null. */
  status: number | null;
}

export interface RealRun {
  nginx: string;
  version: string;
  server: NginxServer;
  http: NginxHttp;
  answers: RealAnswer[];
}

export interface RealOptions {
  /** The server block to use: a host name, "name:port" or ":port" (default: the default server). */
  server?: string;
  nginxBin?: string;
  /** Timeout of each step (start, each request, stop), ms. */
  timeoutMs?: number;
  /** How files are read (default: the real file system). */
  parse?: ParseOptions;
  /** Parallel requests. */
  concurrency?: number;
}

const stripOrigin = (loc: string): string => loc.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");

/** Runs the real nginx on an instrumented copy of the configuration and asks it about each URI. */
export async function explainWithRealNginx(
  config: ConfigSource,
  uris: readonly string[],
  opts: RealOptions = {},
): Promise<RealRun> {
  const bin = findNginxBinary(opts.nginxBin);
  if (!bin) throw new NginxUnavailableError("no nginx binary in PATH, /usr/sbin or $SCHEDCTL_NGINX");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const parsed = loadConfig(config, opts.parse ?? fsParseOptions());
  const http = extractHttp(parsed);
  const sel = selectServer(http, opts.server);
  if (!sel)
    throw new NginxParseError(parsed.file, 0, "no server block (and no location) in this configuration");
  const server = sel.server;
  const version = await nginxVersion(bin, timeoutMs);
  const tmp = mkdtempSync(join(tmpdir(), "schedctl-nginx-"));
  let running: Running | null = null;
  try {
    let port = 0;
    let prep: PreparedConfig | null = null;
    // The free port can be taken between our probe and nginx's bind(): try again with another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      prep = prepareConfig(parsed, http, { mode: "real", tmp, server, port });
      writeFiles(prep, tmp);
      running = startNginx(bin, [
        "-e",
        "stderr",
        "-p",
        `${tmp}/`,
        "-c",
        prep.conf,
        "-g",
        `daemon off; master_process off; pid ${tmp}/nginx.pid;`,
      ]);
      try {
        await waitForPort(port, running, timeoutMs);
        break;
      } catch (err) {
        await running.stop();
        const raw = running.output();
        running = null;
        if (attempt < 3 && /Address already in use/.test(raw)) continue;
        const errors = parseNginxMessages(raw, prep.pathMap);
        const first = errors[0];
        throw new RealNginxError(
          first
            ? `nginx refused the configuration: ${first.message}${first.file ? ` (${first.file}:${first.line})` : ""}`
            : `nginx did not start: ${(err as Error).message}`,
          mapPaths(raw, prep.pathMap, tmp),
          errors,
        );
      }
    }
    const host = prep.host;
    const answers: RealAnswer[] = new Array(uris.length);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= uris.length) return;
        const uri = uris[i] as string;
        const a = await rawGet(port, host, uri, timeoutMs);
        answers[i] = interpret(uri, a, server);
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, uris.length)) }, worker),
    );
    return { nginx: bin, version, server, http, answers };
  } finally {
    if (running) await running.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function interpret(uri: string, a: HttpAnswer, server: NginxServer): RealAnswer {
  const base: RealAnswer = {
    uri,
    httpStatus: a.status,
    locationId: null,
    match: null,
    redirect: null,
    locationHeader: null,
    internalId: null,
    status: null,
  };
  const ref = (id: number): LocationRef | null => {
    const l = server.all[id];
    return l ? { modifier: l.modifier, pattern: l.pattern, file: l.file, line: l.line } : null;
  };
  const loc = /^loc:(\d+)$/.exec(a.body.trim());
  if (a.status === 299 && loc) {
    const id = Number(loc[1]);
    return { ...base, locationId: id, match: ref(id) };
  }
  const internal = /^internal:(\d+)$/.exec(a.body.trim());
  if (internal) {
    // error_page 404 @helper keeps the 404 status and sends the helper's body
    const id = Number(internal[1]);
    return {
      ...base,
      internalId: id,
      locationId: id,
      match: ref(id),
      status: a.status === 404 ? 404 : a.status,
    };
  }
  if (a.status === 301 && a.headers.location !== undefined) {
    // Which location redirected: the one named like the Location path.
    const path = stripOrigin(a.headers.location);
    const name = decodeURIComponentSafe(path.replace(/\?.*$/, ""));
    // nginx answers with the exact location of that name if there is one, else the prefix one
    const named = server.all.filter(
      (x) => (x.modifier === "" || x.modifier === "^~" || x.modifier === "=") && x.pattern === name,
    );
    const l = named.find((x) => x.modifier === "=") ?? named.find((x) => x.autoRedirect) ?? named[0];
    return {
      ...base,
      status: 301,
      redirect: { status: 301, location: path },
      locationHeader: a.headers.location,
      locationId: l ? l.id : null,
      match: l ? ref(l.id) : null,
    };
  }
  if (a.status === 400) return { ...base, status: 400 };
  return base;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** null when the static explanation gives the same answer as the real nginx, else what differs. */
export function compareWithReal(exp: Explanation, real: RealAnswer): string | null {
  const sid = exp.location ? exp.location.id : null;
  const show = (
    kind: string,
    x: { match: LocationRef | null; redirect: { location: string } | null; status: number | null },
  ) => {
    if (x.status === 400) return `${kind}: 400 Bad Request`;
    if (x.redirect) return `${kind}: 301 → ${x.redirect.location}`;
    const m = x.match
      ? `${x.match.modifier ? `${x.match.modifier} ` : ""}${x.match.pattern} (${x.match.file}:${x.match.line})`
      : "no location";
    return `${kind}: ${m}${x.status === 404 ? " (internal → 404)" : ""}`;
  };
  let same: boolean;
  if (exp.status === 400 || real.status === 400) same = exp.status === real.status;
  else if (exp.redirect || real.redirect) same = exp.redirect?.location === real.redirect?.location;
  else same = sid === real.locationId && (exp.status === 404) === (real.internalId !== null);
  if (same) return null;
  return `${show("static", exp)}; ${show("real nginx", real)}${real.httpStatus && !real.match && !real.redirect && real.status === null ? ` (HTTP ${real.httpStatus})` : ""}`;
}

// ---------------------------------------------------------------------------------------------------
// nginx -t

/** A throwaway self-signed certificate for `nginx -t` (null when openssl is not available). */
async function makeCertStub(tmp: string, timeoutMs: number): Promise<{ cert: string; key: string } | null> {
  const cert = `${tmp}/stub.crt`;
  const key = `${tmp}/stub.key`;
  const r = await run(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=schedctl-nginx-t",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    timeoutMs,
  );
  return r.code === 0 && existsSync(cert) && existsSync(key) ? { cert, key } : null;
}

export interface NginxTestResult {
  ok: boolean;
  available: boolean;
  output: string;
  errors: NginxMessage[];
}

export interface NginxTestOptions {
  /** Name used for the text in messages (default "<snippet>"); relative includes resolve against its directory. */
  file?: string;
  nginxBin?: string;
  timeoutMs?: number;
  parse?: ParseOptions;
}

/**
 * `nginx -t` on configuration text: a full config (with `events`/`http`), an http-context snippet
 * (upstream + server blocks) or a server-context snippet (locations). Lines in messages are the text's.
 */
export async function nginxTest(configText: string, opts: NginxTestOptions = {}): Promise<NginxTestResult> {
  const bin = findNginxBinary(opts.nginxBin);
  if (!bin) {
    return {
      ok: false,
      available: false,
      output: `nginx is not installed; install it: ${NGINX_INSTALL_HINT}`,
      errors: [],
    };
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const file = opts.file ?? "<snippet>";
  const tmp = mkdtempSync(join(tmpdir(), "schedctl-nginx-t-"));
  try {
    let prep: PreparedConfig;
    try {
      const parsed = parseNginx(
        configText,
        file,
        opts.parse ?? fsParseOptions({ prefix: opts.file ? undefined : process.cwd() }),
      );
      const http = extractHttp(parsed);
      const keys = new Set<string>();
      for (const { node } of walkDirectives(parsed.directives)) {
        if (node.directive === "listen" && node.args[0] && !node.args[0].startsWith("unix:"))
          keys.add(listenKey(node.args[0]));
      }
      keys.add("*:80");
      const listenPorts = new Map<string, number>();
      for (const k of keys) listenPorts.set(k, await freePort());
      const missingCert = [...walkDirectives(parsed.directives)].some(
        ({ node }) =>
          (node.directive === "ssl_certificate" || node.directive === "ssl_certificate_key") &&
          node.args[0] !== undefined &&
          !node.args[0].includes("$") &&
          !existsSync(node.args[0]),
      );
      const certStub = missingCert ? await makeCertStub(tmp, timeoutMs) : null;
      prep = prepareConfig(parsed, http, {
        mode: "test",
        tmp,
        listenPorts,
        ...(certStub ? { certStub: { ...certStub, exists: (p: string) => existsSync(p) } } : {}),
      });
    } catch (err) {
      if (!(err instanceof NginxParseError)) throw err;
      // Let nginx itself report what our parser refused: the text verbatim, wrapped by kind.
      const copy = `${tmp}/f/0.conf`;
      const full = /^\s*(http|events)\b/m.test(configText);
      const files = [{ path: copy, text: configText }];
      const pathMap = new Map([[copy, file]]);
      let conf = copy;
      if (!full) {
        conf = `${tmp}/wrap.conf`;
        files.push({
          path: conf,
          text: `events {}\nhttp {\n${TEMP_PATHS.map((t) => `${t} ${tmp}/${t.replace("_temp_path", "")};`).join(" ")} access_log off;\ninclude ${copy};\n}\n`,
        });
        pathMap.set(conf, "(schedctl wrapper)");
      }
      prep = { kind: full ? "full" : "http", conf, files, pathMap, host: "localhost", notes: [] };
    }
    writeFiles(prep, tmp);
    const r = await run(
      bin,
      ["-t", "-e", "stderr", "-p", `${tmp}/`, "-c", prep.conf, "-g", `pid ${tmp}/nginx.pid;`],
      timeoutMs,
    );
    const errors = parseNginxMessages(r.output, prep.pathMap);
    return {
      ok: r.code === 0,
      available: true,
      output: [...prep.notes.map((n) => `schedctl: ${n}`), mapPaths(r.output, prep.pathMap, tmp).trim()].join(
        "\n",
      ),
      errors,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
