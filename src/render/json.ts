import type { CheckReport } from "../checks/types.js";
import type { DoctorReport } from "./types.js";

/**
 * `--format json`: exactly one JSON document (2-space indent, trailing newline) that validates against
 * `schema/doctor-report.schema.json`. Keys are emitted in a fixed order so diffs and golden files are
 * stable; a missing fix is `null`, never absent.
 */
export function renderJson(report: DoctorReport): string {
  const doc = {
    schemaVersion: report.schemaVersion,
    tool: { name: report.tool.name, version: report.tool.version },
    target: { kind: report.target.kind, description: report.target.description },
    evaluatedAt: report.evaluatedAt,
    exitCode: report.exitCode,
    failOn: report.failOn,
    summary: {
      pass: report.summary.pass,
      warn: report.summary.warn,
      fail: report.summary.fail,
      skip: report.summary.skip,
      error: report.summary.error,
    },
    checks: report.checks.map(checkJson),
    durationMs: report.durationMs,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function checkJson(c: CheckReport) {
  return {
    id: c.id,
    group: c.group,
    title: c.title,
    status: c.status,
    summary: c.summary,
    details: [...c.details],
    evidence: c.evidence,
    fix: c.fix ? { text: c.fix.text, commands: [...c.fix.commands] } : null,
    durationMs: c.durationMs,
  };
}
