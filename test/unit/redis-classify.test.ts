/**
 * src/locks/redis-classify.ts: every lock format of reference/locks.md §1, with values the real libraries'
 * algorithms produced (captured from CPython 3.11: uuid.uuid1().hex, base64.b64encode(os.urandom(18)),
 * str(uuid.uuid4()), uuid.uuid4().hex, time.time(), rq's utcformat; BullMQ's worker id is Node's
 * crypto.randomUUID()), the two-sample state rule, Redis globs and the \xNN key escaping.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  classifyKey,
  decodeUuid1,
  escapeKey,
  explainKey,
  globToRegExp,
  isCandidateKey,
  type KeySample,
  LOCKISH_RE,
  lockishIndexes,
  lockState,
  matchGlob,
  parseTime,
  rqSchedulerHashKey,
  sampleNeeds,
  unescapeKey,
  WELL_KNOWN_KEYS,
} from "../../src/locks/redis-classify.js";

// CPython: t = time.time(); u = uuid.uuid1() -> t = 1796034468.7915063, u.node = 0x02fc00000001,
// u.clock_seq = 15349, (u.time - 0x01B21DD213814000) / 1e7 = 1796034468.792187
const UUID1 = "b0ac0aceeca811f1bbf502fc00000001";
const UUID1_MS = 1796034468792;
// uuid.uuid1(node=uuid._random_getnode()): multicast bit set
const UUID1_RANDOM_NODE = "b0ac384ceca811f184d2afb0d0d8ef90";
const B64_ID = "sda8Q7XGNQiRpTfbNinZPz2d"; // base64.b64encode(os.urandom(18))
const UUID4 = "f5d7b112-08e4-485e-83c0-bc40f4a1c7e6"; // str(uuid.uuid4())
const UUID4_HEX = "bac4bec0115749f5b793f946057a1147"; // uuid.uuid4().hex (rq 2.10 scheduler name)
const TIME_TIME = "1796034468.7934272"; // str(time.time())
const UTCFORMAT = "2026-11-30T10:27:48.793457Z"; // rq utcformat(now())
const NOW = UUID1_MS + 90_000;

const s = (
  key: string,
  type: string,
  value: string | null,
  pttl: number,
  extra: Partial<KeySample> = {},
): KeySample => ({
  key,
  type,
  value,
  pttl,
  ...extra,
});

describe("uuid1 tokens (redis-py Lock)", () => {
  test("decodes the acquire time and node exactly as CPython's uuid module", () => {
    const u = decodeUuid1(UUID1);
    assert.ok(u);
    assert.equal(u.timeMs, UUID1_MS);
    assert.equal(u.node, "02:fc:00:00:00:01");
    assert.equal(u.clockSeq, 15349);
    assert.equal(u.nodeRandom, false);
    const r = decodeUuid1(UUID1_RANDOM_NODE);
    assert.equal(r?.node, "af:b0:d0:d8:ef:90");
    assert.equal(r?.nodeRandom, true);
  });
  test("not uuid1: uuid4 hex, node-redlock random hex, wrong variant, implausible time", () => {
    assert.equal(decodeUuid1(UUID4_HEX), null);
    assert.equal(decodeUuid1("9f86d081884c7d659a2feaa0c55ad015"), null);
    assert.equal(decodeUuid1("b0ac0aceeca811f17bf502fc00000001"), null); // variant nibble 7
    assert.equal(decodeUuid1("00000000000010008000000000000000", NOW), null); // 1582
    assert.equal(decodeUuid1(UUID1.toUpperCase()), null);
  });
  test("any string key holding a uuid1 token is a redis-py Lock", () => {
    const r = classifyKey(s("reports:nightly", "string", UUID1, 29_500), NOW, []);
    assert.ok(r);
    assert.equal(r.kind, "redis-py");
    assert.equal(r.owner, "uuid1 node 02:fc:00:00:00:01");
    assert.equal(r.heldForMs, 90_000);
    assert.equal(r.ttlMs, 29_500);
    assert.equal(r.details.acquiredAt, new Date(UUID1_MS).toISOString());
    assert.equal(
      classifyKey(s("x", "string", UUID1_RANDOM_NODE, -1), NOW, [])?.owner,
      "uuid1 node af:b0:d0:d8:ef:90 (random node id)",
    );
  });
  test("a string with another value is not a lock unless a pattern names it", () => {
    assert.equal(classifyKey(s("reports:nightly", "string", UUID4_HEX, 100), NOW, []), null);
    const u = classifyKey(s("reports:nightly", "string", "web-3", 100), NOW, ["reports:*"]);
    assert.equal(u?.kind, "user-pattern");
    assert.equal(u?.owner, "web-3");
    // a user-named key holding a uuid1 is still decoded as redis-py
    assert.equal(classifyKey(s("name", "string", UUID1, -1), NOW, ["name"])?.kind, "redis-py");
  });
});

describe("libraries built on redis-py Lock", () => {
  test("celery-redbeat: redbeat::lock and a custom prefix", () => {
    const r = classifyKey(s("redbeat::lock", "string", UUID1, 1_499_000), NOW, []);
    assert.equal(r?.kind, "redbeat");
    assert.equal(r?.owner, "uuid1 node 02:fc:00:00:00:01");
    assert.equal(r?.details.prefix, "redbeat::");
    const c = classifyKey(s("myapp::lock", "string", UUID1, 100), NOW, []);
    assert.equal(c?.kind, "redbeat");
    assert.equal(c?.details.prefix, "myapp::");
  });
  test("celery-beatx and celerybeat-redis", () => {
    assert.equal(classifyKey(s("celery:beat-lock", "string", UUID1, 60_000), NOW, [])?.kind, "celery-beatx");
    assert.equal(
      classifyKey(s("celery:beat:task_lock", "string", UUID1, 30_000), NOW, [])?.kind,
      "celerybeat-redis",
    );
  });
  test("a known name with a non-uuid1 token keeps its kind and shows the token", () => {
    const r = classifyKey(s("redbeat::lock", "string", "custom-token", 100), NOW, []);
    assert.equal(r?.kind, "redbeat");
    assert.equal(r?.owner, "token custom-token");
    assert.equal(r?.heldForMs, null);
  });
});

describe("python-redis-lock", () => {
  test("lock:NAME with a 24-char base64 id", () => {
    const r = classifyKey(s("lock:x", "string", B64_ID, 59_000), NOW, []);
    assert.equal(r?.kind, "python-redis-lock");
    assert.equal(r?.owner, `id ${B64_ID}`);
    assert.equal(r?.details.lockName, "x");
  });
  test("lock:NAME with another value is not recognised", () => {
    assert.equal(classifyKey(s("lock:x", "string", "hello", 59_000), NOW, []), null);
  });
  test("lock-signal:NAME lists are noted, not locks", () => {
    const sig = s("lock-signal:x", "list", null, 800, { length: 1 });
    assert.equal(classifyKey(sig, NOW, []), null);
    assert.match(
      explainKey(sig, NOW) ?? "",
      /lock-signal:x \(python-redis-lock\) exists: lock:x was released/,
    );
  });
});

describe("pottery Redlock", () => {
  test("redlock:KEY with str(uuid4())", () => {
    const r = classifyKey(s("redlock:printer", "string", UUID4, 9_000), NOW, []);
    assert.equal(r?.kind, "pottery-redlock");
    assert.equal(r?.owner, `token ${UUID4}`);
    assert.equal(r?.details.tokenFormat, "uuid4");
    assert.equal(r?.details.resource, "printer");
  });
});

describe("rq", () => {
  test("rq <= 2.9: rq:scheduler-lock:<queue> holds the pid", () => {
    const r = classifyKey(s("rq:scheduler-lock:default", "string", "4711", 60_000), NOW, []);
    assert.equal(r?.kind, "rq");
    assert.equal(r?.owner, "pid 4711");
    assert.equal(r?.details.queue, "default");
    assert.equal(rqSchedulerHashKey(s("rq:scheduler-lock:default", "string", "4711", 1)), null);
  });
  test("rq 2.10: the scheduler name, and the rq:scheduler:<name> hash names host and pid", () => {
    const lock = s("rq:scheduler-lock:high", "string", UUID4_HEX, 61_000);
    assert.equal(rqSchedulerHashKey(lock), `rq:scheduler:${UUID4_HEX}`);
    const bare = classifyKey(lock, NOW, []);
    assert.equal(bare?.owner, `scheduler ${UUID4_HEX}`);
    const hash = { name: UUID4_HEX, hostname: "worker-2", pid: "812", queues: "high", created_at: UTCFORMAT };
    const r = classifyKey({ ...lock, hash }, Date.parse("2026-11-30T10:28:48.793Z"), []);
    assert.equal(r?.kind, "rq");
    assert.equal(r?.owner, "host worker-2 pid 812");
    assert.equal(r?.heldForMs, 60_000);
  });
  test("rq-scheduler: rq:scheduler_lock holds time.time()", () => {
    const r = classifyKey(s("rq:scheduler_lock", "string", TIME_TIME, 70_000), 1796034478793, []);
    assert.equal(r?.kind, "rq-scheduler");
    assert.equal(r?.owner, null);
    assert.equal(r?.heldForMs, 10_000);
  });
  test("rq-scheduler instances: live ones counted, stopped ones only noted", () => {
    const live = s(`rq:scheduler_instance:${UUID4_HEX}`, "hash", null, 65_000, {
      hash: { birth: TIME_TIME },
    });
    const r = classifyKey(live, 1796034478793, []);
    assert.equal(r?.kind, "rq-scheduler-instance");
    assert.equal(r?.owner, `scheduler ${UUID4_HEX}`);
    assert.equal(r?.heldForMs, 10_000);
    const dead = { ...live, hash: { birth: TIME_TIME, death: TIME_TIME } };
    assert.equal(classifyKey(dead, NOW, []), null);
    assert.match(explainKey(dead, NOW) ?? "", /stopped at/);
  });
  test("rq cron: each rq:cron_scheduler:<name> hash is one instance; the registry zset is a note", () => {
    const name = `worker-1:77:${UUID4_HEX.slice(0, 8)}`;
    const h = s(`rq:cron_scheduler:${name}`, "hash", null, 50_000, {
      hash: { hostname: "worker-1", pid: "77", name, created_at: UTCFORMAT, config_file: "cron.py" },
    });
    const r = classifyKey(h, Date.parse(UTCFORMAT) + 5_000, []);
    assert.equal(r?.kind, "rq-cron");
    assert.equal(r?.owner, "host worker-1 pid 77");
    assert.equal(r?.heldForMs, 5_000);
    const z = s("rq:cron_schedulers", "zset", null, -1, {
      length: 2,
      hash: { [name]: TIME_TIME, other: TIME_TIME },
    });
    assert.equal(classifyKey(z, NOW, []), null);
    assert.match(
      explainKey(z, 1796034478793) ?? "",
      /registers 2 rq cron schedulers: worker-1:77:\w+ \(heartbeat 10 s ago\)/,
    );
  });
});

describe("BullMQ", () => {
  test("bull:<queue>:<jobId>:lock = <worker uuid>:<n>", () => {
    const worker = randomUUID();
    const r = classifyKey(s("bull:emails:42:lock", "string", `${worker}:1`, 29_000), NOW, []);
    assert.equal(r?.kind, "bullmq");
    assert.equal(r?.owner, `worker ${worker}`);
    assert.equal(r?.details.queue, "emails");
    assert.equal(r?.details.jobId, "42");
    assert.equal(r?.details.lockCount, 1);
  });
  test("Bull 3/4: value is the queue's uuid4 token", () => {
    const r = classifyKey(s("bull:emails:repeat:x:1700000000000:lock", "string", UUID4, 29_000), NOW, []);
    assert.equal(r?.kind, "bullmq");
    assert.equal(r?.details.flavour, "bull");
    assert.equal(r?.details.jobId, "repeat:x:1700000000000");
  });
});

describe("APScheduler 3 job stores", () => {
  test("apscheduler.jobs hash and apscheduler.run_times zset: kind apscheduler-jobstore, no lock", () => {
    const jobs = classifyKey(s("apscheduler.jobs", "hash", null, -1, { length: 3 }), NOW, []);
    assert.equal(jobs?.kind, "apscheduler-jobstore");
    assert.equal(jobs?.details.jobs, 3);
    assert.match(String(jobs?.details.note), /not a lock/);
    const times = classifyKey(
      s("apscheduler.run_times", "zset", null, -1, { length: 3, hash: { tick: "1796034500.5" } }),
      NOW,
      [],
    );
    assert.equal(times?.kind, "apscheduler-jobstore");
    assert.equal(times?.details.nextRunAt, new Date(1796034500500).toISOString());
  });
});

describe("schedctl's own lock", () => {
  test('schedctl:lock:<app> = {"v":1,"host","pid","app","since"}', () => {
    const v = JSON.stringify({ v: 1, host: "web-1", pid: 12, app: "billing", since: "2026-11-30T10:00:00Z" });
    const r = classifyKey(
      s("schedctl:lock:billing", "string", v, 25_000),
      Date.parse("2026-11-30T10:05:00Z"),
      [],
    );
    assert.equal(r?.kind, "schedctl");
    assert.equal(r?.owner, "host web-1 pid 12");
    assert.equal(r?.heldForMs, 300_000);
    assert.equal(r?.details.app, "billing");
  });
  test("a value that is not schedctl's JSON is still its lock, with the error", () => {
    const r = classifyKey(s("schedctl:lock:billing", "string", "garbage", 25_000), NOW, []);
    assert.equal(r?.kind, "schedctl");
    assert.equal(r?.owner, null);
    assert.match(String(r?.details.error), /not the JSON/);
  });
});

describe("unexpected types and odd keys", () => {
  test("a list named redbeat::lock and a hash named rq:scheduler_lock are noted, not locks", () => {
    const list = s("redbeat::lock", "list", null, -1, { length: 2 });
    assert.equal(classifyKey(list, NOW, []), null);
    assert.match(explainKey(list, NOW) ?? "", /redbeat::lock is a list/);
    const hash = s("rq:scheduler_lock", "hash", null, -1, { hash: { a: "1" } });
    assert.equal(classifyKey(hash, NOW, []), null);
    assert.match(explainKey(hash, NOW) ?? "", /rq:scheduler_lock is a hash/);
  });
  test("vanished keys are nothing", () => {
    assert.equal(classifyKey(s("redbeat::lock", "none", null, -2), NOW, []), null);
    assert.equal(explainKey(s("redbeat::lock", "none", null, -2), NOW), null);
  });
  test("user-pattern keys of other types, and binary values", () => {
    const h = classifyKey(
      s("myapp:leader", "hash", null, 5_000, { length: 2, hash: { host: "a", pid: "1" } }),
      NOW,
      ["myapp:*"],
    );
    assert.equal(h?.kind, "user-pattern");
    assert.equal(h?.owner, null);
    assert.deepEqual(h?.details.fields, { host: "a", pid: "1" });
    const b = classifyKey(s("myapp:bin", "string", "\\x80\\x04\\x95", 5_000), NOW, ["myapp:*"]);
    assert.equal(b?.owner, null);
  });
  test("non-UTF-8 key names match patterns on their bytes", () => {
    const key = escapeKey(Buffer.from([0x6c, 0x6f, 0x63, 0x6b, 0x3a, 0xff, 0xfe]));
    assert.equal(key, "lock:\\xff\\xfe");
    assert.equal(classifyKey(s(key, "string", "v", 1), NOW, ["lock:\\\xff*"])?.kind, undefined);
    assert.equal(classifyKey(s(key, "string", "v", 1), NOW, ["lock:??"])?.kind, "user-pattern");
    assert.equal(classifyKey(s(key, "string", UUID1, 1), NOW, [])?.kind, "redis-py");
  });
  test("the batch filter the SCAN loop uses agrees with LOCKISH_RE key by key (property)", () => {
    const word = fc.constantFrom(
      "lock",
      "LOCK",
      "Leader",
      "leaderBoard",
      "leaderboar",
      "mutex",
      "scheduler",
      "sched",
      "CRON",
      "singleton",
      "semaphore",
      "loc",
      "board",
      "l",
      "K",
    );
    const piece = fc.oneof(
      word,
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b).toString("latin1")),
    );
    const key = fc
      .array(piece, { maxLength: 5 })
      .map((parts) => [...parts.join("")].map((c) => (c.charCodeAt(0) > 0xff ? "?" : c)).join(""));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 12 }), (keys) => {
        const want = keys.flatMap((k, i) => (LOCKISH_RE.test(k) ? [i] : []));
        assert.deepEqual(
          lockishIndexes(keys.map((k) => Buffer.from(k, "latin1"))),
          want,
          JSON.stringify(keys),
        );
      }),
      { numRuns: 2000 },
    );
  });
  test("what the probe reads for each type", () => {
    assert.deepEqual(sampleNeeds("x", "string", []), {
      value: true,
      length: false,
      hashFieldsUpTo: 0,
      zrange: 0,
    });
    assert.equal(sampleNeeds("rq:cron_scheduler:a", "hash", []).hashFieldsUpTo, 64);
    assert.equal(sampleNeeds("apscheduler.jobs", "hash", []).hashFieldsUpTo, 0, "never HGETALL a job store");
    assert.equal(sampleNeeds("rq:cron_schedulers", "zset", []).zrange, 50);
    assert.deepEqual(sampleNeeds("big:hash", "hash", []), {
      value: false,
      length: false,
      hashFieldsUpTo: 0,
      zrange: 0,
    });
    assert.equal(sampleNeeds("big:hash", "hash", [globToRegExp("big:*")]).length, true);
  });
  test("candidate key names", () => {
    for (const k of [
      "redbeat::lock",
      "rq:scheduler-lock:default",
      "bull:q:1:lock",
      "apscheduler.jobs",
      "rq:cron_schedulers",
      "leader-election",
      "celery:beat-lock",
      "schedctl:lock:web",
      "redlock:x",
      "lock-signal:x",
      "rq:scheduler_instance:abc",
      "rq:scheduler:0f1e",
      "rq:cron_scheduler:w:1:ab",
      "celery:beat:task_lock",
      "apscheduler.run_times",
      "myapp:Leader",
      "billing-mutex",
    ])
      assert.ok(isCandidateKey(k, []) && lockishIndexes([Buffer.from(k)]).length === 1, k);
    for (const k of [
      "session:abc",
      "cache:user:1",
      "celery-task-meta-1",
      "name",
      "leaderboard:42",
      "scheduled:email:1",
      "heartbeat:w1",
    ])
      assert.ok(!isCandidateKey(k, []) && lockishIndexes([Buffer.from(k)]).length === 0, k);
    // every well-known key is a candidate, so the SCAN can tell which master holds it
    assert.deepEqual(lockishIndexes(WELL_KNOWN_KEYS.map((k) => Buffer.from(k))), [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(isCandidateKey("name", [globToRegExp("na*")]));
    assert.ok(isCandidateKey("name", [], true));
  });
});

describe("lockState: two PTTL samples", () => {
  const cases: Array<[number, number | null, number, string]> = [
    [30_000, 29_500, 500, "expiring"], // fell by exactly the interval
    [30_000, 29_497, 500, "expiring"],
    [30_000, 29_504, 500, "expiring"], // within the slack
    [29_000, 30_000, 500, "held"], // renewed to the full timeout
    [30_000, 29_900, 500, "held"], // renewed part-way
    [-1, -1, 500, "no-ttl"],
    [-1, null, 0, "no-ttl"],
    [30_000, -1, 500, "no-ttl"], // PERSISTed
    [30_000, -2, 500, "gone"],
    [-2, -2, 500, "gone"],
    [30_000, null, 0, "unknown"],
    [-1, 30_000, 500, "unknown"], // re-acquired with a TTL between the samples
    [10, 10, 0, "expiring"], // no time passed, no renewal
  ];
  for (const [a, b, iv, want] of cases)
    test(`${a} -> ${b} in ${iv} ms: ${want}`, () => assert.equal(lockState(a, b, iv), want));
});

describe("Redis glob semantics (util.c stringmatchlen)", () => {
  const cases: Array<[string, string, boolean]> = [
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "hllo", true],
    ["h*llo", "heeeello", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-b]llo", "hbllo", true],
    ["h[b-a]llo", "hbllo", true], // reversed range
    ["h[a-b]llo", "hcllo", false],
    ["\\*", "*", true],
    ["\\*", "x", false],
    ["a[\\]]b", "a]b", true],
    ["a[]b", "ab", false],
    ["a[abc", "ab", true], // unterminated set: the rest of the pattern
    ["redbeat:*", "redbeat::lock", true],
    ["*", "", true],
    ["a.b", "axb", false],
    ["a(b", "a(b", true],
    ["x\\", "x\\", true],
  ];
  for (const [p, k, want] of cases)
    test(`${p} ~ ${k}: ${want}`, () => assert.equal(matchGlob(p, k.replace(/\\/g, "\\x5c")), want));
});

describe("key escaping", () => {
  test("printable UTF-8 stays, bytes that are not become \\xNN, backslash too", () => {
    assert.equal(escapeKey(Buffer.from("redbeat::lock")), "redbeat::lock");
    assert.equal(escapeKey(Buffer.from("zé中🙂")), "zé中🙂");
    assert.equal(escapeKey(Buffer.from([0x61, 0x00, 0x0a, 0x5c, 0x7f])), "a\\x00\\x0a\\x5c\\x7f");
    assert.equal(escapeKey(Buffer.from([0xc3])), "\\xc3"); // truncated sequence
    assert.equal(escapeKey(Buffer.from([0xed, 0xa0, 0x80])), "\\xed\\xa0\\x80"); // surrogate
    assert.equal(escapeKey(Buffer.from([0xc0, 0xaf])), "\\xc0\\xaf"); // overlong
    assert.equal(unescapeKey("lock:\\xFF\\xfe").toString("hex"), "6c6f636b3afffe");
    assert.equal(unescapeKey("a\\b").toString(), "a\\b"); // a lone backslash stays
  });
  test("round trip for any bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const text = escapeKey(bytes);
        assert.deepEqual([...unescapeKey(text)], [...bytes]);
        assert.ok(![...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f));
      }),
      { numRuns: 1000 },
    );
  });
  test("parseTime reads rq's utcformat, ISO with zones and Unix floats", () => {
    assert.equal(parseTime(UTCFORMAT), Date.UTC(2026, 10, 30, 10, 27, 48, 793));
    assert.equal(parseTime("2026-11-30T18:27:48+08:00"), Date.UTC(2026, 10, 30, 10, 27, 48));
    assert.equal(parseTime("2026-11-30 10:27:48"), Date.UTC(2026, 10, 30, 10, 27, 48));
    assert.equal(parseTime(TIME_TIME), 1796034468793);
    assert.equal(parseTime("yesterday"), null);
  });
});
