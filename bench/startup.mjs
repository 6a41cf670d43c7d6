// Startup benchmark: medians of `schedctl --version` and `schedctl doctor --only tz` against bare
// `node -e 0`, measured side by side (interleaved) in one run and printed as ratios.
// Aims: --version within 1.3x, doctor --only tz within 2.5x of bare node startup.
// Usage: npm run build && node bench/startup.mjs [runs]
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const runs = Number(process.argv[2] ?? 21);
const bin = fileURLToPath(new URL("../bin/schedctl", import.meta.url));
const app = mkdtempSync(join(tmpdir(), "schedctl-bench-app-"));

const cases = [
  { name: "node -e 0 (baseline)", cmd: process.execPath, args: ["-e", "0"] },
  { name: "schedctl --version", cmd: bin, args: ["--version"], aim: 1.3 },
  {
    name: "schedctl doctor --only tz",
    cmd: bin,
    args: ["doctor", "--only", "tz", "--app-dir", app, "--format", "json"],
    aim: 2.5,
  },
];

const times = cases.map(() => []);
for (let i = 0; i < runs + 2; i++) {
  cases.forEach((c, j) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { stdio: "ignore", timeout: 30_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 && r.status !== 1) throw new Error(`${c.name} exited ${r.status}`);
    if (i >= 2) times[j].push(ms); // the first two rounds warm the page cache
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const base = median(times[0]);
console.log(`startup, median of ${runs} interleaved runs`);
for (const [j, c] of cases.entries()) {
  const m = median(times[j]);
  const ratio = m / base;
  const verdict = c.aim ? (ratio <= c.aim ? `within ${c.aim}x` : `OVER ${c.aim}x`) : "";
  console.log(`${c.name.padEnd(28)} ${m.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}x  ${verdict}`);
}
