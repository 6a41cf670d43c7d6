/**
 * One gather's reads of an app directory. The tz facts (facts/app.ts) and the deploy facts
 * (deploy/gather.ts) walk the same tree for different files, and both read its Python sources: through one
 * AppDirReader each directory is listed, and each path stat'ed and read, once.
 */
import type { Dirent, Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";

/** File contents kept for a second reader, in all; past it, files are read again when asked again. */
const KEEP_BYTES = 32 * 1024 * 1024;

/** The file system calls an AppDirReader makes. */
export interface AppDirFs {
  readdir(dir: string, opts: { withFileTypes: true }): Promise<Dirent[]>;
  stat(path: string): Promise<Stats>;
  readFile(path: string): Promise<Buffer>;
}

const nodeFs: AppDirFs = { readdir, stat, readFile };

export class AppDirReader {
  private readonly lists = new Map<string, Promise<Dirent[]>>();
  private readonly stats = new Map<string, Promise<Stats>>();
  private readonly files = new Map<string, Promise<Buffer>>();
  private kept = 0;

  constructor(private readonly fs: AppDirFs = nodeFs) {}

  /** The entries of a directory (rejects as readdir does). */
  list(dir: string): Promise<Dirent[]> {
    let p = this.lists.get(dir);
    if (p === undefined) {
      p = this.fs.readdir(dir, { withFileTypes: true });
      p.catch(() => {}); // a caller that never awaits it must not make it unhandled
      this.lists.set(dir, p);
    }
    return p;
  }

  /** stat, following links (rejects as stat does). */
  stat(path: string): Promise<Stats> {
    let p = this.stats.get(path);
    if (p === undefined) {
      p = this.fs.stat(path);
      p.catch(() => {}); // a caller that never awaits it must not make it unhandled
      this.stats.set(path, p);
    }
    return p;
  }

  /** The bytes of a file (rejects as readFile does). */
  read(path: string): Promise<Buffer> {
    const have = this.files.get(path);
    if (have !== undefined) return have;
    const p = this.fs.readFile(path);
    if (this.kept < KEEP_BYTES) {
      this.files.set(path, p);
      p.then(
        (b) => {
          this.kept += b.length;
        },
        () => {},
      );
    }
    return p;
  }

  /** The text of a file, or null when it cannot be read. */
  async text(path: string): Promise<string | null> {
    return this.read(path).then(
      (b) => b.toString("utf8"),
      () => null,
    );
  }
}
