/**
 * Where facts come from. Every path is as seen inside the target ("/etc/localtime"); a target never lets a
 * path or a symlink escape it. Implementations: RootFsTarget (a directory, "/" for this host) and
 * ContainerTarget (a snapshot taken through `docker exec` in one round trip).
 */

export type TargetKind = "host" | "root" | "container";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface EntryInfo {
  type: EntryType;
  size: number;
}

export interface Target {
  readonly kind: TargetKind;
  /** Human description for reports: "this host", "root /tmp/img", "container web-1". */
  readonly description: string;
  /** True when the target has live processes we can inspect (/proc); false for an unpacked root. */
  readonly live: boolean;
  /** The environment the target's processes get (host: this process's; container: its configured env). */
  environment(): Promise<Record<string, string>>;
  /** lstat: the entry itself, links not followed; null when missing. */
  lstat(path: string): Promise<EntryInfo | null>;
  /** stat: links followed inside the target; null when missing or dangling. */
  stat(path: string): Promise<EntryInfo | null>;
  readlink(path: string): Promise<string | null>;
  /** The canonical path inside the target, links resolved against the target's root; null when dangling, looping or missing. */
  realpath(path: string): Promise<string | null>;
  /** Reads a regular file (links followed) up to `maxBytes`; null when missing; throws TargetReadError past the limit or on IO errors. */
  readFile(path: string, maxBytes: number): Promise<Buffer | null>;
  /** Directory entries sorted by name; null when not a directory. */
  readdir(path: string): Promise<string[] | null>;
  /**
   * Every regular file below a directory (links not followed), as paths relative to it with sizes,
   * skipping the named top-level subdirectories. One call, so a walk costs no per-entry path resolution.
   */
  listFiles(dir: string, skipTopLevel?: ReadonlySet<string>): Promise<{ path: string; size: number }[]>;
  /** Releases temporary resources (container snapshots). */
  close(): Promise<void>;
}

export class TargetReadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = "TargetReadError";
  }
}
