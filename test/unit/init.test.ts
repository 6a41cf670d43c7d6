import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { gen, type Io } from "../../src/commands/gen.js";
import { type InitOptions, init } from "../../src/commands/init.js";
import {
  assembleConfig,
  composeFindings,
  dockerfileFindings,
  gunicornCommandFacts,
  gunicornConfFindings,
  mergeIntoPyproject,
  pythonFindings,
  renderConfigToml,
  sanitizeAppName,
  shellWords,
} from "../../src/config/init.js";
import { loadConfig, parseConfigText } from "../../src/config/load.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/init-app/", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function capture(fn: (io: Io) => Promise<number>): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  };
  try {
    return { code: await fn(io), stdout, stderr };
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    if (e.exitCode === 2) return { code: 2, stdout, stderr: `${stderr}schedctl: ${e.message}\n` };
    throw err;
  }
}

const runInit = (opts: InitOptions) => capture((io) => init(opts, io));

function fixtureCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-init-"));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

describe("init: reading the app dir", () => {
  test("everything the app already says ends up in [tool.schedctl], with where it came from", async () => {
    const dir = fixtureCopy();
    const original = readFileSync(join(dir, "pyproject.toml"), "utf8");
    const r = await runInit({ appDir: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^wrote \\[tool\\.schedctl\\] into ${dir}/pyproject\\.toml$`, "m"));
    const text = readFileSync(join(dir, "pyproject.toml"), "utf8");
    assert.ok(text.startsWith(original), "the rest of pyproject.toml is untouched, byte for byte");
    const added = text.slice(original.length);
    for (const line of [
      'app = "shop-api"  # from pyproject.toml [project] name',
      'wsgi = "shop.wsgi:app"  # from Dockerfile:7',
      "port = 5000  # from Dockerfile:7",
      'python = "3.12"  # from Dockerfile:1',
      'timezone = "Asia/Shanghai"  # from shop/config.py:4',
      'base-image = "python:3.12-slim-bookworm"  # from Dockerfile:1',
      'api-prefix = "/jobs-api"  # from shop/config.py:3',
      "web-replicas = 3  # from compose.yaml: service web",
      "web-workers = 4  # from Dockerfile:7",
      'web-host = "web"  # from compose.yaml: service web',
      'scheduler-host = "jobs"  # from compose.yaml: service jobs',
      'backend = "redis"  # from compose.yaml: service cache',
      'url = "redis://cache:6379/0"  # from compose.yaml: service cache',
      'key = "schedctl:lock:shop-api"',
      "request = 90  # from gunicorn.conf.py:3",
      "[tool.schedctl.lock]",
    ])
      assert.ok(added.includes(`\n${line}\n`), `missing line: ${line}\n---\n${added}`);
    // the app's intent (SCHEDULER_TIMEZONE) wins over the container's TZ, and the disagreement is said
    assert.match(
      r.stderr,
      /note: timezone: shop\/config\.py:4 says "Asia\/Shanghai", Dockerfile:2 says "Europe\/London"; using "Asia\/Shanghai"/,
    );
    // the result is a valid config that gen can use at once
    const loaded = await loadConfig(dir);
    assert.equal(loaded.kind, "pyproject");
    assert.equal(loaded.config.lock.backend, "redis");
    const g = await capture((io) => gen("all", { appDir: dir, dryRun: true }, io));
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /location = \/jobs-api \{/);
  });

  test("flags win over what the app says; a bad flag is exit 2 naming the flag", async () => {
    const dir = fixtureCopy();
    const r = await runInit({
      appDir: dir,
      dryRun: true,
      timezone: "Europe/Berlin",
      lock: "file",
      webReplicas: "5",
      route: ["= /jobs/run", "~ ^/hooks/[0-9]+$"],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\ntimezone = "Europe\/Berlin"\n/, "no source comment for flags");
    assert.match(
      r.stdout,
      /\n\[tool\.schedctl\.lock\]\nbackend = "file"\npath = "\/tmp\/schedctl-shop-api\.lock"\n/,
    );
    assert.match(r.stdout, /\nroutes = \[\n {2}"= \/jobs\/run",\n {2}"~ \^\/hooks\/\[0-9\]\+\$",\n\]\n/);
    assert.match(r.stdout, /\nweb-replicas = 5\n/);
    assert.equal(
      readFileSync(join(dir, "pyproject.toml"), "utf8"),
      readFileSync(join(FIXTURE, "pyproject.toml"), "utf8"),
      "--dry-run writes nothing",
    );
    const bad = await runInit({ appDir: dir, lockTtl: "30s", lock: "redis" });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'schedctl: init: --lock-ttl: expected a whole number of seconds, got "30s"\n');
    const inj = await runInit({ appDir: dir, route: ["/x; return 200"] });
    assert.equal(inj.code, 2);
    assert.match(inj.stderr, /^schedctl: init: \[scheduler\] routes\[0\]|^schedctl: init: --route/);
  });

  test("an existing [tool.schedctl] is kept unless --force; --force replaces it in place, nothing else moves", async () => {
    const dir = fixtureCopy();
    assert.equal((await runInit({ appDir: dir })).code, 0);
    // another table after ours, and one of ours moved below it
    const first = readFileSync(join(dir, "pyproject.toml"), "utf8");
    const withMore = first.replace(
      "[tool.schedctl.nginx]",
      "[tool.ruff]\nline-length = 100\n# ruff's comment\n\n[tool.schedctl.nginx]",
    );
    writeFileSync(join(dir, "pyproject.toml"), withMore);
    const again = await runInit({ appDir: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /pyproject\.toml: already has \[tool\.schedctl\]; use --force to replace it/);
    const forced = await runInit({ appDir: dir, force: true, webReplicas: "7" });
    assert.equal(forced.code, 0, forced.stderr);
    const text = readFileSync(join(dir, "pyproject.toml"), "utf8");
    const doc = parse(text) as { tool: Record<string, unknown>; project: unknown };
    assert.deepEqual({ ...(doc.tool.ruff as object) }, { "line-length": 100 });
    assert.deepEqual({ ...(doc.tool.black as object) }, { "line-length": 100 });
    assert.equal(
      (doc.tool.schedctl as { instances: { "web-replicas": number } }).instances["web-replicas"],
      7,
    );
    assert.equal((text.match(/^\[tool\.schedctl\]$/gm) ?? []).length, 1);
    assert.ok(
      text.includes("[tool.ruff]\nline-length = 100\n# ruff's comment\n"),
      "the comment above the next table stays",
    );
    assert.ok(text.startsWith(readFileSync(join(FIXTURE, "pyproject.toml"), "utf8")));
  });

  test("--format toml writes schedctl.toml, refused while pyproject.toml has the table", async () => {
    const dir = fixtureCopy();
    const r = await runInit({ appDir: dir, format: "toml" });
    assert.equal(r.code, 0, r.stderr);
    const cfg = parseConfigText(readFileSync(join(dir, "schedctl.toml"), "utf8"), "schedctl.toml", "toml");
    assert.equal(cfg.app, "shop-api");
    assert.equal(
      readFileSync(join(dir, "pyproject.toml"), "utf8"),
      readFileSync(join(FIXTURE, "pyproject.toml"), "utf8"),
    );
    assert.equal((await runInit({ appDir: dir, format: "toml" })).code, 2, "exists: needs --force");
    assert.equal(
      (await runInit({ appDir: dir, format: "pyproject" })).code,
      2,
      "both would configure schedctl",
    );
    assert.equal((await runInit({ appDir: dir, format: "yaml" })).code, 2);
  });

  test("an empty dir: flags only; without a WSGI entry it says which flag to pass", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-init-empty-"));
    const none = await runInit({ appDir: dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no WSGI entry found .*pass --wsgi "module:app"/);
    const r = await runInit({
      appDir: dir,
      app: "svc",
      wsgi: "main:app",
      baseImage: "gcr.io/distroless/python3-debian12",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, "schedctl.toml")));
    const cfg = (await loadConfig(dir)).config;
    assert.equal(cfg.python, "3.11", "the image's Python");
    assert.deepEqual(cfg.lock, { backend: "none" });
  });
});

describe("init: readers", () => {
  test("gunicorn command lines", () => {
    assert.deepEqual(
      gunicornCommandFacts(shellWords("gunicorn -w 3 -b 0.0.0.0:8000 --timeout=120 app:app")),
      { workers: 3, port: 8000, timeout: 120, wsgi: "app:app" },
    );
    assert.deepEqual(
      gunicornCommandFacts([
        "python",
        "-m",
        "gunicorn",
        "--bind=:5000",
        "-w4",
        "--graceful-timeout",
        "20",
        "wsgi:application",
      ]),
      { port: 5000, workers: 4, graceful: 20, wsgi: "wsgi:application" },
    );
    assert.deepEqual(
      gunicornCommandFacts(shellWords("/venv/bin/gunicorn --config gunicorn.conf.py 'pkg.app:create_app()'")),
      { wsgi: "pkg.app:create_app()" },
    );
    assert.equal(gunicornCommandFacts(["flask", "run"]), null);
  });

  test("Dockerfile: last FROM, ENV TZ in every form, ENTRYPOINT + CMD, EXPOSE", () => {
    const d = dockerfileFindings(
      'FROM python:3.12-slim AS build\nFROM python:3.11-alpine3.20\nENV LANG=C TZ="America/Chicago"\nEXPOSE 9000\nENTRYPOINT ["gunicorn"]\nCMD ["-w", "2", "web:app"]\n',
    );
    assert.deepEqual(
      d.findings.map((f) => [f.key, f.value, f.source]),
      [
        ["base-image", "python:3.11-alpine3.20", "Dockerfile:2"],
        ["python", "3.11", "Dockerfile:2"],
        ["timezone", "America/Chicago", "Dockerfile:3"],
        ["wsgi", "web:app", "Dockerfile:6"],
        ["instances.web-workers", 2, "Dockerfile:6"],
        ["port", 9000, "Dockerfile:4"],
      ],
    );
    const old = dockerfileFindings("FROM python:3.9-buster\nENV TZ Asia/Tokyo\n");
    assert.deepEqual(
      old.findings.map((f) => [f.key, f.value]),
      [
        ["python", "3.9"],
        ["timezone", "Asia/Tokyo"],
      ],
    );
    assert.match(
      old.notes[0] ?? "",
      /FROM python:3\.9-buster is not a base image schedctl writes Dockerfiles for/,
    );
  });

  test("compose: the scheduler service, the web pool, Redis; list and map environments", () => {
    const c = composeFindings(
      "services:\n  app:\n    build: .\n    command: gunicorn -w 8 app:app\n    scale: 4\n  scheduler:\n    build: .\n    environment: [SCHEDULER_ENABLED=1, TZ=Europe/Paris]\n  redis:\n    image: redis:7\n",
      "docker-compose.yml",
    );
    const m = Object.fromEntries(c.findings.map((f) => [f.key, f.value]));
    assert.equal(m["instances.scheduler-host"], "scheduler");
    assert.equal(m["instances.web-host"], "app");
    assert.equal(m["instances.web-replicas"], 4);
    assert.equal(m["lock.url"], "redis://redis:6379/0");
    assert.equal(m.wsgi, "app:app");
    assert.equal(m.timezone, "Europe/Paris");
    assert.match(composeFindings("services: [", "compose.yaml").notes[0] ?? "", /not valid YAML/);
    const scaled = composeFindings(
      "services:\n  scheduler:\n    build: .\n    deploy: {replicas: 2}\n",
      "compose.yaml",
    );
    assert.match(scaled.notes[0] ?? "", /runs 2 replicas: the scheduler must run once/);
  });

  test("gunicorn.conf.py literals and Python sources", () => {
    assert.deepEqual(
      gunicornConfFindings(
        'workers = 2  # two\nbind = ["0.0.0.0:7000"]\ngraceful_timeout = 10\nworkers = int(os.environ["W"])\n',
      ).findings.map((f) => [f.key, f.value]),
      [
        ["instances.web-workers", 2],
        ["port", 7000],
        ["timeouts.graceful", 10],
      ],
    );
    const p = pythonFindings([
      { rel: "app/__init__.py", text: "def create_app():\n    pass\n" },
      {
        rel: "settings.py",
        text: 'app.config["SCHEDULER_API_PREFIX"] = "/sched"\n# SCHEDULER_API_PREFIX = "/no"\n',
      },
    ]);
    assert.deepEqual(
      p.findings.map((f) => [f.key, f.value, f.source]),
      [
        ["scheduler.api-prefix", "/sched", "settings.py:1"],
        ["wsgi", "app:create_app()", "app/__init__.py:1"],
      ],
    );
    assert.equal(sanitizeAppName("My_Cool.App"), "my-cool-app");
    assert.equal(sanitizeAppName("123"), null);
  });

  test("lock settings without --lock imply their backend", () => {
    const none = { findings: [], notes: [] };
    assert.equal(
      assembleConfig({ app: "x", wsgi: "m:app", lockTtl: "10" }, none).config.lock.backend,
      "redis",
    );
    assert.deepEqual(assembleConfig({ app: "x", wsgi: "m:app", lockPath: "/run/x.lock" }, none).config.lock, {
      backend: "file",
      path: "/run/x.lock",
    });
  });

  test("a finding that does not validate is noted and not used", () => {
    const plan = assembleConfig(
      { app: "x", wsgi: "m:app" },
      { findings: [{ key: "timezone", value: "CEST", source: "Dockerfile:2" }], notes: [] },
    );
    assert.equal(plan.config.timezone, "Etc/UTC");
    assert.match(plan.notes[0] ?? "", /Dockerfile:2: timezone "CEST" not used: "CEST" is not a time zone/);
  });

  test("the rendered TOML reads back as the same config", () => {
    const plan = assembleConfig(
      {
        app: "round",
        wsgi: "m:create_app()",
        route: ["^~ /a/", "~* \\.x$"],
        lock: "redis",
        lockTtl: "12",
        webWorkers: "auto",
        serverName: "a.example",
      },
      { findings: [], notes: [] },
    );
    for (const kind of ["pyproject", "toml"] as const) {
      const text = renderConfigToml(plan, kind);
      const back = parseConfigText(text, "x.toml", kind);
      assert.deepEqual({ ...back, source: "" }, { ...plan.config, source: "" });
    }
  });

  test("merging into pyproject.toml: CRLF kept, dotted tool.schedctl keys refused, other data unchanged", () => {
    const table = renderConfigToml(
      assembleConfig({ app: "a", wsgi: "m:app" }, { findings: [], notes: [] }),
      "pyproject",
    );
    const crlf = '[project]\r\nname = "a"\r\n';
    const merged = mergeIntoPyproject(crlf, table, false);
    assert.ok(merged.startsWith(crlf));
    assert.ok(!/[^\r]\n/.test(merged), "CRLF throughout");
    assert.throws(
      () => mergeIntoPyproject('[tool]\nschedctl.app = "x"\n', table, true),
      /outside \[tool\.schedctl\] tables|could not add/,
    );
    assert.throws(
      () => mergeIntoPyproject('[tool.schedctl]\napp = "x"\n', table, false),
      /already has \[tool\.schedctl\]/,
    );
  });
});
