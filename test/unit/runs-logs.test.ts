/**
 * src/runs/logs.ts on files written here: the streaming reader (64 KiB reads, lines across reads, the
 * byte fast path) must report exactly what a naive split-and-parse of the same text reports; gzip is
 * recognised by its magic bytes; several files are merged by scheduled time; errors land in the entry.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { DuplicateRunDetector } from "../../src/runs/aplog.js";
import { analyzeLogs } from "../../src/runs/logs.js";
import type { LogsReport } from "../../src/runs/types.js";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "schedctl-runs-logs-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, data: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every shape the reader meets, mixed at random, with duplicates, broken lines and non-UTF-8 bytes. */
function mixedLog(lines: number, seed: number): Buffer {
  const r = rng(seed);
  const parts: Buffer[] = [];
  let t = T0;
  for (let i = 0; i < lines; i++) {
    if (r() < 0.3) t += 1000;
    const pid = 10 + Math.floor(r() * 3);
    const job = r() < 0.8 ? "tick" : 'ré"port (x)';
    const msg = `Running job "${job} (trigger: interval[0:00:01], next run at: ${wall(t + 1000)} UTC)" (scheduled at ${wall(t)}+00:00)`;
    const k = Math.floor(r() * 16);
    let line: string | Buffer;
    switch (k) {
      case 0:
      case 1:
      case 2:
        line = `[${wall(t)} +0000] [${pid}] [INFO] apscheduler.executors.default: ${msg}`;
        break;
      case 3:
        line = `web-${pid}  | [${wall(t)} +0000] [${pid}] [INFO] ${msg}`;
        break;
      case 4:
        line = JSON.stringify({ message: msg, process: pid, hostname: `h${pid}` });
        break;
      case 5:
        line = `${wall(t)},001 pid=${pid} INFO ${msg}\r`;
        break;
      case 6:
        line = `[${wall(t)} +0000] [${pid}] [INFO] ${msg}`.slice(0, Math.floor(r() * 150));
        break;
      case 7:
        line = Buffer.concat([
          Buffer.from(`[${pid}] Running job "tick `),
          Buffer.from([0xff, 0xc3]),
          Buffer.from(" broken"),
        ]);
        break;
      case 8:
        line = `127.0.0.1 - - "GET /scheduler HTTP/1.1" 200 ${i}`;
        break;
      case 9:
        line = `[${wall(t)} +0000] [${pid}] [INFO] Job "${job} (trigger: interval[0:00:01], next run at: x)" executed successfully`;
        break;
      case 10:
        line = "";
        break;
      case 11:
        line = `Nov 30 10:00:00 host-${pid} gunicorn[${pid}]: ${msg}`;
        break;
      case 12:
        line = `RRRR Running Running job job "R ${"x".repeat(Math.floor(r() * 300))}`;
        break;
      default:
        line = `INFO:apscheduler.executors.default:${msg}`;
    }
    parts.push(typeof line === "string" ? Buffer.from(line) : line, Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** The naive reference: split the whole text on \n and feed every line to the detector. */
function reference(data: Buffer, label: string, opts: { maxDuplicates?: number } = {}): LogsReport {
  const d = new DuplicateRunDetector(opts);
  const pieces: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
    pieces.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) pieces.push(data.subarray(start));
  let runs = 0;
  let unparsed = 0;
  pieces.forEach((p, i) => {
    const r = d.feed(p, label, i + 1);
    if (r.kind === "run") runs++;
    // the reader only looks at lines that mention "Running job" (and counts every non-UTF-8 line)
    else if (
      r.kind === "unparsed" &&
      (!p.toString("utf8").includes("Running job") ? r.reason === "not valid UTF-8" : true)
    ) {
      unparsed++;
    }
  });
  return {
    files: [{ path: label, lines: pieces.length, runs, unparsed, error: null }],
    jobs: d.jobs,
    runs: d.stats.runs,
    duplicates: d.duplicates,
    truncatedDuplicates: d.truncatedDuplicates,
  };
}

describe("analyzeLogs", () => {
  test("the streaming reader reports what a naive split-and-parse reports (mixed shapes, >64 KiB)", async () => {
    for (const seed of [1, 2, 3]) {
      const data = mixedLog(3000, seed);
      assert.ok(data.length > 3 * 65536, "spans many reads");
      const path = write(`mixed-${seed}.log`, data);
      const got = await analyzeLogs([path]);
      assert.deepEqual(got, reference(data, path), `seed ${seed}`);
      assert.ok(got.duplicates.length > 10 && got.files[0]?.unparsed && got.runs > 1000);
    }
  });

  test("the shortcuts for copies of one run give the full parser's report, past maxDuplicates and full samples too", async () => {
    // 7 workers log each run (more runners than samples); some copies through another prefix; jobs alternate
    const r = rng(11);
    const lines: string[] = [];
    let t = T0;
    for (let i = 0; i < 4000; i++) {
      t += 1000;
      const job =
        i % 3 === 0
          ? "report (trigger: cron[second='0'], next run at: x)"
          : "tick (trigger: interval[0:00:01], next run at: y)";
      const time = r() < 0.9 ? `${wall(t)}+00:00` : `${wall(t).replace(" ", "T")}.250000-05:00`;
      const copies = 1 + Math.floor(r() * 7);
      for (let c = 0; c < copies; c++) {
        const prefix =
          r() < 0.1
            ? `web_${c}  | `
            : `[${wall(t)} +0000] [${100 + c}] [INFO] apscheduler.executors.default: `;
        lines.push(`${prefix}Running job "${job}" (scheduled at ${time})${r() < 0.1 ? "\r" : ""}`);
        if (r() < 0.2) lines.push(`[${wall(t)} +0000] [${100 + c}] [INFO] app: working`);
      }
    }
    const data = Buffer.from(`${lines.join("\n")}\n`);
    const path = write("copies.log", data);
    for (const maxDuplicates of [0, 3, 1000, 100000]) {
      const got = await analyzeLogs([path], { maxDuplicates });
      assert.deepEqual(got, reference(data, path, { maxDuplicates }), `maxDuplicates ${maxDuplicates}`);
    }
    const mixed = mixedLog(3000, 5);
    const mixedPath = write("mixed-5.log", mixed);
    assert.deepEqual(
      await analyzeLogs([mixedPath], { maxDuplicates: 2 }),
      reference(mixed, mixedPath, { maxDuplicates: 2 }),
    );
  });

  test("without the WebAssembly scan (simd: false, as on a CPU without SSE4.1) the report is the same", async () => {
    for (const seed of [1, 4]) {
      const data = mixedLog(3000, seed);
      const path = write(`plain-js-${seed}.log`, data);
      const got = await analyzeLogs([path], { simd: false });
      assert.deepEqual(got, reference(data, path), `seed ${seed}`);
      assert.deepEqual(got, await analyzeLogs([path]));
    }
    const long = write("plain-js-long.log", `x\n${"y".repeat(3 * 1024 * 1024)}\nz`);
    assert.deepEqual((await analyzeLogs([long], { simd: false })).files[0], {
      path: long,
      lines: 3,
      runs: 0,
      unparsed: 1,
      error: null,
    });
  });

  test("random fragments, fed in random pieces: the scan, the plain reader and the naive split agree", async () => {
    const tokens = [
      "Running job ",
      'Running job "',
      "tick (trigger: interval[0:00:01]",
      ", next run at: x)",
      ", paused)",
      '" (scheduled at ',
      "2026-11-30 10:00:00+00:00",
      "2026-11-30T10:00:00.500000-05:00",
      "2026-02-30 10:00:00+00:00",
      ")",
      "\n",
      "\n",
      "\r\n",
      "[2026-11-30 10:00:00 +0000] [12] [INFO] ",
      "web_1  | ",
      "Ru",
      "R",
      " ",
      "é",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...tokens), fc.constant("\xff")), { maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        async (parts, cuts) => {
          const data = Buffer.concat(parts.map((p) => (p === "\xff" ? Buffer.from([0xff]) : Buffer.from(p))));
          const pieces: Buffer[] = [];
          for (let o = 0, k = 0; o < data.length; k++) {
            const n = cuts[k % cuts.length] as number;
            pieces.push(data.subarray(o, o + n));
            o += n;
          }
          const ref = reference(data, "<stdin>");
          const fromStdin = await analyzeLogs(["-"], { stdin: Readable.from(pieces) });
          assert.deepEqual({ ...fromStdin, files: [{ ...fromStdin.files[0], path: "<stdin>" }] }, ref);
          const plain = await analyzeLogs(["-"], { stdin: Readable.from(pieces), simd: false });
          assert.deepEqual(plain, fromStdin);
        },
      ),
      { numRuns: 300, seed: 1130 },
    );
  });

  test("no trailing newline, CRLF, a line over 1 MiB", async () => {
    const run = (pid: number) =>
      `[2026-11-30 10:00:00 +0000] [${pid}] [INFO] Running job "tick (trigger: interval[0:00:01], next run at: x)" (scheduled at 2026-11-30 10:00:00+00:00)`;
    const path = write("edges.log", `${run(1)}\r\n${"y".repeat(3 * 1024 * 1024)}\n${run(2)}\r\n${run(3)}`);
    const r = await analyzeLogs([path]);
    assert.deepEqual(r.files[0], { path, lines: 4, runs: 3, unparsed: 1, error: null });
    assert.equal(r.duplicates[0]?.count, 3);
    assert.deepEqual(r.duplicates[0]?.sources, [
      `${path}:1 (pid 1)`,
      `${path}:3 (pid 2)`,
      `${path}:4 (pid 3)`,
    ]);
  });

  test("gzip is recognised by its magic bytes, not its name; a broken gzip is an error after what it read", async () => {
    const data = mixedLog(2000, 7);
    const plain = write("plain.log", data);
    const gz = write("rotated.log", gzipSync(data)); // no .gz
    const [a, b] = await Promise.all([analyzeLogs([plain]), analyzeLogs([gz])]);
    const renamed = JSON.parse(
      JSON.stringify(b).replaceAll(JSON.stringify(gz).slice(1, -1), JSON.stringify(plain).slice(1, -1)),
    );
    assert.deepEqual(renamed, a);
    const cut = gzipSync(data);
    const broken = write("broken.gz", cut.subarray(0, Math.floor(cut.length / 2)));
    const c = await analyzeLogs([broken]);
    assert.match(c.files[0]?.error ?? "", /^gzip: unexpected end of file/);
    assert.ok((c.files[0]?.lines ?? 0) > 0);
  });

  test("several files (one per container) are merged by scheduled time: copies hours apart in the files still pair", async () => {
    // each file covers 3 hours; the window is 1 hour: read one after the other, nothing would pair
    const lines = (host: string) => {
      const out: string[] = [];
      for (let s = 0; s < 3 * 3600; s += 10) {
        out.push(
          `{"message": "Running job \\"sync (trigger: interval[0:00:10], next run at: x)\\" (scheduled at ${wall(T0 + s * 1000)}+00:00)", "hostname": "${host}", "process": 1}`,
        );
        out.push(`{"message": "GET /health 200", "hostname": "${host}"}`);
      }
      return `${out.join("\n")}\n`;
    };
    const a = write("web-1.log", lines("web-1"));
    const b = write("web-2.log", lines("web-2"));
    const r = await analyzeLogs([a, b], { windowSec: 3600 });
    assert.equal(r.runs, 2 * 1080);
    assert.equal(r.duplicates.length + r.truncatedDuplicates, 1080);
    assert.deepEqual(r.duplicates[0]?.runners, ["host web-1 pid 1", "host web-2 pid 1"]);
    assert.deepEqual(
      r.files.map((f) => [f.lines, f.runs, f.unparsed, f.error]),
      [
        [2160, 1080, 0, null],
        [2160, 1080, 0, null],
      ],
    );
  });

  test('"-" reads standard input (here a Readable), and errors are per file', async () => {
    const data = mixedLog(500, 9);
    const input = Readable.from([data.subarray(0, 1), data.subarray(1, 7000), data.subarray(7000)]);
    mkdirSync(join(dir, "a-dir"));
    const r = await analyzeLogs(["-", join(dir, "missing.log"), join(dir, "a-dir")], { stdin: input });
    const ref = reference(data, "<stdin>");
    assert.deepEqual(r.files[0], { ...ref.files[0], path: "-" });
    assert.deepEqual(r.duplicates, ref.duplicates);
    assert.deepEqual(r.files.slice(1), [
      { path: join(dir, "missing.log"), lines: 0, runs: 0, unparsed: 0, error: "no such file" },
      { path: join(dir, "a-dir"), lines: 0, runs: 0, unparsed: 0, error: "is a directory" },
    ]);
  });

  test("an empty file, and a file with no APScheduler line", async () => {
    const r = await analyzeLogs([write("empty.log", ""), write("access.log", "GET / 200\nGET /x 404\n")]);
    assert.deepEqual(
      r.files.map((f) => [f.lines, f.runs, f.unparsed]),
      [
        [0, 0, 0],
        [2, 0, 0],
      ],
    );
    assert.deepEqual([r.jobs, r.runs, r.duplicates, r.truncatedDuplicates], [0, 0, [], 0]);
  });
});
