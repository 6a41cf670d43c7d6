import type { CheckReport, Status } from "../checks/types.js";
import { countsLine, plural } from "./counts.js";
import { cleanText } from "./table.js";
import type { DoctorReport } from "./types.js";

/** GitHub keeps about 10 annotations per type per step and drops the rest silently. */
export const MAX_ANNOTATIONS_PER_TYPE = 10;

/** The step summary is capped at 1 MiB per step; stay well below it. */
const MAX_SUMMARY_BYTES = 1_000_000;

/** Workflow-command data: `%` first, then CR and LF. */
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Workflow-command property values: data escaping plus `:` and `,`. */
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** A title is one line and never contains `::`, even once unescaped. */
function safeTitle(s: string): string {
  return cleanText(s)
    .replace(/\s*[\r\n]+\s*/g, " ")
    .replace(/:{2,}/g, ":")
    .trim();
}

/** The annotation text of a check: summary, details, then the fix and its exact lines. */
function annotationMessage(c: CheckReport): string {
  const lines = [c.summary, ...c.details];
  if (c.fix) lines.push(`fix: ${c.fix.text}`, ...c.fix.commands.map((cmd) => `    ${cmd}`));
  return cleanText(lines.join("\n"));
}

function annotation(type: "error" | "warning", c: CheckReport): string {
  const title = safeTitle(`${c.id} — ${c.title}${c.status === "error" ? " (could not run)" : ""}`);
  return `::${type} title=${escapeProperty(title)}::${escapeData(annotationMessage(c))}`;
}

const STATUS_CELL: Record<Status, string> = {
  pass: "✅ pass",
  warn: "⚠️ warn",
  fail: "❌ fail",
  skip: "➖ skip",
  error: "❓ error",
};

/**
 * Markdown inline text that renders exactly as given: backslash-escape the characters that start
 * emphasis, code, links, HTML or entities, and the cell separator `|`; line breaks become `<br>`.
 */
function mdInline(s: string): string {
  return cleanText(s)
    .replace(/[\\`*_[\]<>&|~]/g, "\\$&")
    .replace(/\r\n|\r|\n/g, "<br>");
}

/** A check id as inline code; ids are `group.name`, anything odd falls back to escaped text. */
function mdId(id: string): string {
  return /^[\w.-]+$/.test(id) ? `\`${id}\`` : mdInline(id);
}

/** A fenced code block whose fence is longer than any backtick run inside it (CommonMark). */
function codeBlock(lines: string[]): string {
  const body = cleanText(lines.join("\n"));
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}\n${body}\n${fence}`;
}

function stepSummary(report: DoctorReport): string {
  const out: string[] = [
    `## schedctl doctor — ${mdInline(report.target.description)}`,
    "",
    `Evaluated at ${mdInline(report.evaluatedAt)} · ${mdInline(countsLine(report))}`,
    "",
    "| Status | Check | Summary |",
    "| --- | --- | --- |",
  ];
  for (const c of report.checks) {
    out.push(`| ${STATUS_CELL[c.status]} | ${mdId(c.id)} ${mdInline(c.title)} | ${mdInline(c.summary)} |`);
  }
  const fixes = report.checks.filter((c) => c.fix);
  if (fixes.length > 0) {
    out.push("", "### Fixes");
    for (const c of fixes) {
      if (!c.fix) continue;
      out.push("", `**${mdId(c.id)}** (${c.status}): ${mdInline(c.fix.text)}`);
      if (c.fix.commands.length > 0) out.push("", codeBlock(c.fix.commands));
    }
  }
  // Keep whole elements (a table row, a whole code block) and say so, rather than exceed the cap.
  const note = "_Summary truncated; run `schedctl doctor --format json` for the full report._";
  const budget = MAX_SUMMARY_BYTES - Buffer.byteLength(note) - 4;
  let used = 0;
  let kept = 0;
  for (const el of out) {
    const size = Buffer.byteLength(el) + 1;
    if (used + size > budget) break;
    used += size;
    kept++;
  }
  const shown = kept < out.length ? [...out.slice(0, kept), "", note] : out;
  return `${shown.join("\n")}\n`;
}

/**
 * `--format github`: workflow-command annotations for stdout and a Markdown report for
 * `$GITHUB_STEP_SUMMARY`. fail and error become `::error`, warn `::warning`; at most
 * MAX_ANNOTATIONS_PER_TYPE of each, then one notice naming how many more are in the step summary, then a
 * notice with the counts. Every annotation is exactly one line.
 */
export function renderGithub(report: DoctorReport): { annotations: string; stepSummary: string } {
  const errors = report.checks.filter((c) => c.status === "fail" || c.status === "error");
  const warnings = report.checks.filter((c) => c.status === "warn");
  const lines = [
    ...errors.slice(0, MAX_ANNOTATIONS_PER_TYPE).map((c) => annotation("error", c)),
    ...warnings.slice(0, MAX_ANNOTATIONS_PER_TYPE).map((c) => annotation("warning", c)),
  ];
  const dropped =
    Math.max(0, errors.length - MAX_ANNOTATIONS_PER_TYPE) +
    Math.max(0, warnings.length - MAX_ANNOTATIONS_PER_TYPE);
  if (dropped > 0) {
    lines.push(
      `::notice::${escapeData(`${plural(dropped, "more finding", "more findings")} in the step summary`)}`,
    );
  }
  lines.push(`::notice title=${escapeProperty("schedctl doctor")}::${escapeData(countsLine(report))}`);
  return { annotations: `${lines.join("\n")}\n`, stepSummary: stepSummary(report) };
}
