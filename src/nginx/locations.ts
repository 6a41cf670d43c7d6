/**
 * The http-level view of a parsed nginx configuration: server blocks (names, listens, the settings that
 * change location selection), their location trees, and the upstream blocks; plus the configuration
 * errors nginx itself would refuse to load (ngx_http_core_location, ngx_http_join_exact_locations).
 * Pure.
 */
import type { NginxDirective, ParsedConfig } from "./parse.js";

export type LocationModifier = "=" | "^~" | "~" | "~*" | "" | "@";

/** The directives whose handler makes nginx answer `URI` with a 301 to `URI/` (clcf->auto_redirect). */
export const PASS_DIRECTIVES = [
  "proxy_pass",
  "fastcgi_pass",
  "uwsgi_pass",
  "scgi_pass",
  "memcached_pass",
  "grpc_pass",
] as const;
export type PassDirective = (typeof PASS_DIRECTIVES)[number];

export interface LocationPass {
  directive: PassDirective;
  target: string;
  file: string;
  line: number;
}

export interface LocationReturn {
  code: number | null;
  /** The URL or text argument. */
  arg: string | null;
  file: string;
  line: number;
}

export interface NginxLocation {
  /** Depth-first index inside its server (0, 1, ...): stable for a given configuration. */
  id: number;
  modifier: LocationModifier;
  pattern: string;
  file: string;
  line: number;
  /** 0 for server-level locations. */
  depth: number;
  parentId: number | null;
  children: NginxLocation[];
  hasProxyPass: boolean;
  proxyPassTarget: string | null;
  /** The content handler set by a *_pass directive in the location itself (not in `if`/`limit_except`). */
  pass: LocationPass | null;
  /** A *_pass handler and a name ending in "/": `URI` without the slash gets a 301 (clcf->auto_redirect). */
  autoRedirect: boolean;
  /** `internal;` here or in an enclosing location (nested locations inherit it). */
  isInternal: boolean;
  returns?: LocationReturn;
  /** Effective `absolute_redirect` (location, else its parents, server, http; default on). */
  absoluteRedirect: boolean;
  /** The `location` directive itself. */
  node: NginxDirective;
}

export interface Listen {
  raw: string;
  /** "*" for all addresses. */
  address: string;
  port: number | null;
  unix: string | null;
  defaultServer: boolean;
  params: string[];
  file: string;
  line: number;
}

export interface ConfigFinding {
  /** "error": nginx refuses to load the configuration; "warn": it loads but the result is surprising. */
  severity: "error" | "warn";
  file: string;
  line: number;
  message: string;
}

export interface UpstreamServer {
  address: string;
  params: string[];
  file: string;
  line: number;
}

export interface Upstream {
  name: string;
  file: string;
  line: number;
  servers: UpstreamServer[];
  node: NginxDirective;
}

export interface NginxServer {
  index: number;
  names: string[];
  listens: Listen[];
  file: string;
  line: number;
  /** Server-level locations, in file order. */
  locations: NginxLocation[];
  /** Every location of the server, by id. */
  all: NginxLocation[];
  mergeSlashes: boolean;
  absoluteRedirect: boolean;
  /** Server-level rewrite-module directives: they run before location selection and can change the URI. */
  serverRewrites: { directive: string; file: string; line: number }[];
  upstreams: Upstream[];
  findings: ConfigFinding[];
  node: NginxDirective;
}

export interface NginxHttp {
  /** Server blocks in file order (a snippet of bare locations reads as one server without a `node.span`). */
  servers: NginxServer[];
  upstreams: Upstream[];
  /** Every configuration error found (also attached to the server they belong to). */
  findings: ConfigFinding[];
  /** The directives of the http context (or the top level of a snippet). */
  context: NginxDirective[];
}

const flagValue = (d: NginxDirective | undefined, dflt: boolean): boolean => {
  if (!d) return dflt;
  const v = (d.args[0] ?? "").toLowerCase();
  return v === "on" ? true : v === "off" ? false : dflt;
};

const lastDirective = (
  block: readonly NginxDirective[] | undefined,
  name: string,
): NginxDirective | undefined => {
  if (!block) return undefined;
  let found: NginxDirective | undefined;
  for (const d of block) if (d.directive === name) found = d;
  return found;
};

/** Parses the arguments of a `location` directive exactly like ngx_http_core_location. */
export function parseLocationArgs(
  args: readonly string[],
): { modifier: LocationModifier; pattern: string } | string {
  if (args.length === 2) {
    const [mod, name] = args as [string, string];
    if (mod === "=") return { modifier: "=", pattern: name };
    if (mod === "^~") return { modifier: "^~", pattern: name };
    if (mod === "~") return { modifier: "~", pattern: name };
    if (mod === "~*") return { modifier: "~*", pattern: name };
    return `invalid location modifier "${mod}"`;
  }
  if (args.length !== 1) return 'invalid number of arguments in "location" directive';
  const name = args[0] as string;
  if (name.startsWith("=")) return { modifier: "=", pattern: name.slice(1) };
  if (name.startsWith("^~")) return { modifier: "^~", pattern: name.slice(2) };
  if (name.startsWith("~*")) return { modifier: "~*", pattern: name.slice(2) };
  if (name.startsWith("~")) return { modifier: "~", pattern: name.slice(1) };
  if (name.startsWith("@")) return { modifier: "@", pattern: name };
  return { modifier: "", pattern: name };
}

/** Prints a location the way it is written in a configuration. */
export function formatLocation(l: { modifier: LocationModifier; pattern: string }): string {
  const pat = /[\s;{}"'#]/.test(l.pattern) || l.pattern === "" ? JSON.stringify(l.pattern) : l.pattern;
  return l.modifier === "" || l.modifier === "@" ? `location ${pat}` : `location ${l.modifier} ${pat}`;
}

const isStatic = (l: NginxLocation): boolean =>
  l.modifier === "" || l.modifier === "^~" || l.modifier === "=";

/** `proxy_pass http://up/x`: true when the target has a URI part (a "/" after the host). */
export function passHasUriPart(target: string): boolean {
  if (target.includes("$")) return false;
  const m = /^[a-z0-9+.-]+:\/\/(.*)$/i.exec(target);
  if (!m) return false;
  let rest = m[1] as string;
  if (rest.startsWith("unix:")) {
    const colon = rest.indexOf(":", 5);
    if (colon < 0) return false;
    rest = rest.slice(colon + 1);
    return rest.length > 0;
  }
  return rest.includes("/");
}

interface Builder {
  server: NginxServer;
  findings: ConfigFinding[];
}

function buildLocations(
  b: Builder,
  block: readonly NginxDirective[],
  parent: NginxLocation | null,
  inheritedAbsolute: boolean,
): NginxLocation[] {
  const out: NginxLocation[] = [];
  for (const d of block) {
    if (d.directive !== "location" || !d.block) continue;
    const parsed = parseLocationArgs(d.args);
    if (typeof parsed === "string") {
      b.findings.push({ severity: "error", file: d.file, line: d.line, message: parsed });
      continue;
    }
    const { modifier, pattern } = parsed;
    if (parent) {
      if (parent.modifier === "=") {
        b.findings.push({
          severity: "error",
          file: d.file,
          line: d.line,
          message: `location "${pattern}" cannot be inside the exact location "${parent.pattern}"`,
        });
      } else if (parent.modifier === "@") {
        b.findings.push({
          severity: "error",
          file: d.file,
          line: d.line,
          message: `location "${pattern}" cannot be inside the named location "${parent.pattern}"`,
        });
      } else if (modifier === "@") {
        b.findings.push({
          severity: "error",
          file: d.file,
          line: d.line,
          message: `named location "${pattern}" can be on the server level only`,
        });
      } else if (modifier !== "~" && modifier !== "~*" && !pattern.startsWith(parent.pattern)) {
        // nginx compares with the parent's name even when the parent is a regex (its regex text).
        b.findings.push({
          severity: "error",
          file: d.file,
          line: d.line,
          message: `location "${pattern}" is outside location "${parent.pattern}"`,
        });
      }
    }
    const own = d.block;
    let pass: LocationPass | null = null;
    for (const x of own) {
      if ((PASS_DIRECTIVES as readonly string[]).includes(x.directive)) {
        if (pass) {
          b.findings.push({
            severity: "error",
            file: x.file,
            line: x.line,
            message: `"${x.directive}" directive is duplicate`,
          });
          continue;
        }
        pass = {
          directive: x.directive as PassDirective,
          target: x.args[0] ?? "",
          file: x.file,
          line: x.line,
        };
        if (
          x.directive === "proxy_pass" &&
          (modifier === "~" || modifier === "~*" || modifier === "@") &&
          passHasUriPart(pass.target)
        ) {
          b.findings.push({
            severity: "error",
            file: x.file,
            line: x.line,
            message:
              '"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block',
          });
        }
      }
    }
    const ret = own.find((x) => x.directive === "return");
    let returns: LocationReturn | undefined;
    if (ret) {
      const a0 = ret.args[0] ?? "";
      const code = /^\d+$/.test(a0) ? Number(a0) : null;
      returns = {
        code: code ?? 302,
        arg: code === null ? a0 : (ret.args[1] ?? null),
        file: ret.file,
        line: ret.line,
      };
    }
    const absoluteRedirect = flagValue(lastDirective(own, "absolute_redirect"), inheritedAbsolute);
    const loc: NginxLocation = {
      id: b.server.all.length,
      modifier,
      pattern,
      file: d.file,
      line: d.line,
      depth: parent ? parent.depth + 1 : 0,
      parentId: parent ? parent.id : null,
      children: [],
      hasProxyPass: pass?.directive === "proxy_pass",
      proxyPassTarget: pass?.directive === "proxy_pass" ? pass.target : null,
      pass,
      autoRedirect: pass !== null && pattern.endsWith("/"),
      // `internal` is merged into nested locations (ngx_http_core_merge_loc_conf)
      isInternal: own.some((x) => x.directive === "internal") || (parent?.isInternal ?? false),
      ...(returns ? { returns } : {}),
      absoluteRedirect,
      node: d,
    };
    b.server.all.push(loc);
    loc.children = buildLocations(b, own, loc, absoluteRedirect);
    out.push(loc);
  }
  checkDuplicates(b, out);
  return out;
}

/** ngx_http_join_exact_locations: same name twice among exact, or twice among prefix (`/x` vs `^~ /x`). */
function checkDuplicates(b: Builder, level: NginxLocation[]): void {
  const seen = new Map<string, NginxLocation>();
  for (const l of level) {
    if (!isStatic(l)) continue;
    const key = `${l.modifier === "=" ? "=" : "p"}\u0000${l.pattern}`;
    if (seen.has(key)) {
      b.findings.push({
        severity: "error",
        file: l.file,
        line: l.line,
        message: `duplicate location "${l.pattern}"`,
      });
    } else seen.set(key, l);
  }
}

export function parseListen(d: NginxDirective): Listen {
  const raw = d.args[0] ?? "";
  const params = d.args.slice(1);
  const defaultServer = params.includes("default_server") || params.includes("default");
  const base = { raw, params, defaultServer, file: d.file, line: d.line };
  if (raw.startsWith("unix:")) return { ...base, address: raw, port: null, unix: raw.slice(5) };
  if (/^\d+$/.test(raw)) return { ...base, address: "*", port: Number(raw), unix: null };
  const v6 = /^\[([^\]]*)\](?::(\d+))?$/.exec(raw);
  if (v6) return { ...base, address: `[${v6[1]}]`, port: v6[2] ? Number(v6[2]) : 80, unix: null };
  const m = /^(.*?)(?::(\d+))?$/.exec(raw);
  const host = m?.[1] ?? raw;
  return { ...base, address: host === "" ? "*" : host, port: m?.[2] ? Number(m[2]) : 80, unix: null };
}

function findHttpContext(directives: readonly NginxDirective[]): NginxDirective[] {
  const http = directives.filter((d) => d.directive === "http" && d.block);
  if (http.length > 0) return http.flatMap((d) => d.block ?? []);
  // A snippet (sites-enabled file, conf.d file): its top level is the http context.
  return [...directives];
}

function collectUpstreams(context: readonly NginxDirective[]): Upstream[] {
  const out: Upstream[] = [];
  for (const d of context) {
    if (d.directive !== "upstream" || !d.block) continue;
    out.push({
      name: d.args[0] ?? "",
      file: d.file,
      line: d.line,
      node: d,
      servers: d.block
        .filter((s) => s.directive === "server")
        .map((s) => ({ address: s.args[0] ?? "", params: s.args.slice(1), file: s.file, line: s.line })),
    });
  }
  return out;
}

const REWRITE_DIRECTIVES = new Set(["rewrite", "return", "if", "set", "break"]);

/** Servers, locations and upstreams of a parsed configuration (or of a list of top-level directives). */
export function extractHttp(config: ParsedConfig | readonly NginxDirective[]): NginxHttp {
  const top = Array.isArray(config) ? (config as NginxDirective[]) : (config as ParsedConfig).directives;
  const context = findHttpContext(top);
  const upstreams = collectUpstreams(context);
  const httpMerge = flagValue(lastDirective(context, "merge_slashes"), true);
  const httpAbsolute = flagValue(lastDirective(context, "absolute_redirect"), true);
  const findings: ConfigFinding[] = [];
  const servers: NginxServer[] = [];
  const serverNodes = context.filter((d) => d.directive === "server" && d.block);
  if (serverNodes.length === 0 && context.some((d) => d.directive === "location")) {
    // A server-context snippet (locations at the top): read it as the body of one server block.
    const first = context[0] as NginxDirective;
    serverNodes.push({
      directive: "server",
      args: [],
      line: first.line,
      file: first.file,
      block: [...context],
    });
  }
  for (const d of serverNodes) {
    const block = d.block ?? [];
    const names = block.filter((x) => x.directive === "server_name").flatMap((x) => x.args);
    const listenDirs = block.filter((x) => x.directive === "listen");
    const listens =
      listenDirs.length > 0
        ? listenDirs.map(parseListen)
        : [
            {
              raw: "*:80",
              address: "*",
              port: 80,
              unix: null,
              defaultServer: false,
              params: [],
              file: d.file,
              line: d.line,
            },
          ];
    const absoluteRedirect = flagValue(lastDirective(block, "absolute_redirect"), httpAbsolute);
    const server: NginxServer = {
      index: servers.length,
      names: names.length > 0 ? names : [""],
      listens,
      file: d.file,
      line: d.line,
      locations: [],
      all: [],
      mergeSlashes: flagValue(lastDirective(block, "merge_slashes"), httpMerge),
      absoluteRedirect,
      serverRewrites: block
        .filter((x) => REWRITE_DIRECTIVES.has(x.directive))
        .map((x) => ({ directive: x.directive, file: x.file, line: x.line })),
      upstreams,
      findings: [],
      node: d,
    };
    const b: Builder = { server, findings: server.findings };
    server.locations = buildLocations(b, block, null, absoluteRedirect);
    findings.push(...server.findings);
    servers.push(server);
  }
  return { servers, upstreams, findings, context };
}

function wildcardMatch(name: string, host: string): number {
  // Returns the length of the matching non-wildcard part, or -1.
  if (name.startsWith(".")) {
    const base = name.slice(1);
    return host === base || host.endsWith(name) ? base.length : -1;
  }
  if (name.startsWith("*.")) return host.endsWith(name.slice(1)) ? name.length - 1 : -1;
  if (name.endsWith(".*")) return host.startsWith(name.slice(0, -1)) ? name.length - 1 : -1;
  return -1;
}

/** The default server for a port: the one whose listen has default_server, else the first listening on it. */
export function defaultServer(http: NginxHttp, port?: number): NginxServer | null {
  if (http.servers.length === 0) return null;
  const first = http.servers[0] as NginxServer;
  const p = port ?? first.listens.find((l) => l.port !== null)?.port ?? 80;
  const onPort = http.servers.filter((s) => s.listens.some((l) => l.port === p));
  const pool = onPort.length > 0 ? onPort : http.servers;
  return pool.find((s) => s.listens.some((l) => l.port === p && l.defaultServer)) ?? (pool[0] as NginxServer);
}

/**
 * Picks the server nginx would use for `Host: name` (exact name, longest leading wildcard, longest
 * trailing wildcard, first matching regex, then the default server), or the default server without a name.
 * `name:port` restricts the choice to the servers listening on that port; null when none does.
 */
export function selectServer(http: NginxHttp, name?: string): { server: NginxServer; reason: string } | null {
  if (http.servers.length === 0) return null;
  // "name:port" (or ":port") picks among the servers listening on that port.
  const withPort = name ? /^(.*):(\d+)$/.exec(name) : null;
  const port = withPort ? Number(withPort[2]) : undefined;
  if (withPort) name = withPort[1];
  const pool =
    port === undefined ? http.servers : http.servers.filter((s) => s.listens.some((l) => l.port === port));
  if (pool.length === 0) return null;
  const view: NginxHttp = { ...http, servers: pool };
  const dflt = defaultServer(view, port) as NginxServer;
  const describe = (s: NginxServer) => `server ${s.names[0] ? s.names[0] : '""'} (${s.file}:${s.line})`;
  if (name === undefined || name === "") {
    return { server: dflt, reason: `default server${port ? ` for port ${port}` : ""}: ${describe(dflt)}` };
  }
  const host = name.toLowerCase();
  http = view;
  for (const s of http.servers) {
    if (s.names.some((n) => n.toLowerCase() === host)) return { server: s, reason: `server_name ${name}` };
  }
  let best: { s: NginxServer; len: number } | null = null;
  for (const s of http.servers) {
    for (const n of s.names) {
      const l = n.toLowerCase();
      if (!(l.startsWith("*.") || l.startsWith("."))) continue;
      const len = wildcardMatch(l, host);
      if (len >= 0 && (!best || len > best.len)) best = { s, len };
    }
  }
  if (best) return { server: best.s, reason: `server_name wildcard for ${name}` };
  for (const s of http.servers) {
    for (const n of s.names) {
      const l = n.toLowerCase();
      if (!l.endsWith(".*")) continue;
      const len = wildcardMatch(l, host);
      if (len >= 0 && (!best || len > best.len)) best = { s, len };
    }
  }
  if (best) return { server: best.s, reason: `server_name wildcard for ${name}` };
  for (const s of http.servers) {
    for (const n of s.names) {
      if (!n.startsWith("~")) continue;
      try {
        if (new RegExp(n.slice(1)).test(host)) return { server: s, reason: `server_name regex ${n}` };
      } catch {
        // not a JS-compatible regex: skip
      }
    }
  }
  return {
    server: dflt,
    reason: `no server_name matches ${name}: nginx uses the default server, ${describe(dflt)}`,
  };
}
