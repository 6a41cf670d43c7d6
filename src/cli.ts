import { Argument, Command, CommanderError, Option } from "commander";
import { VERSION } from "./version.js";

// The command tree only. Each action imports its command module lazily, so `schedctl --version` loads
// commander and nothing else. Typed errors become exit codes in main() below, and nowhere else.

const collect = (value: string, previous: string[]) => [...previous, value];

function buildProgram(): Command {
  const program = new Command("schedctl")
    .description(
      "Keeps in-process Python schedulers (APScheduler, Flask-APScheduler) honest under Gunicorn, Docker and nginx.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Exit codes:
  0  clean (warnings allowed unless --fail-on warn)
  1  findings at or above --fail-on
  2  usage or input error
  3  could not run a required check (unreadable root, container unreachable, check crashed)

Examples:
  schedctl doctor
  schedctl doctor --root ./rootfs --format json
  schedctl doctor --container web-1 --only tz`,
    );

  program
    .command("doctor")
    .description("diagnose timezone, duplicate-scheduler and routing problems")
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["text", "json", "github", "junit"])
        .default("text"),
    )
    .addOption(
      new Option("--fail-on <level>", "lowest status that makes the exit code 1")
        .choices(["warn", "fail"])
        .default("fail"),
    )
    .option("--only <ids>", "run only these checks or groups (comma-separated, repeatable)", collect, [])
    .option("--skip <ids>", "skip these checks or groups (comma-separated, repeatable)", collect, [])
    .option("--list", "list every check with its id, group and what it looks at")
    .option("--root <dir>", "read an unpacked image filesystem (docker export) instead of this host")
    .option("--container <name>", "read a running container through `docker exec`")
    .option("--app-dir <dir>", "where the app's config and sources are", ".")
    .option("--env <KEY=VAL>", "add a deploy-time environment variable (repeatable)", collect, [])
    .option("--env-file <file>", "add variables from a dotenv file (repeatable)", collect, [])
    .option("--at <iso-8601>", "evaluate as of this instant (reproducible DST cases)")
    .option("--lock-file <path>", "a scheduler lock file to inspect (repeatable)", collect, [])
    .option(
      "--redis <url>",
      "a Redis to scan for scheduler locks, read-only (repeatable; rediss://, cluster, sentinel)",
      collect,
      [],
    )
    .option("--pattern <glob>", "also treat Redis keys matching this glob as locks (repeatable)", collect, [])
    .option(
      "--logs <file>",
      "APScheduler log to search for duplicate runs; - for stdin, gzip accepted (repeatable)",
      collect,
      [],
    )
    .option("--url <url>", "the scheduler API as seen through the load balancer, e.g. https://app/scheduler")
    .option("--samples <n>", "requests to send to --url", "10")
    .option("--sample-interval <ms>", "time between two Redis TTL samples", "1000")
    .option("--timeout <ms>", "timeout of each network step", "5000")
    .option(
      "--nginx <file>",
      "the nginx configuration in front of the app (default: nginx.conf in --app-dir)",
    )
    .option("--no-color", "never colour the output")
    .option("-v, --verbose", "show details of passing checks, timings and gathering notes")
    .addHelpText(
      "after",
      `
Examples:
  schedctl doctor                                   # this host or container, human report
  schedctl doctor --root ./rootfs --format json     # an exported image, one JSON document on stdout
  schedctl doctor --only tz --env TZ=Asia/Shanghai  # the tz group with the deploy-time TZ
  schedctl doctor --format github --fail-on warn    # GitHub Actions annotations + step summary
  schedctl doctor --list                            # every check id
  schedctl doctor --redis redis://:secret@redis:6379/0 --lock-file /tmp/scheduler.lock
  schedctl doctor --logs /var/log/app.log.gz --url https://app.example/scheduler --samples 20`,
    )
    .action(async (opts) => {
      const { doctor } = await import("./commands/doctor.js");
      process.exitCode = await doctor(opts);
    });

  const locks = program
    .command("locks")
    .description("show the scheduler locks: kernel file locks and Redis lock keys")
    .addHelpText(
      "after",
      `
Examples:
  schedctl locks list --lock-file /app/scheduler.lock --redis redis://redis:6379/0
  schedctl locks probe redbeat::lock --redis redis://:secret@redis:6379/0
  schedctl locks release schedctl:lock:myapp --redis redis://redis:6379/0`,
    );
  locks
    .command("list")
    .description("every scheduler lock: file locks (kernel view, like lslocks) and Redis lock keys")
    .option("--redis <url>", "scan this Redis, read-only (repeatable)", collect, [])
    .option("--lock-file <path>", "a lock file to report even when nobody holds it (repeatable)", collect, [])
    .option("--pattern <glob>", "also treat Redis keys matching this glob as locks (repeatable)", collect, [])
    .option("--all", "every kernel file lock, not only those of Python and Gunicorn processes")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--sample-interval <ms>", "time between two TTL samples (renewal detection)", "1000")
    .option("--timeout <ms>", "timeout of each network step", "5000")
    .action(async (opts) => {
      const { locksList } = await import("./commands/locks.js");
      process.exitCode = await locksList(opts);
    });
  locks
    .command("probe")
    .argument("<name>", "a Redis key (with --redis) or an absolute lock file path")
    .description("one lock: held or not, by whom, since when, renewing or not (exit 0 held, 1 not held)")
    .option("--redis <url>", "the Redis that holds the key", collect, [])
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--sample-interval <ms>", "time between two TTL samples", "1000")
    .option("--timeout <ms>", "timeout of each network step", "5000")
    .action(async (name: string, opts) => {
      const { locksProbe } = await import("./commands/locks.js");
      process.exitCode = await locksProbe(name, opts);
    });
  locks
    .command("release")
    .argument("<name>", "the Redis key of a stale lock")
    .description("delete one stale Redis lock by compare-and-delete; refuses a renewing lock without --force")
    .option("--redis <url>", "the Redis that holds the key", collect, [])
    .option(
      "--token <value>",
      "delete only if the lock still holds this value (default: the value read just before)",
    )
    .option("--force", "release even a lock whose TTL is being renewed")
    .option("--sample-interval <ms>", "time between two TTL samples", "1000")
    .option("--timeout <ms>", "timeout of each network step", "5000")
    .action(async (name: string, opts) => {
      const { locksRelease } = await import("./commands/locks.js");
      process.exitCode = await locksRelease(name, opts);
    });

  const routes = program
    .command("routes")
    .description("how nginx routes the scheduler API: which location wins for a URI, and why");
  routes
    .command("explain")
    .argument("<uri...>", "request paths as the client sends them, e.g. /scheduler/jobs")
    .description(
      "which nginx location wins for each URI, step by step as nginx decides (--real asks a real nginx)",
    )
    .option("--nginx <file>", "the nginx configuration to read", "/etc/nginx/nginx.conf")
    .option(
      "--server <name>",
      "the server block answering this Host (name or name:port; default: the default server)",
    )
    .option(
      "--real",
      "also run the real nginx on an instrumented copy of the configuration and report its answer",
    )
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `
Examples:
  schedctl routes explain /scheduler /scheduler/jobs /schedulerX --nginx deploy/nginx.conf
  schedctl routes explain /scheduler --nginx nginx.conf --real --format json`,
    )
    .action(async (uris: string[], opts) => {
      const { routesExplain } = await import("./commands/routes.js");
      process.exitCode = await routesExplain(uris, opts);
    });

  program
    .command("gen")
    .description(
      "write the deployment kit from [tool.schedctl]: Dockerfile, gunicorn.conf.py, nginx, compose, Kubernetes, leader lock",
    )
    .addArgument(
      new Argument("<what>", "what to write").choices([
        "dockerfile",
        "gunicorn",
        "nginx",
        "compose",
        "k8s",
        "lock",
        "all",
      ]),
    )
    .option("--app-dir <dir>", "where pyproject.toml [tool.schedctl] or schedctl.toml is", ".")
    .option("--out <dir>", "where to write the files (default: the app dir)")
    .option("--force", "overwrite files that differ from what schedctl would write")
    .option("--dry-run", "print what would be written; write nothing")
    .option("--diff", "print a unified diff against the files on disk; write nothing")
    .addHelpText(
      "after",
      `
Files: Dockerfile, gunicorn.conf.py, nginx.conf, compose.yaml, k8s.yaml, schedctl_lock.py (all: every one;
the lock module only with a [lock] backend). A file that differs is never overwritten without --force (exit 2).

Examples:
  schedctl gen all
  schedctl gen nginx --diff
  schedctl gen all --out deploy/ --dry-run`,
    )
    .action(async (what: string, opts) => {
      const { gen } = await import("./commands/gen.js");
      process.exitCode = await gen(what, opts);
    });

  program
    .command("init")
    .description(
      "write a starter config ([tool.schedctl] in pyproject.toml, or schedctl.toml) from flags and the app dir",
    )
    .option(
      "--app-dir <dir>",
      "the app to read (Flask config, gunicorn.conf.py, Dockerfile, compose file)",
      ".",
    )
    .addOption(
      new Option(
        "--format <format>",
        "pyproject: append [tool.schedctl] to pyproject.toml; toml: schedctl.toml (default: pyproject when it exists)",
      ).choices(["pyproject", "toml"]),
    )
    .option("--force", "replace an existing schedctl config")
    .option("--dry-run", "print the file it would write; write nothing")
    .option("--app <name>", "app name (compose project, Kubernetes names, lock key)")
    .option("--wsgi <entry>", 'WSGI entry, "module:app" or "module:create_app()"')
    .option("--port <port>", "port gunicorn binds (default 8000)")
    .option("--python <version>", 'Python version, "3.12"')
    .option("--timezone <zone>", "IANA zone for TZ, /etc/localtime and SCHEDULER_TIMEZONE")
    .option(
      "--base-image <image>",
      "python:3.X-slim, python:3.X-alpine, ubuntu:24.04, gcr.io/distroless/python3-debian12",
    )
    .option("--image <ref>", "the app's image name (default <app>:latest)")
    .option("--requirements <file>", "requirements file in the build context (default requirements.txt)")
    .option("--health-path <path>", "path the healthchecks request (default /)")
    .option("--api-prefix <prefix>", "Flask-APScheduler's SCHEDULER_API_PREFIX (default /scheduler)")
    .option(
      "--route <route>",
      'another location for the scheduler: "= /x", "^~ /x/", "/x", "~ regex", "~* regex" (repeatable)',
      collect,
      [],
    )
    .option(
      "--scheduler-object <module:attr>",
      "the scheduler object, when it is not the Flask app's apscheduler",
    )
    .option("--web-replicas <n>", "web pool replicas (default 2)")
    .option("--web-workers <n>", 'gunicorn workers per web replica, or "auto" (default)')
    .option("--web-host <host>", "web pool host / compose service (default web)")
    .option("--scheduler-host <host>", "scheduler instance host name (default scheduler)")
    .option("--scheduler-port <port>", "scheduler instance port (default: --port)")
    .addOption(
      new Option("--lock <backend>", "leader lock between scheduler instances").choices([
        "redis",
        "file",
        "none",
      ]),
    )
    .option("--lock-url <url>", "Redis URL, no password (default redis://redis:6379/0)")
    .option("--lock-key <key>", "Redis key (default schedctl:lock:<app>)")
    .option("--lock-ttl <seconds>", "lock TTL (default 30)")
    .option("--lock-path <path>", "lock file for --lock file (default /tmp/schedctl-<app>.lock)")
    .option("--request-timeout <seconds>", "gunicorn timeout; nginx waits 5 s more (default 60)")
    .option(
      "--graceful-timeout <seconds>",
      "gunicorn graceful_timeout; compose/Kubernetes wait 10 s more (default 30)",
    )
    .option("--nginx-listen <port>", "port nginx listens on and compose publishes (default 8080)")
    .option("--server-name <name>", "nginx server_name and Ingress host (default _)")
    .action(async (opts) => {
      const { init } = await import("./commands/init.js");
      process.exitCode = await init(opts);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version are successes; every other commander error is a usage error (2), which
      // commander has already printed on stderr.
      return err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
        ? 0
        : 2;
    }
    const e = err as Error & { exitCode?: number };
    if (e.exitCode === 2 || e.exitCode === 3) {
      process.stderr.write(`schedctl: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`schedctl: internal error: ${e.stack ?? e.message}\n`);
    return 3;
  }
}
