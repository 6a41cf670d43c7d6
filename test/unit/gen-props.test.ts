/**
 * Property: no value the config accepts can inject syntax into what schedctl writes. Configs are generated
 * from valid values mutated with nginx/YAML/Python/Dockerfile metacharacters; for every accepted one, each
 * generated file is read back with that language's own rules (an nginx lexer, the yaml package, CPython's
 * ast for the Python files, JSON for Dockerfile exec forms) and must hold exactly the values given, in the
 * places they belong, and nothing more.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { dockerfileInstructions } from "../../src/config/init.js";
import type { SchedctlConfig } from "../../src/config/types.js";
import { validateConfig } from "../../src/config/validate.js";
import { generate } from "../../src/gen/kit.js";
import { locationArgs } from "../../src/gen/nginx.js";
import { loadTemplates } from "../../src/gen/templates.js";
import { PYTHON, requireTool } from "../helpers/gen-fixtures.js";
import { type Directive, parseNginx } from "../helpers/gen-nginx.js";

const t = loadTemplates();
const META = [
  ";",
  "{",
  "}",
  '"',
  "'",
  "\\",
  "\n",
  "\r",
  " ",
  "\t",
  "#",
  "$",
  "`",
  ":",
  "&",
  "*",
  "!",
  "|",
  ">",
  "%",
  "@",
  "[",
  "]",
  ",",
  "=",
  "-",
  "_",
  ".",
  "/",
  "~",
  "^",
  "(",
  ")",
  "a",
  "0",
  "\u2028",
  "\u00e9",
];
const meta = fc.constantFrom(...META);

/** A valid value, sometimes with metacharacters inserted (most such values are rejected; some pass). */
const around = (valid: string[]) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...valid) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...valid), fc.string({ unit: meta, minLength: 1, maxLength: 3 }), fc.nat(30))
        .map(([v, s, at]) => v.slice(0, at) + s + v.slice(at)),
    },
  );

const configArb = fc.record({
  app: around(["shop", "a-b"]),
  wsgi: around(["app:app", "pkg.mod:create_app()"]),
  timezone: fc.constantFrom("Europe/Berlin", "Etc/UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+8"),
  "base-image": fc.constantFrom("python:3.12-slim", "python:3.12-alpine", "ubuntu:24.04"),
  image: around(["reg.example:5000/team/shop:1.2"]),
  requirements: around(["requirements/prod.txt"]),
  "health-path": around(["/healthz", "/"]),
  scheduler: fc.record({
    "api-prefix": around(["/scheduler", "/api/jobs"]),
    routes: fc.array(
      around([
        "= /jobs/run",
        "^~ /admin/",
        "/tasks",
        "~ ^/api/v[0-9]{1,2}/cron$",
        "~* \\.job$",
        "~ ^/a\\d+$",
      ]),
      { maxLength: 5 },
    ),
    object: around(["app.ext:scheduler"]),
  }),
  instances: fc.record({ "web-host": around(["web"]), "scheduler-host": around(["scheduler"]) }),
  lock: fc.oneof(
    fc.record({
      backend: fc.constant("redis"),
      url: around(["redis://cache.internal:6379/2", "rediss://user@r:6380"]),
      key: around(["schedctl:lock:shop:prod"]),
    }),
    fc.record({ backend: fc.constant("file"), path: around(["/var/lock/shop.lock"]) }),
  ),
  nginx: fc.record({ "server-name": around(["_", "shop.example.com", "*.example.com"]) }),
});

function accepted(n: number, seed: number): SchedctlConfig[] {
  const out: SchedctlConfig[] = [];
  for (const raw of fc.sample(configArb, { numRuns: n * 40, seed })) {
    const r = validateConfig(raw);
    if (r.config) out.push(r.config);
    if (out.length >= n) break;
  }
  return out;
}

const file = (files: { path: string; content: string }[], path: string) => {
  const f = files.find((x) => x.path === path);
  assert.ok(f, path);
  return f.content;
};

function checkNginx(cfg: SchedctlConfig, text: string): void {
  const top = parseNginx(text);
  assert.deepEqual(
    top.map((d) => [d.name, d.args.length]),
    [
      ["upstream", 1],
      ["upstream", 1],
      ["server", 0],
    ],
  );
  const [webUp, schedUp, server] = top as [Directive, Directive, Directive];
  assert.deepEqual(webUp.block, [{ name: "server", args: [`${cfg.instances.webHost}:${cfg.port}`] }]);
  assert.deepEqual(schedUp.block, [
    { name: "server", args: [`${cfg.instances.schedulerHost}:${cfg.instances.schedulerPort}`] },
  ]);
  const body = server.block ?? [];
  const plain = body.filter((d) => !d.block);
  assert.deepEqual(
    plain.map((d) => d.name),
    [
      "listen",
      "server_name",
      "absolute_redirect",
      "proxy_set_header",
      "proxy_set_header",
      "proxy_set_header",
      "proxy_set_header",
      "proxy_set_header",
      "proxy_connect_timeout",
      "proxy_read_timeout",
      "proxy_send_timeout",
    ],
  );
  assert.deepEqual(plain[1]?.args, [cfg.nginx.serverName]);
  const locations = body.filter((d) => d.block);
  const expected = [
    ["=", cfg.scheduler.apiPrefix],
    ["^~", `${cfg.scheduler.apiPrefix}/`],
    ...cfg.scheduler.routes.map((r) => locationArgs(r).map((a) => a.replace(/^"(.*)"$/s, "$1"))),
    ["/"],
  ];
  assert.deepEqual(
    locations.map((l) => l.args),
    expected,
  );
  assert.deepEqual(
    locations.map((l) => l.name),
    expected.map(() => "location"),
  );
  for (const [i, l] of locations.entries()) {
    assert.equal(l.block?.length, 1);
    assert.equal(l.block?.[0]?.name, "proxy_pass");
    assert.equal(l.block?.[0]?.args.length, 1);
    assert.equal(l.block?.[0]?.args[0]?.endsWith(i === locations.length - 1 ? "_web" : "_scheduler"), true);
  }
}

function checkYaml(cfg: SchedctlConfig, compose: string, k8s: string): void {
  const c = parseYaml(compose) as {
    name: string;
    services: Record<string, { image?: string; hostname?: string; environment?: Record<string, string> }>;
  };
  assert.equal(c.name, cfg.app);
  const names = ["nginx", cfg.instances.schedulerHost, cfg.instances.webHost];
  for (const n of names) assert.ok(n in c.services, `service ${n}`);
  const sched = c.services[cfg.instances.schedulerHost];
  assert.equal(sched?.hostname, cfg.instances.schedulerHost);
  assert.equal(sched?.image, cfg.image);
  assert.equal(sched?.environment?.TZ, cfg.timezone);
  assert.equal(sched?.environment?.SCHEDULER_ALLOWED_HOSTS, JSON.stringify([cfg.instances.schedulerHost]));
  if (cfg.lock.backend === "redis") assert.equal(sched?.environment?.SCHEDCTL_REDIS_URL, cfg.lock.url);
  for (const s of Object.values(c.services))
    for (const v of Object.values(s.environment ?? {})) assert.equal(typeof v, "string");
  const docs = parseAllDocuments(k8s).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
  );
  assert.deepEqual(
    docs.map((d) => d.kind),
    ["Deployment", "Deployment", "Service", "Service", "Ingress"],
  );
  assert.deepEqual(
    docs.map((d) => d.metadata.name),
    [`${cfg.app}-web`, `${cfg.app}-scheduler`, `${cfg.app}-web`, `${cfg.app}-scheduler`, cfg.app],
  );
  const rules = (
    docs[4]?.spec.rules as { host?: string; http: { paths: { path: string }[] } }[] | undefined
  )?.[0];
  if (cfg.nginx.serverName !== "_") assert.equal(rules?.host, cfg.nginx.serverName);
  assert.equal(rules?.http.paths[0]?.path, cfg.scheduler.apiPrefix);
}

function checkDockerfile(cfg: SchedctlConfig, text: string): void {
  const instr = dockerfileInstructions(text);
  assert.deepEqual(
    instr.filter((i) => i.keyword === "FROM").map((i) => i.args),
    [cfg.baseImage.ref],
  );
  const cmd = instr.find((i) => i.keyword === "CMD");
  assert.deepEqual(JSON.parse(cmd?.args ?? "null"), ["gunicorn", "--config", "gunicorn.conf.py", cfg.wsgi]);
  const health = instr.find((i) => i.keyword === "HEALTHCHECK");
  const probe = JSON.parse(health?.args.replace(/^.*?CMD /, "") ?? "null") as string[];
  assert.ok(probe[2]?.includes(`+ '${cfg.healthPath}', timeout=4)`));
  const copy = instr.filter((i) => i.keyword === "COPY").map((i) => i.args);
  assert.equal(copy[0], `${cfg.requirements} ${cfg.requirements}`);
  assert.ok(
    instr
      .find((i) => i.keyword === "ENV")
      ?.args.split(/\s+/)
      .includes(`TZ=${cfg.timezone}`),
  );
}

describe("property: accepted config values cannot inject nginx, YAML, Python or Dockerfile syntax", () => {
  const configs = accepted(100, 1234);
  const kits = configs.map((cfg) => generate("all", cfg, t));

  test("enough hostile samples were accepted to mean something", () => {
    assert.ok(configs.length >= 100, `${configs.length} accepted`);
    // values that differ from every valid example: metacharacters went in and were accepted
    const examples = new Set([
      "shop",
      "a-b",
      "/scheduler",
      "/api/jobs",
      "web",
      "scheduler",
      "/healthz",
      "/",
      "= /jobs/run",
      "^~ /admin/",
      "/tasks",
      "~ ^/api/v[0-9]{1,2}/cron$",
      "~* \\.job$",
      "~ ^/a\\d+$",
      "_",
      "shop.example.com",
      "*.example.com",
    ]);
    const novel = configs
      .flatMap((c) => [
        c.app,
        c.scheduler.apiPrefix,
        c.instances.webHost,
        c.healthPath,
        c.nginx.serverName,
        ...c.scheduler.routes.map((r) => r.raw),
      ])
      .filter((v) => !examples.has(v));
    assert.ok(novel.length > 15, `${novel.length} mutated values accepted`);
  });

  test("nginx: read back with nginx's tokenizing rules, exactly the intended upstreams and locations", () => {
    for (const [i, cfg] of configs.entries()) checkNginx(cfg, file(kits[i] ?? [], "nginx.conf"));
  });

  test("YAML: compose and Kubernetes hold exactly the values given", () => {
    for (const [i, cfg] of configs.entries())
      checkYaml(cfg, file(kits[i] ?? [], "compose.yaml"), file(kits[i] ?? [], "k8s.yaml"));
  });

  test("Dockerfile: FROM, ENV, COPY and the exec forms hold exactly the values given", () => {
    for (const [i, cfg] of configs.entries()) checkDockerfile(cfg, file(kits[i] ?? [], "Dockerfile"));
  });

  test("Python: CPython's ast reads back exactly the values given in gunicorn.conf.py and schedctl_lock.py", () => {
    requireTool(PYTHON, "python3");
    const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-props-"));
    const paths: string[] = [];
    configs.forEach((_, i) => {
      const files = kits[i] ?? [];
      for (const name of ["gunicorn.conf.py", "schedctl_lock.py"]) {
        const p = join(dir, `${i}-${name}`);
        writeFileSync(p, file(files, name));
        paths.push(p);
      }
    });
    const script = `
import ast, json, sys
out = []
for path in sys.argv[1:]:
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    consts = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        v = node.value
        if isinstance(v, ast.Call) and getattr(v.func, "id", "") == "float" and v.args:
            v = v.args[0]
        if isinstance(v, ast.Constant):
            consts[node.targets[0].id] = v.value
        elif isinstance(v, ast.Call) and getattr(v.func, "attr", "") == "get" and len(v.args) == 2 and isinstance(v.args[1], ast.Constant):
            consts[node.targets[0].id] = v.args[1].value
    out.append(consts)
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script, ...paths], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const consts = JSON.parse(r.stdout) as Record<string, unknown>[];
    configs.forEach((cfg, i) => {
      const g = consts[2 * i] as Record<string, unknown>;
      const l = consts[2 * i + 1] as Record<string, unknown>;
      assert.equal(g.APP_NAME, cfg.app);
      assert.equal(g.SCHEDULER_OBJECT, cfg.scheduler.object);
      assert.equal(g.LOCK_BACKEND, cfg.lock.backend);
      assert.equal(l.APP, cfg.app);
      assert.equal(l.BACKEND, cfg.lock.backend);
      if (cfg.lock.backend === "redis") {
        assert.equal(l.REDIS_URL, cfg.lock.url);
        assert.equal(l.KEY, cfg.lock.key);
      } else if (cfg.lock.backend === "file") assert.equal(l.FILE_PATH, cfg.lock.path);
    });
  });
});
