import type { CheckReport, Status } from "../checks/types.js";

export const SCHEMA_VERSION = "1.0";

export type ExitCode = 0 | 1 | 2 | 3;

/** Everything a renderer needs about one doctor run; renderers never look at facts. */
export interface DoctorReport {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: "schedctl"; version: string };
  target: { kind: "host" | "root" | "container"; description: string };
  /** The instant the checks were evaluated at (ISO-8601, UTC); `--at` sets it. */
  evaluatedAt: string;
  exitCode: ExitCode;
  failOn: "warn" | "fail";
  summary: Record<Status, number>;
  /** Every selected check, in registry order. */
  checks: CheckReport[];
  durationMs: number;
}
