import { Command, CommanderError, Option } from "commander";
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
  schedctl doctor --list                            # every check id`,
    )
    .action(async (opts) => {
      const { doctor } = await import("./commands/doctor.js");
      process.exitCode = await doctor(opts);
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
