import type { DoctorReport } from "./types.js";

/** `3 warnings`, `1 error`. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `N passed, N warnings, N failed, N skipped, N errors — exit C`: the last line of every report format. */
export function countsLine(report: DoctorReport): string {
  const s = report.summary;
  return `${[
    `${s.pass} passed`,
    plural(s.warn, "warning", "warnings"),
    `${s.fail} failed`,
    `${s.skip} skipped`,
    plural(s.error, "error", "errors"),
  ].join(", ")} — exit ${report.exitCode}`;
}
