import { VERSION } from "./version.js";

// The bundle's entry. `schedctl --version` answers before anything else loads (it is what scripts and
// health checks call most); every other invocation loads the command tree in cli.ts.
// A reader that stops early (`schedctl doctor | head`) is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  throw err;
});

const argv = process.argv;
if (argv.length === 3 && (argv[2] === "--version" || argv[2] === "-V")) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { main } = await import("./cli.js");
  process.exitCode = await main(argv);
}
