/**
 * Real lock holders for the file-lock tests and the benchmark: Debian's /usr/bin/python3 taking flock,
 * lockf (POSIX), OFD locks, forking after locking; util-linux flock(1) and unshare(1); Gunicorn; and an
 * inotify watcher proving a path was never opened. Every process is tracked by pid and killed by pid.
 * A missing binary fails with the install command; nothing is skipped.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const PYTHON = "/usr/bin/python3";
export const INSTALL_HINT = "apt-get install -y util-linux python3";

/** Fails (never skips) when a binary the test runs is missing. */
export function requireBinaries(bins: string[], hint = INSTALL_HINT): void {
  const missing = bins.filter((b) => !existsSync(b));
  if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}: install with \`${hint}\``);
}

/** The holder script: `holder.py MODE ...`; prints "ready <json>" once its locks are taken, then sleeps. */
export const HOLDER_PY = `
import fcntl, json, os, resource, struct, sys, time
mode = sys.argv[1]
def ready(extra=None):
    print("ready " + json.dumps(extra or {}), flush=True)
if mode == "flock":
    f = open(sys.argv[2], "a")
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    ready()
elif mode == "lockf":
    f = open(sys.argv[2], "a")
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, int(sys.argv[4]), int(sys.argv[3]))
    ready()
elif mode == "ofd":
    f = open(sys.argv[2], "r+")
    cmd = getattr(fcntl, "F_OFD_SETLK", 37)  # 37 = F_OFD_SETLK on Linux when the module lacks it
    # struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (0 for OFD)
    fcntl.fcntl(f, cmd, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
    ready({"named": hasattr(fcntl, "F_OFD_SETLK")})
elif mode == "fork":
    f = open(sys.argv[2], "a")
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    kids = []
    for _ in range(int(sys.argv[3])):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
    ready({"children": kids})
    os._exit(0)
elif mode == "many":
    d, n = sys.argv[2], int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, max(hard, n + 64)))
    files = []
    for i in range(n):
        f = open(os.path.join(d, "l%05d.lock" % i), "a")
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        files.append(f)
    ready({"count": n})
else:
    sys.exit("unknown mode " + mode)
time.sleep(float(os.environ.get("HOLD_SECONDS", "60")))
`;

/** An inotify watcher (ctypes): prints "ready", then one JSON line per event, until stdin closes. */
export const WATCHER_PY = String.raw`
import ctypes, json, os, select, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
if fd < 0:
    sys.exit("inotify_init1 failed: %d" % ctypes.get_errno())
wds = {}
for p in sys.argv[1:]:
    wd = libc.inotify_add_watch(fd, p.encode(), 0x00000FFF)  # IN_ALL_EVENTS
    if wd < 0:
        sys.exit("inotify_add_watch %s failed: %d" % (p, ctypes.get_errno()))
    wds[wd] = p
print("ready", flush=True)
while True:
    r, _, _ = select.select([fd, sys.stdin], [], [], 10)
    if fd in r:
        data = os.read(fd, 65536)
        i = 0
        while i < len(data):
            wd, mask, cookie, ln = struct.unpack_from("iIII", data, i)
            name = data[i + 16:i + 16 + ln].rstrip(b"\0").decode("utf-8", "replace")
            print(json.dumps({"watch": wds.get(wd), "mask": mask, "name": name}), flush=True)
            i += 16 + ln
    if sys.stdin in r and not sys.stdin.readline():
        break
`;

export const IN_ACCESS = 0x1;
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_OPEN = 0x20;
export const IN_CREATE = 0x100;

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Lines printed on stdout so far. */
  lines: string[];
  /** Resolves with the JSON after "ready " (or {} for a bare "ready"). */
  ready: Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Every pid these helpers started, killed by pid at the end (killAll). */
const started = new Set<number>();

export function track(pid: number): void {
  started.add(pid);
}

export function start(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Started {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  started.add(pid);
  const lines: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${cmd} ${args.join(" ")}: not ready after ${opts.timeoutMs ?? 10_000} ms; stderr: ${stderr}`,
          ),
        ),
      opts.timeoutMs ?? 10_000,
    );
    timer.unref();
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on("line", (line) => {
      lines.push(line);
      if (line === "ready" || line.startsWith("ready ")) {
        clearTimeout(timer);
        resolve(line === "ready" ? {} : (JSON.parse(line.slice(6)) as Record<string, unknown>));
      }
    });
    child.on("exit", (code) => {
      if (!lines.some((l) => l.startsWith("ready"))) {
        clearTimeout(timer);
        reject(new Error(`${cmd} ${args.join(" ")} exited ${code} before ready; stderr: ${stderr}`));
      }
    });
  });
  ready.catch(() => {});
  return { child, pid, lines, ready, exited };
}

/** Starts a command that prints nothing; "ready" is when `probe` says so (polled). */
export function startUntil(
  cmd: string,
  args: string[],
  probe: (pid: number) => boolean,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Started {
  const s = start(cmd, args, { ...opts, timeoutMs: 3_600_000 });
  const ready = waitFor(() => probe(s.pid), opts.timeoutMs ?? 10_000, `${cmd} ${args.join(" ")}`).then(
    () => ({}),
  );
  ready.catch(() => {});
  return { ...s, ready };
}

export async function waitFor(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    let ok = false;
    try {
      ok = probe();
    } catch {
      ok = false; // a process vanished between two reads
    }
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Direct children of a pid (/proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The lines of /proc/locks naming this pid. */
export function procLocksOf(pid: number): string[] {
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .filter((l) => l.split(/\s+/).includes(String(pid)));
}

/** SIGKILLs every pid started here (and any added with track), by pid, and waits until they are gone. */
export async function killAll(): Promise<void> {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const pids = [...started];
  started.clear();
  await waitFor(() => pids.every((p) => !alive(p)), 5_000, `pids ${pids.join(",")} to exit`).catch(() => {});
}

export function writeScript(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** `cmd --version`-style check that a binary really runs (not only exists). */
export function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 10_000 });
  return r.status === 0;
}
