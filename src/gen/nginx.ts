/**
 * `schedctl gen nginx`: two upstreams (the web pool, the scheduler instance) and one server whose
 * locations send the scheduler API (`= /prefix` and `^~ /prefix/`) and the user's routes to the scheduler.
 * Regexes are written quoted (`{2}` quantifiers, no breaking out: the validator keeps quotes, `;` and
 * escaping backslashes out of them).
 */
import type { Route, SchedctlConfig } from "../config/types.js";
import { FILE_NAMES, finish, type GeneratedFile, timing, upstreamNames } from "./common.js";
import { render, type Templates } from "./templates.js";

/** `location` arguments for a route: ["=", "/x"], ["/x"], ["~", "\"^/a{2}$\""]. */
export function locationArgs(r: Route): string[] {
  if (r.modifier === "~" || r.modifier === "~*") return [r.modifier, `"${r.value}"`];
  return r.modifier === "" ? [r.value] : [r.modifier, r.value];
}

function routeComment(r: Route): string {
  switch (r.modifier) {
    case "=":
      return `# "${r.raw}": exactly this URI`;
    case "^~":
      return `# "${r.raw}": this prefix; no regex location is tried after it`;
    case "":
      return `# "${r.raw}": this prefix, unless a regex location matches too`;
    default:
      return `# "${r.raw}": ${r.modifier === "~*" ? "caseless " : ""}regex, tried in this order`;
  }
}

export function generateNginx(cfg: SchedctlConfig, t: Templates): GeneratedFile {
  const up = upstreamNames(cfg);
  const tm = timing(cfg);
  const routes = cfg.scheduler.routes
    .map((r) =>
      [
        "",
        routeComment(r),
        `location ${locationArgs(r).join(" ")} {`,
        `    proxy_pass http://${up.scheduler};`,
        "}",
      ].join("\n"),
    )
    .join("\n");
  const text = render(
    t["nginx.conf"],
    {
      source: cfg.source,
      web_upstream: up.web,
      scheduler_upstream: up.scheduler,
      web_host: cfg.instances.webHost,
      web_port: String(cfg.port),
      scheduler_host: cfg.instances.schedulerHost,
      scheduler_port: String(cfg.instances.schedulerPort),
      listen: String(cfg.nginx.listen),
      server_name: cfg.nginx.serverName,
      gunicorn_timeout: String(tm.gunicornTimeout),
      proxy_read_timeout: String(tm.proxyReadTimeout),
      api_prefix: cfg.scheduler.apiPrefix,
      routes,
    },
    "nginx.conf",
  );
  return { path: FILE_NAMES.nginx, content: finish(text) };
}
