import assert from "node:assert/strict";
import { test } from "node:test";
import { DuplicateRunDetector, toleranceCapUs } from "../../src/runs/aplog.js";

const run = (job: string, trigger: string, at: string) =>
  `INFO:apscheduler.executors.default:Running job "${job} (trigger: ${trigger}, next run at: 2026-12-01 10:00:10 UTC)" (scheduled at ${at})`;

test("interval triggers allow under half their interval; cron and date triggers match exactly", () => {
  assert.equal(toleranceCapUs("interval[0:00:10]"), 4_999_999);
  assert.equal(toleranceCapUs("interval[1 day, 0:00:00]"), 43_199_999_999);
  assert.equal(toleranceCapUs("interval[0:00:00.500000]"), 249_999);
  assert.equal(toleranceCapUs("cron[second='*']"), 0);
  assert.equal(toleranceCapUs("date[2026-12-01 10:00:00 UTC]"), 0);
});

test("out-of-phase runs of an interval job in two workers are one run executed twice", () => {
  const d = new DuplicateRunDetector({ toleranceMs: 2000 });
  d.feed(run("tick", "interval[0:00:10]", "2026-12-01 10:00:00.120000+00:00"), "a.log", 1);
  d.feed(run("tick", "interval[0:00:10]", "2026-12-01 10:00:01.480000+00:00"), "a.log", 2);
  d.feed(run("tick", "interval[0:00:10]", "2026-12-01 10:00:10.120000+00:00"), "a.log", 3);
  assert.equal(d.duplicates.length, 1);
  assert.equal(d.duplicates[0]?.count, 2);
});

test("a 1-second interval job running every second is not mistaken for duplicates", () => {
  const d = new DuplicateRunDetector({ toleranceMs: 2000 });
  for (let s = 0; s < 10; s++)
    d.feed(run("fast", "interval[0:00:01]", `2026-12-01 10:00:0${s}+00:00`), "a.log", s + 1);
  assert.equal(d.duplicates.length, 0);
});

test("cron runs a second apart are distinct even with a tolerance", () => {
  const d = new DuplicateRunDetector({ toleranceMs: 2000 });
  d.feed(run("c", "cron[second='*']", "2026-12-01 10:00:00+00:00"), "a.log", 1);
  d.feed(run("c", "cron[second='*']", "2026-12-01 10:00:01+00:00"), "a.log", 2);
  assert.equal(d.duplicates.length, 0);
});
