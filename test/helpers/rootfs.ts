/**
 * Builds throwaway root filesystems ("fixture roots") for tests: a temp directory laid out like a machine's
 * root, read by RootFsTarget and bind-mounted over the real /etc by the real-tzlocal harness.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const HOST_ZONEINFO = "/usr/share/zoneinfo";
const SPAWN_TIMEOUT_MS = 10_000;

export interface RootSpec {
  /** Paths inside the root ("/etc/timezone" or "etc/timezone") and their content. */
  files?: Record<string, string | Buffer>;
  /** Symlinks inside the root: path -> target, stored verbatim ("/usr/share/zoneinfo/Etc/UTC"). */
  links?: Record<string, string>;
  /**
   * usr/share/zoneinfo of the root: "copy" = `cp -a` of the host's (symlinks kept); "host-link" = the same
   * tree as hard links to the host's files (`cp -al`, a real copy across filesystems): cheap, and safe because
   * `files`/`links` always unlink before writing; "none" = no zone database (no tzdata). Default "host-link".
   */
  zoneinfo?: "copy" | "none" | "host-link";
}

function run(cmd: string, args: string[]): { ok: boolean; detail: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: SPAWN_TIMEOUT_MS });
  if (r.error) return { ok: false, detail: r.error.message };
  return { ok: r.status === 0, detail: `${cmd} ${args.join(" ")}: exit ${r.status} ${r.stderr}` };
}

function inRoot(root: string, p: string): string {
  const rel = p.replace(/^\/+/, "");
  if (rel === "" || rel.split("/").includes("..")) throw new Error(`makeRoot: bad path ${JSON.stringify(p)}`);
  return join(root, rel);
}

/** Removes whatever is at `p` (file, link or directory) without following links. */
function clear(p: string): void {
  let exists = false;
  try {
    lstatSync(p);
    exists = true;
  } catch {
    exists = false;
  }
  if (exists) rmSync(p, { recursive: true, force: true });
}

const created = new Set<string>();
process.on("exit", () => {
  for (const root of created) rmSync(root, { recursive: true, force: true });
});

/** Creates a fixture root in a new temp directory and returns its path; removed with removeRoot() or at exit. */
export function makeRoot(spec: RootSpec = {}): string {
  const root = mkdtempSync(join(tmpdir(), "schedctl-root-"));
  created.add(root);
  const mode = spec.zoneinfo ?? "host-link";
  if (mode !== "none") {
    if (!existsSync(HOST_ZONEINFO)) {
      throw new Error(`makeRoot: ${HOST_ZONEINFO} is missing on this host: apt-get install -y tzdata`);
    }
    const dest = join(root, "usr/share/zoneinfo");
    mkdirSync(dirname(dest), { recursive: true });
    let r = mode === "host-link" ? run("cp", ["-al", HOST_ZONEINFO, dest]) : { ok: false, detail: "" };
    if (!r.ok) {
      clear(dest);
      r = run("cp", ["-a", HOST_ZONEINFO, dest]);
    }
    if (!r.ok) throw new Error(`makeRoot: copying ${HOST_ZONEINFO} failed: ${r.detail}`);
  }
  for (const [p, content] of Object.entries(spec.files ?? {})) {
    const dest = inRoot(root, p);
    mkdirSync(dirname(dest), { recursive: true });
    clear(dest); // never write through a hard link to the host's zoneinfo
    writeFileSync(dest, content);
  }
  for (const [p, target] of Object.entries(spec.links ?? {})) {
    const dest = inRoot(root, p);
    mkdirSync(dirname(dest), { recursive: true });
    clear(dest);
    symlinkSync(target, dest);
  }
  return root;
}

export function removeRoot(root: string): void {
  if (!root.startsWith(join(tmpdir(), "schedctl-root-")))
    throw new Error(`removeRoot: not a fixture root: ${root}`);
  rmSync(root, { recursive: true, force: true });
}
