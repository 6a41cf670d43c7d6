import { access } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ConfigValue, RoutesFacts } from "./types.js";

/** Where a project keeps the nginx configuration in front of it, most specific first. */
export const NGINX_CANDIDATES = [
  "nginx.conf",
  "nginx/nginx.conf",
  "nginx/default.conf",
  "deploy/nginx.conf",
  "deploy/nginx/nginx.conf",
  "conf.d/default.conf",
];

const DEFAULT_API_PREFIX = "/scheduler";

/**
 * Finds and parses the nginx configuration (`--nginx FILE`, or one of NGINX_CANDIDATES in the app dir), picks
 * the server that answers, and runs `nginx -t` on it when nginx is installed. The parse and routing logic
 * is pure (src/nginx/); this is only the edge that reads files and runs nginx.
 */
/** Routes facts of nothing (no nginx configuration looked for). */
export function emptyRoutesFacts(): RoutesFacts {
  return {
    file: null,
    searched: [],
    parseError: null,
    server: null,
    serverReason: null,
    configFindings: [],
    apiPrefix: DEFAULT_API_PREFIX,
    apiPrefixSource: "Flask-APScheduler's default",
    extraRoutes: [],
    nginxTest: null,
  };
}

export async function gatherRoutesFacts(opts: {
  appDir: string;
  nginxFile?: string;
  apiPrefix: ConfigValue | null;
  extraRoutes: string[];
}): Promise<RoutesFacts> {
  const searched = opts.nginxFile ? [opts.nginxFile] : NGINX_CANDIDATES.map((c) => join(opts.appDir, c));
  const facts: RoutesFacts = {
    file: null,
    searched,
    parseError: null,
    server: null,
    serverReason: null,
    configFindings: [],
    apiPrefix: opts.apiPrefix?.value ?? DEFAULT_API_PREFIX,
    apiPrefixSource: opts.apiPrefix?.source ?? "Flask-APScheduler's default",
    extraRoutes: opts.extraRoutes,
    nginxTest: null,
  };
  for (const f of searched) {
    if (
      await access(f).then(
        () => true,
        () => false,
      )
    ) {
      facts.file = f;
      break;
    }
  }
  if (!facts.file) return facts;
  const [
    { parseNginxFile },
    { fsParseOptions, readConfigFile },
    { extractHttp, selectServer },
    { NginxParseError },
  ] = await Promise.all([
    import("../nginx/parse.js"),
    import("../nginx/fs.js"),
    import("../nginx/locations.js"),
    import("../nginx/lexer.js"),
  ]);
  try {
    const parsed = parseNginxFile(facts.file, fsParseOptions({ prefix: dirname(facts.file) }));
    const http = extractHttp(parsed);
    facts.configFindings = http.findings;
    const chosen = selectServer(http);
    facts.server = chosen?.server ?? null;
    facts.serverReason = chosen?.reason ?? null;
  } catch (err) {
    if (!(err instanceof NginxParseError)) throw err;
    facts.parseError = err.message;
    return facts;
  }
  const { nginxTest } = await import("../nginx/real.js");
  const text = readConfigFile(facts.file);
  if (text !== null) facts.nginxTest = await nginxTest(text, { file: facts.file });
  return facts;
}
