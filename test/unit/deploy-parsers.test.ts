// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile, compose and shell text with ${VAR} on purpose
/**
 * The pure readers behind the workers/deploy checks: shell words, Gunicorn's command line and config file with
 * its precedence, compose and Kubernetes YAML, the small Python evaluator, and the guard analysis of app code.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { interpolate, parseCompose, parseDuration } from "../../src/deploy/compose.js";
import { analyzeGuards } from "../../src/deploy/guard.js";
import {
  containerArgv,
  effectiveSetting,
  effectiveWorkers,
  evaluateGunicornConfig,
  findGunicorn,
  parseGunicornArgs,
  parseGunicornConfig,
} from "../../src/deploy/gunicorn.js";
import { expandK8sVars, parseK8s } from "../../src/deploy/k8s.js";
import { rewriteGunicornArgs } from "../../src/deploy/model.js";
import { blocks, evalExpr, execBlocks, logicalLines, newContext, pyRepr } from "../../src/deploy/pyexpr.js";
import { parseShell, shlexSplit } from "../../src/deploy/shell.js";

describe("shell reader", () => {
  test("simple commands everywhere: lists, pipes, subshells, if bodies, substitutions", () => {
    const s = parseShell(
      'A=1 apt-get update && (cd /x; make) | tee log; if [ -f a ]; then echo "$(id -u)"; fi',
    );
    assert.deepEqual(
      s.commands.map((c) => c.words.map((w) => w.text).join(" ")),
      ["apt-get update", "cd /x", "make", "tee log", "[ -f a ]", "echo ${id-u}", "id -u"],
    );
    assert.deepEqual(s.commands[0]?.assignments, [{ name: "A", value: "1" }]);
    assert.equal(s.hasPipe, true);
  });
  test("redirections are not words; 2>&1 is one redirection", () => {
    const s = parseShell("echo hi > /etc/timezone 2>&1");
    assert.deepEqual(
      s.commands[0]?.words.map((w) => w.text),
      ["echo", "hi"],
    );
    assert.deepEqual(s.commands[0]?.redirects, [">/etc/timezone", ">&1"]);
  });
  test("runtime expansion with defaults; unknown values are reported", () => {
    const env: Record<string, string> = { W: "3" };
    const s = parseShell(
      "exec gunicorn -w ${WORKERS:-${W}} --bind 0.0.0.0:${PORT-8000} $(nproc)",
      (n) => env[n],
    );
    assert.deepEqual(
      s.commands[0]?.words.map((w) => w.text),
      ["exec", "gunicorn", "-w", "3", "--bind", "0.0.0.0:8000", ""],
    );
    assert.deepEqual(s.commands[0]?.words[6]?.unresolved, ["$(nproc)"]);
  });
  test("backquote substitution, bare and inside double quotes: its commands are read, its value is unknown", () => {
    const script = 'echo `id -u` "x`hostname`y"';
    assert.deepEqual(
      parseShell(script).commands.map((c) => c.words.map((w) => w.text)),
      [["echo", "${VAR}", "x${VAR}y"], ["id", "-u"], ["hostname"]],
    );
    assert.deepEqual(
      parseShell(script, () => undefined).commands[0]?.words.map((w) => [w.text, w.unresolved]),
      [
        ["echo", []],
        ["", ["`id -u`"]],
        ["xy", ["`hostname`"]],
      ],
    );
  });
  test("shlex.split like Python", () => {
    assert.deepEqual(shlexSplit(`--workers=5 --bind "0.0.0.0:80" -e 'A=b c'`).words, [
      "--workers=5",
      "--bind",
      "0.0.0.0:80",
      "-e",
      "A=b c",
    ]);
    assert.equal(shlexSplit(`--name "x`).error, "No closing quotation");
  });
});

describe("Gunicorn command line (argparse semantics, verified against gunicorn 20.1)", () => {
  const w = (args: string[]) =>
    parseGunicornArgs(args)
      .settings.filter((s) => s.setting === "workers")
      .map((s) => s.value);
  test("-w 4, -w4, -w=4, --workers 4, --workers=4; the last one wins", () => {
    assert.deepEqual(w(["-w", "4"]), [4]);
    assert.deepEqual(w(["-w4"]), [4]);
    assert.deepEqual(w(["-w=4"]), [4]);
    assert.deepEqual(w(["--workers", "4"]), [4]);
    assert.deepEqual(w(["--workers=4"]), [4]);
    assert.deepEqual(w(["-w", "2", "-w", "3"]), [2, 3]);
    assert.deepEqual(w(["--workers", "08"]), [8], "argparse type=int is int(), base 10");
  });
  test("unique prefixes are accepted, ambiguous ones rejected like argparse", () => {
    const a = parseGunicornArgs(["--pre", "--grace", "10", "--max-req", "3", "--work", "2", "app:app"]);
    assert.deepEqual(
      a.settings.map((s) => [s.setting, s.value]),
      [
        ["preload_app", true],
        ["graceful_timeout", 10],
      ],
    );
    assert.deepEqual(a.errors, [
      "ambiguous option: --max-req could match --max-requests, --max-requests-jitter",
      "ambiguous option: --work could match --workers, --worker-class, --worker-connections, --worker-tmp-dir",
    ]);
  });
  test("values, flags and the app", () => {
    const a = parseGunicornArgs([
      "-c",
      "conf.py",
      "-b",
      "0.0.0.0:8000",
      "-b",
      "[::]:8000",
      "--preload",
      "--max-requests",
      "1000",
      "-k",
      "gthread",
      "--threads",
      "4",
      "myapp.wsgi:application",
    ]);
    assert.equal(a.app, "myapp.wsgi:application");
    assert.deepEqual(a.errors, []);
    assert.deepEqual(Object.fromEntries(a.settings.map((s) => [s.setting, s.value])), {
      config: "conf.py",
      bind: "[::]:8000",
      preload_app: true,
      max_requests: 1000,
      worker_class: "gthread",
      threads: 4,
    });
    assert.deepEqual(parseGunicornArgs(["--workers", "x"]).errors, [
      "argument -w/--workers: invalid int value: 'x'",
    ]);
    assert.deepEqual(parseGunicornArgs(["--bogus"]).errors, ["unrecognized arguments: --bogus"]);
  });
  test("rewriting one flag keeps the others and the written style", () => {
    assert.deepEqual(rewriteGunicornArgs(["-w", "4", "app:app"], "workers", "1"), ["-w", "1", "app:app"]);
    assert.deepEqual(rewriteGunicornArgs(["--workers=4", "app:app"], "workers", "1"), [
      "--workers=1",
      "app:app",
    ]);
    assert.deepEqual(rewriteGunicornArgs(["-w4", "--preload", "app:app"], "preload_app", null), [
      "-w4",
      "app:app",
    ]);
    assert.deepEqual(rewriteGunicornArgs(["app:app"], "workers", "1"), ["--workers", "1", "app:app"]);
  });
});

describe("finding gunicorn in a container command", () => {
  test("exec form, sh -c, exec, env assignments, python -m, wrappers", () => {
    assert.deepEqual(findGunicorn(["gunicorn", "-w", "2", "app:app"], {})?.args, ["-w", "2", "app:app"]);
    const sh = findGunicorn(["/bin/sh", "-c", "flask db upgrade && exec gunicorn -w ${WORKERS:-3} app:app"], {
      WORKERS: "5",
    });
    assert.deepEqual(sh?.args, ["-w", "5", "app:app"]);
    assert.deepEqual(findGunicorn(["sh", "-c", "WEB_CONCURRENCY=2 gunicorn app:app"], {})?.envOverrides, {
      WEB_CONCURRENCY: "2",
    });
    const py = findGunicorn(["tini", "--", "python3", "-m", "gunicorn", "--preload", "app:app"], {});
    assert.deepEqual(
      [py?.args, py?.via],
      [
        ["--preload", "app:app"],
        ["wrapped by tini --", "python3 -m gunicorn"],
      ],
    );
    assert.deepEqual(
      findGunicorn(["env", "GUNICORN_CMD_ARGS=--workers=3", "/usr/local/bin/gunicorn", "app:app"], {})
        ?.envOverrides,
      { GUNICORN_CMD_ARGS: "--workers=3" },
    );
    assert.equal(findGunicorn(["python", "worker.py"], {}), null);
  });
  test('entrypoint scripts: exported variables and exec "$@"', () => {
    const scripts = {
      "docker/entrypoint.sh":
        '#!/bin/sh\nset -e\nexport GUNICORN_CMD_ARGS="--max-requests 500"\nflask db upgrade\nexec "$@"\n',
      "start.sh": '#!/bin/bash\nexec gunicorn -c gunicorn.conf.py -w "$WORKERS_COUNT" app:app\n',
    };
    const a = findGunicorn(["/entrypoint.sh", "gunicorn", "app:app"], {}, scripts);
    assert.deepEqual([a?.args, a?.envOverrides], [["app:app"], { GUNICORN_CMD_ARGS: "--max-requests 500" }]);
    const b = findGunicorn(["./start.sh"], { WORKERS_COUNT: "2" }, scripts);
    assert.deepEqual([b?.args, b?.via], [["-c", "gunicorn.conf.py", "-w", "2", "app:app"], ["start.sh:2"]]);
  });
  test("ENTRYPOINT/CMD composition like Docker", () => {
    assert.deepEqual(
      containerArgv({ json: ["tini", "--"], shell: null }, { json: null, shell: "gunicorn app:app" }),
      ["tini", "--", "/bin/sh", "-c", "gunicorn app:app"],
    );
    assert.deepEqual(
      containerArgv({ json: null, shell: "gunicorn app:app" }, { json: ["ignored"], shell: null }),
      ["/bin/sh", "-c", "gunicorn app:app"],
    );
  });
});

describe("gunicorn.conf.py, evaluated statically", () => {
  const conf = parseGunicornConfig(
    [
      "import os",
      "import multiprocessing as mp",
      'bind = "0.0.0.0:" + os.environ.get("PORT", "8000")',
      'workers = int(os.environ.get("WORKERS_COUNT", os.environ.get("WEB_CONCURRENCY", 2)))',
      'if os.environ.get("ROLE") == "scheduler":',
      "    workers = 1",
      "    max_requests = 0",
      "else:",
      "    max_requests = 1000",
      "preload_app = workers > 1",
      "threads = mp.cpu_count()",
      "",
      "def post_fork(server, worker):",
      "    if worker.age == 1:",
      "        scheduler.start()",
    ].join("\n"),
  );
  test("assignments with their conditions, and hooks", () => {
    assert.deepEqual(
      conf.assignments.map((a) => [a.name, a.line, a.conditions]),
      [
        ["bind", 3, []],
        ["workers", 4, []],
        ["workers", 6, ['os.environ.get("ROLE") == "scheduler"']],
        ["max_requests", 7, ['os.environ.get("ROLE") == "scheduler"']],
        ["max_requests", 9, ["else"]],
        ["preload_app", 10, []],
        ["threads", 11, []],
      ],
    );
    assert.deepEqual(
      conf.hooks.map((h) => [h.name, h.line]),
      [["post_fork", 13]],
    );
  });
  test("values follow the environment; the CPU count stays unknown", () => {
    const v = (env: Record<string, string>) => {
      const e = evaluateGunicornConfig(conf, env);
      return Object.fromEntries(Object.entries(e.values).map(([k, x]) => [k, pyRepr(x.value)]));
    };
    assert.deepEqual(v({}), {
      bind: "'0.0.0.0:8000'",
      workers: "2",
      max_requests: "1000",
      preload_app: "True",
      threads: "<depends on the CPU count (multiprocessing.cpu_count())>",
    });
    assert.deepEqual(v({ ROLE: "scheduler", WORKERS_COUNT: "4", PORT: "9000" }).workers, "1");
    assert.deepEqual(v({ WEB_CONCURRENCY: "6" }).workers, "6");
    assert.equal(evaluateGunicornConfig(conf, {}, { cpuCount: 4 }).values.threads?.value.t, "int");
  });
  test("what Python raises stops the file, like Gunicorn does", () => {
    const bad = parseGunicornConfig(
      'import os\nworkers = int(os.environ["WORKERS_COUNT"])\nmax_requests = 5\n',
    );
    const e = evaluateGunicornConfig(bad, {});
    assert.deepEqual(e.error, { line: 2, exc: "KeyError: 'WORKERS_COUNT'" });
    assert.equal(e.values.max_requests, undefined);
    assert.equal(
      evaluateGunicornConfig(bad, { WORKERS_COUNT: "abc" }).error?.exc,
      "ValueError: invalid literal for int() with base 10: 'abc'",
    );
  });
});

describe("effective settings with Gunicorn's precedence: CLI > GUNICORN_CMD_ARGS > config file > WEB_CONCURRENCY > 1", () => {
  const files = {
    "gunicorn.conf.py": parseGunicornConfig('import os\nworkers = int(os.environ.get("WORKERS_COUNT", 2))\n'),
  };
  const cli = (args: string[]) => ({ cli: { args: [...args, "app:app"], where: "CMD" }, configFiles: files });
  test("each layer wins over the ones below it", () => {
    const r = (args: string[], env: Record<string, string>) => {
      const e = effectiveWorkers(cli(args), env);
      return [e.value, e.decidedBy];
    };
    assert.deepEqual(r([], {}), [2, "config"]);
    assert.deepEqual(r([], { WORKERS_COUNT: "3", WEB_CONCURRENCY: "7" }), [3, "config"]);
    assert.deepEqual(r([], { GUNICORN_CMD_ARGS: "--workers=5", WEB_CONCURRENCY: "3" }), [
      5,
      "GUNICORN_CMD_ARGS",
    ]);
    assert.deepEqual(r(["-w", "4"], { GUNICORN_CMD_ARGS: "-w 5" }), [4, "cli"]);
    assert.deepEqual(
      [
        effectiveWorkers({ cli: { args: ["app:app"], where: "x" } }, { WEB_CONCURRENCY: "3" }).value,
        effectiveWorkers({ cli: { args: ["app:app"], where: "x" } }, {}).value,
      ],
      [3, 1],
    );
  });
  test("every source is listed, exactly one wins", () => {
    const e = effectiveWorkers(cli(["-w", "4"]), { WEB_CONCURRENCY: "3", GUNICORN_CMD_ARGS: "--workers 5" });
    assert.deepEqual(
      e.sources.map((s) => [s.kind, s.value, s.wins]),
      [
        ["WEB_CONCURRENCY", 3, false],
        ["config", 2, false],
        ["GUNICORN_CMD_ARGS", 5, false],
        ["cli", 4, true],
      ],
    );
  });
  test("-c in GUNICORN_CMD_ARGS picks the file when the command line has none; -c replaces ./gunicorn.conf.py", () => {
    const two = { ...files, "conf/prod.py": parseGunicornConfig("workers = 9\n") };
    assert.equal(
      effectiveWorkers(
        { cli: { args: ["app:app"], where: "x" }, configFiles: two },
        { GUNICORN_CMD_ARGS: "-c conf/prod.py" },
      ).value,
      9,
    );
    assert.equal(
      effectiveWorkers(
        { cli: { args: ["-c", "/app/conf/prod.py", "app:app"], where: "x" }, configFiles: two, cwd: "/app" },
        {},
      ).value,
      9,
    );
    const missing = effectiveWorkers(
      { cli: { args: ["-c", "/etc/gunicorn.py", "app:app"], where: "x" }, configFiles: two },
      {},
    );
    assert.equal(
      missing.sources.find((s) => s.kind === "config")?.note,
      "/etc/gunicorn.py is not in the app dir: its settings are unknown",
    );
  });
  test("what Gunicorn refuses: bad WEB_CONCURRENCY even when overridden, floats in the config, negative values", () => {
    assert.match(
      effectiveWorkers(cli(["-w", "2"]), { WEB_CONCURRENCY: "abc" }).startupError ?? "",
      /WEB_CONCURRENCY="abc": gunicorn.config raises ValueError/,
    );
    const f = {
      "g.py": parseGunicornConfig("import multiprocessing\nworkers = multiprocessing.cpu_count() / 2\n"),
    };
    const half = effectiveWorkers(
      { configFiles: f, cli: { args: ["-c", "g.py", "app:app"], where: "x" }, cpuCount: 4 },
      {},
    );
    assert.equal(
      half.startupError,
      "g.py:2: Invalid value for workers: 2.0 (int() can't convert non-string with explicit base)",
    );
    assert.match(effectiveWorkers(cli(["-w", "-1"]), {}).startupError ?? "", /Value must be positive: -1/);
  });
  test("a CPU-dependent count is unknown, with a lower bound and examples", () => {
    const f = {
      "gunicorn.conf.py": parseGunicornConfig(
        "import multiprocessing\nworkers = multiprocessing.cpu_count() * 2 + 1\n",
      ),
    };
    const e = effectiveWorkers({ configFiles: f }, {});
    assert.equal(e.value, null);
    assert.equal(e.min, 3);
    assert.deepEqual(
      e.unknown?.examples.map((x) => [x.cpus, x.value]),
      [
        [1, 3],
        [2, 5],
        [4, 9],
        [8, 17],
      ],
    );
  });
  test("booleans and max_requests follow the same precedence", () => {
    const f = { "gunicorn.conf.py": parseGunicornConfig("preload_app = True\nmax_requests = 1000\n") };
    assert.equal(effectiveSetting("preload_app", { configFiles: f }, {}).value, true);
    assert.equal(
      effectiveSetting("max_requests", { configFiles: f }, { GUNICORN_CMD_ARGS: "--max-requests 0" }).value,
      0,
    );
    const bad = { "gunicorn.conf.py": parseGunicornConfig("preload_app = 1\n") };
    assert.match(
      effectiveSetting("preload_app", { configFiles: bad }, {}).startupError ?? "",
      /Invalid type for casting: 1/,
    );
  });
});

describe("Python expressions", () => {
  const ev = (s: string, env: Record<string, string> = {}) => pyRepr(evalExpr(s, newContext(env)));
  test("environment reads, conversions, string methods, comparisons", () => {
    assert.equal(ev('os.environ.get("X", "false").lower() in ("1", "true", "yes")', { X: "True" }), "True");
    assert.equal(ev('os.getenv("X")'), "None");
    assert.equal(ev('bool(os.getenv("X"))', { X: "0" }), "True", 'the classic trap: "0" is truthy');
    assert.equal(ev('"RUN" in os.environ', { RUN: "" }), "True");
    assert.equal(ev('int(" 3 ") * 2 + 1'), "7");
    assert.equal(ev("max(2, 1) if True else 0"), "2");
    assert.equal(ev("f\"0.0.0.0:{os.environ.get('PORT', 8000)}\""), "'0.0.0.0:8000'");
    assert.equal(
      ev('json.loads(os.environ.get("HOSTS", "[]"))', { HOSTS: '["scheduler"]' }),
      "['scheduler']",
    );
    assert.equal(ev('int("0x10", 0)'), "16");
    assert.equal(ev("some_call()"), "<depends on the name some_call>");
  });
});

describe("Python statements (module level and simple functions)", () => {
  const run = (src: string, env: Record<string, string> = {}) => {
    const ctx = newContext(env);
    const flow = execBlocks(blocks(logicalLines(src)), ctx);
    return { flow, get: (n: string) => pyRepr(ctx.names.get(n) ?? { t: "none" }) };
  };
  test("functions with loops, try/except and early returns", () => {
    const src = [
      "import os",
      "def _env_int(name):",
      '    raw = os.environ.get(name, "").strip()',
      "    if not raw:",
      "        return None",
      "    try:",
      "        value = int(raw)",
      "    except ValueError:",
      '        raise SystemExit("%s=%r is not a whole number" % (name, raw)) from None',
      "    return value",
      "def _workers():",
      '    for name in ("WORKERS_COUNT", "WEB_CONCURRENCY"):',
      "        value = _env_int(name)",
      "        if value is not None:",
      "            return value",
      "    return 3",
      "workers = _workers()",
      'bind = "0.0.0.0:%d" % (_env_int("PORT") or 8000)',
    ].join("\n");
    assert.deepEqual([run(src).get("workers"), run(src).get("bind")], ["3", "'0.0.0.0:8000'"]);
    assert.equal(run(src, { WEB_CONCURRENCY: "5" }).get("workers"), "5");
    assert.equal(
      run(src, { WORKERS_COUNT: "2", WEB_CONCURRENCY: "5", PORT: "9000" }).get("bind"),
      "'0.0.0.0:9000'",
    );
    assert.deepEqual(run(src, { WORKERS_COUNT: "two" }).flow, {
      kind: "raise",
      exc: "SystemExit: WORKERS_COUNT='two' is not a whole number",
      line: 17,
    });
  });
  test("an undecidable branch makes what it assigns unknown", () => {
    const r = run("import random\nif random.random() > 0.5:\n    workers = 2\nelse:\n    workers = 4\n");
    assert.match(r.get("workers"), /^<depends on the condition `random\.random\(\) > 0\.5` \(line 2\)>$/);
  });
});

describe("compose", () => {
  test("interpolation: defaults, alternatives, required, nested, $$", () => {
    const warn: string[] = [];
    const r = (s: string, env: Record<string, string> = {}) => interpolate(s, env, (m) => warn.push(m));
    assert.equal(r("${A:-x}-${B-y}-${C:+z}-$$D", { C: "1", B: "" }).value, "x--z-$D");
    assert.equal(r("${A:-${B:-deep}}").value, "deep");
    assert.equal(r("${TZ}").value, "");
    assert.deepEqual(warn, ['The "TZ" variable is not set. Defaulting to a blank string.']);
    assert.equal(r("${REQ:?set it}").error, "required variable REQ is missing a value: set it");
  });
  test("durations", () => {
    assert.deepEqual(["10s", "1m30s", "2m", "1.5s", "500ms", "1h", "x"].map(parseDuration), [
      10,
      90,
      120,
      1.5,
      0.5,
      3600,
      null,
    ]);
  });
  test("services: anchors and merge keys, list and map environment, env_file, replicas, build, command", () => {
    const text = [
      'version: "3.8"',
      "x-app: &app",
      "  build:",
      "    context: .",
      "    target: app",
      "  environment:",
      "    TZ: ${TZ:-Asia/Shanghai}",
      "services:",
      "  web:",
      "    <<: *app",
      "    command: gunicorn -w ${WEB_WORKERS:-4} app:app",
      "    deploy:",
      "      replicas: 3",
      "  scheduler:",
      "    <<: *app",
      "    hostname: scheduler",
      "    env_file: [.env.scheduler]",
      "    environment:",
      "      - WORKERS_COUNT=1",
      "      - PASSED_THROUGH",
      "    scale: 1",
      "    stop_grace_period: 1m",
    ].join("\n");
    const { project, error } = parseCompose(
      text,
      "docker-compose.yml",
      { PASSED_THROUGH: "yes" },
      { ".env.scheduler": "RUN_SCHEDULER=1\n" },
    );
    assert.equal(error, null);
    assert.ok(project);
    assert.deepEqual(project.version, { value: "3.8", line: 1 });
    const [web, sched] = project.services;
    assert.deepEqual(
      [web?.name, web?.replicas, web?.command, web?.build?.target, web?.environment],
      ["web", 3, ["gunicorn", "-w", "4", "app:app"], "app", { TZ: "Asia/Shanghai" }],
    );
    assert.equal(web?.replicasFrom, "docker-compose.yml:12 deploy.replicas");
    assert.deepEqual(sched?.environment, { RUN_SCHEDULER: "1", WORKERS_COUNT: "1", PASSED_THROUGH: "yes" });
    assert.deepEqual(sched?.envSources, {
      RUN_SCHEDULER: ".env.scheduler:1",
      WORKERS_COUNT: "docker-compose.yml:19",
      PASSED_THROUGH: "docker-compose.yml:20 (from the shell environment)",
    });
    assert.deepEqual(
      [sched?.hostname, sched?.replicas, sched?.stopGracePeriod?.seconds],
      ["scheduler", 1, 60],
    );
  });
  test("a syntax error is one line with file:line", () => {
    const r = parseCompose(
      "services:\n  web:\n    command: [gunicorn, -w\n  db:\n    image: x\n",
      "compose.yaml",
      {},
    );
    assert.equal(r.project, null);
    assert.match(r.error ?? "", /^compose\.yaml:\d+: [^\n]+$/);
  });
});

describe("Kubernetes manifests", () => {
  const text = [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata: {name: env}",
    "data: {ROLE: scheduler}",
    "---",
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata: {name: sched, namespace: prod}",
    "spec:",
    "  replicas: 2",
    "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}",
    "  template:",
    "    spec:",
    "      containers:",
    "        - name: app",
    "          image: myapp:1",
    "          args: [gunicorn, -w, $(WORKERS), app:app]",
    "          env:",
    "            - {name: WORKERS, value: '1'}",
    "            - name: SECRET",
    "              valueFrom: {secretKeyRef: {name: s, key: k}}",
    "          envFrom: [{configMapRef: {name: env}}]",
    "---",
    "apiVersion: autoscaling/v2",
    "kind: HorizontalPodAutoscaler",
    "metadata: {name: sched}",
    "spec: {scaleTargetRef: {kind: Deployment, name: sched}, minReplicas: 2, maxReplicas: 4}",
  ].join("\n");
  test("workloads, containers, HPAs and ConfigMaps across documents", () => {
    const m = parseK8s(text, "k8s/app.yaml");
    assert.equal(m.error, null);
    assert.equal(m.documents, 3);
    const w = m.workloads[0];
    assert.deepEqual(
      [w?.kind, w?.name, w?.namespace, w?.replicas, w?.strategy, w?.maxSurge, w?.line],
      ["Deployment", "sched", "prod", 2, "RollingUpdate", 1, 6],
    );
    assert.deepEqual(w?.containers[0]?.args, ["gunicorn", "-w", "$(WORKERS)", "app:app"]);
    assert.deepEqual(w?.containers[0]?.envRefs, { SECRET: "secretKeyRef s/k" });
    assert.deepEqual(
      m.hpas.map((h) => [h.target.name, h.maxReplicas]),
      [["sched", 4]],
    );
    assert.deepEqual(m.configMaps, [{ name: "env", namespace: null, data: { ROLE: "scheduler" } }]);
    assert.equal(expandK8sVars("-w $(WORKERS) $$(KEEP) $(NOPE)", { WORKERS: "1" }), "-w 1 $(KEEP) $(NOPE)");
  });
  test("a syntax error is one line with file:line", () => {
    const m = parseK8s("kind: Deployment\nspec:\n  replicas: [1\n", "k8s/bad.yaml");
    assert.match(m.error ?? "", /^k8s\/bad\.yaml:\d+: [^\n]+$/);
  });
});

describe("guard analysis of the app's code (locks.md §2)", () => {
  const one = (text: string, role: "app" | "gunicorn-config" = "app") =>
    analyzeGuards([{ path: "app.py", text, role }]).starts;
  test("no guard at module level", () => {
    const s = one(
      "from apscheduler.schedulers.background import BackgroundScheduler\nscheduler = BackgroundScheduler()\nscheduler.start()\n",
    );
    assert.deepEqual(
      s.map((x) => [x.line, x.context, x.guards.length]),
      [[3, "module", 0]],
    );
  });
  test("an environment flag, directly or through a module variable", () => {
    const a = one('import os\nif os.environ.get("RUN_SCHEDULER"):\n    scheduler.start()\n');
    assert.deepEqual(
      a[0]?.guards.map((g) => [g.kind, g.condition, g.variables]),
      [["env-flag", 'os.environ.get("RUN_SCHEDULER")', ["RUN_SCHEDULER"]]],
    );
    const b = one(
      'import os\nRUN = os.getenv("ROLE") == "scheduler"\ndef create_app():\n    if not RUN:\n        return app\n    scheduler.start()\n    return app\napp = create_app()\n',
    );
    assert.deepEqual(
      b[0]?.guards.map((g) => [g.kind, g.condition, g.variables]),
      [["env-flag", "not (not RUN)", ["ROLE"]]],
    );
    assert.deepEqual([b[0]?.context, b[0]?.function, b[0]?.calledAtImport], ["function", "create_app", true]);
  });
  test("fcntl.flock in a helper used as the condition, with the lock path", () => {
    const s = one(
      'import fcntl\ndef lock():\n    f = open("/tmp/scheduler.lock", "wb")\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    return f\nif lock():\n    scheduler.start()\n',
    );
    assert.deepEqual(
      s[0]?.guards.map((g) => [g.kind, g.line, g.lockPath, g.scope]),
      [["file-lock", 4, "/tmp/scheduler.lock", "around"]],
    );
  });
  test("the try/flock/except-return pattern before the start", () => {
    const s = one(
      'import fcntl\nf = open("scheduler.lock", "wb")\ntry:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    scheduler.start()\nexcept BlockingIOError:\n    pass\n',
    );
    assert.deepEqual(
      s[0]?.guards.map((g) => g.kind),
      ["file-lock"],
    );
  });
  test("Redis locks: redis-py .lock(), SET NX, schedctl_lock", () => {
    assert.deepEqual(
      one(
        'import redis\nr = redis.Redis()\nif r.lock("sched", timeout=30).acquire(blocking=False):\n    scheduler.start()\n',
      )[0]?.guards.map((g) => [g.kind, g.ttl]),
      [["redis-lock", true]],
    );
    assert.deepEqual(
      one(
        'import redis\nr = redis.Redis()\nif r.set("sched:leader", "me", nx=True, ex=60):\n    scheduler.start()\n',
      )[0]?.guards.map((g) => g.kind),
      ["redis-lock"],
    );
    assert.deepEqual(
      one("from schedctl_lock import leader\nwith leader():\n    scheduler.start()\n")[0]?.guards.map(
        (g) => g.kind,
      ),
      ["redis-lock"],
    );
  });
  test("worker.age == 1 in a post_fork hook; __main__ blocks; request handlers", () => {
    const hook = one(
      "def post_fork(server, worker):\n    if worker.age == 1:\n        scheduler.start()\n",
      "gunicorn-config",
    );
    assert.deepEqual(
      [hook[0]?.context, hook[0]?.hook, hook[0]?.guards.map((g) => g.kind)],
      ["hook", "post_fork", ["worker-age"]],
    );
    assert.equal(
      one('if __name__ == "__main__":\n    scheduler.start()\n    app.run()\n')[0]?.context,
      "main-block",
    );
    assert.equal(
      one('@app.route("/start")\ndef start():\n    scheduler.start()\n    return "ok"\n')[0]?.context,
      "request",
    );
  });
  test("SCHEDULER_ALLOWED_HOSTS, SCHEDULER_API_ENABLED, from_prefixed_env, Flask-APScheduler", () => {
    const g = analyzeGuards([
      {
        path: "config.py",
        text: 'class Config:\n    SCHEDULER_ALLOWED_HOSTS = ["scheduler"]\n    SCHEDULER_API_ENABLED = True\n',
        role: "app",
      },
      {
        path: "app.py",
        text: "from flask_apscheduler import APScheduler\nscheduler = APScheduler()\napp.config.from_prefixed_env()\nscheduler.start()\n",
        role: "app",
      },
    ]);
    assert.deepEqual(g.allowedHosts, [{ file: "config.py", line: 2, expr: '["scheduler"]' }]);
    assert.deepEqual(g.apiEnabled, [{ file: "config.py", line: 3, value: "True" }]);
    assert.equal(g.fromPrefixedEnv, true);
    assert.equal(g.starts[0]?.flaskApscheduler, true);
  });
  test("thread.start() is not a scheduler start", () => {
    assert.deepEqual(one("import threading\nt = threading.Thread(target=f)\nt.start()\n"), []);
  });
});
