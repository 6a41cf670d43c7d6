// The full test suite: type-check, lint, build, then every test file under test/ with node's test runner
// (TypeScript loaded through tsx). Fails loudly when a required system tool is missing.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "fixtures") out.push(...findTests(p));
    } else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
if (only.length === 0) {
  run("npx", ["tsc", "-p", "tsconfig.json"]);
  run("npx", ["biome", "check", "."]);
}
run("node", ["scripts/build.mjs"]);
const files = only.length > 0 ? only : findTests("test");
run("node", ["--import", "tsx", "--test", "--test-reporter=spec", ...files]);
