import { UsageError } from "../errors.js";

/** Parses an integer option within bounds, or throws a UsageError naming the option. */
export function intOption(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim()))
    throw new UsageError(`${name} ${JSON.stringify(value)}: expected a whole number`);
  const n = Number.parseInt(value, 10);
  if (n < min || n > max) throw new UsageError(`${name} ${value}: must be between ${min} and ${max}`);
  return n;
}
