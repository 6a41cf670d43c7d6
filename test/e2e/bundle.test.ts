import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "../helpers/cli.js";

// `schedctl --version` and `doctor --only tz` must not pay for ioredis: heavy modules load only inside the
// commands and sources that use them. These follow the bundle's static import graph, as Node loads it.
const DIST = join(REPO, "dist");

function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w${},\s*]+from\s*)?["'](\.[^"']+)["']/g))
    out.push(m[1] as string);
  return out;
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) walk(join(file, "..", spec));
  };
  walk(entry);
  return seen;
}

function chunkDefining(marker: RegExp): string[] {
  return readdirSync(join(DIST, "chunks"))
    .filter((f) => f.endsWith(".js"))
    .map((f) => join(DIST, "chunks", f))
    .filter((f) => marker.test(readFileSync(f, "utf8")));
}

test("the entry statically loads neither commander nor any command: --version answers first", () => {
  const graph = reachable(join(DIST, "cli.js"));
  const commander = chunkDefining(/CommanderError/);
  assert.ok(commander.length > 0, "commander is bundled somewhere");
  for (const f of commander) assert.ok(!graph.has(f), `${f} (commander) is loaded by the entry`);
  for (const f of graph)
    assert.ok(readFileSync(f, "utf8").length < 5000, `${f} is a large chunk on the --version path`);
});

test("the doctor command's static graph does not include ioredis or the /proc walker", () => {
  const doctorChunk = readdirSync(join(DIST, "chunks")).find((f) => /^doctor-.*\.js$/.test(f));
  assert.ok(doctorChunk, "no doctor chunk in dist/chunks (run the build)");
  const graph = reachable(join(DIST, "chunks", doctorChunk));
  const ioredis = chunkDefining(/ioredis|ERR_NODE_NOT_FOUND|SentinelConnector/);
  assert.ok(ioredis.length > 0, "ioredis is bundled somewhere");
  for (const f of ioredis) assert.ok(!graph.has(f), `${f} is loaded with doctor`);
});
