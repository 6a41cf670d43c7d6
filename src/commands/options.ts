import { UsageError } from "../errors.js";
import { DEFAULT_SAMPLE_INTERVAL_MS, DEFAULT_SAMPLES, DEFAULT_TIMEOUT_MS } from "../facts/live.js";

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

/** --timeout and --sample-interval, shared by doctor and the locks commands. */
export function networkOptions(opts: { timeout?: string | undefined; sampleInterval?: string | undefined }): {
  timeoutMs: number;
  sampleIntervalMs: number;
} {
  return {
    timeoutMs: intOption("--timeout", opts.timeout, DEFAULT_TIMEOUT_MS, 100, 120_000),
    sampleIntervalMs: intOption(
      "--sample-interval",
      opts.sampleInterval,
      DEFAULT_SAMPLE_INTERVAL_MS,
      0,
      60_000,
    ),
  };
}

export function samplesOption(value: string | undefined): number {
  return intOption("--samples", value, DEFAULT_SAMPLES, 1, 1000);
}

/** Rejects a malformed --redis URL (exit 2, password redacted) before anything connects. */
export async function validateRedisUrls(urls: readonly string[]): Promise<void> {
  if (urls.length === 0) return;
  const { parseRedisUrl } = await import("../locks/redis-url.js");
  for (const u of urls) parseRedisUrl(u);
}
