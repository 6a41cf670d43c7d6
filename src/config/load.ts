/**
 * Reads the schedctl config of an app dir: `[tool.schedctl]` in pyproject.toml, or schedctl.toml (same keys
 * at top level). Every problem becomes a UsageError (exit 2) naming the file, the line, the table and the
 * key: `pyproject.toml:14: [tool.schedctl.lock] ttl: expected a whole number of seconds, got "30s"`.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";
import { UsageError } from "../errors.js";
import { keyLines } from "./locate.js";
import type { ConfigIssue, SchedctlConfig } from "./types.js";
import { validateConfig } from "./validate.js";

export type ConfigFileKind = "pyproject" | "toml";

export const CONFIG_FILES: Record<ConfigFileKind, string> = {
  pyproject: "pyproject.toml",
  toml: "schedctl.toml",
};

const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadedConfig {
  config: SchedctlConfig;
  /** The file it came from, relative to the app dir. */
  file: string;
  kind: ConfigFileKind;
}

/** The table prefix of the schedctl keys inside `kind`'s document. */
const prefixOf = (kind: ConfigFileKind): string[] => (kind === "pyproject" ? ["tool", "schedctl"] : []);

/** `[tool.schedctl.lock] ttl` / `[tool.schedctl] routes[2]` / `[lock] ttl` / `app`. */
export function issueLocation(kind: ConfigFileKind, path: (string | number)[]): string {
  const prefix = prefixOf(kind);
  // the key is the last string segment, with any array indexes after it
  let cut = path.length - 1;
  while (cut > 0 && typeof path[cut] === "number") cut--;
  const tablePath = [...prefix, ...path.slice(0, cut)].map(String);
  const key =
    String(path[cut] ?? "") +
    path
      .slice(cut + 1)
      .map((i) => `[${i}]`)
      .join("");
  return tablePath.length > 0 ? `[${tablePath.join(".")}] ${key}` : key;
}

/** Parses TOML, or throws a UsageError "file:line: invalid TOML: ...". */
export function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = (err.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
      throw new UsageError(`${file}:${err.line}: invalid TOML: ${first}`);
    }
    throw new UsageError(`${file}: invalid TOML: ${(err as Error).message}`);
  }
}

/** Rejects binary and huge files before parsing them. */
export function assertTextFile(text: string, file: string, size = Buffer.byteLength(text)): void {
  if (size > MAX_CONFIG_BYTES) throw new UsageError(`${file}: too large for a config file (${size} bytes)`);
  if (text.includes("\u0000")) throw new UsageError(`${file}: not a text file (contains NUL bytes)`);
}

/** The schedctl table of a parsed document, or undefined when it has none. */
export function schedctlTable(doc: Record<string, unknown>, kind: ConfigFileKind): unknown {
  if (kind === "toml") return doc;
  const tool = doc.tool;
  if (typeof tool !== "object" || tool === null) return undefined;
  return (tool as Record<string, unknown>).schedctl;
}

/** Turns issues into the UsageError of the first one (by line), naming how many more there are. */
export function issuesError(
  text: string,
  file: string,
  kind: ConfigFileKind,
  issues: ConfigIssue[],
): UsageError {
  const lines = keyLines(text);
  const prefix = prefixOf(kind);
  const located = issues.map((iss) => ({
    iss,
    line: lines.lineOf([...prefix, ...iss.path]) ?? (prefix.length > 0 ? lines.lineOf(prefix) : null) ?? 1,
  }));
  located.sort((a, b) => a.line - b.line);
  const first = located[0] as (typeof located)[number];
  const more = located.length > 1 ? ` (and ${located.length - 1} more)` : "";
  return new UsageError(
    `${file}:${first.line}: ${issueLocation(kind, first.iss.path)}: ${first.iss.message}${more}`,
  );
}

/** Validates the text of a config file; pure, throws UsageError. */
export function parseConfigText(text: string, file: string, kind: ConfigFileKind): SchedctlConfig {
  assertTextFile(text, file);
  const doc = parseToml(text, file);
  const table = schedctlTable(doc, kind);
  if (table === undefined) throw new UsageError(`${file}: no [tool.schedctl] table (run \`schedctl init\`)`);
  const source = kind === "pyproject" ? `${file} [tool.schedctl]` : file;
  const r = validateConfig(table, source);
  if (r.config === null) throw issuesError(text, file, kind, r.issues);
  return r.config;
}

async function readIfExists(path: string): Promise<string | null> {
  const st = await stat(path).catch(() => null);
  if (!st) return null;
  if (!st.isFile()) throw new UsageError(`${path}: not a regular file`);
  if (st.size > MAX_CONFIG_BYTES)
    throw new UsageError(`${path}: too large for a config file (${st.size} bytes)`);
  return readFile(path, "utf8");
}

/** What config files an app dir has, and whether pyproject.toml has a schedctl table. */
export async function findConfig(
  appDir: string,
): Promise<{ pyproject: string | null; pyprojectHasTable: boolean; toml: string | null }> {
  const pyproject = await readIfExists(join(appDir, CONFIG_FILES.pyproject));
  const toml = await readIfExists(join(appDir, CONFIG_FILES.toml));
  let pyprojectHasTable = false;
  if (pyproject !== null) {
    assertTextFile(pyproject, CONFIG_FILES.pyproject);
    pyprojectHasTable =
      schedctlTable(parseToml(pyproject, CONFIG_FILES.pyproject), "pyproject") !== undefined;
  }
  return { pyproject, pyprojectHasTable, toml };
}

/** Loads and validates the config of `appDir`. */
export async function loadConfig(appDir: string): Promise<LoadedConfig> {
  const found = await findConfig(appDir);
  if (found.pyprojectHasTable && found.toml !== null)
    throw new UsageError(
      `${join(appDir, CONFIG_FILES.toml)}: both it and pyproject.toml [tool.schedctl] configure schedctl; keep one`,
    );
  if (found.pyprojectHasTable && found.pyproject !== null)
    return {
      config: parseConfigText(found.pyproject, CONFIG_FILES.pyproject, "pyproject"),
      file: CONFIG_FILES.pyproject,
      kind: "pyproject",
    };
  if (found.toml !== null)
    return {
      config: parseConfigText(found.toml, CONFIG_FILES.toml, "toml"),
      file: CONFIG_FILES.toml,
      kind: "toml",
    };
  throw new UsageError(
    `${appDir}: no schedctl config (neither pyproject.toml [tool.schedctl] nor schedctl.toml); run \`schedctl init\``,
  );
}
