/**
 * The generated nginx config against the real nginx: `nginx -t` on every scenario, then a real nginx on
 * loopback in front of two tiny upstreams (one answers "web", one "scheduler"), asked for each route.
 */
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { parseConfigText } from "../../src/config/load.js";
import { routeProblem } from "../../src/config/validate.js";
import { generateNginx } from "../../src/gen/nginx.js";
import { loadTemplates } from "../../src/gen/templates.js";
import { FILE_LOCK_TOML, FULL_TOML, freePort, NO_LOCK_TOML } from "../helpers/gen-fixtures.js";
import { forLoopback, nginxTest, startNginx } from "../helpers/gen-nginx.js";

const t = loadTemplates();

async function upstream(name: string): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ upstream: name, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return { server, port };
}

function get(port: number, path: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "GET", headers: { host: "shop.test" }, timeout: 5000 },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("generated nginx: nginx -t", () => {
  test("every scenario passes nginx -t (upstream hosts rewritten to loopback)", () => {
    for (const [text, kind] of [
      [FULL_TOML, "pyproject"],
      [FILE_LOCK_TOML, "toml"],
      [NO_LOCK_TOML, "toml"],
    ] as const) {
      const cfg = parseConfigText(text, "x.toml", kind);
      const conf = generateNginx(cfg, t).content;
      const loop = forLoopback(
        conf,
        { [cfg.instances.webHost]: 18001, [cfg.instances.schedulerHost]: 18002 },
        18080,
      );
      const r = nginxTest(loop);
      assert.equal(r.ok, true, `nginx -t failed for ${cfg.app}:\n${r.stderr}\n${loop}`);
    }
  });

  test("a route nginx would reject is caught by nginx -t (the wrapper really tests)", () => {
    const cfg = parseConfigText(FULL_TOML, "pyproject.toml", "pyproject");
    const conf = forLoopback(generateNginx(cfg, t).content, { web: 18001, scheduler: 18002 }, 18080);
    const broken = conf.replace('location ~ "^/api/v[0-9]{1,2}/cron$"', "location ~ ^/api/v[0-9]{1,2}/cron$");
    assert.notEqual(broken, conf);
    const r = nginxTest(broken);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /unknown directive|unexpected|invalid/);
  });

  test("property: 40 random accepted routes in one config pass nginx -t", () => {
    const char = fc.constantFrom(..."abcXYZ019/._-~:+,=@^$()[]{}|?*\\".split(""));
    const route = fc
      .tuple(
        fc.constantFrom("= ", "^~ ", "", "~ ", "~* "),
        fc.string({ unit: char, minLength: 1, maxLength: 14 }),
      )
      .map(([m, body]) => (m === "~ " || m === "~* " ? `${m}${body}` : `${m}/${body}`))
      .filter((r) => routeProblem(r) === null)
      // PCRE must compile too: keep regexes JavaScript also accepts, with balanced brackets
      .filter((r) => {
        if (!r.startsWith("~")) return true;
        try {
          new RegExp(r.replace(/^~\*? /, ""), "u");
          return !/\{\d*,?\d*\}/.test(r) || /[^\\]\{/.test(r);
        } catch {
          return false;
        }
      });
    const routes = fc.sample(route, { numRuns: 400, seed: 7 });
    const seen = new Set<string>();
    const picked: string[] = [];
    for (const r of routes) {
      const id = r.startsWith("= ") ? r : r.startsWith("~") ? r : `prefix ${r.replace(/^\^~ /, "")}`;
      if (seen.has(id) || picked.length >= 40) continue;
      seen.add(id);
      picked.push(r);
    }
    const toml = FULL_TOML.replace(/routes = \[[^\]]*\]\n/s, `routes = ${JSON.stringify(picked)}\n`);
    let cfg: ReturnType<typeof parseConfigText>;
    try {
      cfg = parseConfigText(toml, "pyproject.toml", "pyproject");
    } catch (err) {
      // a random route may collide with the generated ones; drop those and retry once
      const bad = picked.filter((r) =>
        ["= /scheduler", "^~ /scheduler/", "/scheduler/", "^~ /", "/"].includes(r),
      );
      cfg = parseConfigText(
        FULL_TOML.replace(
          /routes = \[[^\]]*\]\n/s,
          `routes = ${JSON.stringify(picked.filter((r) => !bad.includes(r)))}\n`,
        ),
        "pyproject.toml",
        "pyproject",
      );
      assert.ok(bad.length > 0, String(err));
    }
    const conf = forLoopback(generateNginx(cfg, t).content, { web: 18001, scheduler: 18002 }, 18080);
    const r = nginxTest(conf);
    assert.equal(r.ok, true, `${r.stderr}\n${picked.join("\n")}`);
  });
});

describe("generated nginx: a real nginx routes each URI where the config says", () => {
  let web: { server: Server; port: number };
  let scheduler: { server: Server; port: number };
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let port: number;

  before(async () => {
    web = await upstream("web");
    scheduler = await upstream("scheduler");
    port = await freePort();
    const cfg = parseConfigText(FULL_TOML, "pyproject.toml", "pyproject");
    const conf = forLoopback(
      generateNginx(cfg, t).content,
      { web: web.port, scheduler: scheduler.port },
      port,
    );
    nginx = await startNginx(conf, port);
  });

  after(async () => {
    await nginx?.stop();
    web?.server.close();
    scheduler?.server.close();
  });

  const cases: [string, "web" | "scheduler", string][] = [
    ["/scheduler", "scheduler", "= /scheduler: no slash, no 301"],
    ["/scheduler?x=1", "scheduler", "args do not matter"],
    ["/scheduler/", "scheduler", "^~ /scheduler/"],
    ["/scheduler/jobs", "scheduler", "^~ /scheduler/"],
    ["/scheduler/jobs/a.job", "scheduler", "^~ keeps the .job regex out"],
    ["/schedulerX", "web", "never a bare prefix"],
    ["/schedulerx/jobs", "web", "never a bare prefix"],
    ["/jobs/run", "scheduler", "= /jobs/run"],
    ["/jobs/run/1", "web", "exact only"],
    ["/jobs/runner", "web", "exact only"],
    ["/admin/jobs/1", "scheduler", "^~ /admin/jobs/"],
    ["/tasks", "scheduler", "/tasks prefix"],
    ["/tasksX", "scheduler", "a plain prefix also takes /tasksX (as configured)"],
    ["/api/v1/cron", "scheduler", "~ ^/api/v[0-9]{1,2}/cron$"],
    ["/api/v12/cron", "scheduler", "{1,2} quantifier survived quoting"],
    ["/api/v123/cron", "web", "{1,2} quantifier"],
    ["/api/v1/cron/x", "web", "anchored"],
    ["/static/A.JOB", "scheduler", "~* caseless"],
    ["/", "web", "location /"],
    ["/anything/else", "web", "location /"],
    ["//scheduler", "scheduler", "merge_slashes"],
  ];
  for (const [uri, where, why] of cases)
    test(`${uri} → ${where} (${why})`, async () => {
      const r = await get(port, uri);
      assert.equal(r.status, 200, `${uri}: status ${r.status} ${r.location ?? ""} ${r.body.slice(0, 200)}`);
      assert.equal((JSON.parse(r.body) as { upstream: string }).upstream, where);
    });

  test("/admin/jobs (no slash) is nginx's own 301 to /admin/jobs/, relative (absolute_redirect off)", async () => {
    const r = await get(port, "/admin/jobs");
    assert.equal(r.status, 301);
    assert.equal(r.location, "/admin/jobs/");
  });

  test("the proxy headers reach the upstream; the URI is passed as sent", async () => {
    const r = await get(port, "/scheduler/jobs?id=1");
    const body = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
    assert.equal(body.url, "/scheduler/jobs?id=1");
    assert.equal(body.headers.host, "shop.test");
    assert.equal(body.headers["x-forwarded-host"], "shop.test");
    assert.equal(body.headers["x-forwarded-proto"], "http");
    assert.equal(body.headers["x-real-ip"], "127.0.0.1");
    assert.equal(body.headers["x-forwarded-for"], "127.0.0.1");
  });
});
