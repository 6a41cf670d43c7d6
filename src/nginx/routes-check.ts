/**
 * The routes check behind doctor's `routes.nginx`: does nginx send the scheduler API (Flask-APScheduler's
 * `<prefix>`, `<prefix>/jobs/...`, and the user's own routes) to an upstream whose members are only the
 * scheduler instance, and everything else elsewhere? It probes the paths through explainUri and names each
 * trap of reference §1.1 with the exact lines that fix it. Pure.
 */
import {
  formatLocation,
  type NginxLocation,
  type NginxServer,
  parseLocationArgs,
  passHasUriPart,
  type Upstream,
} from "./locations.js";
import { type Explanation, explainUri } from "./match.js";

export type RouteTrap =
  | "auto-redirect"
  | "bare-prefix"
  | "regex-steals"
  | "noregex-level"
  | "absolute-redirect"
  | "wrong-upstream"
  | "no-location"
  | "not-proxied"
  | "internal"
  | "upstream-members"
  | "pool-to-scheduler"
  | "uri-part"
  | "unknown-target"
  | "missing-route"
  | "bad-input";

export interface RouteFinding {
  severity: "fail" | "warn";
  message: string;
  /** Exact configuration lines (or the one-line change) that fix it. */
  fix: string[];
  trap: RouteTrap;
}

export interface RoutesCheckOptions {
  /** Flask-APScheduler's SCHEDULER_API_PREFIX, e.g. "/scheduler". */
  apiPrefix: string;
  /** The app's own job endpoints: URIs ("/api/jobs/run") or location specs ("= /jobs/run", "^~ /admin/jobs/"). */
  extraRoutes: string[];
  /**
   * What counts as the scheduler: upstream block names and/or host:port of the scheduler instance. Default:
   * the target of the location `<prefix>/jobs` lands on.
   */
  schedulerUpstreams?: string[];
}

export interface RoutesCheckResult {
  ok: boolean;
  findings: RouteFinding[];
  probes: Explanation[];
}

const UNSAFE = /[\s;{}"'\\#$]/;

/** host[:port] of a *_pass target ("http://scheduler:8000/x" → "scheduler:8000"); null with variables. */
export function passHost(target: string): string | null {
  if (target.includes("$")) return null;
  const rest = target.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  if (rest.startsWith("unix:")) {
    const colon = rest.indexOf(":", 5);
    return colon < 0 ? rest : rest.slice(0, colon);
  }
  const m = /^([^/]+)/.exec(rest);
  return m ? (m[1] as string).toLowerCase() : null;
}

const sameAddr = (a: string, b: string): boolean => {
  const norm = (x: string) =>
    x.includes(":") || x.startsWith("unix:") ? x.toLowerCase() : `${x.toLowerCase()}:80`;
  return norm(a) === norm(b);
};

interface Identity {
  names: Set<string>;
  addrs: string[];
  inferred: boolean;
  label: string;
}

function upstreamByName(server: NginxServer, name: string): Upstream | undefined {
  return server.upstreams.find((u) => u.name.toLowerCase() === name.toLowerCase());
}

/** The single target of a location, as "http://name" without URI part, for fix lines. */
function proxyBase(loc: NginxLocation | null, fallback: string): string {
  const t = loc?.pass?.directive === "proxy_pass" ? loc.pass.target : null;
  if (t && !t.includes("$")) {
    const m = /^([a-z]+:\/\/[^/]+)/i.exec(t);
    if (m) return m[1] as string;
  }
  return fallback;
}

export function checkSchedulerRoutes(server: NginxServer, opts: RoutesCheckOptions): RoutesCheckResult {
  const findings: RouteFinding[] = [];
  const keys = new Set<string>();
  /** One finding per key (default: its message): a trap hit by several probes is reported once. */
  const add = (f: RouteFinding, key = f.message) => {
    if (keys.has(key)) return;
    keys.add(key);
    findings.push(f);
  };
  let P = opts.apiPrefix.trim();
  if (!P.startsWith("/") || UNSAFE.test(P) || P === "/") {
    add({
      severity: "fail",
      trap: "bad-input",
      message: `SCHEDULER_API_PREFIX ${JSON.stringify(opts.apiPrefix)} is not a usable path prefix (it must start with "/", not be "/", and contain no spaces, quotes, ";", "{", "}", "#", "$" or backslashes)`,
      fix: ['SCHEDULER_API_PREFIX = "/scheduler"'],
    });
    return { ok: false, findings, probes: [] };
  }
  P = P.replace(/\/+$/, "");

  const job = "job1";
  const schedUris = [
    P,
    `${P}/jobs`,
    `${P}/`,
    `${P}/jobs/${job}`,
    `${P}/jobs/${job}/run`,
    `${P}/jobs/${job}/pause`,
    `${P}/jobs/${job}/resume`,
    `${P}/pause`,
    `${P}/resume`,
    `${P}/start`,
    `${P}/shutdown`,
    `${P}/jobs/x.js`,
    `${P}/jobs/x.json`,
    `${P}/jobs/x.css`,
    `${P}/jobs/x.png`,
    `${P}/jobs/x.php`,
  ];
  const otherUris = [`${P}X`, `${P}X/jobs`, "/"];

  // The user's routes: URIs are probed like the scheduler's; location specs must exist.
  const specs: { raw: string; modifier: string; pattern: string }[] = [];
  for (const r of opts.extraRoutes) {
    const raw = r.trim();
    if (raw === "") continue;
    if (/[;{}"'\n\r]/.test(raw)) {
      add({
        severity: "fail",
        trap: "bad-input",
        message: `route ${JSON.stringify(r)} contains ";", "{", "}", quotes or a newline: refused (it would inject configuration)`,
        fix: [],
      });
      continue;
    }
    if (raw.startsWith("/") && !/\s/.test(raw)) {
      schedUris.push(raw);
      continue;
    }
    const parsed = parseLocationArgs(raw.split(/\s+/));
    if (typeof parsed === "string" || parsed.modifier === "@") {
      add({
        severity: "fail",
        trap: "bad-input",
        message: `route ${JSON.stringify(r)} is neither a URI nor a location spec ("= /x", "^~ /x/", "~ regex")`,
        fix: [],
      });
      continue;
    }
    specs.push({ raw, modifier: parsed.modifier, pattern: parsed.pattern });
    const exists = server.all.some((l) => l.modifier === parsed.modifier && l.pattern === parsed.pattern);
    // A missing location is reported once, below; its probe would only repeat it.
    if (exists && parsed.modifier === "=") schedUris.push(parsed.pattern);
    else if (exists && (parsed.modifier === "" || parsed.modifier === "^~")) {
      schedUris.push(parsed.pattern.endsWith("/") ? `${parsed.pattern}x.js` : `${parsed.pattern}/x.js`);
    }
  }

  const probes = [...schedUris, ...otherUris].map((u) => explainUri(server, u));
  const schedProbes = probes.slice(0, schedUris.length);
  const otherProbes = probes.slice(schedUris.length);

  // Who is the scheduler?
  const identity: Identity = { names: new Set(), addrs: [], inferred: false, label: "" };
  if (opts.schedulerUpstreams && opts.schedulerUpstreams.length > 0) {
    for (const s of opts.schedulerUpstreams) {
      if (upstreamByName(server, s)) identity.names.add(s.toLowerCase());
      else identity.addrs.push(s.toLowerCase());
    }
    identity.label = opts.schedulerUpstreams.join(", ");
  } else {
    const jobs = schedProbes[1]?.location;
    const host = jobs?.pass ? passHost(jobs.pass.target) : null;
    if (host) {
      identity.inferred = true;
      if (upstreamByName(server, host)) identity.names.add(host);
      else identity.addrs.push(host);
      identity.label = host;
    }
  }
  const upName = [...identity.names][0] ?? identity.addrs[0] ?? "scheduler";
  const isScheduler = (loc: NginxLocation | null): boolean | null => {
    if (!loc?.pass) return false;
    const host = passHost(loc.pass.target);
    if (host === null) return null;
    const up = upstreamByName(server, host);
    if (up) {
      if (identity.names.has(up.name.toLowerCase())) return true;
      return (
        identity.addrs.length > 0 &&
        up.servers.length > 0 &&
        up.servers.every((s) => identity.addrs.some((a) => sameAddr(a, s.address)))
      );
    }
    return identity.addrs.some((a) => sameAddr(a, host)) || identity.names.has(host);
  };

  const schedLocs = server.all.filter((l) => isScheduler(l) === true);
  const slashLoc =
    schedLocs.find((l) => (l.modifier === "" || l.modifier === "^~") && l.pattern === `${P}/`) ??
    server.all.find((l) => (l.modifier === "" || l.modifier === "^~") && l.pattern === `${P}/`) ??
    null;
  const target = proxyBase(slashLoc ?? schedLocs[0] ?? null, `http://${upName}`);
  const pairFix = [
    `location = ${P} {`,
    `    proxy_pass ${target};`,
    "}",
    `location ^~ ${P}/ {`,
    `    proxy_pass ${target};`,
    "}",
  ];
  const where = (l: NginxLocation) => `${formatLocation(l)} (${l.file}:${l.line})`;

  if (identity.names.size === 0 && identity.addrs.length === 0) {
    add({
      severity: "fail",
      trap: "no-location",
      message: `${P}/jobs is not proxied anywhere, so the scheduler API never reaches the scheduler instance`,
      fix: [`upstream ${upName} {`, "    server scheduler:8000;", "}", ...pairFix],
    });
  }

  let redirectSeen: NginxLocation | null = null;
  for (const e of schedProbes) {
    const loc = e.location;
    if (e.redirect && loc) {
      redirectSeen = loc;
      add({
        severity: "fail",
        trap: "auto-redirect",
        message: `GET ${e.uri} answers 301 → ${e.redirect.location}: ${where(loc)} has ${loc.pass?.directive ?? "a *_pass"} and its name ends in "/", so nginx redirects ${e.uri} before trying any regex (POST ${e.uri} breaks, and the redirect leaves the scheduler API)`,
        fix: [
          `location = ${loc.pattern.replace(/\/$/, "")} {`,
          `    proxy_pass ${proxyBase(loc, target)};`,
          "}",
        ],
      });
      continue;
    }
    if (e.status === 400) continue;
    if (e.uncertain) {
      add({
        severity: "warn",
        trap: "unknown-target",
        message: `${e.uri}: a regex location could not be evaluated like PCRE (${e.pcreWarnings.join("; ")}); run "schedctl routes explain --real ${e.uri}"`,
        fix: [],
      });
    }
    if (!loc) {
      add({
        severity: "fail",
        trap: "no-location",
        message: `${e.uri} matches no location: nginx answers it itself (404), it never reaches the scheduler`,
        fix: pairFix,
      });
      continue;
    }
    if (e.status === 404) {
      add({
        severity: "fail",
        trap: "internal",
        message: `${e.uri} lands on ${where(loc)}, which is "internal" (or nested in an internal location): 404 for every client`,
        fix: pairFix,
      });
      continue;
    }
    const sched = isScheduler(loc);
    if (sched === null) {
      add({
        severity: "warn",
        trap: "unknown-target",
        message: `${e.uri} lands on ${where(loc)}, whose target ${loc.pass?.target} uses variables: cannot tell whether it reaches only the scheduler`,
        fix: [],
      });
      continue;
    }
    if (sched) {
      if (
        loc.pass?.directive === "proxy_pass" &&
        passHasUriPart(loc.pass.target) &&
        loc.modifier !== "~" &&
        loc.modifier !== "~*"
      ) {
        add(
          {
            severity: "warn",
            trap: "uri-part",
            message: `${where(loc)}: "proxy_pass ${loc.pass.target}" has a URI part, so nginx replaces "${loc.pattern}" with it — the app receives ${mapUri(e.uri, loc)} instead of ${e.uri}, while Flask-APScheduler's routes start with SCHEDULER_API_PREFIX`,
            fix: [`    proxy_pass ${proxyBase(loc, target)};`],
          },
          `uri-part:${loc.id}`,
        );
      }
      continue;
    }
    // Reaches the wrong place: name the trap.
    const schedPrefix = schedLocs.find(
      (l) =>
        (l.modifier === "" || l.modifier === "^~") &&
        e.normalized !== null &&
        e.normalized.startsWith(l.pattern),
    );
    if ((loc.modifier === "~" || loc.modifier === "~*") && schedPrefix) {
      const key = `${schedPrefix.id}:${loc.id}`;
      if (schedPrefix.modifier === "^~" && schedPrefix.depth > loc.depth) {
        const parent = schedPrefix.parentId !== null ? server.all[schedPrefix.parentId] : undefined;
        add(
          {
            severity: "fail",
            trap: "noregex-level",
            message: `${e.uri} is taken by the regex ${where(loc)}: ${where(schedPrefix)} has "^~", but "^~" only stops the regexes of its own level and it is nested${parent ? ` in ${where(parent)}` : ""}, so the regexes of the outer level are still tried`,
            fix: [
              `# move it out of ${parent ? formatLocation(parent) : "its parent"}, to the server level:`,
              `location ^~ ${schedPrefix.pattern} {`,
              `    proxy_pass ${proxyBase(schedPrefix, target)};`,
              "}",
            ],
          },
          `noregex-level:${key}`,
        );
      } else if (schedPrefix.modifier === "") {
        add(
          {
            severity: "fail",
            trap: "regex-steals",
            message: `${e.uri} is taken by the regex ${where(loc)} instead of ${where(schedPrefix)}: a matching regex wins over a plain prefix location`,
            fix: [`location ^~ ${schedPrefix.pattern} {   # was: location ${schedPrefix.pattern} {`],
          },
          `regex-steals:${key}`,
        );
      } else {
        add(
          {
            severity: "fail",
            trap: "regex-steals",
            message: `${e.uri} is taken by the regex ${where(loc)}, nested inside the scheduler's ${where(schedPrefix)}: nested regexes win over their parent`,
            fix: [`# remove ${formatLocation(loc)} from inside ${formatLocation(schedPrefix)}`],
          },
          `regex-steals:${key}`,
        );
      }
      continue;
    }
    add({
      severity: "fail",
      trap: loc.pass ? "wrong-upstream" : "not-proxied",
      message: loc.pass
        ? `${e.uri} lands on ${where(loc)}, which sends it to ${loc.pass.target}, not to the scheduler (${identity.label || upName})`
        : `${e.uri} lands on ${where(loc)}, which has no proxy_pass: nginx serves it itself`,
      fix: pairFix,
    });
  }

  // Paths that are not the scheduler's must not go there.
  for (const e of otherProbes) {
    const loc = e.location;
    if (!loc || e.redirect || e.status !== null) continue;
    if (isScheduler(loc) !== true) continue;
    if (e.uri === "/") {
      add({
        severity: "fail",
        trap: "pool-to-scheduler",
        message: `"/" lands on ${where(loc)} and goes to the scheduler upstream: the whole app is served by the single scheduler instance (or the scheduler upstream is the pool)`,
        fix: ["location / {", "    proxy_pass http://app;   # the pool of web instances", "}"],
      });
      continue;
    }
    add({
      severity: "fail",
      trap: "bare-prefix",
      message: `${e.uri} (not a scheduler path) lands on ${where(loc)}: a prefix location without the trailing "/" also matches ${P}X..., use an exact location for ${P} and "^~ ${P}/" for the rest`,
      fix: pairFix,
    });
  }

  // The user's location specs must exist and go to the scheduler.
  for (const s of specs) {
    const l = server.all.find((x) => x.modifier === s.modifier && x.pattern === s.pattern);
    if (!l) {
      add({
        severity: "fail",
        trap: "missing-route",
        message: `no ${formatLocation({ modifier: s.modifier as NginxLocation["modifier"], pattern: s.pattern })} in this server`,
        fix: [
          `${formatLocation({ modifier: s.modifier as NginxLocation["modifier"], pattern: s.pattern })} {`,
          `    proxy_pass ${target};`,
          "}",
        ],
      });
    } else if (isScheduler(l) === false) {
      add({
        severity: "fail",
        trap: l.pass ? "wrong-upstream" : "not-proxied",
        message: `${where(l)} does not send to the scheduler (${l.pass ? l.pass.target : "no proxy_pass"})`,
        fix: [`    proxy_pass ${target};`],
      });
    }
  }

  // The scheduler upstream must contain the scheduler only.
  const used = new Set<string>();
  for (const l of schedLocs) {
    const h = l.pass ? passHost(l.pass.target) : null;
    const up = h ? upstreamByName(server, h) : undefined;
    if (up) used.add(up.name);
  }
  for (const name of used) {
    const up = upstreamByName(server, name) as Upstream;
    const live = up.servers.filter((s) => !s.params.includes("down"));
    if (live.length > 1 && (identity.addrs.length === 0 || identity.names.has(up.name.toLowerCase()))) {
      add({
        severity: "fail",
        trap: "upstream-members",
        message: `upstream ${up.name} (${up.file}:${up.line}) has ${live.length} servers (${live.map((s) => s.address).join(", ")}): nginx balances the scheduler API across them, but only one instance runs the scheduler`,
        fix: [
          `upstream ${up.name} {`,
          `    server ${(live[0] as { address: string }).address};   # the single scheduler instance`,
          "}",
        ],
      });
    }
  }
  // Pool and scheduler the same upstream?
  const root = otherProbes[otherProbes.length - 1]?.location ?? null;
  const jobsLoc = schedProbes[1]?.location ?? null;
  if (
    identity.inferred &&
    root?.pass &&
    jobsLoc?.pass &&
    root !== jobsLoc &&
    passHost(root.pass.target) === passHost(jobsLoc.pass.target)
  ) {
    add({
      severity: "fail",
      trap: "pool-to-scheduler",
      message: `${P}/jobs and "/" both go to ${passHost(jobsLoc.pass.target)}: the scheduler API is balanced across the same pool as the app`,
      fix: [
        `upstream ${upName === passHost(jobsLoc.pass.target) ? "scheduler" : upName} {`,
        "    server scheduler:8000;",
        "}",
        ...pairFix.map((l) => l.replace(target, "http://scheduler")),
      ],
    });
  }

  if (redirectSeen?.absoluteRedirect) {
    add({
      severity: "warn",
      trap: "absolute-redirect",
      message: `absolute_redirect is on (the default) for ${where(redirectSeen)}: the 301's Location carries nginx's own host and port (http://HOST:PORT${redirectSeen.pattern}), wrong behind a published Docker port`,
      fix: ["absolute_redirect off;"],
    });
  }

  return { ok: !findings.some((f) => f.severity === "fail"), findings, probes };
}

/** proxy_pass with a URI part: the matched prefix replaced by the URI part (reference §1.2). */
function mapUri(uri: string, loc: NginxLocation): string {
  const t = loc.pass?.target ?? "";
  const part = t.replace(/^[a-z]+:\/\/[^/]+/i, "");
  if (loc.modifier === "=") return part;
  const n = Math.min(loc.pattern.length, uri.length);
  return part + uri.slice(n);
}
