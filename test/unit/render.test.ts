import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import Ajv2020 from "ajv/dist/2020.js";
import type { CheckReport, Group, Status } from "../../src/checks/types.js";
import { MAX_ANNOTATIONS_PER_TYPE, renderGithub } from "../../src/render/github.js";
import { renderJson } from "../../src/render/json.js";
import { renderJunit } from "../../src/render/junit.js";
import { formatTable } from "../../src/render/table.js";
import { renderText } from "../../src/render/text.js";
import { type DoctorReport, SCHEMA_VERSION } from "../../src/render/types.js";

// ---------------------------------------------------------------------------------------------------
// Fixtures. `nasty(true)` is what goes in; `nasty(false)` is the same text as a renderer should keep it
// (ANSI sequences and control characters other than \t \n \r removed).

const ESC = "\u001b";
function nasty(raw: boolean, tag = ""): string {
  const red = (s: string) => (raw ? `${ESC}[31m${s}${ESC}[0m` : s);
  const link = (s: string) => (raw ? `${ESC}]8;;https://example.com${ESC}\\${s}${ESC}]8;;${ESC}\\` : s);
  const ctl = raw ? "\u0000\u0007\u0008" : "";
  return (
    `${tag}50% done 100%25 %0A\r\nnext: a,b :: c=d ${red("red")} ${link("link")} <x> & "q" 'a' ]]> ` +
    `nul${ctl}byte ünïcödé ✓ 🚀 日本 | pipe *em* _u_ \`tick\` \\ back \\| bs-pipe`
  );
}

function check(
  id: string,
  status: Status,
  over: Partial<CheckReport> = {},
  group: Group = id.split(".")[0] as Group,
): CheckReport {
  return {
    id,
    group,
    title: `Title of ${id}`,
    status,
    summary: `summary of ${id}`,
    details: [`detail of ${id}`],
    evidence: {},
    durationMs: 1.5,
    ...over,
  };
}

function report(checks: CheckReport[], over: Partial<DoctorReport> = {}): DoctorReport {
  const summary: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const c of checks) summary[c.status]++;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: "schedctl", version: "0.1.0" },
    target: { kind: "container", description: "container web-1" },
    evaluatedAt: "2025-03-30T01:30:00Z",
    exitCode: summary.error > 0 ? 3 : summary.fail > 0 ? 1 : 0,
    failOn: "fail",
    summary,
    checks,
    durationMs: 1234.5,
    ...over,
  };
}

const TZ_TABLE = {
  columns: ["source", "value", "zone"],
  rows: [
    ["TZ", "Europe/Berlin", "Europe/Berlin"],
    ["/etc/localtime", "-> /usr/share/zoneinfo/UTC", "UTC"],
    ["/etc/timezone", "(missing)"],
    ["tzlocal", `ünï ${ESC}[1mbold${ESC}[0m 🚀`, "日本"],
  ],
};

const NASTY_CHECK = check("tz.sources", "fail", {
  title: `${nasty(true, "T:")} ::title::`,
  summary: nasty(true, "S:"),
  details: [nasty(true, "D1:"), "second\ndetail"],
  evidence: { table: TZ_TABLE, raw: nasty(true) },
  fix: {
    text: nasty(true, "F:"),
    commands: [
      "ENV TZ=Europe/Berlin",
      "RUN ln -sf /usr/share/zoneinfo/$TZ /etc/localtime && echo $TZ > /etc/timezone",
      "echo '```' # a fence inside a command",
      nasty(true, "C:"),
    ],
  },
  durationMs: 12.25,
});

const MIXED = report(
  [
    NASTY_CHECK,
    check("tz.zoneinfo", "pass", { details: ["47 zones"] }),
    check("workers.count", "warn", {
      fix: { text: "Run the scheduler in one process", commands: ["gunicorn --preload app:app"] },
    }),
    check("locks.redis", "skip", { summary: "no --redis given", details: ["hidden unless verbose"] }),
    check("routes.api", "error", { summary: `could not read: ${nasty(true)}`, details: [] }),
    check("deploy.image", "pass", { details: [], evidence: { n: 1, nested: { a: [1, null] } } }),
  ],
  { target: { kind: "root", description: `root /srv/${nasty(true)}` } },
);

const MANY = report([
  ...Array.from({ length: 13 }, (_, i) => check(`runs.fail-${i}`, i % 2 ? "fail" : "error")),
  ...Array.from({ length: 12 }, (_, i) => check(`locks.warn-${i}`, "warn")),
  check("tz.ok", "pass"),
]);

const FIXTURES: [string, DoctorReport][] = [
  ["mixed", MIXED],
  ["many", MANY],
  ["empty", report([])],
  ["fail-on-warn", report([check("workers.count", "warn")], { failOn: "warn", exitCode: 1 })],
];

// ---------------------------------------------------------------------------------------------------
// JSON

const schema = JSON.parse(
  readFileSync(new URL("../../schema/doctor-report.schema.json", import.meta.url), "utf8"),
);
// ajv is CommonJS: under NodeNext the default import is module.exports, whose `.default` is the class.
const ajv = new Ajv2020.default({ strict: true, allErrors: true });
const validate = ajv.compile(schema);

describe("renderJson", () => {
  test("is one JSON document with a trailing newline and 2-space indent", () => {
    for (const [name, r] of FIXTURES) {
      const out = renderJson(r);
      assert.ok(out.endsWith("}\n") && !out.endsWith("\n\n"), name);
      const doc = JSON.parse(out);
      assert.equal(out, `${JSON.stringify(doc, null, 2)}\n`, name);
    }
  });

  test("keys come in the documented order, fix is null when absent", () => {
    const doc = JSON.parse(renderJson(MIXED));
    assert.deepEqual(Object.keys(doc), [
      "schemaVersion",
      "tool",
      "target",
      "evaluatedAt",
      "exitCode",
      "failOn",
      "summary",
      "checks",
      "durationMs",
    ]);
    for (const c of doc.checks) {
      assert.deepEqual(Object.keys(c), [
        "id",
        "group",
        "title",
        "status",
        "summary",
        "details",
        "evidence",
        "fix",
        "durationMs",
      ]);
    }
    assert.deepEqual(Object.keys(doc.checks[0].fix), ["text", "commands"]);
    assert.equal(doc.checks[1].fix, null);
    assert.deepEqual(Object.keys(doc.summary), ["pass", "warn", "fail", "skip", "error"]);
  });

  test("strings survive byte for byte (JSON escapes, nothing is stripped)", () => {
    const doc = JSON.parse(renderJson(MIXED));
    assert.equal(doc.checks[0].summary, NASTY_CHECK.summary);
    assert.deepEqual(doc.checks[0].details, NASTY_CHECK.details);
    assert.deepEqual(doc.checks[0].evidence, NASTY_CHECK.evidence);
    assert.deepEqual(doc.checks[0].fix, NASTY_CHECK.fix);
    assert.equal(doc.target.description, MIXED.target.description);
  });

  test("every fixture validates against the schema", () => {
    for (const [name, r] of FIXTURES) {
      const ok = validate(JSON.parse(renderJson(r)));
      assert.ok(ok, `${name}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  test("unknown properties are allowed at the top level and in checks (minor versions are additive)", () => {
    const doc = JSON.parse(renderJson(MIXED));
    doc.schemaVersion = "1.7";
    doc.newTopLevel = { x: 1 };
    doc.checks[0].newField = "x";
    assert.ok(validate(doc), ajv.errorsText(validate.errors));
  });

  // biome-ignore lint/suspicious/noExplicitAny: the point is to mutate parsed JSON into invalid shapes
  const broken: [string, (d: Record<string, any>) => void][] = [
    ["missing status", (d) => delete d.checks[0].status],
    ["bad status enum", (d) => (d.checks[0].status = "warning")],
    ["bad group enum", (d) => (d.checks[0].group = "redis")],
    ["bad id", (d) => (d.checks[0].id = "TZ.Sources")],
    ["id without group", (d) => (d.checks[0].id = "sources")],
    ["missing fix key", (d) => delete d.checks[1].fix],
    ["fix without commands", (d) => (d.checks[0].fix = { text: "x" })],
    ["details not strings", (d) => (d.checks[0].details = [1])],
    ["missing durationMs", (d) => delete d.durationMs],
    ["schemaVersion 2.0", (d) => (d.schemaVersion = "2.0")],
    ["schemaVersion 1", (d) => (d.schemaVersion = "1")],
    ["bad exitCode", (d) => (d.exitCode = 4)],
    ["bad failOn", (d) => (d.failOn = "error")],
    ["summary missing a status", (d) => delete d.summary.skip],
    ["negative count", (d) => (d.summary.pass = -1)],
    ["evaluatedAt not ISO", (d) => (d.evaluatedAt = "yesterday")],
    ["wrong tool", (d) => (d.tool.name = "other")],
    ["bad target kind", (d) => (d.target.kind = "pod")],
  ];
  for (const [name, breakIt] of broken) {
    test(`a broken report does not validate: ${name}`, () => {
      const doc = JSON.parse(renderJson(MIXED));
      breakIt(doc);
      assert.equal(validate(doc), false);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// GitHub

function unescapeData(s: string): string {
  return s.replace(/%(25|0D|0A)/g, (_, c: string) => ({ "25": "%", "0D": "\r", "0A": "\n" })[c] ?? "");
}
function unescapeProperty(s: string): string {
  return s.replace(/%(25|0D|0A|3A|2C)/g, (_, c: string) => String.fromCharCode(Number.parseInt(c, 16)));
}

interface Command {
  type: string;
  props: Record<string, string>;
  data: string;
}
/** Parses `::type k=v,k=v::data` the way the runner does, or throws. */
function parseCommand(line: string): Command {
  const m = /^::([a-z]+)(?: ([^:]*))?::(.*)$/.exec(line);
  assert.ok(m, `not a workflow command: ${JSON.stringify(line)}`);
  const props: Record<string, string> = {};
  for (const kv of m[2] ? m[2].split(",") : []) {
    const eq = kv.indexOf("=");
    assert.ok(eq > 0, `bad property ${kv}`);
    props[kv.slice(0, eq)] = unescapeProperty(kv.slice(eq + 1));
  }
  return { type: m[1] ?? "", props, data: unescapeData(m[3] ?? "") };
}

function expectedMessage(c: CheckReport): string {
  const lines = [c.summary, ...c.details];
  if (c.fix) lines.push(`fix: ${c.fix.text}`, ...c.fix.commands.map((x) => `    ${x}`));
  return cleanNasty(lines.join("\n"));
}
/** Every nasty string in the fixtures is nasty(true, tag): clean it by swapping in nasty(false, tag). */
function cleanNasty(s: string): string {
  for (const tag of ["", "T:", "S:", "D1:", "F:", "C:"])
    s = s.split(nasty(true, tag)).join(nasty(false, tag));
  return s;
}

describe("renderGithub", () => {
  const { annotations, stepSummary } = renderGithub(MIXED);
  const lines = annotations.split("\n");

  test("every annotation is exactly one line and parses as ::type props::data", () => {
    assert.equal(lines.pop(), "", "ends with a newline");
    for (const line of lines) {
      assert.ok(!line.includes("\r"), "no raw CR");
      assert.ok(!line.includes(ESC), "no ANSI");
      parseCommand(line);
    }
  });

  test("fail/error become ::error, warn ::warning, then a notice with the counts", () => {
    const cmds = lines.map(parseCommand);
    assert.deepEqual(
      cmds.map((c) => c.type),
      ["error", "error", "warning", "notice"],
    );
    assert.equal(cmds[3]?.data, "2 passed, 1 warning, 1 failed, 1 skipped, 1 error — exit 3");
  });

  test("data unescapes back to the original text (ANSI and control characters stripped)", () => {
    const cmds = lines.map(parseCommand);
    const findings = MIXED.checks.filter((c) => ["fail", "error", "warn"].includes(c.status));
    findings.sort((a, b) => Number(a.status === "warn") - Number(b.status === "warn"));
    findings.forEach((c, i) => {
      assert.equal(cmds[i]?.data, expectedMessage(c), c.id);
    });
    // The original nasty text really had everything that needs escaping.
    assert.match(lines[0] ?? "", /%25/);
    assert.match(lines[0] ?? "", /%0D%0A/);
    assert.match(lines[0] ?? "", /%250A/);
  });

  test("titles unescape to one line without :: and carry the check id", () => {
    for (const cmd of lines.map(parseCommand).slice(0, 3)) {
      const title = cmd.props.title ?? "";
      assert.ok(!title.includes("::"), title);
      assert.ok(!/[\r\n]/.test(title), title);
    }
    const first = parseCommand(lines[0] ?? "").props.title ?? "";
    assert.ok(first.startsWith("tz.sources — T:50% done"), first);
    assert.ok(first.includes("next: a,b : c=d red link"), first);
    assert.ok(first.endsWith(":title:"), first);
    assert.ok(
      !/[:,]/.test((lines[0] ?? "").split("::")[1]?.replace(/^error title=/, "") ?? ""),
      "props escaped",
    );
  });

  test("at most 10 annotations per type, then one notice for the rest", () => {
    const out = renderGithub(MANY).annotations.trimEnd().split("\n").map(parseCommand);
    const count = (t: string) => out.filter((c) => c.type === t).length;
    assert.equal(count("error"), MAX_ANNOTATIONS_PER_TYPE);
    assert.equal(count("warning"), MAX_ANNOTATIONS_PER_TYPE);
    assert.deepEqual(
      out.filter((c) => c.type === "notice").map((c) => c.data),
      [
        "5 more findings in the step summary",
        "1 passed, 12 warnings, 6 failed, 0 skipped, 7 errors — exit 3",
      ],
    );
  });

  test("a clean report gives only the counts notice", () => {
    const out = renderGithub(report([check("tz.ok", "pass"), check("tz.n-a", "skip")])).annotations;
    assert.equal(
      out,
      "::notice title=schedctl doctor::1 passed, 0 warnings, 0 failed, 1 skipped, 0 errors — exit 0\n",
    );
  });

  test("the step summary table has one row per check with escaped cells", () => {
    const md = stepSummary.split("\n");
    const head = md.indexOf("| Status | Check | Summary |");
    assert.ok(head >= 0);
    assert.equal(md[head + 1], "| --- | --- | --- |");
    const rows = md.slice(head + 2, head + 2 + MIXED.checks.length);
    assert.equal(md[head + 2 + MIXED.checks.length], "", "table ends after the last check");
    rows.forEach((row, i) => {
      // Split on pipes not preceded by an odd run of backslashes.
      const cells = row.split(/(?<!(?:^|[^\\])(?:\\\\)*\\)\|/);
      assert.equal(cells.length, 5, row);
      assert.ok(cells[2]?.includes(`\`${MIXED.checks[i]?.id}\``), row);
      assert.ok(!row.includes(ESC) && !row.includes("\r") && !row.includes("\u0000"), row);
    });
    assert.ok(rows[0]?.includes("\\| pipe"), rows[0]);
    assert.ok(rows[0]?.includes("\\<x\\> \\&"), rows[0]);
    assert.ok(rows[0]?.includes("<br>"), rows[0]);
    const prose = stepSummary.replace(/^(`{3,})\n[\s\S]*?\n\1$/gm, "");
    assert.ok(!prose.includes("<x>"), "no raw HTML from data outside code blocks");
    assert.ok(prose.length < stepSummary.length, "code blocks were found");
  });

  test("the step summary lists fixes as fenced code blocks holding the exact commands", () => {
    assert.match(stepSummary, /\n### Fixes\n/);
    const fix = NASTY_CHECK.fix;
    assert.ok(fix);
    const block = `\`\`\`\`\n${fix.commands.map(cleanNasty).join("\n")}\n\`\`\`\``;
    assert.ok(stepSummary.includes(block), "fence is longer than the ``` inside a command");
    assert.ok(stepSummary.includes("```\ngunicorn --preload app:app\n```"));
  });
});

// ---------------------------------------------------------------------------------------------------
// JUnit: a small strict XML 1.0 reader (enough for what the renderer emits) to prove well-formedness.

interface XmlEl {
  name: string;
  attrs: Record<string, string>;
  children: XmlEl[];
  text: string;
}

function decodeRefs(s: string): string {
  const bad = s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, "");
  if (bad.includes("&")) throw new Error(`bare & in ${JSON.stringify(s)}`);
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, r: string) => {
    if (r.startsWith("#x")) return String.fromCodePoint(Number.parseInt(r.slice(2), 16));
    if (r.startsWith("#")) return String.fromCodePoint(Number.parseInt(r.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[r] ?? "";
  });
}

function parseXml(input: string): XmlEl {
  if (/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(input)) {
    throw new Error("character not allowed in XML 1.0");
  }
  const xml = input.replace(/\r\n?/g, "\n");
  const decl = '<?xml version="1.0" encoding="UTF-8"?>';
  if (!xml.startsWith(decl)) throw new Error("missing XML declaration");
  let i = decl.length;
  const ws = () => {
    while (/\s/.test(xml[i] ?? "")) i++;
  };
  const name = (): string => {
    const m = /[A-Za-z_][\w.-]*/y;
    m.lastIndex = i;
    const r = m.exec(xml);
    if (!r) throw new Error(`name expected at ${i}`);
    i += r[0].length;
    return r[0];
  };
  const expect = (s: string) => {
    if (!xml.startsWith(s, i)) throw new Error(`${s} expected at ${i}: ${xml.slice(i, i + 20)}`);
    i += s.length;
  };
  const element = (): XmlEl => {
    expect("<");
    const el: XmlEl = { name: name(), attrs: {}, children: [], text: "" };
    for (;;) {
      const before = i;
      ws();
      if (xml.startsWith("/>", i)) {
        i += 2;
        return el;
      }
      if (xml[i] === ">") {
        i++;
        break;
      }
      if (i === before) throw new Error(`space expected at ${i}`);
      const key = name();
      if (key in el.attrs) throw new Error(`duplicate attribute ${key}`);
      expect("=");
      const q = xml[i];
      if (q !== '"' && q !== "'") throw new Error(`quote expected at ${i}`);
      const end = xml.indexOf(q, i + 1);
      const raw = xml.slice(i + 1, end);
      if (end < 0 || raw.includes("<")) throw new Error(`bad attribute value at ${i}`);
      el.attrs[key] = decodeRefs(raw.replace(/[\t\n]/g, " "));
      i = end + 1;
    }
    for (;;) {
      if (xml.startsWith("</", i)) {
        i += 2;
        if (name() !== el.name) throw new Error(`mismatched </…> for ${el.name}`);
        ws();
        expect(">");
        return el;
      }
      if (xml.startsWith("<![CDATA[", i)) {
        const end = xml.indexOf("]]>", i);
        if (end < 0) throw new Error("unterminated CDATA");
        el.text += xml.slice(i + 9, end);
        i = end + 3;
      } else if (xml[i] === "<") {
        el.children.push(element());
      } else {
        const end = xml.indexOf("<", i);
        if (end < 0) throw new Error(`unterminated <${el.name}>`);
        const raw = xml.slice(i, end);
        if (raw.includes("]]>")) throw new Error("]]> in character data");
        el.text += decodeRefs(raw);
        i = end;
      }
    }
  };
  ws();
  const root = element();
  ws();
  if (i !== xml.length) throw new Error("content after the root element");
  return root;
}

/** What XML can carry of an original string: ANSI stripped, illegal characters dropped. */
const xmlClean = cleanNasty;

describe("renderJunit", () => {
  test("the XML checker rejects what it should", () => {
    const d = '<?xml version="1.0" encoding="UTF-8"?>';
    for (const bad of [
      `${d}<a>`,
      `${d}<a></b>`,
      `${d}<a x="1" x="2"/>`,
      `${d}<a>&</a>`,
      `${d}<a>]]></a>`,
      `${d}<a x="<"/>`,
      `${d}<a>\u0001</a>`,
      `${d}<a/><b/>`,
    ]) {
      assert.throws(() => parseXml(bad), bad);
    }
  });

  test("every fixture is well-formed and the counts match the test cases", () => {
    for (const [name, r] of FIXTURES) {
      const out = renderJunit(r);
      assert.ok(out.endsWith("</testsuites>\n"), name);
      assert.ok(!out.includes("\r"), "CR only as a character reference");
      const root = parseXml(out);
      assert.equal(root.name, "testsuites");
      assert.equal(root.attrs.name, "schedctl doctor");
      const cases = root.children.flatMap((s) => s.children);
      const tally = (els: XmlEl[]) => ({
        tests: String(els.length),
        failures: String(els.filter((c) => c.children.some((x) => x.name === "failure")).length),
        errors: String(els.filter((c) => c.children.some((x) => x.name === "error")).length),
        skipped: String(els.filter((c) => c.children.some((x) => x.name === "skipped")).length),
      });
      const pick = (e: XmlEl) => ({
        tests: e.attrs.tests,
        failures: e.attrs.failures,
        errors: e.attrs.errors,
        skipped: e.attrs.skipped,
      });
      assert.deepEqual(pick(root), tally(cases), name);
      assert.equal(cases.length, r.checks.length, name);
      for (const suite of root.children) {
        assert.equal(suite.name, "testsuite");
        assert.deepEqual(pick(suite), tally(suite.children), `${name} ${suite.attrs.name}`);
        for (const tc of suite.children) {
          assert.equal(tc.name, "testcase");
          assert.equal(tc.attrs.classname, suite.attrs.name);
          assert.match(tc.attrs.time ?? "", /^\d+\.\d{3}$/);
        }
      }
      assert.equal(root.attrs.time, (r.durationMs / 1000).toFixed(3));
    }
  });

  test("one suite per group, classname schedctl.<group>, name the check id, pairs unique", () => {
    const dup = report([check("tz.a", "pass"), check("tz.a", "fail"), check("workers.b", "pass")]);
    for (const r of [MIXED, MANY, dup]) {
      const root = parseXml(renderJunit(r));
      const cases = root.children.flatMap((s) => s.children);
      const keys = cases.map((c) => `${c.attrs.classname} ${c.attrs.name}`);
      assert.equal(new Set(keys).size, keys.length, keys.join(", "));
      const groups = root.children.map((s) => s.attrs.name);
      assert.equal(new Set(groups).size, groups.length);
    }
    const cases = parseXml(renderJunit(MIXED)).children.flatMap((s) => s.children);
    assert.deepEqual(
      cases.map((c) => [c.attrs.classname, c.attrs.name]),
      MIXED.checks.map((c) => [`schedctl.${c.group}`, c.id]),
    );
  });

  test("statuses map to failure / error / skipped / system-out", () => {
    const root = parseXml(renderJunit(MIXED));
    const byName = new Map(root.children.flatMap((s) => s.children).map((c) => [c.attrs.name, c]));
    const fail = byName.get("tz.sources")?.children[0];
    assert.equal(fail?.name, "failure");
    assert.equal(fail?.attrs.type, "fail");
    assert.equal(fail?.attrs.message, xmlClean(NASTY_CHECK.summary));
    const fix = NASTY_CHECK.fix;
    assert.ok(fix);
    assert.equal(
      fail?.text,
      xmlClean(
        [...NASTY_CHECK.details, "", `fix: ${fix.text}`, ...fix.commands.map((c) => `    ${c}`)].join("\n"),
      ),
    );
    assert.deepEqual(byName.get("tz.zoneinfo")?.children, []);
    assert.equal(byName.get("routes.api")?.children[0]?.name, "error");
    assert.equal(byName.get("locks.redis")?.children[0]?.name, "skipped");
    assert.equal(byName.get("locks.redis")?.children[0]?.attrs.message, "no --redis given");
    const warn = byName.get("workers.count")?.children[0];
    assert.equal(warn?.name, "system-out");
    assert.match(warn?.text ?? "", /gunicorn --preload app:app/);
  });

  test("with failOn warn a warning is a failure", () => {
    const r = report([check("workers.count", "warn"), check("tz.ok", "pass")], {
      failOn: "warn",
      exitCode: 1,
    });
    const root = parseXml(renderJunit(r));
    assert.equal(root.attrs.failures, "1");
    const tc = root.children.flatMap((s) => s.children).find((c) => c.attrs.name === "workers.count");
    assert.equal(tc?.children[0]?.name, "failure");
    assert.equal(tc?.children[0]?.attrs.type, "warn");
  });

  test("times are seconds; lone surrogates and U+FFFE are dropped", () => {
    const r = report([
      check("tz.slow", "fail", { durationMs: 1500, summary: "a\uD800b\uFFFEc", details: [] }),
    ]);
    const out = renderJunit(r);
    const tc = parseXml(out).children[0]?.children[0];
    assert.equal(tc?.attrs.time, "1.500");
    assert.equal(tc?.children[0]?.attrs.message, "abc");
  });
});

// ---------------------------------------------------------------------------------------------------
// Text and tables

function stripSgr(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching SGR escapes is the point
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

/**
 * Asserts that every cell of `cells` starts at its column's offset in `lines` (code points), that the gap
 * up to the next column is spaces, and that lines carry no trailing spaces.
 */
function assertAligned(lines: string[], cells: string[][]) {
  const len = (s: string) => [...s].length;
  const ncols = Math.max(...cells.map((r) => r.length));
  const widths = Array.from({ length: ncols }, (_, i) => Math.max(1, ...cells.map((r) => len(r[i] ?? ""))));
  assert.equal(lines.length, cells.length);
  lines.forEach((line, r) => {
    assert.equal(line, line.trimEnd(), `trailing spaces: ${line}`);
    const chars = [...line];
    let at = 0;
    for (let i = 0; i < ncols; i++) {
      const cell = cells[r]?.[i] ?? "";
      const w = widths[i] ?? 0;
      assert.equal(chars.slice(at, at + len(cell)).join(""), cell, `row ${r} col ${i}: ${line}`);
      assert.match(chars.slice(at + len(cell), at + w + 2).join(""), /^ *$/, `row ${r} col ${i}: ${line}`);
      at += w + 2;
    }
  });
}

describe("formatTable", () => {
  test("pads every column to its widest cell, with a dash rule under the header", () => {
    const out = formatTable(
      ["a", "long header"],
      [
        ["xxxxx", "1"],
        ["y", "22"],
      ],
    );
    assert.equal(out, ["a      long header", "-----  -----------", "xxxxx  1", "y      22"].join("\n"));
  });

  test("short rows, non-ASCII, emoji and ANSI in cells stay aligned; newlines are flattened", () => {
    const out = formatTable(TZ_TABLE.columns, [...TZ_TABLE.rows, ["multi\nline", "x\ty"]]);
    assert.ok(!out.includes(ESC));
    const lines = out.split("\n");
    const cells = [TZ_TABLE.columns, [], ...TZ_TABLE.rows.map((r) => r.map(stripSgr)), ["multi line", "x y"]];
    lines.splice(1, 1);
    cells.splice(1, 1);
    assertAligned(lines, cells);
  });

  test("columns wider than the header and empty tables", () => {
    assert.equal(formatTable([], []), "\n");
    assert.equal(formatTable(["a"], [["b", "extra"]]), "a\n-  -----\nb  extra");
  });
});

describe("renderText", () => {
  const plain = renderText(MIXED, { color: false, verbose: false });
  const verbose = renderText(MIXED, { color: false, verbose: true });
  const colored = renderText(MIXED, { color: true, verbose: false });

  test("no ANSI codes without colour, even when the data carries them", () => {
    assert.ok(!plain.includes(ESC));
    assert.ok(!verbose.includes(ESC));
    for (const ch of ["\u0000", "\u0007", "\u0008"]) assert.ok(!plain.includes(ch));
  });

  test("colour adds SGR codes and nothing else", () => {
    assert.ok(colored.includes(`${ESC}[`));
    assert.equal(stripSgr(colored), plain);
  });

  test("header, group headings, check lines and the summary line", () => {
    const lines = plain.split("\n");
    assert.equal(
      lines[0],
      `schedctl doctor — root /srv/${nasty(false).split(/\r\n/).join(" ")} — evaluated at 2025-03-30T01:30:00Z`,
    );
    assert.ok(lines.includes("Timezone (tz)"));
    assert.ok(lines.includes("Workers"));
    assert.ok(lines.some((l) => /^ {2}✓ PASS +tz\.zoneinfo +summary of tz\.zoneinfo$/.test(l)));
    assert.ok(lines.some((l) => /^ {2}! WARN +workers\.count +summary of workers\.count$/.test(l)));
    assert.ok(lines.some((l) => /^ {2}✗ FAIL +tz\.sources +S:50% done/.test(l)));
    assert.ok(lines.some((l) => /^ {2}- SKIP +locks\.redis +no --redis given$/.test(l)));
    assert.ok(lines.some((l) => /^ {2}\? ERROR routes\.api +could not read: /.test(l)));
    assert.equal(lines.at(-2), "2 passed, 1 warning, 1 failed, 1 skipped, 1 error — exit 3");
    assert.equal(lines.at(-1), "");
    // Groups come in GROUPS order, whatever the check order.
    const order = ["Timezone (tz)", "Workers", "Locks", "Routes", "Deployment (deploy)"].map((h) =>
      lines.indexOf(h),
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
  });

  test("summaries line up after the ids", () => {
    const starts = plain
      .split("\n")
      .filter((l) => /^ {2}[✓!✗?-] /.test(l))
      .map((l) => (l.indexOf("summary of") >= 0 ? l.indexOf("summary of") : -1))
      .filter((n) => n >= 0);
    assert.ok(starts.length >= 3);
    assert.equal(new Set(starts).size, 1);
  });

  test("details: always for findings, for pass/skip only with verbose; timings only with verbose", () => {
    assert.ok(plain.includes("D1:50% done"));
    assert.ok(plain.includes("      second\n      detail\n"));
    assert.ok(!plain.includes("47 zones"));
    assert.ok(!plain.includes("hidden unless verbose"));
    assert.ok(verbose.includes("47 zones"));
    assert.ok(verbose.includes("hidden unless verbose"));
    assert.ok(!plain.includes(" ms)"));
    assert.match(verbose, /tz\.sources .*\(12 ms\)/);
    assert.match(verbose, /— exit 3 \(1235 ms\)\n$/);
  });

  test("fix commands appear verbatim, 4 spaces deeper than fix:", () => {
    const lines = plain.split("\n");
    const fixAt = lines.findIndex((l) => l.trimStart().startsWith("fix: F:50% done"));
    assert.ok(fixAt > 0);
    const indent = (lines[fixAt]?.length ?? 0) - (lines[fixAt]?.trimStart().length ?? 0);
    const fix = NASTY_CHECK.fix;
    assert.ok(fix);
    for (const cmd of fix.commands.slice(0, 3)) {
      assert.ok(lines.includes(`${" ".repeat(indent + 4)}${cmd}`), cmd);
    }
    assert.ok(plain.includes(`    gunicorn --preload app:app\n`));
  });

  test("an evidence table is rendered aligned under its check", () => {
    const lines = plain.split("\n");
    const at = lines.findIndex((l) => /^\s+source\s+value\s+zone$/.test(l));
    assert.ok(at > 0, plain);
    const indent = (lines[at]?.length ?? 0) - (lines[at]?.trimStart().length ?? 0);
    const block = lines.slice(at, at + 2 + TZ_TABLE.rows.length).map((l) => l.slice(indent));
    block.splice(1, 1);
    assertAligned(block, [TZ_TABLE.columns, ...TZ_TABLE.rows.map((r) => r.map(stripSgr))]);
    // The table sits between the check line of tz.sources and the next check.
    const checkAt = lines.findIndex((l) => l.includes("tz.sources"));
    const nextAt = lines.findIndex((l) => l.includes("tz.zoneinfo"));
    assert.ok(checkAt < at && at < nextAt);
  });

  test("an empty report still has a header and a summary", () => {
    const out = renderText(report([]), { color: false, verbose: false });
    assert.match(out, /^schedctl doctor — container web-1 — evaluated at /);
    assert.match(out, /0 passed, 0 warnings, 0 failed, 0 skipped, 0 errors — exit 0\n$/);
  });
});
