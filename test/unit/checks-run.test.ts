/**
 * The check runner: --only/--skip selection, crash isolation and timing, and the exit code's monotonicity in
 * the severity of the results (property-based, fixed seed).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CHECKS } from "../../src/checks/registry.js";
import { exitCodeFor, runChecks, selectChecks, summarize } from "../../src/checks/run.js";
import {
  type CheckDefinition,
  type CheckResult,
  GROUPS,
  type Group,
  type Status,
} from "../../src/checks/types.js";
import { UsageError } from "../../src/errors.js";
import type { Facts } from "../../src/facts/types.js";

const SEED = 20261201;

function fake(id: string, run: (facts: Facts) => CheckResult = () => ok("pass")): CheckDefinition {
  const group = id.split(".")[0] as Group;
  return { id, group, title: `title of ${id}`, description: `what ${id} does`, run };
}

function ok(status: Status, summary = `${status} summary`): CheckResult {
  return { status, summary, details: [], evidence: { n: 1 } };
}

const FAKES: CheckDefinition[] = [
  fake("tz.sources"),
  fake("tz.tzlocal"),
  fake("tz.libc"),
  fake("workers.live"),
  fake("locks.file"),
  fake("locks.redis"),
];
const ids = (cs: readonly CheckDefinition[]) => cs.map((c) => c.id);
/** Checks never look at facts in these tests. */
const NO_FACTS = {} as Facts;

describe("selectChecks", () => {
  test("no --only and no --skip selects everything, in registry order", () => {
    assert.deepEqual(ids(selectChecks([], [], FAKES)), ids(FAKES));
  });

  test("ids, groups and comma lists, in registry order whatever the argument order", () => {
    assert.deepEqual(ids(selectChecks(["tz.libc"], [], FAKES)), ["tz.libc"]);
    assert.deepEqual(ids(selectChecks(["tz"], [], FAKES)), ["tz.sources", "tz.tzlocal", "tz.libc"]);
    assert.deepEqual(ids(selectChecks(["locks.redis,tz.sources"], [], FAKES)), ["tz.sources", "locks.redis"]);
    assert.deepEqual(ids(selectChecks(["locks", "tz.libc"], [], FAKES)), [
      "tz.libc",
      "locks.file",
      "locks.redis",
    ]);
    assert.deepEqual(ids(selectChecks([" tz.libc , ,workers.live ", ","], [], FAKES)), [
      "tz.libc",
      "workers.live",
    ]);
    assert.deepEqual(ids(selectChecks(["tz", "tz.libc", "tz"], [], FAKES)), [
      "tz.sources",
      "tz.tzlocal",
      "tz.libc",
    ]);
  });

  test("--skip removes ids and groups, also from an --only selection", () => {
    assert.deepEqual(ids(selectChecks([], ["tz"], FAKES)), ["workers.live", "locks.file", "locks.redis"]);
    assert.deepEqual(ids(selectChecks(["tz"], ["tz.tzlocal"], FAKES)), ["tz.sources", "tz.libc"]);
    assert.deepEqual(ids(selectChecks([], ["tz.sources,locks"], FAKES)), [
      "tz.tzlocal",
      "tz.libc",
      "workers.live",
    ]);
    assert.deepEqual(ids(selectChecks(["tz.libc"], ["tz"], FAKES)), []);
  });

  test("a known group without checks selects nothing rather than failing", () => {
    assert.deepEqual(ids(selectChecks(["routes"], [], FAKES)), []);
    assert.deepEqual(ids(selectChecks([], ["deploy"], FAKES)), ids(FAKES));
  });

  test("unknown names are usage errors naming the input", () => {
    for (const [only, skip, name] of [
      [["tz.nope"], [], "tz.nope"],
      [["tz,bogus"], [], "bogus"],
      [[], ["TZ"], "TZ"],
      [["tz."], [], "tz."],
      [["runs.http"], [], "runs.http"], // a real id, but not in this list
    ] as [string[], string[], string][]) {
      assert.throws(
        () => selectChecks(only, skip, FAKES),
        (err: unknown) => {
          assert.ok(err instanceof UsageError, String(err));
          assert.equal(err.exitCode, 2);
          assert.ok(err.message.includes(`"${name}"`), err.message);
          return true;
        },
      );
    }
  });

  test("the real registry: unique ids named <group>.<name>, known groups, the six tz checks", () => {
    const all = ids(CHECKS);
    assert.equal(new Set(all).size, all.length, "ids are unique");
    for (const c of CHECKS) {
      assert.ok((GROUPS as readonly string[]).includes(c.group), c.id);
      assert.ok(c.id.startsWith(`${c.group}.`), c.id);
      assert.ok(c.title.length > 0 && c.description.length > 0, c.id);
    }
    assert.deepEqual(ids(selectChecks(["tz"], [])), [
      "tz.sources",
      "tz.tzlocal",
      "tz.configured",
      "tz.zoneinfo",
      "tz.libc",
      "tz.flask-construct",
    ]);
  });
});

describe("runChecks", () => {
  test("a check that throws becomes an error result; the others still run", () => {
    const ran: string[] = [];
    const checks = [
      fake("tz.sources", () => {
        ran.push("tz.sources");
        return ok("pass");
      }),
      fake("tz.tzlocal", () => {
        ran.push("tz.tzlocal");
        throw new TypeError("Cannot read properties of undefined (reading 'zone')");
      }),
      fake("tz.libc", () => {
        ran.push("tz.libc");
        return {
          ...ok("fail", "libc reads UTC"),
          fix: { text: "do this", commands: ["ENV TZ=Asia/Shanghai"] },
        };
      }),
    ];
    const reports = runChecks(checks, NO_FACTS);
    assert.deepEqual(ran, ["tz.sources", "tz.tzlocal", "tz.libc"]);
    assert.deepEqual(
      reports.map((r) => [r.id, r.group, r.status]),
      [
        ["tz.sources", "tz", "pass"],
        ["tz.tzlocal", "tz", "error"],
        ["tz.libc", "tz", "fail"],
      ],
    );
    const crashed = reports[1];
    assert.ok(crashed);
    assert.equal(crashed.title, "title of tz.tzlocal");
    assert.match(crashed.summary, /^check crashed: Cannot read properties of undefined \(reading 'zone'\)$/);
    assert.ok(crashed.details.length > 0 && crashed.details.length <= 5, "a few stack lines");
    assert.match(crashed.details[0] ?? "", /^at /);
    assert.deepEqual(crashed.evidence, {});
    assert.equal(crashed.fix, undefined);
    assert.deepEqual(reports[2]?.fix, { text: "do this", commands: ["ENV TZ=Asia/Shanghai"] });
    assert.deepEqual(reports[0]?.evidence, { n: 1 });
  });

  test("whatever is thrown (a string, null) becomes an error result naming it", () => {
    const reports = runChecks(
      [
        fake("tz.sources", () => {
          throw "zone database exploded";
        }),
        fake("tz.tzlocal", () => {
          throw null;
        }),
        fake("tz.libc"),
      ],
      NO_FACTS,
    );
    assert.deepEqual(
      reports.map((r) => r.status),
      ["error", "error", "pass"],
    );
    assert.match(reports[0]?.summary ?? "", /zone database exploded/);
  });

  test("durations come from the clock, rounded to 0.01 ms, for passing and crashing checks", () => {
    const ticks = [100, 101.23456, 200, 200.5, 300, 300.004];
    const clock = () => {
      const t = ticks.shift();
      assert.ok(t !== undefined, "clock called too often");
      return t;
    };
    const reports = runChecks(
      [
        fake("tz.sources"),
        fake("tz.tzlocal", () => {
          throw new Error("boom");
        }),
        fake("tz.libc"),
      ],
      NO_FACTS,
      clock,
    );
    assert.deepEqual(
      reports.map((r) => r.durationMs),
      [1.23, 0.5, 0],
    );
    assert.equal(ticks.length, 0);
  });

  test("default clock: non-negative durations", () => {
    for (const r of runChecks(FAKES, NO_FACTS)) assert.ok(r.durationMs >= 0 && Number.isFinite(r.durationMs));
  });
});

describe("summarize and exitCodeFor", () => {
  const STATUSES: Status[] = ["pass", "warn", "fail", "skip", "error"];
  /** Severity for the exit code: skip is as harmless as pass. */
  const RANK: Record<Status, number> = { pass: 0, skip: 0, warn: 1, fail: 2, error: 3 };
  const statusArb = fc.constantFrom(...STATUSES);
  const failOnArb = fc.constantFrom<"warn" | "fail">("warn", "fail");
  const report = (status: Status) => ({
    id: "tz.x",
    group: "tz" as const,
    title: "x",
    durationMs: 0,
    ...ok(status),
  });
  const code = (statuses: Status[], failOn: "warn" | "fail") =>
    exitCodeFor(summarize(statuses.map(report)), failOn);

  test("summarize counts every status, zeros included", () => {
    assert.deepEqual(summarize([]), { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 });
    assert.deepEqual(summarize(["pass", "warn", "warn", "error", "skip"].map((s) => report(s as Status))), {
      pass: 1,
      warn: 2,
      fail: 0,
      skip: 1,
      error: 1,
    });
  });

  test("the exit code table", () => {
    assert.equal(code([], "fail"), 0);
    assert.equal(code(["pass", "skip"], "warn"), 0);
    assert.equal(code(["warn"], "fail"), 0);
    assert.equal(code(["warn"], "warn"), 1);
    assert.equal(code(["fail"], "fail"), 1);
    assert.equal(code(["fail"], "warn"), 1);
    assert.equal(code(["error"], "fail"), 3);
    assert.equal(code(["fail", "error", "warn"], "warn"), 3);
  });

  test("making any one result worse never lowers the exit code", () => {
    fc.assert(
      fc.property(
        fc.array(statusArb, { maxLength: 12 }),
        fc.nat(),
        statusArb,
        failOnArb,
        (xs, i, worse, failOn) => {
          if (xs.length === 0) return;
          const k = i % xs.length;
          const before = xs[k] as Status;
          fc.pre(RANK[worse] >= RANK[before]);
          const ys = [...xs];
          ys[k] = worse;
          assert.ok(code(ys, failOn) >= code(xs, failOn), `${xs} -> ${ys} (--fail-on ${failOn})`);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  test("adding a result never lowers the exit code; --fail-on warn is never more lenient", () => {
    fc.assert(
      fc.property(fc.array(statusArb, { maxLength: 12 }), statusArb, failOnArb, (xs, extra, failOn) => {
        assert.ok(code([...xs, extra], failOn) >= code(xs, failOn));
        assert.ok(code(xs, "warn") >= code(xs, "fail"));
        // The exit code depends only on the worst result.
        const worst = xs.reduce((m, s) => Math.max(m, RANK[s]), 0);
        const expected = worst === 3 ? 3 : worst === 2 || (worst === 1 && failOn === "warn") ? 1 : 0;
        assert.equal(code(xs, failOn), expected);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
