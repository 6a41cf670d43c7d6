import type { Facts } from "../facts/types.js";

/** Result levels, ordered from best to worst for `--fail-on`; `skip` means "does not apply here". */
export type Status = "pass" | "warn" | "fail" | "skip" | "error";

export const GROUPS = ["tz", "workers", "locks", "runs", "routes", "deploy"] as const;
export type Group = (typeof GROUPS)[number];

/** A fix: prose for the reader plus the exact lines or commands to apply, kept apart so tools can use them. */
export interface Fix {
  text: string;
  commands: string[];
}

/** What a check returns: pure data, no rendering. */
export interface CheckResult {
  status: Status;
  summary: string;
  details: string[];
  /** The facts the verdict rests on, JSON-serialisable. */
  evidence: Record<string, unknown>;
  fix?: Fix;
}

/**
 * Fact sets beyond the always-gathered basics (target, env, timezone, Python packages, app sources) that
 * only some checks read; doctor gathers a set only when a selected check needs it.
 */
export type FactSet = "deploy" | "routes" | "live";

/** A doctor check: an id that is API, and a pure function from gathered facts to a result. */
export interface CheckDefinition {
  id: string;
  group: Group;
  needs?: readonly FactSet[];
  title: string;
  /** One paragraph for `doctor --list` and the README. */
  description: string;
  run(facts: Facts): CheckResult;
}

/** A check's result as reported, with identity and timing. */
export interface CheckReport extends CheckResult {
  id: string;
  group: Group;
  title: string;
  durationMs: number;
}
