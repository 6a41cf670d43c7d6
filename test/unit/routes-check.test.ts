/**
 * checkSchedulerRoutes (doctor's routes.nginx): a correct configuration passes; each trap of reference
 * §1.1 is named with the lines that fix it; bad inputs are refused instead of written into fix lines.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fsParseOptions } from "../../src/nginx/fs.js";
import { extractHttp, type NginxServer, selectServer } from "../../src/nginx/locations.js";
import { parseNginx, parseNginxFile } from "../../src/nginx/parse.js";
import { checkSchedulerRoutes, passHost, type RouteTrap } from "../../src/nginx/routes-check.js";

const FIXTURES = new URL("../fixtures/nginx/", import.meta.url).pathname;

const UPSTREAMS =
  "upstream scheduler { server scheduler:8000; }\nupstream app { server web-1:8000; server web-2:8000; }";

function server(body: string, pre = UPSTREAMS): NginxServer {
  const http = extractHttp(
    parseNginx(`${pre}\nserver {\n  listen 80;\n${body}\n}\n`, "/etc/nginx/conf.d/site.conf"),
  );
  return http.servers[0] as NginxServer;
}

const GOOD = `
  location = /scheduler { proxy_pass http://scheduler; }
  location ^~ /scheduler/ { proxy_pass http://scheduler; }
  location ~* \\.(js|css|json|png)$ { expires 7d; }
  location / { proxy_pass http://app; }`;

const traps = (s: NginxServer, extra: string[] = [], schedulerUpstreams?: string[]): RouteTrap[] =>
  checkSchedulerRoutes(s, {
    apiPrefix: "/scheduler",
    extraRoutes: extra,
    ...(schedulerUpstreams ? { schedulerUpstreams } : {}),
  }).findings.map((f) => f.trap);

describe("checkSchedulerRoutes", () => {
  test("the recommended layout passes, with every probe explained", () => {
    const r = checkSchedulerRoutes(server(GOOD), { apiPrefix: "/scheduler", extraRoutes: [] });
    assert.deepEqual(r.findings, []);
    assert.equal(r.ok, true);
    const uris = r.probes.map((p) => p.uri);
    for (const u of [
      "/scheduler",
      "/scheduler/",
      "/scheduler/jobs",
      "/scheduler/jobs/x.js",
      "/scheduler/jobs/job1/run",
      "/schedulerX",
      "/",
    ]) {
      assert.ok(uris.includes(u), u);
    }
    assert.equal(r.probes.find((p) => p.uri === "/scheduler/jobs/x.js")?.match?.modifier, "^~");
  });

  test("a trailing slash on the prefix is ignored; the Debian-layout fixture passes", () => {
    const http = extractHttp(parseNginxFile(`${FIXTURES}debian/nginx.conf`, fsParseOptions()));
    const s = selectServer(http, "app.example.com")?.server as NginxServer;
    const r = checkSchedulerRoutes(s, { apiPrefix: "/scheduler/", extraRoutes: [] });
    assert.deepEqual(r.findings, []);
  });

  test("301 auto-redirect: no location = /scheduler, fixed by adding it", () => {
    const s = server(`
  location /scheduler/ { proxy_pass http://scheduler; }
  location ~ ^/sched { proxy_pass http://app; }
  location / { proxy_pass http://app; }`);
    const r = checkSchedulerRoutes(s, { apiPrefix: "/scheduler", extraRoutes: [] });
    const f = r.findings.find((x) => x.trap === "auto-redirect");
    assert.ok(f);
    assert.equal(f.severity, "fail");
    assert.match(f.message, /GET \/scheduler answers 301 → \/scheduler\/.*before trying any regex/);
    assert.deepEqual(f.fix, ["location = /scheduler {", "    proxy_pass http://scheduler;", "}"]);
    const abs = r.findings.find((x) => x.trap === "absolute-redirect");
    assert.deepEqual([abs?.severity, abs?.fix], ["warn", ["absolute_redirect off;"]]);
    assert.ok(
      !traps(
        server(`absolute_redirect off;\n  location /scheduler/ { proxy_pass http://scheduler; }`),
      ).includes("absolute-redirect"),
    );
  });

  test("bare prefix: location /scheduler also catches /schedulerX", () => {
    const r = checkSchedulerRoutes(
      server(
        "  location /scheduler { proxy_pass http://scheduler; }\n  location / { proxy_pass http://app; }",
      ),
      { apiPrefix: "/scheduler", extraRoutes: [] },
    );
    const f = r.findings.find((x) => x.trap === "bare-prefix");
    assert.ok(f);
    assert.match(f.message, /\/schedulerX \(not a scheduler path\) lands on location \/scheduler/);
    assert.deepEqual(f.fix, [
      "location = /scheduler {",
      "    proxy_pass http://scheduler;",
      "}",
      "location ^~ /scheduler/ {",
      "    proxy_pass http://scheduler;",
      "}",
    ]);
  });

  test("a regex steals /scheduler/jobs/x.js from a plain prefix: ^~ fixes it", () => {
    const r = checkSchedulerRoutes(
      server(`
  location = /scheduler { proxy_pass http://scheduler; }
  location /scheduler/ { proxy_pass http://scheduler; }
  location ~* \\.(js|json)$ { expires 1d; }
  location / { proxy_pass http://app; }`),
      { apiPrefix: "/scheduler", extraRoutes: [] },
    );
    const steals = r.findings.filter((x) => x.trap === "regex-steals");
    assert.equal(steals.length, 1, "reported once for all the stolen paths");
    assert.match(
      steals[0]?.message ?? "",
      /\/scheduler\/jobs\/x\.js is taken by the regex location ~\* \\\.\(js\|json\)\$/,
    );
    assert.deepEqual(steals[0]?.fix, ["location ^~ /scheduler/ {   # was: location /scheduler/ {"]);
  });

  test("^~ only guards its own level", () => {
    const s = server(`
  location = /scheduler { proxy_pass http://scheduler; }
  location / {
    proxy_pass http://app;
    location ^~ /scheduler/ { proxy_pass http://scheduler; }
  }
  location ~* \\.js$ { expires 1d; }`);
    const f = checkSchedulerRoutes(s, { apiPrefix: "/scheduler", extraRoutes: [] }).findings.find(
      (x) => x.trap === "noregex-level",
    );
    assert.ok(f);
    assert.match(f.message, /only stops the regexes of its own level and it is nested in location \//);
    assert.deepEqual(f.fix, [
      "# move it out of location /, to the server level:",
      "location ^~ /scheduler/ {",
      "    proxy_pass http://scheduler;",
      "}",
    ]);
  });

  test("the scheduler upstream must hold only the scheduler", () => {
    const s = server(
      GOOD,
      "upstream scheduler { server scheduler:8000; server web-1:8000; }\nupstream app { server web-1:8000; }",
    );
    const f = checkSchedulerRoutes(s, { apiPrefix: "/scheduler", extraRoutes: [] }).findings.find(
      (x) => x.trap === "upstream-members",
    );
    assert.ok(f);
    assert.match(f.message, /upstream scheduler .* has 2 servers \(scheduler:8000, web-1:8000\)/);
    assert.deepEqual(f.fix, [
      "upstream scheduler {",
      "    server scheduler:8000;   # the single scheduler instance",
      "}",
    ]);
    // ... unless the members are the declared scheduler addresses
    assert.ok(!traps(s, [], ["scheduler:8000", "web-1:8000"]).includes("upstream-members"));
  });

  test("scheduler paths that go to the pool, or nowhere", () => {
    assert.ok(
      traps(server("  location / { proxy_pass http://app; }"), [], ["scheduler"]).includes("wrong-upstream"),
    );
    assert.deepEqual(traps(server("  location /static/ { }")).slice(0, 1), ["no-location"]);
    assert.ok(traps(server("  location / { proxy_pass http://app; }")).includes("pool-to-scheduler"));
  });

  test("the pool must not go to the scheduler", () => {
    const s = server("  location / { proxy_pass http://scheduler; }");
    const r = checkSchedulerRoutes(s, {
      apiPrefix: "/scheduler",
      extraRoutes: [],
      schedulerUpstreams: ["scheduler"],
    });
    assert.ok(
      r.findings.some((f) => f.trap === "pool-to-scheduler" && /"\/" lands on location \//.test(f.message)),
    );
  });

  test("internal scheduler location", () => {
    assert.ok(
      traps(
        server(
          "  location = /scheduler { proxy_pass http://scheduler; }\n  location ^~ /scheduler/ { internal; proxy_pass http://scheduler; }",
        ),
      ).includes("internal"),
    );
  });

  test("proxy_pass with a URI part strips the prefix: warned", () => {
    const r = checkSchedulerRoutes(
      server(
        "  location = /scheduler { proxy_pass http://scheduler; }\n  location ^~ /scheduler/ { proxy_pass http://scheduler/; }",
      ),
      { apiPrefix: "/scheduler", extraRoutes: [] },
    );
    const f = r.findings.find((x) => x.trap === "uri-part");
    assert.equal(f?.severity, "warn");
    assert.match(f?.message ?? "", /the app receives \/jobs instead of \/scheduler\/jobs/);
    assert.equal(r.ok, true);
  });

  test("the user's own routes: URIs are probed, location specs must exist and reach the scheduler", () => {
    const s = server(`${GOOD}\n  location = /api/jobs/run { proxy_pass http://app; }`);
    const r = checkSchedulerRoutes(s, {
      apiPrefix: "/scheduler",
      extraRoutes: ["/api/jobs/run", "= /admin/run", "^~ /cron/"],
    });
    const msgs = r.findings.map((f) => `${f.trap}: ${f.message}`);
    assert.ok(
      msgs.some((m) => /^wrong-upstream: \/api\/jobs\/run lands on location = \/api\/jobs\/run/.test(m)),
      msgs.join("\n"),
    );
    assert.ok(msgs.includes("missing-route: no location = /admin/run in this server"));
    assert.ok(msgs.includes("missing-route: no location ^~ /cron/ in this server"));
    assert.deepEqual(
      r.findings.find((f) => f.trap === "missing-route" && f.message.includes("/admin/run"))?.fix,
      ["location = /admin/run {", "    proxy_pass http://scheduler;", "}"],
    );
  });

  test("values that would inject configuration are refused", () => {
    const bad = checkSchedulerRoutes(server(GOOD), { apiPrefix: "/sched; evil", extraRoutes: [] });
    assert.equal(bad.ok, false);
    assert.equal(bad.findings[0]?.trap, "bad-input");
    assert.deepEqual(bad.probes, []);
    const r = checkSchedulerRoutes(server(GOOD), {
      apiPrefix: "/scheduler",
      extraRoutes: ["/x { return 200; }"],
    });
    assert.ok(r.findings.some((f) => f.trap === "bad-input" && f.fix.length === 0));
  });

  test("the traps fixture names every trap", () => {
    const http = extractHttp(
      parseNginx(readFileSync(`${FIXTURES}traps.conf`, "utf8"), `${FIXTURES}traps.conf`),
    );
    const s = http.servers[0] as NginxServer;
    const found = new Set(traps(s, ["^~ /api/jobs/", "/api/jobs/run"]));
    for (const t of [
      "auto-redirect",
      "regex-steals",
      "noregex-level",
      "upstream-members",
      "absolute-redirect",
    ] as const) {
      assert.ok(found.has(t), t);
    }
  });

  test("passHost", () => {
    assert.equal(passHost("http://Scheduler:8000/x/"), "scheduler:8000");
    assert.equal(passHost("http://scheduler"), "scheduler");
    assert.equal(passHost("http://$backend"), null);
    assert.equal(passHost("unix:/run/app.sock"), "unix:/run/app.sock");
    assert.equal(passHost("127.0.0.1:9000"), "127.0.0.1:9000");
  });
});
