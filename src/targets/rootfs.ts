import { lstat, open, readdir, readlink, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { EntryInfo, EntryType, Target, TargetKind } from "./target.js";
import { TargetReadError } from "./target.js";

const MAX_LINK_HOPS = 40; // Linux's own limit (MAXSYMLINKS) before ELOOP

function entryType(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  return "other";
}

function splitPath(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * A filesystem tree seen as a machine's root: this host ("/") or an unpacked image (`--root DIR`).
 * Symlinks are resolved here, component by component, against the root: an absolute link restarts at the
 * root and `..` stops at it, so nothing inside an image can point us at the host's files.
 */
export class RootFsTarget implements Target {
  readonly kind: TargetKind;
  readonly live: boolean;
  readonly description: string;

  constructor(
    readonly root: string,
    opts: { kind?: TargetKind; description?: string; env?: Record<string, string> } = {},
  ) {
    this.kind = opts.kind ?? (root === "/" ? "host" : "root");
    this.live = this.kind === "host";
    this.description = opts.description ?? (this.kind === "host" ? "this host" : `root ${root}`);
    this.env = opts.env;
  }

  private readonly env: Record<string, string> | undefined;

  async environment(): Promise<Record<string, string>> {
    if (this.env) return { ...this.env };
    if (this.kind === "host") {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
      return out;
    }
    // An unpacked image has no process environment; its ENV lines live in the image config, not the files.
    return {};
  }

  private hostPath(components: string[]): string {
    return join(this.root, ...components);
  }

  /**
   * Resolves `path` inside the root. Returns the components of the final entry (which may not exist when
   * `mustExist` is false), or null when a link dangles, loops or a directory on the way is missing.
   */
  private async resolve(path: string, followLast: boolean): Promise<string[] | null> {
    // On this host "/" is the root already: the kernel resolves links exactly as we would, in one call.
    if (this.root === "/") return this.resolveOnHost(path, followLast);
    let pending = splitPath(path);
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const [head, ...rest] = pending as [string, ...string[]];
      pending = rest;
      if (head === "..") {
        done.pop();
        continue;
      }
      const candidate = [...done, head];
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(this.hostPath(candidate));
      } catch (err) {
        if (isMissing(err)) return pending.length === 0 ? candidate : null;
        throw new TargetReadError(`/${candidate.join("/")}`, (err as Error).message);
      }
      if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
        if (++hops > MAX_LINK_HOPS) return null;
        const target = await readlink(this.hostPath(candidate));
        if (target.startsWith("/")) done.length = 0;
        pending = [...splitPath(target), ...pending];
        continue;
      }
      if (pending.length > 0 && !st.isDirectory()) return null;
      done.push(head);
    }
    return done;
  }

  private async resolveOnHost(path: string, followLast: boolean): Promise<string[] | null> {
    const abs = `/${splitPath(path).join("/")}`;
    try {
      if (followLast) return splitPath(await realpath(abs));
      if (abs === "/") return [];
      return [...splitPath(await realpath(dirname(abs))), basename(abs)];
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ELOOP") return null;
      if (!isMissing(err)) throw new TargetReadError(abs, (err as Error).message);
      // A missing final entry still names a place (realpath fails on it); a missing directory does not,
      // and neither does a dangling link being followed.
      try {
        const place = [...splitPath(await realpath(dirname(abs))), basename(abs)];
        if (followLast && (await lstat(`/${place.join("/")}`).catch(() => null))) return null;
        return place;
      } catch {
        return null;
      }
    }
  }

  async lstat(path: string): Promise<EntryInfo | null> {
    return this.entry(path, false);
  }

  async stat(path: string): Promise<EntryInfo | null> {
    return this.entry(path, true);
  }

  private async entry(path: string, followLast: boolean): Promise<EntryInfo | null> {
    const comps = await this.resolve(path, followLast);
    if (!comps) return null;
    try {
      const st = await lstat(this.hostPath(comps));
      return { type: entryType(st), size: st.size };
    } catch (err) {
      if (isMissing(err)) return null;
      throw new TargetReadError(path, (err as Error).message);
    }
  }

  async readlink(path: string): Promise<string | null> {
    const comps = await this.resolve(path, false);
    if (!comps) return null;
    try {
      return await readlink(this.hostPath(comps));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (isMissing(err) || code === "EINVAL") return null;
      throw new TargetReadError(path, (err as Error).message);
    }
  }

  async realpath(path: string): Promise<string | null> {
    const comps = await this.resolve(path, true);
    if (!comps) return null;
    if ((await this.lstatRaw(comps)) === null) return null;
    return `/${comps.join("/")}`;
  }

  private async lstatRaw(comps: string[]) {
    try {
      return await lstat(this.hostPath(comps));
    } catch (err) {
      if (isMissing(err)) return null;
      throw new TargetReadError(`/${comps.join("/")}`, (err as Error).message);
    }
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer | null> {
    const comps = await this.resolve(path, true);
    if (!comps) return null;
    const st = await this.lstatRaw(comps);
    if (!st) return null;
    if (!st.isFile()) throw new TargetReadError(path, "not a regular file");
    if (st.size > maxBytes) throw new TargetReadError(path, `larger than ${maxBytes} bytes (${st.size})`);
    // Read through a handle with a bounded buffer: the size can change under us, and /proc files lie.
    const fh = await open(this.hostPath(comps), "r");
    try {
      const buf = Buffer.alloc(maxBytes + 1);
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > maxBytes) throw new TargetReadError(path, `larger than ${maxBytes} bytes`);
      }
      return buf.subarray(0, total);
    } catch (err) {
      if (err instanceof TargetReadError) throw err;
      throw new TargetReadError(path, (err as Error).message);
    } finally {
      await fh.close();
    }
  }

  async readdir(path: string): Promise<string[] | null> {
    const comps = await this.resolve(path, true);
    if (!comps) return null;
    try {
      return (await readdir(this.hostPath(comps))).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (isMissing(err) || code === "ENOTDIR") return null;
      throw new TargetReadError(path, (err as Error).message);
    }
  }

  async listFiles(
    dir: string,
    skipTopLevel: ReadonlySet<string> = new Set(),
  ): Promise<{ path: string; size: number }[]> {
    const comps = await this.resolve(dir, true);
    if (!comps) return [];
    const base = this.hostPath(comps);
    const out: { path: string; size: number }[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(rel ? join(base, rel) : base, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const relPath = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (!(rel === "" && skipTopLevel.has(e.name))) await walk(relPath);
        } else if (e.isFile()) {
          const st = await lstat(join(base, relPath)).catch(() => null);
          if (st) out.push({ path: relPath, size: st.size });
        }
      }
    };
    await walk("");
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async close(): Promise<void> {}
}
