// File-lock gathering benchmark: gatherFileLocks (src/facts/procs.ts) against util-linux lslocks, side by side
// in one run, over 10,000 real flocks held by Debian's /usr/bin/python3:
//   one:    one process holding 10,000 locks (lslocks 2.38 resolves each lock's path by fstat()ing the
//           holder's descriptors one by one, so it is quadratic here: minutes per run; it runs
//           --lslocks-runs times, 1 by default)
//   spread: 100 processes holding 100 locks each
// Prints the median of --runs (default 5) for each and the ratio to lslocks (aim: within 1.5x).
// Not part of the test suite. Needs root (for other processes' fdinfo), python3 and util-linux.
// Usage: node --import tsx bench/locks-proc.mjs [--scenario one|spread|both] [--runs 5] [--lslocks-runs 1] [--locks 10000]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { gatherFileLocks } from "../src/facts/procs.ts";
import { HOLDER_PY } from "../test/helpers/filelock-holders.ts";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const scenario = arg("scenario", "both");
const runs = Number(arg("runs", "5"));
const lslocksRunsOne = Number(arg("lslocks-runs", "1"));
const total = Number(arg("locks", "10000"));
const PYTHON = "/usr/bin/python3";
const LSLOCKS = "/usr/bin/lslocks";
for (const b of [PYTHON, LSLOCKS]) {
  if (!existsSync(b)) {
    console.error(`missing ${b}: apt-get install -y util-linux python3`);
    process.exit(2);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`);

async function hold(dir, procs, perProc) {
  const script = join(dir, "holder.py");
  writeFileSync(script, HOLDER_PY);
  const children = [];
  for (let p = 0; p < procs; p++) {
    const d = join(dir, `p${p}`);
    mkdirSync(d);
    const child = spawn(PYTHON, [script, "many", d, String(perProc)], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, HOLD_SECONDS: "3600" },
    });
    children.push(
      new Promise((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.on("line", (l) => l.startsWith("ready") && resolve(child));
        child.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
      }),
    );
  }
  return Promise.all(children);
}

function timeSpawn(args, timeoutMs) {
  const t = process.hrtime.bigint();
  const r = spawnSync(LSLOCKS, args, {
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 256 * 1024 * 1024,
    timeout: timeoutMs,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`lslocks ${args.join(" ")}: ${r.error?.message ?? `exit ${r.status}`}`);
  return { ms, out: r.stdout.toString() };
}

async function timeGather() {
  const t = process.hrtime.bigint();
  const facts = await gatherFileLocks({ lockFiles: [] });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, facts };
}

async function bench(name, procs, perProc, lslocksRuns) {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-bench-locks-"));
  let holders = [];
  try {
    const t0 = Date.now();
    holders = await hold(dir, procs, perProc);
    console.log(
      `\n${name}: ${procs} process(es) x ${perProc} flocks = ${procs * perProc} locks (taken in ${Date.now() - t0} ms)`,
    );
    const mine = (f) => f.locks.filter((l) => l.name.startsWith(dir));

    // Warm-up (page cache, JIT), and a sanity check of both outputs.
    const warm = await timeGather();
    const found = mine(warm.facts);
    const withHolder = found.filter((l) => l.holders.length === 1 && l.holders[0].role === "python").length;
    const inProcLocks = found.filter((l) => l.details.inProcLocks === true).length;
    console.log(
      `  gatherFileLocks sees ${found.length} of them, ${withHolder} with their python holder named, ${inProcLocks} matched to /proc/locks`,
    );

    const g = [];
    const j = [];
    const o = [];
    for (let i = 0; i < runs; i++) {
      g.push((await timeGather()).ms);
      if (i < lslocksRuns) {
        const rj = timeSpawn(["--json"], 3_600_000);
        j.push(rj.ms);
        if (i === 0) {
          const n = JSON.parse(rj.out).locks.filter((l) => l.path?.startsWith(dir)).length;
          console.log(`  lslocks --json sees ${n} of them with a path`);
        }
        o.push(timeSpawn(["-n", "-o", "PID,PATH"], 3_600_000).ms);
      }
    }
    const gm = median(g);
    console.log(`  gatherFileLocks           median ${fmt(gm)}  (runs: ${g.map(fmt).join(", ")})`);
    if (j.length === 0) return;
    const jm = median(j);
    const om = median(o);
    console.log(
      `  lslocks --json            median ${fmt(jm)}  (runs: ${j.map(fmt).join(", ")})  gather/lslocks = ${(gm / jm).toFixed(3)}x`,
    );
    console.log(
      `  lslocks -n -o PID,PATH    median ${fmt(om)}  (runs: ${o.map(fmt).join(", ")})  gather/lslocks = ${(gm / om).toFixed(3)}x`,
    );
    console.log(
      `  aim: gatherFileLocks within 1.5x of lslocks: ${gm <= 1.5 * Math.min(jm, om) ? "met" : "NOT met"}`,
    );
  } finally {
    for (const h of holders) h.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

if (scenario === "spread" || scenario === "both") await bench("spread", 100, Math.round(total / 100), runs);
if (scenario === "one" || scenario === "both") await bench("one", 1, total, Math.min(runs, lslocksRunsOne));
