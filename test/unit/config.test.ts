import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { classifyBaseImage } from "../../src/config/images.js";
import { loadConfig, parseConfigText } from "../../src/config/load.js";
import { keyLines, tableHeaders } from "../../src/config/locate.js";
import { routeProblem, validateConfig, zoneProblem } from "../../src/config/validate.js";
import { UsageError } from "../../src/errors.js";
import { FILE_LOCK_TOML, FULL_TOML, fullConfig, NO_LOCK_TOML } from "../helpers/gen-fixtures.js";

/** The one-line error parseConfigText throws for `text`. */
function errorOf(text: string, kind: "pyproject" | "toml" = "pyproject"): string {
  try {
    parseConfigText(text, kind === "pyproject" ? "pyproject.toml" : "schedctl.toml", kind);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
    return err.message;
  }
  assert.fail("no error");
}

describe("config: reading and defaults", () => {
  test("the full example normalizes with the documented defaults filled in", () => {
    const c = fullConfig();
    assert.equal(c.app, "shop");
    assert.equal(c.python, "3.12");
    assert.equal(c.baseImage.flavor, "debian");
    assert.equal(c.baseImage.usesEtcTimezone, false, "python:3.12-slim is trixie");
    assert.deepEqual(
      c.scheduler.routes.map((r) => [r.modifier, r.value]),
      [
        ["=", "/jobs/run"],
        ["^~", "/admin/jobs/"],
        ["", "/tasks"],
        ["~", "^/api/v[0-9]{1,2}/cron$"],
        ["~*", "\\.job$"],
      ],
    );
    assert.deepEqual(c.lock, {
      backend: "redis",
      url: "redis://redis:6379/0",
      key: "schedctl:lock:shop",
      ttl: 30,
    });
    assert.equal(c.instances.schedulerPort, 8000, "scheduler-port defaults to port");
    assert.equal(c.image, "shop:latest");
    assert.equal(c.source, "pyproject.toml [tool.schedctl]");
  });

  test("schedctl.toml holds the same keys at top level", () => {
    const c = parseConfigText(FILE_LOCK_TOML, "schedctl.toml", "toml");
    assert.deepEqual(c.lock, { backend: "file", path: "/tmp/schedctl-billing-worker.lock" });
    assert.equal(c.instances.webWorkers, "auto");
    assert.equal(c.baseImage.flavor, "alpine");
    assert.equal(c.source, "schedctl.toml");
    const n = parseConfigText(NO_LOCK_TOML, "schedctl.toml", "toml");
    assert.deepEqual(n.lock, { backend: "none" });
    assert.equal(n.scheduler.object, "tiny.jobs:scheduler");
    assert.equal(n.baseImage.usesEtcTimezone, true, "bookworm keeps /etc/timezone");
  });

  test("minimal config: only app and wsgi", () => {
    const c = parseConfigText('app = "a"\nwsgi = "m:app"\n', "schedctl.toml", "toml");
    assert.equal(c.baseImage.ref, "python:3.12-slim");
    assert.equal(c.timezone, "Etc/UTC");
    assert.deepEqual(c.timeouts, { request: 60, graceful: 30 });
    assert.deepEqual(c.nginx, { listen: 8080, serverName: "_" });
  });

  test("loadConfig prefers pyproject [tool.schedctl], refuses two configs, explains a missing one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-config-"));
    await assert.rejects(loadConfig(dir), /no schedctl config .*schedctl init/);
    writeFileSync(join(dir, "pyproject.toml"), '[project]\nname = "x"\n');
    await assert.rejects(loadConfig(dir), /no schedctl config/);
    writeFileSync(join(dir, "schedctl.toml"), FILE_LOCK_TOML);
    assert.equal((await loadConfig(dir)).kind, "toml");
    writeFileSync(join(dir, "pyproject.toml"), FULL_TOML);
    await assert.rejects(
      loadConfig(dir),
      (e: Error) => e instanceof UsageError && /both it and pyproject\.toml/.test(e.message),
    );
  });
});

describe("config: errors name the file, the line, the table and the key (exit 2)", () => {
  test('the brief\'s example: ttl = "30s"', () => {
    const text = FULL_TOML.replace("ttl = 30", 'ttl = "30s"');
    const line = text.split("\n").findIndex((l) => l.startsWith("ttl")) + 1;
    assert.equal(
      errorOf(text),
      `pyproject.toml:${line}: [tool.schedctl.lock] ttl: expected a whole number of seconds, got "30s"`,
    );
  });

  test("array items are located on their own line", () => {
    const text = FULL_TOML.replace('"/tasks",', '"/tasks; return 200",');
    const line = text.split("\n").findIndex((l) => l.includes("return 200")) + 1;
    assert.equal(
      errorOf(text),
      `pyproject.toml:${line}: [tool.schedctl.scheduler] routes[2]: "/tasks; return 200": ";" would end the nginx directive`,
    );
  });

  test("unknown keys get a suggestion; unknown tables too", () => {
    assert.match(
      errorOf(FULL_TOML.replace("ttl = 30", "tll = 30")),
      /^pyproject\.toml:\d+: \[tool\.schedctl\.lock\] tll: unknown key \(did you mean "ttl"\?\)$/,
    );
    assert.match(
      errorOf(`${FULL_TOML}\n[tool.schedctl.lokc]\nx = 1\n`),
      /\[tool\.schedctl\] lokc: unknown key \(did you mean "lock"\?\)/,
    );
    assert.match(
      errorOf(FULL_TOML.replace("web-replicas", "web_replicas")),
      /web_replicas: unknown key \(did you mean "web-replicas"\?\)/,
    );
  });

  test("schedctl.toml: top-level keys have no table, nested ones their own", () => {
    assert.match(
      errorOf(FILE_LOCK_TOML.replace('app = "billing-worker"', 'app = "Billing"'), "toml"),
      /^schedctl\.toml:1: app: expected an app name/,
    );
    assert.match(
      errorOf(FILE_LOCK_TOML.replace("listen = 80", "listen = 70000"), "toml"),
      /^schedctl\.toml:\d+: \[nginx\] listen: must be between 1 and 65535/,
    );
  });

  test("missing required keys point at the table header", () => {
    const text = FULL_TOML.replace('wsgi = "app:create_app()"\n', "");
    const line = text.split("\n").indexOf("[tool.schedctl]") + 1;
    assert.match(errorOf(text), new RegExp(`^pyproject\\.toml:${line}: \\[tool\\.schedctl\\] wsgi: missing`));
    assert.match(
      errorOf(FULL_TOML.replace('backend = "redis"\n', "")),
      /\[tool\.schedctl\.lock\] backend: missing: expected one of "redis", "file", "none"/,
    );
  });

  test("inline tables and dotted keys are located too", () => {
    const text = 'app = "a"\nwsgi = "m:app"\nlock = { backend = "redis",\n  ttl = 0 }\n';
    assert.equal(
      errorOf(text, "toml"),
      "schedctl.toml:4: [lock] ttl: must be between 2 and 3600 seconds, got 0",
    );
    assert.equal(
      errorOf('app = "a"\nwsgi = "m:app"\n\ntimeouts.request = 1.5\n', "toml"),
      "schedctl.toml:4: [timeouts] request: expected a whole number of seconds, got 1.5",
    );
  });

  test("the first problem (by line) is shown, with a count of the others", () => {
    const text = FULL_TOML.replace("port = 8000", 'port = "8000"').replace("ttl = 30", "ttl = -1");
    assert.match(
      errorOf(text),
      /\[tool\.schedctl\] port: expected a whole number of port number .* \(and 1 more\)$/,
    );
  });

  test("invalid TOML, binary and huge files", () => {
    assert.match(errorOf('[tool.schedctl]\napp = "a\n'), /^pyproject\.toml:2: invalid TOML: /);
    assert.equal(errorOf("app = 1\u0000"), "pyproject.toml: not a text file (contains NUL bytes)");
    assert.match(errorOf(`# ${"x".repeat(1024 * 1024)}\n`), /too large for a config file/);
    assert.equal(
      errorOf('[project]\nname = "x"\n'),
      "pyproject.toml: no [tool.schedctl] table (run `schedctl init`)",
    );
  });

  test("lock keys must belong to the backend", () => {
    assert.match(
      errorOf(FULL_TOML.replace('backend = "redis"', 'backend = "file"')),
      /\[tool\.schedctl\.lock\] ttl: only used with backend = "redis", not "file"/,
    );
    assert.match(
      errorOf(FULL_TOML.replace('backend = "redis"', 'backend = "none"\npath = "/tmp/x.lock"')),
      /path: only used with backend = "file", not "none"/,
    );
  });

  test("a Redis URL with a password is refused, and the password never printed", () => {
    const msg = errorOf(
      FULL_TOML.replace('backend = "redis"', 'backend = "redis"\nurl = "redis://:s3cret@redis:6379/0"'),
    );
    assert.match(
      msg,
      /url: "redis:\/\/:\*\*\*@redis:6379\/0": must not contain a password .*SCHEDCTL_REDIS_URL/,
    );
    assert.ok(!msg.includes("s3cret"));
    assert.match(
      errorOf(FULL_TOML.replace('backend = "redis"', 'backend = "redis"\nkey = "myapp:lock"')),
      /key: expected a key in schedctl's namespace/,
    );
  });

  test("zones: unknown and legacy names are rejected with the canonical name", () => {
    assert.match(
      errorOf(FULL_TOML.replace("Europe/Berlin", "Europe/Berlinn")),
      /timezone: "Europe\/Berlinn" is not a time zone the IANA database knows/,
    );
    assert.match(
      errorOf(FULL_TOML.replace("Europe/Berlin", "US/Central")),
      /legacy alias .*tzdata-legacy.*use "America\/Chicago"/,
    );
    assert.match(zoneProblem("PRC") ?? "", /use "Asia\/Shanghai"/);
    assert.match(zoneProblem("Zulu") ?? "", /use "Etc\/UTC"/);
    assert.equal(zoneProblem("Etc/UTC"), null);
    assert.equal(zoneProblem("America/Argentina/Buenos_Aires"), null);
    assert.match(
      errorOf(FULL_TOML.replace("Europe/Berlin", "../../etc/passwd")),
      /timezone: expected an IANA zone name/,
    );
  });

  test("python must match the base image; Ubuntu and distroless fix it", () => {
    assert.match(
      errorOf(FULL_TOML.replace("port = 8000", 'port = 8000\npython = "3.11"')),
      /python: "3\.11" does not match base-image python:3\.12-slim/,
    );
    assert.match(
      errorOf(
        FULL_TOML.replace("python:3.12-slim", "gcr.io/distroless/python3-debian12").replace(
          "port = 8000",
          'port = 8000\npython = "3.12"',
        ),
      ),
      /base-image gcr\.io\/distroless\/python3-debian12, which runs Python 3\.11; set python = "3\.11"/,
    );
    assert.equal(
      parseConfigText(FULL_TOML.replace("python:3.12-slim", "ubuntu:24.04"), "pyproject.toml", "pyproject")
        .python,
      "3.12",
    );
    // without a python key, the image's Python is the Python
    assert.equal(
      parseConfigText(
        FULL_TOML.replace("python:3.12-slim", "gcr.io/distroless/python3-debian12"),
        "pyproject.toml",
        "pyproject",
      ).python,
      "3.11",
    );
    assert.match(
      errorOf(FULL_TOML.replace("python:3.12-slim", "python:3.12-bullseye")),
      /base-image: expected one of/,
    );
  });

  test("routes colliding with the generated locations (nginx: duplicate location) are rejected", () => {
    assert.match(
      errorOf(FULL_TOML.replace('"/tasks",', '"= /scheduler",')),
      /routes\[2\]: "= \/scheduler" is the same nginx location as the scheduler API's "= \/scheduler"/,
    );
    assert.match(
      errorOf(FULL_TOML.replace('"/tasks",', '"/scheduler/",')),
      /same nginx location as the scheduler API's "\^~ \/scheduler\/"/,
    );
    assert.match(errorOf(FULL_TOML.replace('"/tasks",', '"^~ /",')), /the web pool's "location \/"/);
    assert.match(
      errorOf(FULL_TOML.replace('"/tasks",', '"^~ /jobs/run",\n  "/jobs/run",')),
      /"\/jobs\/run" is the same nginx location as "\^~ \/jobs\/run"/,
    );
    // an exact and a prefix location of the same name are distinct in nginx
    assert.doesNotThrow(() =>
      parseConfigText(FULL_TOML.replace('"/tasks",', '"/jobs/run",'), "pyproject.toml", "pyproject"),
    );
  });

  test("route problems in words", () => {
    assert.equal(routeProblem("~ ^/x{2}$"), null, "{} are quantifiers inside a quoted regex");
    assert.match(routeProblem("/x{2}") ?? "", /would open or close an nginx block/);
    assert.match(routeProblem("~ a b") ?? "", /use \\s/);
    assert.match(routeProblem('~ a"') ?? "", /quotes/);
    assert.match(routeProblem("~ a\\") ?? "", /trailing backslash/);
    assert.match(routeProblem("~ a\\\\b") ?? "", /doubled backslash/);
    assert.match(routeProblem("~ a\\nb") ?? "", /raw control characters/);
    assert.match(routeProblem("= /a\nlocation / {") ?? "", /line break/);
    assert.match(routeProblem("^~/x") ?? "", /one space after "\^~"/);
    assert.match(routeProblem("/a$host") ?? "", /nginx variable/);
    assert.match(routeProblem("jobs") ?? "", /a path starts with "\/"/);
  });

  test("validateConfig rejects non-tables and wrong types without throwing", () => {
    for (const raw of [
      null,
      3,
      "x",
      [],
      { app: 1, wsgi: [] },
      { app: "a", wsgi: "m:a", scheduler: "x" },
      { app: "a", wsgi: "m:a", scheduler: { routes: [1] } },
    ]) {
      const r = validateConfig(raw);
      assert.equal(r.config, null);
      assert.ok(r.issues.length > 0);
    }
  });
});

describe("config: base images", () => {
  test("each supported image maps to its distro facts", () => {
    assert.deepEqual(
      [
        "python:3.12-slim",
        "python:3.13-slim-bookworm",
        "python:3.12-alpine3.20",
        "ubuntu:noble",
        "gcr.io/distroless/python3-debian12:nonroot",
      ].map((r) => {
        const i = classifyBaseImage(r);
        return i && [i.flavor, i.osId, i.osVersion, i.python, i.usesEtcTimezone, i.hasTzdata, i.buildImage];
      }),
      [
        ["debian", "debian", "13", "3.12", false, true, null],
        ["debian", "debian", "12", "3.13", true, true, null],
        ["alpine", "alpine", "3.20", "3.12", true, true, null],
        ["ubuntu", "ubuntu", "24.04", "3.12", true, false, null],
        ["distroless", "debian", "12", "3.11", true, true, "python:3.11-slim-bookworm"],
      ],
    );
    assert.equal(classifyBaseImage("debian:12"), null);
  });
});

describe("config: the TOML key locator", () => {
  test("multi-line strings, arrays, inline tables, quoted and dotted keys, arrays of tables", () => {
    const text = [
      "[tool.poetry]", //1
      'description = """', //2
      "[tool.schedctl]", //3  inside a string: not a header
      '"""', //4
      "[[tool.poetry.source]]", //5
      'name = "a"', //6
      "[[tool.poetry.source]]", //7
      'name = "b"', //8
      "[tool.schedctl]", //9
      'app = "x" # [not.a.table]', //10
      '"quoted key" = 1', //11
      "scheduler.routes = [", //12
      '  "= /a", # one', //13
      "  '/b',", //14
      "]", //15
      "lock = { backend = 'redis', ttl = 3 }", //16
    ].join("\n");
    const kl = keyLines(text);
    assert.equal(kl.lineOf(["tool", "schedctl", "app"]), 10);
    assert.equal(kl.lineOf(["tool", "schedctl", "quoted key"]), 11);
    assert.equal(kl.lineOf(["tool", "schedctl", "scheduler", "routes"]), 12);
    assert.equal(kl.lineOf(["tool", "schedctl", "scheduler", "routes", 1]), 14);
    assert.equal(kl.lineOf(["tool", "schedctl", "lock", "ttl"]), 16);
    assert.equal(kl.lineOf(["tool", "poetry", "source", 1, "name"]), 8);
    assert.equal(kl.lineOf(["tool", "schedctl", "nope"]), 9, "falls back to the table");
    assert.deepEqual(
      tableHeaders(text).map((h) => [h.line, h.path.join(".")]),
      [
        [1, "tool.poetry"],
        [5, "tool.poetry.source"],
        [7, "tool.poetry.source"],
        [9, "tool.schedctl"],
      ],
    );
  });
});
