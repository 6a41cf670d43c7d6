import { UsageError } from "../errors.js";
import type { Facts } from "../facts/types.js";
import type { ExitCode } from "../render/types.js";
import { CHECKS } from "./registry.js";
import { type CheckDefinition, type CheckReport, GROUPS, type Status } from "./types.js";

/** Resolves --only/--skip (check ids or group names) against the registry; unknown names are usage errors. */
export function selectChecks(
  only: string[],
  skip: string[],
  all: readonly CheckDefinition[] = CHECKS,
): CheckDefinition[] {
  const known = new Set<string>([...GROUPS, ...all.map((c) => c.id)]);
  const split = (xs: string[]) =>
    xs
      .flatMap((x) => x.split(","))
      .map((x) => x.trim())
      .filter(Boolean);
  const o = split(only);
  const s = split(skip);
  for (const name of [...o, ...s]) {
    if (!known.has(name)) {
      throw new UsageError(`unknown check or group "${name}" (see \`schedctl doctor --list\`)`);
    }
  }
  const matches = (c: CheckDefinition, names: string[]) => names.includes(c.id) || names.includes(c.group);
  return all.filter((c) => (o.length === 0 || matches(c, o)) && !matches(c, s));
}

/** Runs each check; a check that throws becomes an `error` result and the others still report. */
export function runChecks(
  checks: readonly CheckDefinition[],
  facts: Facts,
  clock: () => number = () => performance.now(),
): CheckReport[] {
  return checks.map((c) => {
    const start = clock();
    try {
      const r = c.run(facts);
      return {
        id: c.id,
        group: c.group,
        title: c.title,
        ...r,
        durationMs: Math.round((clock() - start) * 100) / 100,
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const stack = err instanceof Error ? (err.stack ?? "") : "";
      return {
        id: c.id,
        group: c.group,
        title: c.title,
        status: "error" as const,
        summary: `check crashed: ${message}`,
        details: stack
          .split("\n")
          .slice(1, 6)
          .map((l) => l.trim())
          .filter(Boolean),
        evidence: {},
        durationMs: Math.round((clock() - start) * 100) / 100,
      };
    }
  });
}

export function summarize(reports: readonly CheckReport[]): Record<Status, number> {
  const s: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const r of reports) s[r.status]++;
  return s;
}

/** 3 when a check could not run, else 1 when findings reach --fail-on, else 0. */
export function exitCodeFor(summary: Record<Status, number>, failOn: "warn" | "fail"): ExitCode {
  if (summary.error > 0) return 3;
  if (summary.fail > 0 || (failOn === "warn" && summary.warn > 0)) return 1;
  return 0;
}
