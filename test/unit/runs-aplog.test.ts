/**
 * src/runs/aplog.ts: APScheduler 3.x log lines in every shape they reach us in, scheduled times with
 * offsets and DST, broken input, the byte-level fast path against the full parser, and the duplicate
 * detector's window and caps. The message formats are APScheduler 3.9's (executors/base.py run_job,
 * schedulers/base.py _process_jobs, job.py Job.__str__), as the real library logged them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import {
  type ApEvent,
  type ApLine,
  DuplicateRunDetector,
  formatRunner,
  parseApLogLine,
  parseRunView,
  parseScheduledAt,
  type RunRecord,
  RunViewCache,
} from "../../src/runs/aplog.js";

const JOB = "tick (trigger: interval[0:00:01], next run at: 2026-11-30 10:00:01 UTC)";
const RUN = `Running job "${JOB}" (scheduled at 2026-11-30 10:00:00+00:00)`;
const US_1000 = Date.UTC(2026, 10, 30, 10, 0, 0) * 1000;

function run(line: string): ApEvent {
  const r = parseApLogLine(line);
  assert.equal(r.kind, "run", `${line}\n→ ${JSON.stringify(r)}`);
  return r as ApEvent;
}

const who = (r: ApLine) =>
  r.kind === "other" || r.kind === "unparsed" ? null : { pid: r.pid, host: r.host, container: r.container };

describe("line shapes", () => {
  const cases: { name: string; line: string; pid?: number; host?: string; container?: string }[] = [
    { name: "bare message", line: RUN },
    { name: "logging.basicConfig default", line: `INFO:apscheduler.executors.default:${RUN}` },
    { name: "Gunicorn layout", line: `[2026-11-30 10:00:00 +0000] [12] [INFO] ${RUN}`, pid: 12 },
    {
      name: "Gunicorn layout with logger name",
      line: `[2026-11-30 10:00:00 +0000] [4711] [INFO] apscheduler.executors.default: ${RUN}`,
      pid: 4711,
    },
    {
      name: "asctime, key=value pid and host",
      line: `2026-11-30 10:00:00,001 INFO pid=4711 host=web-3 apscheduler.executors.default ${RUN}`,
      pid: 4711,
      host: "web-3",
    },
    {
      name: "process= and hostname:",
      line: `2026-11-30T10:00:00.001Z level=info process=99 hostname:"sched-a" ${RUN}`,
      pid: 99,
      host: "sched-a",
    },
    { name: "syslog", line: `Nov 30 10:00:00 web-3 gunicorn[4711]: ${RUN}`, pid: 4711, host: "web-3" },
    {
      name: "RFC 5424-ish syslog",
      line: `2026-11-30T10:00:00+00:00 node-7 python3[88]: INFO ${RUN}`,
      pid: 88,
      host: "node-7",
    },
    {
      name: "docker compose v2",
      line: `web-1  | [2026-11-30 10:00:00 +0000] [12] [INFO] ${RUN}`,
      pid: 12,
      container: "web-1",
    },
    { name: "docker compose v1", line: `web_1     | ${RUN}`, container: "web_1" },
    {
      name: "compose, docker --timestamps",
      line: `scheduler-1  | 2026-11-30T10:00:00.123456789Z [2026-11-30 10:00:00 +0000] [7] [INFO] ${RUN}`,
      pid: 7,
      container: "scheduler-1",
    },
    {
      name: "kubectl logs --prefix",
      line: `[pod/web-7d9f-x2k4/app] [2026-11-30 10:00:00 +0000] [3] [INFO] ${RUN}`,
      pid: 3,
      container: "web-7d9f-x2k4",
    },
    {
      name: "python-json-logger",
      line: JSON.stringify({
        asctime: "2026-11-30 10:00:00,001",
        levelname: "INFO",
        message: RUN,
        process: 12,
        hostname: "web-2",
      }),
      pid: 12,
      host: "web-2",
    },
    {
      name: "JSON msg",
      line: JSON.stringify({ level: 30, msg: RUN, pid: 5, host: "h1" }),
      pid: 5,
      host: "h1",
    },
    { name: "logstash @message", line: JSON.stringify({ "@timestamp": "x", "@message": RUN }) },
    {
      name: "structlog event",
      line: JSON.stringify({ event: RUN, logger: "apscheduler.executors.default" }),
    },
    {
      name: "docker json-file",
      line: JSON.stringify({
        log: `[2026-11-30 10:00:00 +0000] [12] [INFO] ${RUN}\n`,
        stream: "stderr",
        time: "2026-11-30T10:00:00.1Z",
      }),
      pid: 12,
    },
    {
      name: "journald -o json",
      line: JSON.stringify({ MESSAGE: RUN, _PID: "77", _HOSTNAME: "node1", CONTAINER_NAME: "web-2" }),
      pid: 77,
      host: "node1",
      container: "web-2",
    },
    {
      name: "ECS nested fields",
      line: JSON.stringify({ message: RUN, process: { pid: 9 }, host: { name: "h9" } }),
      pid: 9,
      host: "h9",
    },
    {
      name: "compose prefix + JSON",
      line: `web-2  | ${JSON.stringify({ message: RUN, process: 31 })}`,
      pid: 31,
      container: "web-2",
    },
    { name: "CRLF", line: `[2026-11-30 10:00:00 +0000] [12] [INFO] ${RUN}\r`, pid: 12 },
    { name: "leading spaces before JSON", line: `   ${JSON.stringify({ message: RUN })}` },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = run(c.line);
      assert.equal(r.job, "tick");
      assert.equal(r.trigger, "interval[0:00:01]");
      assert.equal(r.status, "next run at: 2026-11-30 10:00:01 UTC");
      assert.equal(r.scheduledAt, "2026-11-30 10:00:00+00:00");
      assert.equal(r.scheduledUs, US_1000);
      assert.deepEqual(who(r), { pid: c.pid ?? null, host: c.host ?? null, container: c.container ?? null });
    });
  }

  test("job names with quotes and parentheses, cron triggers with commas, paused and pending", () => {
    const a = run(
      `Running job "we"ird (name) (trigger: cron[month='*', day='1', hour='3'], next run at: 2026-12-01 03:00:00 CST)" (scheduled at 2026-11-01 03:00:00+08:00)`,
    );
    assert.equal(a.job, 'we"ird (name)');
    assert.equal(a.trigger, "cron[month='*', day='1', hour='3']");
    const b = run(
      `Running job "a (trigger: x) (trigger: date[2026-11-30 10:00:00 CST], paused)" (scheduled at 2026-11-30 10:00:00+08:00)`,
    );
    assert.deepEqual(
      [b.job, b.trigger, b.status],
      ["a (trigger: x)", "date[2026-11-30 10:00:00 CST]", "paused"],
    );
    const c = run(
      `Running job "job (trigger: or[interval[0:05:00], cron[hour='1']], pending)" (scheduled at 2026-11-30 10:00:00.500000+00:00)`,
    );
    assert.deepEqual(
      [c.trigger, c.status, c.scheduledUs],
      ["or[interval[0:05:00], cron[hour='1']]", "pending", US_1000 + 500_000],
    );
    const u = run(
      `Running job "envoyer_récap 📧 (trigger: interval[1 day, 0:00:00], next run at: 2026-12-01 10:00:00 CET)" (scheduled at 2026-11-30 10:00:00+01:00)`,
    );
    assert.equal(u.job, "envoyer_récap 📧");
    assert.equal(u.trigger, "interval[1 day, 0:00:00]");
  });

  test("the other job events", () => {
    const pre = "[2026-11-30 10:00:01 +0000] [12] [INFO] apscheduler.executors.default: ";
    const ex = parseApLogLine(`${pre}Job "${JOB}" executed successfully`) as ApEvent;
    assert.deepEqual(
      [ex.kind, ex.job, ex.trigger, ex.scheduledAt, ex.pid],
      ["executed", "tick", "interval[0:00:01]", null, 12],
    );
    const err = parseApLogLine(`${pre}Job "${JOB}" raised an exception`) as ApEvent;
    assert.equal(err.kind, "error");
    const missed = parseApLogLine(`${pre}Run time of job "${JOB}" was missed by 0:00:03.000212`) as ApEvent;
    assert.deepEqual([missed.kind, missed.missedBy], ["missed", "0:00:03.000212"]);
    const skipped = parseApLogLine(
      `${pre}Execution of job "${JOB}" skipped: maximum number of running instances reached (1)`,
    ) as ApEvent;
    assert.deepEqual([skipped.kind, skipped.maxInstances, skipped.job], ["skipped", 1, "tick"]);
    for (const other of [
      `${pre}Scheduler started`,
      `${pre}Added job "tick" to job store "default"`,
      "Traceback (most recent call last):",
      '127.0.0.1 - - [30/Nov/2026:10:00:00 +0000] "GET /scheduler/jobs HTTP/1.1" 200 2',
      "cron job started",
      "Job 42 finished",
      "",
    ]) {
      assert.equal(parseApLogLine(other).kind, "other", other);
    }
  });

  test("formatRunner", () => {
    assert.equal(formatRunner({ pid: 12, host: "sched-a", container: "web-1" }), "web-1 host sched-a pid 12");
    assert.equal(formatRunner({ pid: 12, host: null, container: null }), "pid 12");
    assert.equal(formatRunner({ pid: null, host: "web-1", container: "web-1" }), "web-1");
    assert.equal(formatRunner({ pid: null, host: null, container: null }), null);
  });
});

describe("scheduled times", () => {
  const utcUs = (y: number, mo: number, d: number, h: number, mi = 0, s = 0) =>
    Date.UTC(y, mo - 1, d, h, mi, s) * 1000;

  test("offsets are applied: one instant, any zone", () => {
    assert.equal(parseScheduledAt("2026-11-30 18:00:00+08:00"), utcUs(2026, 11, 30, 10));
    assert.equal(parseScheduledAt("2026-11-30 10:00:00+00:00"), utcUs(2026, 11, 30, 10));
    assert.equal(parseScheduledAt("2026-11-30 05:00:00-05:00"), utcUs(2026, 11, 30, 10));
    assert.equal(parseScheduledAt("2026-11-30 15:30:00+0530"), utcUs(2026, 11, 30, 10));
    assert.equal(parseScheduledAt("2026-11-30T10:00:00Z"), utcUs(2026, 11, 30, 10));
    assert.equal(parseScheduledAt("2026-11-30 10:00:00"), utcUs(2026, 11, 30, 10), "naive: read as UTC");
    assert.equal(parseScheduledAt("2026-11-30 10:00:00.000123+00:00"), utcUs(2026, 11, 30, 10) + 123);
    assert.equal(parseScheduledAt("2026-11-30 10:00:00.5+00:00"), utcUs(2026, 11, 30, 10) + 500_000);
    // pytz LMT offsets carry seconds (Asia/Kolkata before 1941: +05:53:28)
    assert.equal(parseScheduledAt("1900-01-01 05:53:28+05:53:28"), utcUs(1900, 1, 1, 0));
    assert.equal(parseScheduledAt("2026-11-30 10:00:00+00:00:00.000001"), utcUs(2026, 11, 30, 10) - 1);
  });

  test("DST: the repeated hour stays two instants, spring-forward times are what they say", () => {
    // America/New_York, 2026-11-01: 01:30 EDT (-04:00) and, an hour later, 01:30 EST (-05:00)
    const edt = parseScheduledAt("2026-11-01 01:30:00-04:00");
    const est = parseScheduledAt("2026-11-01 01:30:00-05:00");
    assert.equal((est as number) - (edt as number), 3600e6);
    // Europe/Berlin, 2026-03-29: 01:59:59+01:00 then 03:00:00+02:00 are one second apart
    assert.equal(
      (parseScheduledAt("2026-03-29 03:00:00+02:00") as number) -
        (parseScheduledAt("2026-03-29 01:59:59+01:00") as number),
      1e6,
    );
  });

  test("nonsense is null", () => {
    for (const bad of [
      "",
      "2026-11-30",
      "2026-02-29 10:00:00+00:00",
      "2026-13-01 10:00:00+00:00",
      "2026-11-31 10:00:00+00:00",
      "2026-11-30 24:00:00+00:00",
      "2026-11-30 10:60:00+00:00",
      "2026-11-30 10:00:00+24:00",
      "2026-11-30 10:00:00+08",
      "2026-11-30 10:00:00 CST",
      "2026-11-30 10:00:00+08:00x",
      "2026/11/30 10:00:00",
      "2026-11-30 10:00:0",
      "2026-11-30 10:00:00.+00:00",
    ]) {
      assert.equal(parseScheduledAt(bad), null, bad);
    }
    assert.equal(parseScheduledAt("2028-02-29 10:00:00+00:00"), utcUs(2028, 2, 29, 10), "leap day");
  });
});

describe("broken input is counted, never thrown", () => {
  const full = `[2026-11-30 10:00:00 +0000] [12] [INFO] ${RUN}`;

  test("every truncation of a run line is unparsed (or other before the message starts)", () => {
    const start = full.indexOf('Running job "') + 'Running job "'.length;
    for (let i = 0; i < full.length; i++) {
      const r = parseApLogLine(full.slice(0, i));
      assert.equal(r.kind, i >= start ? "unparsed" : "other", `cut at ${i}: ${full.slice(0, i)}`);
    }
    const json = JSON.stringify({ message: RUN, process: 1 });
    for (let i = json.indexOf("Running job ") + "Running job ".length; i < json.length; i++) {
      assert.equal(parseApLogLine(json.slice(0, i)).kind, "unparsed", `JSON cut at ${i}`);
    }
  });

  test("not UTF-8: bytes are checked exactly, decoded strings by their U+FFFD", () => {
    const d = new DuplicateRunDetector();
    const bytes = Buffer.concat([
      Buffer.from(full.slice(0, 60)),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from(full.slice(60)),
    ]);
    assert.deepEqual(d.feed(bytes), { kind: "unparsed", reason: "not valid UTF-8" });
    assert.equal(d.feed(Buffer.from([0xff, 0xfe, 0x00, 0x41])).kind, "unparsed");
    assert.equal(d.feed(bytes.toString("utf8")).kind, "unparsed");
    assert.equal(parseApLogLine("garbage \uFFFD here").kind, "unparsed");
    assert.equal(d.feed(Buffer.from(full)).kind, "run");
    assert.deepEqual(
      { ...d.stats, entries: 0 },
      { lines: 4, runs: 1, events: 0, unparsed: 3, entries: 0, evicted: 0, late: 0 },
    );
  });

  test("garbled APScheduler lines are unparsed, with a reason", () => {
    const cases = [
      `Running job "tick" (scheduled at 2026-11-30 10:00:00+00:00)`,
      `Running job "tick (trigger: interval[0:00:01], next run at: x)" (scheduled at yesterday)`,
      `Running job "tick (trigger: interval[0:00:01] next run at: 2026)" (scheduled at 2026-11-30 10:00:00+00:00)`,
      `Job "tick (trigger: interval[0:00:01], next run at: 2026-11-30 10:00:01 UTC)" executed succ`,
      `{"message": "Running job \\"tick (trigger: interval[0:00:01], next run`,
      `message=Running job \\"tick (trigger: interval[0:00:01], next run at: 2026-11-30 10:00:01 UTC)\\" (scheduled at 2026-11-30 10:00:00+00:00)`,
    ];
    for (const c of cases) {
      const r = parseApLogLine(c);
      assert.equal(r.kind, "unparsed", c);
      assert.ok((r as { reason: string }).reason.length > 0);
    }
  });

  test("random strings and bytes never throw", () => {
    const d = new DuplicateRunDetector();
    const piece = fc.constantFrom(
      "Running job ",
      '"',
      " (trigger: ",
      ", next run at: ",
      '" (scheduled at ',
      "2026-11-30 10:00:00+08:00",
      ")",
      "{",
      "}",
      '"message": ',
      "[12]",
      "web-1  | ",
      "\\",
      "\uFFFD",
      "Job ",
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ unit: "binary" })), { maxLength: 12 }), (parts) => {
        const line = parts.join("");
        const r = parseApLogLine(line);
        assert.ok(["run", "executed", "error", "missed", "skipped", "other", "unparsed"].includes(r.kind));
        d.feed(line, "fuzz");
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        d.feed(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("parseRunView (the streaming fast path) agrees with parseApLogLine", () => {
  function viaBytes(line: string, cache = new RunViewCache()): RunRecord | null {
    const b = Buffer.from(line);
    const view = b.toString("latin1");
    const at = view.indexOf('Running job "');
    return at === -1
      ? null
      : parseRunView(view, 0, view.length, at, cache, (x, y) => b.toString("utf8", x, y));
  }
  const fields = (r: ApLine | RunRecord) => {
    const x = r as RunRecord;
    return {
      job: x.job,
      trigger: x.trigger,
      scheduledAt: x.scheduledAt,
      scheduledUs: x.scheduledUs,
      pid: x.pid,
      host: x.host,
      container: x.container,
    };
  };

  test("the common shapes take the fast path, and say who ran them as the full parser does", () => {
    for (const line of [
      RUN,
      `[2026-11-30 10:00:00 +0000] [12] [INFO] ${RUN}`,
      `[2026-11-30 10:00:00 +0000] [12] [INFO] apscheduler.executors.default: ${RUN}`,
      `INFO:apscheduler.executors.default:${RUN}`,
      `2026-11-30 10:00:00,001 INFO apscheduler.executors.default ${RUN}\r`,
      `Nov 30 10:00:00 web-3 gunicorn[4711]: ${RUN}`,
      `pid=1 host=a-very-long-host-name.example ${RUN}`,
      `HOST=x ${RUN}`,
    ]) {
      const fast = viaBytes(line);
      assert.ok(fast, line);
      assert.deepEqual(fields(fast), fields(parseApLogLine(line)), line);
    }
  });

  test("lines the full parser re-reads (JSON, docker and kubectl prefixes) or that end oddly are left to it", () => {
    for (const line of [
      JSON.stringify({ message: RUN }),
      `  ${JSON.stringify({ message: RUN })}`,
      `web-1  | ${RUN}`,
      `INFO | ${RUN}`,
      `[pod/a/b] ${RUN}`,
      `${RUN} trailing`,
    ]) {
      assert.equal(viaBytes(line), null, line);
    }
  });

  test("property: on generated lines, the fast path is null or the same answer", () => {
    const prefix = fc.oneof(
      fc.constant(""),
      fc.constantFrom(
        "[2026-11-30 10:00:00 +0000] ",
        "INFO:apscheduler:",
        "web-1  | ",
        "x | ",
        "{",
        " ",
        "<13>",
        "Nov 30 10:00:00 h a[1]: ",
      ),
      fc
        .tuple(
          fc.integer({ min: 0, max: 99999 }),
          fc.constantFrom("[", "pid=", "process ", "PID:", "[x", "("),
        )
        .map(([n, k]) => `${k}${n}] `),
      fc.string({ maxLength: 20 }),
    );
    const name = fc.oneof(
      fc.constantFrom("tick", 'a"b', "x (trigger: y)", "récap", ""),
      fc.string({ maxLength: 12 }),
    );
    const trigger = fc.constantFrom(
      "interval[0:00:01]",
      "cron[hour='3', minute='0']",
      "date[2026-11-30 10:00:00 CST]",
      "x,y",
    );
    const status = fc.constantFrom(
      "next run at: 2026-11-30 10:00:01 UTC",
      "paused",
      "pending",
      "next run at: 2026-11-30 10:00:01 +0530",
    );
    const time = fc.oneof(
      fc.constantFrom(
        "2026-11-30 10:00:00+00:00",
        "2026-11-30 18:00:00.250000+08:00",
        "2026-11-01 01:30:00-05:00",
        "2026-02-30 10:00:00+00:00",
        "x",
      ),
      fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) =>
        d
          .toISOString()
          .replace("T", " ")
          .replace(/\.\d+Z$/, "+00:00"),
      ),
    );
    const tail = fc.constantFrom("", "\r", " ", ")", " x");
    const cache = new RunViewCache();
    fc.assert(
      fc.property(prefix, name, trigger, status, time, tail, (p, n, t, s, tm, end) => {
        const line = `${p}Running job "${n} (trigger: ${t}, ${s})" (scheduled at ${tm})${end}`;
        const fast = viaBytes(line, cache);
        const full = parseApLogLine(line);
        if (fast !== null) {
          assert.equal(full.kind, "run", line);
          assert.deepEqual(fields(fast), fields(full), line);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe("DuplicateRunDetector", () => {
  const line = (pid: number, at: string, job = "tick") =>
    `[${at} +0000] [${pid}] [INFO] Running job "${job} (trigger: interval[0:00:01], next run at: x UTC)" (scheduled at ${at}+00:00)`;

  test("three workers running the same scheduled run: one duplicate, count 3, sources and runners", () => {
    const d = new DuplicateRunDetector();
    d.feed(line(11, "2026-11-30 10:00:00"), "app.log", 1);
    d.feed("noise", "app.log", 2);
    d.feed(line(12, "2026-11-30 10:00:00"), "app.log", 3);
    d.feed(line(13, "2026-11-30 10:00:00"), "app.log", 4);
    d.feed(line(11, "2026-11-30 10:00:01"), "app.log", 5);
    assert.deepEqual(d.duplicates, [
      {
        job: "tick",
        trigger: "interval[0:00:01]",
        scheduledAt: "2026-11-30 10:00:00+00:00",
        count: 3,
        sources: ["app.log:1 (pid 11)", "app.log:3 (pid 12)", "app.log:4 (pid 13)"],
        runners: ["pid 11", "pid 12", "pid 13"],
      },
    ]);
    assert.equal(d.jobs, 1);
    assert.equal(d.stats.runs, 4);
    assert.equal(d.truncatedDuplicates, 0);
  });

  test("the same instant written in two zones is one run; the DST-repeated wall time is two", () => {
    const d = new DuplicateRunDetector();
    const at = (s: string) => `Running job "${JOB}" (scheduled at ${s})`;
    d.feed(at("2026-11-30 18:00:00+08:00"));
    d.feed(at("2026-11-30 10:00:00+00:00"));
    d.feed(at("2026-11-01 01:30:00-04:00"));
    d.feed(at("2026-11-01 01:30:00-05:00"));
    assert.equal(d.duplicates.length, 1);
    assert.equal(d.duplicates[0]?.scheduledAt, "2026-11-30 18:00:00+08:00");
  });

  test("a job is its name and its trigger", () => {
    const d = new DuplicateRunDetector();
    d.feed(
      `Running job "tick (trigger: interval[0:00:01], next run at: x)" (scheduled at 2026-11-30 10:00:00+00:00)`,
    );
    d.feed(
      `Running job "tick (trigger: interval[0:00:05], next run at: x)" (scheduled at 2026-11-30 10:00:00+00:00)`,
    );
    assert.equal(d.duplicates.length, 0);
    assert.equal(d.jobs, 2);
  });

  test("samples and listed duplicates are capped; the rest is counted", () => {
    const d = new DuplicateRunDetector({ maxDuplicates: 2, maxSamples: 2 });
    for (let s = 0; s < 5; s++) {
      for (let pid = 1; pid <= 4; pid++) d.feed(line(pid, `2026-11-30 10:00:0${s}`), "a.log", s * 10 + pid);
    }
    assert.equal(d.duplicates.length, 2);
    assert.equal(d.truncatedDuplicates, 3);
    for (const dup of d.duplicates) {
      assert.equal(dup.count, 4);
      assert.equal(dup.sources.length, 2);
      assert.deepEqual(dup.runners, ["pid 1", "pid 2"]);
    }
  });

  test("tolerance pairs interval runs whose phases differ per process", () => {
    const at = (s: string) => `Running job "${JOB}" (scheduled at ${s})`;
    for (const [tol, expected] of [
      [0, 0],
      [500, 2],
    ] as const) {
      const d = new DuplicateRunDetector({ toleranceMs: tol });
      for (const t of ["10:00:00.120000", "10:00:00.480000", "10:00:01.120000", "10:00:01.480000"])
        d.feed(at(`2026-11-30 ${t}+00:00`));
      assert.equal(d.duplicates.length, expected, `tolerance ${tol}`);
    }
  });

  test("the window: runs older than newest - windowSec are forgotten", () => {
    const d = new DuplicateRunDetector({ windowSec: 60 });
    const rec = (us: number): RunRecord => ({
      job: "tick",
      trigger: "interval[0:00:01]",
      scheduledAt: String(us),
      scheduledUs: us,
      pid: 1,
      host: null,
      container: null,
    });
    for (let s = 0; s < 7200; s++) d.addRun(rec(s * 1e6));
    assert.ok(d.stats.entries <= 61, `entries ${d.stats.entries}`);
    assert.equal(d.stats.evicted, 7200 - d.stats.entries);
    d.addRun(rec(10 * 1e6)); // a copy of a run two hours back: too late to pair
    assert.equal(d.duplicates.length, 0);
    assert.equal(d.stats.late, 1);
    d.addRun(rec(7199 * 1e6)); // a copy inside the window pairs
    assert.equal(d.duplicates.length, 1);
  });

  test("memory stays bounded: 1e6 distinct keys, the hard cap holds and the heap does not grow", () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const d = new DuplicateRunDetector({ windowSec: 10 ** 9 });
    const base = Date.UTC(2026, 0, 1) * 1000;
    const feedKeys = (from: number, to: number, jobs: number) => {
      for (let i = from; i < to; i++) {
        // distinct (job, instant) keys, all inside the huge window: only the cap can evict
        d.addRun({
          job: `job-${i % jobs}`,
          trigger: "interval[0:00:01]",
          scheduledAt: `t${i}`,
          scheduledUs: base + i,
          pid: i,
          host: "web",
          container: null,
        });
      }
    };
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    // worst case first: every key a new job (a JobState each), until the cap is reached
    feedKeys(0, 60_000, 60_000);
    gc();
    const heapAtCap = process.memoryUsage().heapUsed;
    feedKeys(60_000, 940_000, 1); // distinct instants of one job
    feedKeys(940_000, 1_000_000, 60_000); // and new jobs again
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    assert.equal(d.stats.entries, 50_000, "default maxEntries");
    assert.equal(d.stats.evicted, 950_000);
    assert.ok(d.jobs <= 10_000, `jobs ${d.jobs}`);
    assert.ok(
      heapAtCap - heapBefore < 64 * 1048576,
      `at the cap the detector holds ${mib(heapAtCap - heapBefore)}`,
    );
    assert.ok(
      heapAfter - heapAtCap < 8 * 1048576,
      `940 000 more keys grew the heap by ${mib(heapAfter - heapAtCap)}`,
    );
  });

  test("feed() in log order, 1e5 lines of 3 workers: every scheduled second is one duplicate", () => {
    const d = new DuplicateRunDetector({ maxDuplicates: 10 });
    const t0 = Date.UTC(2026, 0, 1);
    let n = 0;
    for (let s = 0; s < 33_334 && n < 100_000; s++) {
      const at = new Date(t0 + s * 1000).toISOString().slice(0, 19).replace("T", " ");
      for (const pid of [1, 2, 3]) {
        if (n++ < 100_000) d.feed(line(pid, at), "x.log", n);
      }
    }
    assert.equal(d.stats.runs, 100_000);
    assert.equal(d.duplicates.length + d.truncatedDuplicates, 33_333);
    assert.ok(d.stats.entries <= 3601);
  });
});
