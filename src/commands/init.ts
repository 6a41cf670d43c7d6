/**
 * `schedctl init`: writes a starter config (`[tool.schedctl]` appended to pyproject.toml, or schedctl.toml)
 * from flags and from what the app dir says. Refuses to replace an existing config without --force;
 * --dry-run prints the file it would write. Discovery notes go to stderr.
 */
import { join } from "node:path";
import {
  assembleConfig,
  discoverApp,
  flagAttribute,
  INIT_KEYS,
  mergeIntoPyproject,
  renderConfigToml,
} from "../config/init.js";
import { CONFIG_FILES, type ConfigFileKind, findConfig } from "../config/load.js";
import { UsageError } from "../errors.js";
import { type Io, processIo, writeAtomic } from "./gen.js";

export interface InitOptions extends Record<string, unknown> {
  appDir?: string;
  format?: string;
  force?: boolean;
  dryRun?: boolean;
}

export async function init(opts: InitOptions, io: Io = processIo): Promise<number> {
  const appDir = opts.appDir ?? ".";
  if (opts.format !== undefined && opts.format !== "pyproject" && opts.format !== "toml")
    throw new UsageError(`--format ${JSON.stringify(opts.format)}: expected pyproject or toml`);
  const found = await findConfig(appDir);
  const kind: ConfigFileKind =
    (opts.format as ConfigFileKind | undefined) ?? (found.pyproject !== null ? "pyproject" : "toml");
  const file = join(appDir, CONFIG_FILES[kind]);
  if (kind === "toml" && found.pyprojectHasTable)
    throw new UsageError(
      `${join(appDir, CONFIG_FILES.pyproject)}: already has [tool.schedctl]; both would configure schedctl (use --format pyproject --force to replace it)`,
    );
  if (kind === "pyproject" && found.toml !== null)
    throw new UsageError(
      `${join(appDir, CONFIG_FILES.toml)}: already configures schedctl; both would (use --format toml --force to replace it)`,
    );
  if (kind === "toml" && found.toml !== null && !opts.force)
    throw new UsageError(`${file}: already exists; use --force to replace it`);
  if (kind === "pyproject" && found.pyprojectHasTable && !opts.force)
    throw new UsageError(`${file}: already has [tool.schedctl]; use --force to replace it`);

  const flags: Record<string, unknown> = {};
  for (const def of INIT_KEYS) {
    const a = flagAttribute(def.flag);
    if (opts[a] !== undefined) flags[a] = opts[a];
  }
  const discovery = await discoverApp(appDir);
  const planned = assembleConfig(flags, discovery);
  for (const n of planned.notes) io.stderr(`note: ${n}\n`);
  const table = renderConfigToml(planned, kind);
  const content =
    kind === "pyproject" ? mergeIntoPyproject(found.pyproject ?? "", table, !!opts.force) : table;
  const exists = (kind === "pyproject" ? found.pyproject : found.toml) !== null;
  if (opts.dryRun) {
    io.stdout(`==> ${file} (${exists ? "changed" : "new"}) <==\n${content}`);
    return 0;
  }
  await writeAtomic(file, content);
  io.stderr(kind === "pyproject" && exists ? `wrote [tool.schedctl] into ${file}\n` : `wrote ${file}\n`);
  return 0;
}
