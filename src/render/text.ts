import { Chalk, type ChalkInstance } from "chalk";
import { type CheckReport, GROUPS, type Group, type Status } from "../checks/types.js";
import { countsLine } from "./counts.js";
import { cleanText, formatTable } from "./table.js";
import type { DoctorReport } from "./types.js";

export interface TextOptions {
  color: boolean;
  verbose: boolean;
}

/** Headings for the groups; a group missing here is shown by its id. */
const GROUP_HEADINGS: Partial<Record<Group, string>> = {
  tz: "Timezone",
  workers: "Workers",
  locks: "Locks",
  runs: "Runs",
  routes: "Routes",
  deploy: "Deployment",
};

/** Mark and label per status; readable without colour. Labels are padded to one width. */
const MARKS: Record<Status, { mark: string; label: string }> = {
  pass: { mark: "✓", label: "PASS" },
  warn: { mark: "!", label: "WARN" },
  fail: { mark: "✗", label: "FAIL" },
  skip: { mark: "-", label: "SKIP" },
  error: { mark: "?", label: "ERROR" },
};
const LABEL_WIDTH = Math.max(...Object.values(MARKS).map((m) => m.label.length));

/** Check bodies start under the check id; fix lines sit 4 spaces deeper than `fix:`. */
const BODY = "    ";
const CODE = "    ";

function paint(c: ChalkInstance, status: Status, s: string): string {
  switch (status) {
    case "pass":
      return c.green(s);
    case "warn":
      return c.yellow(s);
    case "fail":
      return c.red.bold(s);
    case "skip":
      return c.dim(s);
    case "error":
      return c.magenta.bold(s);
  }
}

/** Untrusted text split into display lines, with terminal escapes and control characters removed. */
function lines(s: string): string[] {
  return cleanText(s).split(/\r\n|\r|\n/);
}

function isTable(v: unknown): v is { columns: string[]; rows: string[][] } {
  if (typeof v !== "object" || v === null) return false;
  const t = v as { columns?: unknown; rows?: unknown };
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === "string");
  return strings(t.columns) && Array.isArray(t.rows) && t.rows.every(strings);
}

function ms(n: number): string {
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
}

function renderCheck(c: ChalkInstance, check: CheckReport, idWidth: number, opts: TextOptions): string[] {
  const { mark, label } = MARKS[check.status];
  const [first = "", ...rest] = lines(check.summary);
  const id = cleanText(check.id).replace(/\s/g, "");
  const timing = opts.verbose ? c.dim(` (${ms(check.durationMs)})`) : "";
  const head = `  ${paint(c, check.status, `${mark} ${label.padEnd(LABEL_WIDTH)}`)} ${c.bold(id.padEnd(idWidth))}  ${first}`;
  const out = [`${head.trimEnd()}${timing}`];
  // Continuation lines of a multi-line summary line up under its first line.
  const hang = " ".repeat(2 + 2 + LABEL_WIDTH + 1 + idWidth + 2);
  for (const l of rest) out.push(`${hang}${l}`.trimEnd());

  const showBody =
    opts.verbose || check.status === "warn" || check.status === "fail" || check.status === "error";
  if (!showBody) return out;
  const indent = `  ${BODY}`;
  for (const d of check.details) for (const l of lines(d)) out.push(`${indent}${c.dim(l)}`.trimEnd());
  const table = check.evidence.table;
  if (isTable(table)) {
    for (const l of formatTable(table.columns, table.rows).split("\n")) out.push(`${indent}${l}`);
  }
  if (check.fix) {
    const [text = "", ...more] = lines(check.fix.text);
    out.push(`${indent}${c.cyan("fix:")} ${text}`.trimEnd());
    for (const l of more) out.push(`${indent}     ${l}`.trimEnd());
    // The exact lines, uncoloured and unwrapped, so they can be copied as they are.
    for (const cmd of check.fix.commands) for (const l of lines(cmd)) out.push(`${indent}${CODE}${l}`);
  }
  return out;
}

/**
 * The human report: a header, the checks by group (`✓ PASS id  summary`), details, evidence tables and
 * fixes for findings (for every check with `verbose`, which also shows timings), then the counts and
 * exit code. Colour only when `opts.color`; text from checks is stripped of terminal escapes either way.
 */
export function renderText(report: DoctorReport, opts: TextOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const out: string[] = [
    c.bold(
      `schedctl doctor — ${lines(report.target.description).join(" ")} — evaluated at ${cleanText(report.evaluatedAt)}`,
    ),
  ];
  const idWidth = Math.max(0, ...report.checks.map((k) => cleanText(k.id).replace(/\s/g, "").length));
  const groups = [...new Set([...GROUPS, ...report.checks.map((k) => k.group)])];
  for (const group of groups) {
    const checks = report.checks.filter((k) => k.group === group);
    if (checks.length === 0) continue;
    const heading = GROUP_HEADINGS[group] ?? group;
    out.push("", c.bold.underline(heading.toLowerCase() === group ? heading : `${heading} (${group})`));
    for (const check of checks) out.push(...renderCheck(c, check, idWidth, opts));
  }
  if (report.checks.length === 0) out.push("", "No checks ran.");
  const worst = (["error", "fail", "warn"] as const).find((s) => report.summary[s] > 0);
  const tail = countsLine(report);
  const timing = opts.verbose ? c.dim(` (${ms(report.durationMs)})`) : "";
  out.push("", `${worst ? paint(c, worst, tail) : c.green(tail)}${timing}`);
  return `${out.join("\n")}\n`;
}
