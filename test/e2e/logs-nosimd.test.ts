/**
 * `doctor --logs` on a machine whose CPU lacks what WebAssembly SIMD needs (V8 then refuses the line scan's
 * module): node with SSE4.1 turned off stands in for such a CPU (QEMU's default model, for one). The built
 * CLI must give the same report, read line by line in JavaScript.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { LINESCAN_WASM_BASE64 } from "../../src/runs/linescan-wasm.js";
import { REPO } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "schedctl-nosimd-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function doctor(nodeFlags: string[], log: string): { code: number | null; report: Record<string, unknown> } {
  const r = spawnSync(
    process.execPath,
    [
      ...nodeFlags,
      join(REPO, "dist/cli.js"),
      "doctor",
      "--only",
      "runs.logs",
      "--logs",
      log,
      "--format",
      "json",
      "--at",
      "2026-11-30T10:00:00Z", // both runs report the same instant
    ],
    { cwd: dir, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
  );
  if (r.error) throw r.error;
  const report = JSON.parse(r.stdout) as Record<string, unknown>;
  report.durationMs = 0;
  for (const c of report.checks as { durationMs: number }[]) c.durationMs = 0;
  return { code: r.status, report };
}

describe("doctor --logs without WebAssembly SIMD", () => {
  test("node --no-enable-sse4-1 cannot compile the scan, and the report is the same", () => {
    const compile = `new WebAssembly.Module(Buffer.from("${LINESCAN_WASM_BASE64}", "base64"))`;
    const probe = (flags: string[]) => spawnSync(process.execPath, [...flags, "-e", compile]).status;
    assert.equal(probe([]), 0, "the scan compiles here");
    assert.notEqual(probe(["--no-enable-sse4-1"]), 0, "with SSE4.1 off, the scan does not compile");
    // 4 MiB of a 3-worker Gunicorn log (every run duplicated), then bytes that are not UTF-8 and a broken line
    const gen = spawnSync(
      process.execPath,
      [join(REPO, "test/helpers/runs-loggen.mjs"), String(4 << 20), "3"],
      {
        maxBuffer: 64 << 20,
      },
    );
    assert.equal(gen.status, 0);
    const parts = [
      gen.stdout,
      Buffer.from([0xff, 0xfe, 10]),
      Buffer.from('Running job "broken\n{"message": "x"}\n'),
    ];
    const log = join(dir, "app.log");
    writeFileSync(log, Buffer.concat(parts));
    const simd = doctor([], log);
    const plain = doctor(["--no-enable-sse4-1"], log);
    assert.equal(simd.code, 1);
    assert.deepEqual(plain, simd);
    const check = (simd.report.checks as { id: string; summary: string }[])[0];
    assert.match(check?.summary ?? "", /scheduled runs executed more than once/);
  });
});
