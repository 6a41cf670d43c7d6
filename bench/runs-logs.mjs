// Log-scan benchmark: `analyzeLogs` (src/runs/logs.ts, bundled like dist/) and `schedctl doctor --logs`
// against `grep -c 'Running job'` on the same ~1 GiB APScheduler + Gunicorn log (3 workers, so every run is
// a duplicate: the worst case for the parser), all as fresh processes, interleaved, median of N runs, wall
// and CPU time. Aim: within 3x.
// Usage: node bench/runs-logs.mjs [runs=5] [bytes=1073741824]
// The log and the bundle live in bench/.data/ (git-ignored); the log is reused while its size matches.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { generateLog } from "../test/helpers/runs-loggen.mjs";

const runs = Number(process.argv[2] ?? 5);
const bytes = Number(process.argv[3] ?? 2 ** 30);
const data = fileURLToPath(new URL("./.data/", import.meta.url));
mkdirSync(data, { recursive: true });

// 1. the log
const log = `${data}runs-${bytes}.log`;
const counts = `${log}.json`;
if (!existsSync(log) || !existsSync(counts)) {
  const t0 = performance.now();
  const fd = openSync(log, "w");
  const total = await generateLog(bytes, (buf) => {
    writeSync(fd, buf);
  });
  closeSync(fd);
  writeFileSync(counts, JSON.stringify(total));
  console.log(
    `generated ${log} (${(statSync(log).size / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
const expected = JSON.parse(readFileSync(counts, "utf8"));

// 2. analyzeLogs as it ships: bundled and minified by esbuild, run by a small driver
const bundle = `${data}runs-logs.bundle.mjs`;
await build({
  entryPoints: [fileURLToPath(new URL("../src/runs/logs.ts", import.meta.url))],
  outfile: bundle,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  logLevel: "warning",
});
const driver = `${data}runs-logs.driver.mjs`;
writeFileSync(
  driver,
  `import { analyzeLogs } from "./runs-logs.bundle.mjs";
const r = await analyzeLogs([process.argv[2]]);
const u = process.resourceUsage();
process.stdout.write(JSON.stringify({ runs: r.runs, lines: r.files[0].lines, error: r.files[0].error, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMiB: Math.round(u.maxRSS / 1024) }));
`,
);

// 3. interleaved runs; CPU time from /usr/bin/time when present (grep cannot report its own)
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
function measure(cmd, args, okStatus = 0) {
  const full = timeBin ? [timeBin, ["-f", "%U %S", cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(full[0], full[1], { encoding: "utf8", maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== okStatus) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  let cpuMs = null;
  if (timeBin) {
    const m = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr);
    if (m) cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
  }
  return { ms, cpuMs, stdout: r.stdout };
}

// and the command a user runs (dist/, as `npm ci` builds it): exit 1, every tick is a duplicate
const cli = fileURLToPath(new URL("../bin/schedctl", import.meta.url));
if (!existsSync(fileURLToPath(new URL("../dist/cli.js", import.meta.url)))) {
  spawnSync(process.execPath, [fileURLToPath(new URL("../scripts/build.mjs", import.meta.url))], {
    stdio: "inherit",
  });
}
const cases = [
  { name: "grep -c 'Running job'", cmd: "grep", args: ["-c", "Running job", log] },
  { name: "analyzeLogs", cmd: process.execPath, args: [driver, log] },
  {
    name: "schedctl doctor --logs",
    cmd: cli,
    args: ["doctor", "--only", "runs.logs", "--logs", log, "--format", "json"],
    okStatus: 1,
  },
];
const results = cases.map(() => []);
let check = null;
let report = null;
for (let i = 0; i < runs + 1; i++) {
  cases.forEach((c, j) => {
    const m = measure(c.cmd, c.args, c.okStatus);
    if (i > 0) results[j].push(m); // the first round warms the page cache
    if (j === 0 && Number(m.stdout.trim()) !== expected.runs) throw new Error(`grep counted ${m.stdout}`);
    if (j === 1) check = JSON.parse(m.stdout);
    if (j === 2) report = JSON.parse(m.stdout);
  });
}
if (check.runs !== expected.runs || check.lines !== expected.lines || check.error !== null) {
  throw new Error(
    `analyzeLogs disagrees with the generator: ${JSON.stringify(check)} vs ${JSON.stringify(expected)}`,
  );
}
const finding = report.checks.find((c) => c.id === "runs.logs");
if (finding?.status !== "fail" || !finding.summary.startsWith(`${expected.duplicateTicks} scheduled runs`)) {
  throw new Error(`schedctl doctor reported: ${JSON.stringify(finding?.summary)}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mib = statSync(log).size / 2 ** 20;
console.log(
  `log scan, ${mib.toFixed(0)} MiB, ${expected.lines} lines, ${expected.runs} "Running job" lines; median of ${runs} interleaved runs`,
);
const base = median(results[0].map((m) => m.ms));
const baseCpu = timeBin ? median(results[0].map((m) => m.cpuMs)) : null;
for (const [j, c] of cases.entries()) {
  const ms = median(results[j].map((m) => m.ms));
  const cpu = timeBin ? median(results[j].map((m) => m.cpuMs)) : null;
  const ratio = ms / base;
  const verdict = j === 0 ? "" : ratio <= 3 ? "within 3x" : "OVER 3x";
  console.log(
    `${c.name.padEnd(24)} ${(ms / 1000).toFixed(2).padStart(6)} s wall ${ratio.toFixed(2).padStart(5)}x` +
      (cpu === null
        ? ""
        : `  ${(cpu / 1000).toFixed(2).padStart(6)} s CPU ${(cpu / baseCpu).toFixed(2).padStart(5)}x`) +
      `  ${(mib / (ms / 1000)).toFixed(0).padStart(5)} MiB/s  ${verdict}`,
  );
}
console.log(`analyzeLogs max RSS ${check.maxRssMiB} MiB`);
