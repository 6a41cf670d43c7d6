/**
 * The WebAssembly line scan (src/runs/linescan.wat) against the TypeScript it stands in for: every flag and
 * field it writes must be what src/runs/aplog.ts would decide for that line (plainPrefix, the message shape
 * parseRunView checks, parseScheduledAt), so that the reader's shortcuts give the same report as the full
 * parser. And src/runs/linescan-wasm.ts must be the compiled .wat as it is now.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import { parseRunView, parseScheduledAt, plainPrefix, RunViewCache } from "../../src/runs/aplog.js";
import {
  MAX_LINE_BYTES,
  PLAIN_PREFIX,
  SAME_KEY,
  SAME_MESSAGE,
  type ScanRecord,
  SHAPE,
  scanText,
  TIME,
} from "../../src/runs/linescan.js";

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** Scheduled times as APScheduler writes them, and near misses of every field. */
const timeText = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  {
    weight: 3,
    arbitrary: fc.record({
      y: fc.oneof(
        fc.integer({ min: 1890, max: 2210 }),
        fc.constantFrom(99, 1899, 1900, 2000, 2100, 2199, 2200),
      ),
      mo: fc.integer({ min: 0, max: 13 }),
      d: fc.integer({ min: 0, max: 32 }),
      h: fc.integer({ min: 0, max: 24 }),
      mi: fc.integer({ min: 0, max: 60 }),
      s: fc.integer({ min: 0, max: 60 }),
      sep: fc.constantFrom(" ", " ", "T", "_"),
      frac: fc.constantFrom("", "", ".123456", ".000001", ".123", ",123456", ".1234567", ".12345a"),
      off: fc.constantFrom(
        "+00:00",
        "+08:00",
        "-05:00",
        "+05:30",
        "+23:59",
        "+24:00",
        "-00:60",
        "+0800",
        "Z",
        " UTC",
        "",
        "+05:53:28",
        "+00:00 ",
      ),
    }),
  },
);

function renderTime(
  t: {
    y: number;
    mo: number;
    d: number;
    h: number;
    mi: number;
    s: number;
    sep: string;
    frac: string;
    off: string;
  } | null,
  rnd: number,
): string {
  if (t === null) {
    const now = Date.UTC(2024, 1, 28, 23, 59, 0) + rnd * 1000;
    return `${new Date(now).toISOString().slice(0, 19).replace("T", " ")}+00:00`;
  }
  return `${pad(t.y, 4)}-${pad(t.mo, 2)}-${pad(t.d, 2)}${t.sep}${pad(t.h, 2)}:${pad(t.mi, 2)}:${pad(t.s, 2)}${t.frac}${t.off}`;
}

const jobText = fc.constantFrom(
  "tick (trigger: interval[0:00:01]",
  "sync_orders (trigger: cron[month='*', day='*', hour='3']",
  'ré"port (x) (trigger: date[2026-01-01 00:00:00 UTC]',
  "no trigger here",
  "a, b (trigger: interval[0:01:00]",
  "",
  "日本 (trigger: interval[0:00:05]",
);
const statusText = fc.constantFrom(
  ", next run at: 2026-01-01 00:00:01 UTC)",
  ", paused)",
  ", pending)",
  ", running)",
  ")",
  ", next run at: )",
);
const prefixText = fc.constantFrom(
  "",
  "[2026-01-01 00:00:00 +0000] [12] [INFO] apscheduler.executors.default: ",
  "web_1  | [12] ",
  "web-1 | ",
  "[pod/web-1/app] ",
  "  ",
  '{"message": "',
  "Nov 30 10:00:00 host gunicorn[7]: ",
  "INFO:apscheduler.executors.default:",
  "pid=3 host=h1 ",
  "[p] ",
  "a",
);
const endText = fc.constantFrom("", "", "\r", "  ", " \r", "x", ")");
const runLine = fc
  .record({
    prefix: prefixText,
    job: jobText,
    status: statusText,
    time: timeText,
    rnd: fc.integer({ min: 0, max: 3 }),
    end: endText,
    head: fc.constantFrom('Running job "', 'Running job "', "Running job ", 'Running job  "'),
    tail: fc.constantFrom('" (scheduled at ', '" (scheduled at ', '" (scheduled  at ', " (scheduled at "),
  })
  .map((l) => `${l.prefix}${l.head}${l.job}${l.status}${l.tail}${renderTime(l.time, l.rnd)})${l.end}`);
const otherLine = fc.constantFrom(
  "",
  "GET / 200",
  "Running jo",
  "RRRunning job",
  "Ru Ru R\r",
  "x".repeat(40),
);
/** Lines, often the same message several times over (the copies of one run), with other lines between. */
const logLines = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 4, arbitrary: runLine }, { weight: 1, arbitrary: otherLine }),
      fc.integer({ min: 1, max: 3 }),
      prefixText,
    ),
    {
      minLength: 1,
      maxLength: 40,
    },
  )
  .map((xs) =>
    xs.flatMap(([line, copies, prefix]) => {
      const at = line.indexOf("Running job");
      return Array.from({ length: copies }, (_, k) => (k === 0 || at < 0 ? line : prefix + line.slice(at)));
    }),
  );

/** What the TypeScript side decides for one line with `Running job` at `at`. */
function message(line: string, at: number): string {
  return line.slice(at).replace(/[\r ]+$/, "");
}

function checkRecords(lines: string[], records: ScanRecord[], text: Buffer): void {
  const runLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes("Running job"));
  assert.deepEqual(
    records.map((r) => r.index),
    runLines.map(([, i]) => i),
    "one record per line with Running job",
  );
  let prevMessage: string | null = null;
  let prevKey: string | null = null;
  for (const r of records) {
    const view = text.toString("latin1", r.start, r.end);
    const at = r.at - r.start;
    assert.equal(at, view.indexOf("Running job"));
    const msg = message(view, at);
    assert.equal((r.flags & SAME_MESSAGE) !== 0, msg === prevMessage, `same message: ${view}`);
    prevMessage = msg;
    assert.equal(
      (r.flags & PLAIN_PREFIX) !== 0,
      at === 0 || plainPrefix(view, 0, at),
      `plain prefix: ${view}`,
    );
    // SHAPE: parseRunView's checks; with a time the scan reads and a job text with a trigger, parseRunView
    // must then succeed with the same values
    // as the reader calls it: only for `Running job "`
    const quoted = view.startsWith('Running job "', at);
    const fresh = quoted
      ? parseRunView(view, 0, view.length, at, new RunViewCache(), (a, b) =>
          text.toString("utf8", r.start + a, r.start + b),
        )
      : null;
    if ((r.flags & SHAPE) === 0) {
      if ((r.flags & PLAIN_PREFIX) !== 0) assert.equal(fresh, null, `shape missed: ${view}`);
      continue;
    }
    const key = text.toString("utf8", r.at + 13, r.q);
    assert.equal((r.flags & SAME_KEY) !== 0, key === prevKey, `same key: ${view}`);
    prevKey = key;
    assert.match(view.slice(r.q - r.start), /^, (next run at: |paused\)|pending\))/);
    assert.equal(view.slice(r.s1 - r.start).replace(/[\r ]+$/, ""), ")", "the time ends before the last )");
    assert.equal(view.slice(r.s0 - r.start - 16, r.s0 - r.start), '" (scheduled at ');
    const timeText = view.slice(r.s0 - r.start, r.s1 - r.start);
    const ts = parseScheduledAt(timeText);
    if ((r.flags & TIME) !== 0) assert.equal(r.us, ts, `time ${timeText}`);
    else
      assert.ok(
        !/^(19\d\d|21\d\d|20\d\d)-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d$/.test(timeText) ||
          ts === null,
        `time not read: ${timeText}`,
      );
    if (
      (r.flags & PLAIN_PREFIX) !== 0 &&
      key.includes(" (trigger: ") &&
      ts !== null &&
      !/[^ -~]/.test(timeText)
    ) {
      assert.notEqual(fresh, null, `parseRunView takes ${view}`);
      assert.equal(fresh?.scheduledUs, ts);
    }
  }
}

describe("the WebAssembly line scan", () => {
  test("src/runs/linescan-wasm.ts is src/runs/linescan.wat compiled (run `npm run build:wasm` after a change)", async () => {
    const script = pathToFileURL(
      fileURLToPath(new URL("../../scripts/build-wasm.mjs", import.meta.url)),
    ).href;
    const { linescanModuleSource } = (await import(script)) as { linescanModuleSource(): Promise<string> };
    const committed = readFileSync(new URL("../../src/runs/linescan-wasm.ts", import.meta.url), "utf8");
    assert.equal(committed, await linescanModuleSource());
  });

  test("its flags, offsets and times are what aplog.ts decides for the same lines", () => {
    fc.assert(
      fc.property(logLines, (lines) => {
        const text = Buffer.from(`${lines.join("\n")}\n`);
        const got = scanText(text);
        assert.equal(got.lines, lines.length);
        assert.equal(got.longLines, 0);
        checkRecords(lines, got.records, text);
      }),
      { numRuns: 1500, seed: 20261130 },
    );
  });

  test("every valid time of 1900-2199 it reads is parseScheduledAt's, to the microsecond", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(Date.UTC(1900, 0, 1)),
          max: new Date(Date.UTC(2199, 11, 31, 23, 59, 59)),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999999 }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        fc.boolean(),
        (date, us, offMin, withFrac) => {
          const local = date
            .toISOString()
            .slice(0, 19)
            .replace("T", withFrac ? "T" : " ");
          const off = `${offMin < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offMin) / 60), 2)}:${pad(Math.abs(offMin) % 60, 2)}`;
          const time = `${local}${withFrac ? `.${pad(us, 6)}` : ""}${off}`;
          const line = `Running job "t (trigger: interval[0:00:01], next run at: x)" (scheduled at ${time})\n`;
          const [r] = scanText(Buffer.from(line)).records;
          assert.equal(r?.flags, PLAIN_PREFIX | SHAPE | TIME);
          assert.equal(r?.us, parseScheduledAt(time));
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
  });

  test("calendar edges: it reads a time exactly when parseScheduledAt does, with the same value", () => {
    const lines: string[] = [];
    for (const y of [1900, 1999, 2000, 2023, 2024, 2100, 2199])
      for (let mo = 0; mo <= 13; mo++)
        for (let d = 0; d <= 32; d++)
          for (const [h, mi, sec, off] of [
            [0, 0, 0, "+00:00"],
            [23, 59, 59, "-23:59"],
            [24, 0, 0, "+00:00"],
            [12, 60, 0, "+01:00"],
            [12, 0, 60, "+01:00"],
            [12, 30, 30, "+24:00"],
            [12, 30, 30, "+05:60"],
          ] as const)
            lines.push(
              `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(sec, 2)}${off}`,
            );
    const chunk = 4000;
    for (let k = 0; k < lines.length; k += chunk) {
      const times = lines.slice(k, k + chunk);
      const text = Buffer.from(
        times.map((t) => `Running job "t (trigger: x, paused)" (scheduled at ${t})\n`).join(""),
      );
      const { records } = scanText(text);
      records.forEach((r, i) => {
        const want = parseScheduledAt(times[i] as string);
        assert.equal((r.flags & TIME) !== 0, want !== null, times[i]);
        if (want !== null) assert.equal(r.us, want, times[i]);
      });
    }
  });

  test("every one-character change of a time it reads: read exactly when parseScheduledAt reads it", () => {
    const times: string[] = [];
    for (const base of ["2024-02-29 23:59:59+05:30", "2199-12-31T00:00:00.999999-23:59"])
      for (let i = 0; i < base.length; i++)
        for (const c of "/:;.,+-T Z09a\u00e9") times.push(`${base.slice(0, i)}${c}${base.slice(i + 1)}`);
    const text = Buffer.from(
      times.map((t) => `Running job "t (trigger: x, paused)" (scheduled at ${t})\n`).join(""),
    );
    const { records } = scanText(text);
    assert.equal(records.length, times.length);
    records.forEach((r, i) => {
      const t = times[i] as string;
      const want = /^[\x20-\x7e]*$/.test(t) ? parseScheduledAt(t) : null;
      if ((r.flags & TIME) !== 0) assert.equal(r.us, want, t);
      else if (want !== null)
        assert.ok(
          !/^(19|20|21)\d\d-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d$/.test(t),
          `not read: ${t}`,
        );
    });
  });

  test("lines of MAX_LINE_BYTES or more are counted and get no record; CRLF; a last unterminated line is not a line", () => {
    const run = 'Running job "t (trigger: x, paused)" (scheduled at 2026-01-01 00:00:00+00:00)';
    const long = `${"y".repeat(MAX_LINE_BYTES - run.length)}${run}`;
    const a = scanText(Buffer.from(`${run}\r\n${long}\n${run}`));
    assert.deepEqual([a.lines, a.longLines], [2, 1]);
    assert.deepEqual(
      a.records.map((r) => [r.index, r.flags]),
      [[0, PLAIN_PREFIX | SHAPE | TIME]],
    );
    const b = scanText(Buffer.from(`${run}\n${long.slice(1)}\n`));
    assert.deepEqual([b.lines, b.longLines], [2, 0]);
    assert.deepEqual(
      b.records.map((r) => [r.index, r.flags]),
      [
        [0, PLAIN_PREFIX | SHAPE | TIME],
        [1, PLAIN_PREFIX | SHAPE | TIME | SAME_MESSAGE | SAME_KEY],
      ],
    );
  });
});
