import { type CheckReport, GROUPS } from "../checks/types.js";
import { stripAnsi } from "./table.js";
import type { DoctorReport } from "./types.js";

// Characters outside the XML 1.0 Char production (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F).
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing characters XML cannot carry is the point
const ILLEGAL_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(s: string): string {
  return stripAnsi(s).replace(ILLEGAL_XML, "");
}

/** Character data: the five predefined entities, and CR kept as a reference so parsers do not fold it. */
function xmlText(s: string): string {
  return clean(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\r/g, "&#13;");
}

/** Attribute values: as text, plus tab and LF as references so attribute normalisation keeps them. */
function xmlAttr(s: string): string {
  return xmlText(s).replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The body of a failure/error/system-out: details, then the fix and its exact lines. */
function body(c: CheckReport): string {
  const lines = [...c.details];
  if (c.fix) {
    if (lines.length > 0) lines.push("");
    lines.push(`fix: ${c.fix.text}`, ...c.fix.commands.map((cmd) => `    ${cmd}`));
  }
  return lines.join("\n");
}

function element(name: string, attrs: string, text: string): string {
  return text === "" ? `<${name} ${attrs}/>` : `<${name} ${attrs}>${xmlText(text)}</${name}>`;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: number;
}

function counts(checks: CheckReport[], failOnWarn: boolean): Counts {
  return {
    tests: checks.length,
    failures: checks.filter((c) => c.status === "fail" || (failOnWarn && c.status === "warn")).length,
    errors: checks.filter((c) => c.status === "error").length,
    skipped: checks.filter((c) => c.status === "skip").length,
    time: checks.reduce((t, c) => t + Math.max(0, c.durationMs), 0),
  };
}

function countAttrs(n: Counts, timeMs: number): string {
  return `tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="${seconds(timeMs)}"`;
}

/**
 * `--format junit`: one `<testsuite>` per check group and one `<testcase>` per check, keyed by
 * classname `schedctl.<group>` + name `<check id>` (unique even if an id repeats, which GitLab needs).
 * fail → `<failure type="fail">`, error → `<error>`, skip → `<skipped>`, warn → a pass with
 * `<system-out>`, or a `<failure type="warn">` when the report fails on warnings. Times are seconds.
 */
export function renderJunit(report: DoctorReport): string {
  const failOnWarn = report.failOn === "warn";
  const order = [...GROUPS, ...report.checks.map((c) => c.group)];
  const groups = [...new Set(order)].filter((g) => report.checks.some((c) => c.group === g));
  const seen = new Map<string, number>();

  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="schedctl doctor" ${countAttrs(counts(report.checks, failOnWarn), report.durationMs)}>`,
  ];
  for (const group of groups) {
    const checks = report.checks.filter((c) => c.group === group);
    const n = counts(checks, failOnWarn);
    const classname = `schedctl.${group}`;
    out.push(`  <testsuite name="${xmlAttr(classname)}" ${countAttrs(n, n.time)}>`);
    for (const c of checks) {
      const key = `${classname}\u0000${c.id}`;
      const dup = (seen.get(key) ?? 0) + 1;
      seen.set(key, dup);
      const name = dup === 1 ? c.id : `${c.id}#${dup}`;
      const open = `<testcase classname="${xmlAttr(classname)}" name="${xmlAttr(name)}" time="${seconds(c.durationMs)}"`;
      const message = `message="${xmlAttr(c.summary)}"`;
      let inner: string | null = null;
      switch (c.status) {
        case "fail":
          inner = element("failure", `${message} type="fail"`, body(c));
          break;
        case "error":
          inner = element("error", `${message} type="error"`, body(c));
          break;
        case "skip":
          inner = `<skipped ${message}/>`;
          break;
        case "warn":
          inner = failOnWarn
            ? element("failure", `${message} type="warn"`, body(c))
            : `<system-out>${xmlText([`warning: ${c.summary}`, body(c)].filter(Boolean).join("\n"))}</system-out>`;
          break;
        case "pass":
          inner = null;
          break;
      }
      out.push(inner === null ? `    ${open}/>` : `    ${open}>${inner}</testcase>`);
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}
