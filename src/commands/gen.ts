/**
 * `schedctl gen dockerfile|gunicorn|nginx|compose|k8s|lock|all`: the IO around the pure generators of
 * src/gen/. Never overwrites a file that differs without --force (exit 2 naming it, nothing written);
 * writes atomically (temp file in the same directory, then rename); --dry-run prints what would be written
 * and --diff a unified diff, both writing nothing. Messages go to stderr, previews to stdout.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { loadConfig } from "../config/load.js";
import { UsageError } from "../errors.js";
import { GENERATORS, type GeneratedFile } from "../gen/common.js";
import { unifiedDiff } from "../gen/diff.js";
import { type GenTarget, generate } from "../gen/kit.js";
import { loadTemplates } from "../gen/templates.js";

export interface GenOptions {
  appDir?: string;
  out?: string;
  force?: boolean;
  dryRun?: boolean;
  diff?: boolean;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIo: Io = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

/** Writes `content` to `path` atomically: a temp file next to it, fsync, rename over. */
export async function writeAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const existing = await stat(path).catch(() => null);
  const tmp = join(dir, `.${basename(path)}.schedctl-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fd = openSync(tmp, "wx", existing ? existing.mode & 0o777 : mode);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

export type FileState = "new" | "unchanged" | "changed";

export interface PlannedFile extends GeneratedFile {
  /** Absolute path. */
  target: string;
  /** Path as shown to the user (relative to the cwd when shorter). */
  shown: string;
  state: FileState;
  old: string | null;
}

async function readExisting(path: string, shown: string): Promise<string | null> {
  const st = await stat(path).catch(() => null);
  if (!st) return null;
  if (!st.isFile()) throw new UsageError(`${shown}: exists and is not a regular file`);
  return readFile(path, "utf8");
}

/** Compares each file with what is on disk. */
export async function plan(files: GeneratedFile[], outDir: string): Promise<PlannedFile[]> {
  const out: PlannedFile[] = [];
  for (const f of files) {
    const target = resolve(outDir, f.path);
    const shown = join(outDir, f.path);
    const old = await readExisting(target, shown);
    out.push({
      ...f,
      target,
      shown,
      old,
      state: old === null ? "new" : old === f.content ? "unchanged" : "changed",
    });
  }
  return out;
}

/** Applies a plan: refuses (nothing written) when a file differs and `force` is off. */
export async function apply(
  planned: PlannedFile[],
  opts: { force?: boolean; dryRun?: boolean; diff?: boolean },
  io: Io,
): Promise<number> {
  if (opts.diff) {
    // git-style a/ b/ prefixes for relative paths; absolute paths as they are
    const side = (prefix: string, path: string) => (isAbsolute(path) ? path : `${prefix}/${path}`);
    for (const p of planned)
      io.stdout(
        unifiedDiff(
          p.old ?? "",
          p.content,
          p.old === null ? "/dev/null" : side("a", p.shown),
          side("b", p.shown),
        ),
      );
    return 0;
  }
  if (opts.dryRun) {
    for (const p of planned) {
      const note = p.state === "changed" && !opts.force ? "changed; would need --force" : p.state;
      io.stdout(`==> ${p.shown} (${note}) <==\n${p.content}`);
    }
    return 0;
  }
  const conflicts = planned.filter((p) => p.state === "changed");
  if (conflicts.length > 0 && !opts.force)
    throw new UsageError(
      `${conflicts.map((c) => c.shown).join(", ")}: ${conflicts.length === 1 ? "exists and differs" : "exist and differ"} from what schedctl would write; nothing written (use --diff to see the change, --force to overwrite)`,
    );
  for (const p of planned) {
    if (p.state === "unchanged") {
      io.stderr(`unchanged ${p.shown}\n`);
      continue;
    }
    await writeAtomic(p.target, p.content);
    io.stderr(`${p.state === "new" ? "wrote" : "overwrote"} ${p.shown}\n`);
  }
  return 0;
}

export async function gen(what: string, opts: GenOptions, io: Io = processIo): Promise<number> {
  if (!(GENERATORS as readonly string[]).includes(what) && what !== "all")
    throw new UsageError(`gen ${JSON.stringify(what)}: expected one of ${[...GENERATORS, "all"].join(", ")}`);
  if (opts.dryRun && opts.diff) throw new UsageError("--dry-run and --diff: choose one");
  const appDir = opts.appDir ?? ".";
  const { config } = await loadConfig(appDir);
  const files = generate(what as GenTarget, config, loadTemplates());
  const planned = await plan(files, opts.out ?? appDir);
  return apply(planned, opts, io);
}
