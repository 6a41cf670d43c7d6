import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunError, UsageError } from "../errors.js";
import { RootFsTarget } from "./rootfs.js";

const EXEC_TIMEOUT_MS = 30_000;
const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

/**
 * One `docker exec` gathers every fact: the container's environment (hex, from /proc/self/environ),
 * directory listings that only need names (libc loader, site-packages), then a tar stream of the small
 * files the checks read and the zone database (without its posix/ and right/ copies). Written for
 * POSIX sh and busybox: no bash, no GNU options.
 */
export const SNAPSHOT_SCRIPT = String.raw`
set -u
echo "SCHEDCTL-SNAPSHOT 1"
printf 'ENV '; od -An -v -tx1 /proc/self/environ | tr -d ' \n'; echo
for d in /lib /lib64 /usr/lib /usr/lib/python3/dist-packages /usr/lib/python3*/site-packages /usr/local/lib/python3*/site-packages /usr/local/lib/python3*/dist-packages /opt/venv/lib/python3*/site-packages /venv/lib/python3*/site-packages /app/.venv/lib/python3*/site-packages /app/venv/lib/python3*/site-packages; do
  [ -d "$d" ] || continue
  printf 'LS %s' "$d"; for e in $(ls -1 "$d" 2>/dev/null); do printf '\t%s' "$e"; done; echo
done
echo END
set --
for p in /etc/timezone /etc/localtime /etc/os-release /usr/lib/os-release /var/db/zoneinfo /etc/sysconfig/clock /etc/conf.d/clock /usr/local/etc/localtime /system/bin/getprop /usr/share/zoneinfo /usr/lib/zoneinfo /usr/share/lib/zoneinfo /etc/zoneinfo /share/zoneinfo; do
  if [ -L "$p" ] || [ -f "$p" ]; then set -- "$@" "\${p#/}"
  elif [ -d "$p" ]; then
    for e in $(ls -1 "$p"); do case "$e" in posix|right) ;; *) set -- "$@" "\${p#/}/$e" ;; esac; done
  fi
done
for d in /usr/lib/python3*/site-packages/tzdata/zoneinfo /usr/local/lib/python3*/site-packages/tzdata/zoneinfo /opt/venv/lib/python3*/site-packages/tzdata/zoneinfo; do
  [ -d "$d" ] && set -- "$@" "\${d#/}"
done
[ "$#" -gt 0 ] && exec tar -cf - -C / "$@" 2>/dev/null
exit 0
`.replace(/\\\$/g, "$");

export interface Snapshot {
  env: Record<string, string>;
  listings: Record<string, string[]>;
  tar: Buffer;
}

export function parseSnapshot(out: Buffer): Snapshot {
  const endMarker = out.indexOf("\nEND\n");
  if (!out.subarray(0, 20).toString("latin1").startsWith("SCHEDCTL-SNAPSHOT 1\n") || endMarker < 0) {
    throw new RunError(
      "unexpected answer from the container (is /bin/sh there? distroless images have no shell)",
    );
  }
  const header = out.subarray(0, endMarker).toString("utf8").split("\n");
  const env: Record<string, string> = {};
  const listings: Record<string, string[]> = {};
  for (const line of header) {
    if (line.startsWith("ENV ")) {
      const bytes = Buffer.from(line.slice(4).trim(), "hex").toString("utf8");
      for (const kv of bytes.split("\0")) {
        const eq = kv.indexOf("=");
        if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
    } else if (line.startsWith("LS ")) {
      const [dir, ...entries] = line.slice(3).split("\t");
      if (dir) listings[dir] = entries.filter((e) => e && !e.includes("/"));
    }
  }
  return { env, listings, tar: out.subarray(endMarker + 5) };
}

/** Runs a command with a hard timeout and a cap on its output; any failure is a RunError naming `what`. */
function run(cmd: string, args: string[], input: Buffer | null, what: string): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = "";
    let settled = false;
    const finish = (err: RunError | null, out?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolvePromise(out ?? Buffer.alloc(0));
    };
    // Our own timer: spawn's `timeout` option keeps the process alive when the command never started.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new RunError(`${what}: timed out after ${EXEC_TIMEOUT_MS / 1000} s`));
    }, EXEC_TIMEOUT_MS);
    child.stdout?.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_SNAPSHOT_BYTES) {
        child.kill("SIGKILL");
        finish(new RunError(`${what}: answer larger than ${MAX_SNAPSHOT_BYTES} bytes`));
      } else chunks.push(c);
    });
    child.stderr?.on("data", (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString("utf8");
    });
    child.on("error", (err: NodeJS.ErrnoException) =>
      finish(
        new RunError(err.code === "ENOENT" ? `${what}: ${cmd} not found on PATH` : `${what}: ${err.message}`),
      ),
    );
    child.on("close", (code, signal) => {
      if (signal) return finish(new RunError(`${what}: killed (${signal})`));
      if (code !== 0)
        return finish(new RunError(`${what}: exit ${code}: ${stderr.trim().split("\n")[0] ?? ""}`));
      finish(null, Buffer.concat(chunks));
    });
    if (input && child.stdin) {
      child.stdin.on("error", () => undefined); // the reader may exit early; its exit code tells
      child.stdin.end(input);
    }
  });
}

class ContainerTarget extends RootFsTarget {
  constructor(
    dir: string,
    name: string,
    env: Record<string, string>,
    private readonly tmp: string,
  ) {
    super(dir, { kind: "container", description: `container ${name}`, env });
  }
  override async close(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/** Snapshots a running container in one `docker exec` round trip and serves facts from the copy. */
export async function openContainerTarget(name: string): Promise<RootFsTarget> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new UsageError(`--container ${JSON.stringify(name)}: not a container name or id`);
  const docker = process.env.SCHEDCTL_DOCKER || "docker";
  const out = await run(
    docker,
    ["exec", "-i", name, "/bin/sh", "-c", SNAPSHOT_SCRIPT],
    null,
    `docker exec ${name}`,
  );
  const snap = parseSnapshot(out);
  const tmp = await mkdtemp(join(tmpdir(), "schedctl-container-"));
  const root = join(tmp, "root");
  await mkdir(root);
  try {
    if (snap.tar.length > 0)
      await run(
        "tar",
        ["-x", "-C", root, "--no-same-owner", "--no-same-permissions", "-f", "-"],
        snap.tar,
        "unpacking the container snapshot",
      );
    // Listings carry names only: recreate them as empty placeholders so the same readers work.
    for (const [dir, entries] of Object.entries(snap.listings)) {
      const hostDir = join(root, dir);
      await mkdir(hostDir, { recursive: true });
      for (const e of entries) {
        const p = join(hostDir, e);
        if (/\.(dist|egg)-info$/.test(e)) await mkdir(p, { recursive: true });
        else await writeFile(p, "", { flag: "wx" }).catch(() => undefined);
      }
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return new ContainerTarget(root, name, snap.env, tmp);
}
