/**
 * gatherFileLocks against REAL lock holders on this kernel: flock(1) with its child and a blocked waiter,
 * Python fcntl.flock / fcntl.lockf (POSIX range) / an OFD lock, a flock taken before fork whose locker then
 * exited, Gunicorn --preload (master + workers share the app's flock), a stale lock file, a missing one, two
 * different files at the same path in two mount namespaces, and a process without the capabilities to read
 * other processes' descriptors. Then proof that gathering never opened, created or modified a lock file
 * (an inotify watcher plus timestamps and inode numbers). Needs root, util-linux, Debian python3 and gunicorn;
 * never skips: a missing tool is a failure naming the install command.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gatherFileLocks } from "../../src/facts/procs.js";
import { decodeDev } from "../../src/locks/proclocks.js";
import type { FileLockFacts, LockHolder, LockRecord } from "../../src/locks/types.js";
import {
  alive,
  childrenOf,
  HOLDER_PY,
  IN_OPEN,
  INSTALL_HINT,
  killAll,
  PYTHON,
  procLocksOf,
  requireBinaries,
  type Started,
  start,
  startUntil,
  track,
  WATCHER_PY,
  waitFor,
  writeScript,
} from "../helpers/filelock-holders.js";

/** The repository root: `--import tsx` resolves from the child's working directory. */
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const FLOCK = "/usr/bin/flock";
const UNSHARE = "/usr/bin/unshare";
const SETPRIV = "/usr/bin/setpriv";
const GUNICORN = "/usr/bin/gunicorn";
/** Locks one process holds: /proc/locks then spans many pages (the kernel returns about one per read()). */
const MANY = 300;

const APP_PY = `import fcntl, os
_lock = open(os.environ["LOCK_FILE"], "a")
fcntl.flock(_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`;

interface World {
  dir: string;
  watched: string;
  holderPy: string;
  f: Record<"flock1" | "stale" | "missing" | "py" | "lockf" | "ofd" | "fork" | "gunicorn" | "ns", string>;
  nsDir: string;
  flockHolder: Started;
  flockSleep: number;
  waiter: Started;
  pyFlock: Started;
  pyLockf: Started;
  pyOfd: Started;
  ofdNamed: boolean;
  forker: Started;
  many: Started;
  forkChildren: number[];
  ns: Started[];
  gunicorn: Started;
  gunicornWorkers: number[];
  before: Record<string, { ino: number; mtimeMs: number; atimeMs: number; ctimeMs: number }>;
  events: Record<string, unknown>[];
  facts: FileLockFacts;
}

const w = {} as World;
const holderCmd = (...args: string[]) => [PYTHON, w.holderPy, ...args].join(" ");
const lockOn = (name: string): LockRecord => {
  const l = w.facts.locks.find((x) => x.name === name && x.state === "held");
  assert.ok(
    l,
    `a held lock named ${name}; have: ${w.facts.locks.map((x) => `${x.name} (${x.state})`).join(", ")}`,
  );
  return l;
};
const holderRows = (hs: LockHolder[]) =>
  hs.map((h) => ({ pid: h.pid, command: h.command, role: h.role, container: h.container }));

function devWhere(dev: number, ino: number): string {
  const { major, minor } = decodeDev(dev);
  return `dev ${major}:${minor} inode ${ino}`;
}

function snapshot(p: string) {
  const s = statSync(p);
  return { ino: s.ino, mtimeMs: s.mtimeMs, atimeMs: s.atimeMs, ctimeMs: s.ctimeMs };
}

describe("gatherFileLocks with real holders", { timeout: 60_000 }, () => {
  before(async () => {
    requireBinaries([FLOCK, UNSHARE, SETPRIV, PYTHON]);
    requireBinaries([GUNICORN], "apt-get install -y gunicorn");
    assert.equal(process.getuid?.(), 0, "these tests need root (mount namespaces, tmpfs)");
    w.dir = mkdtempSync(join(tmpdir(), "schedctl-filelocks-"));
    w.watched = join(w.dir, "watched");
    mkdirSync(w.watched);
    w.nsDir = join(w.dir, "ns");
    mkdirSync(w.nsDir);
    w.holderPy = writeScript(w.dir, "holder.py", HOLDER_PY);
    const watcherPy = writeScript(w.dir, "watcher.py", WATCHER_PY);
    w.f = {
      flock1: join(w.watched, "flock1.lock"),
      stale: join(w.watched, "stale.lock"),
      missing: join(w.watched, "missing.lock"),
      py: join(w.dir, "py.lock"),
      lockf: join(w.dir, "lockf.lock"),
      ofd: join(w.dir, "ofd.lock"),
      fork: join(w.dir, "fork.lock"),
      gunicorn: join(w.dir, "gunicorn.lock"),
      ns: join(w.nsDir, "scheduler.lock"),
    };
    for (const k of ["flock1", "stale", "ofd"] as const) writeFileSync(w.f[k], "");

    // Holders, started together.
    w.flockHolder = startUntil(
      FLOCK,
      ["-x", w.f.flock1, "sleep", "30"],
      (pid) => childrenOf(pid).length === 1 && procLocksOf(pid).length === 1,
    );
    w.pyFlock = start(PYTHON, [w.holderPy, "flock", w.f.py]);
    w.pyLockf = start(PYTHON, [w.holderPy, "lockf", w.f.lockf, "5", "10"]);
    w.pyOfd = start(PYTHON, [w.holderPy, "ofd", w.f.ofd]);
    w.forker = start(PYTHON, [w.holderPy, "fork", w.f.fork, "2"]);
    mkdirSync(join(w.dir, "many"));
    w.many = start(PYTHON, [w.holderPy, "many", join(w.dir, "many"), String(MANY)]);
    const mountAndHold = `mount -t tmpfs schedctl-test ${w.nsDir} && exec ${PYTHON} ${w.holderPy} flock ${w.f.ns}`;
    w.ns = [
      start(UNSHARE, ["-m", "sh", "-c", mountAndHold]),
      start(UNSHARE, ["-m", "sh", "-c", mountAndHold]),
    ];
    const appDir = join(w.dir, "app");
    mkdirSync(appDir);
    writeFileSync(join(appDir, "app.py"), APP_PY);
    const gunicornArgs = [
      "--preload",
      "-w",
      "2",
      "-b",
      "127.0.0.1:0",
      "--graceful-timeout",
      "1",
      "--chdir",
      appDir,
      "app:app",
    ];
    w.gunicorn = startUntil(
      GUNICORN,
      gunicornArgs,
      (pid) => {
        const kids = childrenOf(pid);
        return (
          kids.length === 2 &&
          kids.every((k) => readFileSync(`/proc/${k}/cmdline`, "utf8").includes("gunicorn"))
        );
      },
      { env: { ...process.env, LOCK_FILE: w.f.gunicorn }, timeoutMs: 15_000 },
    );
    await w.flockHolder.ready;
    w.flockSleep = childrenOf(w.flockHolder.pid)[0] as number;
    track(w.flockSleep);
    // A waiter blocked behind flock1's holder.
    w.waiter = startUntil(FLOCK, ["-x", w.f.flock1, "true"], (pid) =>
      procLocksOf(pid).some((l) => l.includes("->")),
    );
    const [, , ofd, fork] = await Promise.all([
      w.pyFlock.ready,
      w.pyLockf.ready,
      w.pyOfd.ready,
      w.forker.ready,
      w.waiter.ready,
      w.many.ready,
      ...w.ns.map((n) => n.ready),
    ]);
    w.ofdNamed = ofd.named === true;
    w.forkChildren = fork.children as number[];
    for (const c of w.forkChildren) track(c);
    await w.forker.exited; // the locker is gone (and reaped); its children hold the flock
    await w.gunicorn.ready;
    w.gunicornWorkers = childrenOf(w.gunicorn.pid).sort((a, b) => a - b);
    for (const p of w.gunicornWorkers) track(p);
    await waitFor(
      () => w.gunicornWorkers.every((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").length > 0),
      5_000,
      "gunicorn workers",
    );

    // Timestamps made sensitive to reads (atime older than mtime: relatime updates it on the next read).
    const past = Date.now() / 1000 - 3 * 86400;
    utimesSync(w.f.flock1, past, past + 3600);
    utimesSync(w.f.stale, past, past + 3600);
    w.before = { flock1: snapshot(w.f.flock1), stale: snapshot(w.f.stale) };

    // The watcher sees every open, read, write, attribute change and creation in watched/.
    const watcher = start(PYTHON, [watcherPy, w.watched]);
    await watcher.ready;
    w.facts = await gatherFileLocks({
      lockFiles: [w.f.flock1, w.f.stale, w.f.missing, w.f.ns, w.f.gunicorn, w.f.py],
    });
    // Positive control: this open must be seen, proving the watcher was live during the gather.
    readFileSync(w.f.stale);
    await waitFor(
      () => watcher.lines.some((l) => l.includes("stale.lock") && (JSON.parse(l).mask & IN_OPEN) !== 0),
      5_000,
      "the watcher to see the control open",
    );
    watcher.child.stdin?.end();
    await watcher.exited;
    w.events = watcher.lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  });

  after(async () => {
    await killAll();
    if (w.dir) rmSync(w.dir, { recursive: true, force: true });
  });

  test("available; this machine's /proc/locks fully understood", () => {
    assert.equal(w.facts.available, true);
    assert.equal(w.facts.reason, null);
    assert.ok(!w.facts.notes.some((n) => n.includes("not understood")), w.facts.notes.join("\n"));
  });

  test("flock(1): held by flock and the sleep it forked (same open file), with a blocked waiter", () => {
    const l = lockOn(w.f.flock1);
    assert.deepEqual(
      [l.kind, l.details.type, l.details.access, l.details.lockerPid, l.details.lockerAlive],
      ["flock", "FLOCK", "WRITE", w.flockHolder.pid, true],
    );
    assert.deepEqual(holderRows(l.holders), [
      {
        pid: w.flockHolder.pid,
        command: `${FLOCK} -x ${w.f.flock1} sleep 30`,
        role: "other",
        container: null,
      },
      { pid: w.flockSleep, command: "sleep 30", role: "other", container: null },
    ]);
    assert.ok(l.holders.every((h) => typeof h.fd === "number" && h.fd >= 0));
    assert.equal(l.owner, `pid ${w.flockHolder.pid}`);
    assert.deepEqual(l.details.waiters, [
      {
        pid: w.waiter.pid,
        command: `${FLOCK} -x ${w.f.flock1} true`,
        role: "other",
        container: null,
        type: "FLOCK",
        access: "WRITE",
        depth: 1,
      },
    ]);
    const st = statSync(w.f.flock1);
    assert.equal(l.where, devWhere(st.dev, st.ino));
    assert.deepEqual(w.facts.lockFiles.find((f) => f.path === w.f.flock1)?.heldBy, [
      w.flockHolder.pid,
      w.flockSleep,
    ]);
  });

  test(`${MANY} locks held by one process: every one found, with its path and holder (multi-page /proc/locks)`, () => {
    const dir = join(w.dir, "many");
    const ls = w.facts.locks.filter((l) => l.name.startsWith(`${dir}/`));
    assert.equal(ls.length, MANY);
    assert.ok(
      ls.every(
        (l) => l.holders.length === 1 && l.holders[0]?.pid === w.many.pid && l.details.inProcLocks === true,
      ),
    );
    assert.equal(new Set(ls.map((l) => l.name)).size, MANY);
    assert.ok(readFileSync("/proc/locks").length > 3 * 4096, "/proc/locks spans several pages");
  });

  test("Python fcntl.flock", () => {
    const l = lockOn(w.f.py);
    assert.equal(l.kind, "flock");
    assert.deepEqual(holderRows(l.holders), [
      { pid: w.pyFlock.pid, command: holderCmd("flock", w.f.py), role: "python", container: null },
    ]);
  });

  test("Python fcntl.lockf: a POSIX byte range (5..14)", () => {
    const l = lockOn(w.f.lockf);
    assert.deepEqual(
      [l.kind, l.details.type, l.details.start, l.details.end, l.details.lockerPid],
      ["posix", "POSIX", 5, 14, w.pyLockf.pid],
    );
    assert.deepEqual(holderRows(l.holders), [
      {
        pid: w.pyLockf.pid,
        command: holderCmd("lockf", w.f.lockf, "5", "10"),
        role: "python",
        container: null,
      },
    ]);
  });

  test("an OFD lock: the kernel says pid -1, fdinfo names the holder", () => {
    assert.equal(w.ofdNamed, true, "Python 3.9+ on Linux exposes fcntl.F_OFD_SETLK");
    const l = lockOn(w.f.ofd);
    assert.deepEqual(
      [l.kind, l.details.type, l.details.lockerPid, l.details.lockerAlive],
      ["ofd", "OFDLCK", -1, null],
    );
    assert.deepEqual(holderRows(l.holders), [
      { pid: w.pyOfd.pid, command: holderCmd("ofd", w.f.ofd), role: "python", container: null },
    ]);
    assert.equal(l.owner, `pid ${w.pyOfd.pid}`);
  });

  test("lock, fork, locker exits: /proc/locks names the dead pid, the children hold it", () => {
    assert.equal(alive(w.forker.pid), false);
    assert.equal(procLocksOf(w.forker.pid).length, 1, "the kernel keeps the exited locker's pid");
    const l = lockOn(w.f.fork);
    assert.deepEqual([l.details.lockerPid, l.details.lockerAlive], [w.forker.pid, false]);
    const cmd = holderCmd("fork", w.f.fork, "2");
    assert.deepEqual(
      holderRows(l.holders),
      [...w.forkChildren]
        .sort((a, b) => a - b)
        .map((pid) => ({ pid, command: cmd, role: "python", container: null })),
    );
    assert.ok(
      w.facts.notes.some((n) =>
        n.startsWith(`${w.f.fork}: the kernel names pid ${w.forker.pid} as the locker, which has exited`),
      ),
    );
  });

  test("Gunicorn --preload: the app's flock is held by the master and both workers", () => {
    const l = lockOn(w.f.gunicorn);
    const cmd = [
      PYTHON,
      GUNICORN,
      "--preload",
      "-w",
      "2",
      "-b",
      "127.0.0.1:0",
      "--graceful-timeout",
      "1",
      "--chdir",
      join(w.dir, "app"),
      "app:app",
    ].join(" ");
    assert.deepEqual(holderRows(l.holders), [
      { pid: w.gunicorn.pid, command: cmd, role: "gunicorn-master", container: null },
      ...w.gunicornWorkers.map((pid) => ({
        pid,
        command: cmd,
        role: "gunicorn-worker" as const,
        container: null,
      })),
    ]);
    assert.equal(l.owner, `pid ${w.gunicorn.pid}`);
    const procs = w.facts.processes.filter(
      (p) => p.role.startsWith("gunicorn") && [w.gunicorn.pid, ...w.gunicornWorkers].includes(p.pid),
    );
    assert.deepEqual(
      procs.map((p) => [p.pid, p.role, p.gunicornMaster]),
      [
        [w.gunicorn.pid, "gunicorn-master", null],
        ...w.gunicornWorkers.map((pid) => [pid, "gunicorn-worker", w.gunicorn.pid]),
      ],
    );
  });

  test("a lock file nobody holds is stale; a missing one is reported and still missing", () => {
    const stale = w.facts.locks.filter((l) => l.name === w.f.stale);
    assert.deepEqual(
      stale.map((l) => [l.state, l.holders.length]),
      [["stale", 0]],
    );
    assert.deepEqual(w.facts.lockFiles.find((f) => f.path === w.f.stale)?.heldBy, []);
    const missing = w.facts.lockFiles.find((f) => f.path === w.f.missing);
    assert.deepEqual(missing, { path: w.f.missing, exists: false, dev: null, inode: null, heldBy: [] });
    assert.ok(w.facts.notes.some((n) => n.startsWith(`--lock-file ${w.f.missing} does not exist`)));
    assert.equal(existsSync(w.f.missing), false);
  });

  test("two files at the same path in two mount namespaces: flagged as one lock per container", () => {
    const ls = w.facts.locks.filter((l) => l.name === w.f.ns);
    assert.equal(ls.length, 2);
    assert.equal(new Set(ls.map((l) => l.where)).size, 2, "different files (tmpfs devices)");
    assert.deepEqual(
      ls.flatMap((l) => holderRows(l.holders)).sort((a, b) => a.pid - b.pid),
      w.ns
        .map((n) => ({
          pid: n.pid,
          command: holderCmd("flock", w.f.ns),
          role: "python" as const,
          container: null,
        }))
        .sort((a, b) => a.pid - b.pid),
    );
    for (const l of ls) assert.deepEqual([l.details.oneLockPerContainer, l.details.sameNameFiles], [true, 2]);
    assert.ok(w.facts.notes.some((n) => n.startsWith(`${w.f.ns} is WRITE-locked on 2 different files`)));
    // Not present in this mount namespace: reported, never created.
    assert.deepEqual(w.facts.lockFiles.find((f) => f.path === w.f.ns)?.exists, false);
    assert.ok(w.facts.notes.some((n) => n.startsWith(`${w.f.ns}: not present here, but 2 lock(s) are held`)));
    assert.equal(existsSync(w.f.ns), false);
  });

  test("gathering never opened, read, created or modified a lock file (inotify, timestamps, inodes)", () => {
    const control = w.events.filter((e) => e.name === "stale.lock" && ((e.mask as number) & IN_OPEN) !== 0);
    assert.ok(control.length >= 1, "the watcher saw the control open");
    const firstControl = w.events.indexOf(control[0] as Record<string, unknown>);
    assert.deepEqual(w.events.slice(0, firstControl), [], "no event on watched/ before the control open");
    assert.deepEqual(snapshot(w.f.flock1), w.before.flock1);
    const stale = snapshot(w.f.stale);
    // The control read may move atime; nothing else may change.
    assert.deepEqual(
      [stale.ino, stale.mtimeMs, stale.ctimeMs],
      [w.before.stale?.ino, w.before.stale?.mtimeMs, w.before.stale?.ctimeMs],
    );
    assert.equal(existsSync(w.f.missing), false);
  });

  test("inside a PID namespace, a flock whose locker exited is hidden from /proc/locks: found through fdinfo", () => {
    const lock = join(w.dir, "pidns.lock");
    const child = fileURLToPath(new URL("../helpers/proc-gather-child.ts", import.meta.url));
    // The namespace's init (sh) ends after the gather; the kernel then kills the sleeping holder with it.
    const script = `${PYTHON} ${w.holderPy} fork ${lock} 1 && ${process.execPath} --import tsx ${child} /proc ${lock}`;
    const r = spawnSync(UNSHARE, ["--pid", "--fork", "--mount-proc", "sh", "-c", script], {
      encoding: "utf8",
      timeout: 20_000,
      maxBuffer: 512 * 1024 * 1024,
      cwd: REPO,
    });
    assert.equal(r.status, 0, `${r.stderr} (${INSTALL_HINT})`);
    const [readyLine, json] = r.stdout.split("\n");
    const kids = (JSON.parse((readyLine ?? "").slice(6)) as { children: number[] }).children;
    const facts = JSON.parse(json ?? "") as FileLockFacts;
    const l = facts.locks.find((x) => x.name === lock);
    assert.ok(l, JSON.stringify(facts.locks.map((x) => x.name)));
    assert.deepEqual(
      [
        l.details.inProcLocks,
        l.details.lockerPid,
        l.details.lockerAlive,
        l.details.lockId,
        holderRows(l.holders),
      ],
      [
        false,
        0,
        null,
        null,
        kids.map((pid) => ({ pid, command: holderCmd("fork", lock, "1"), role: "python", container: null })),
      ],
    );
    assert.ok(
      facts.notes.some((n) => n.startsWith(`${lock}: held (by pid ${kids[0]}) but hidden from /proc/locks`)),
    );
    assert.deepEqual(facts.lockFiles[0]?.heldBy, kids);
  });

  test("without the capabilities to read other processes' descriptors: /proc/locks pids only, and a note", () => {
    const child = fileURLToPath(new URL("../helpers/proc-gather-child.ts", import.meta.url));
    const r = spawnSync(
      SETPRIV,
      [
        "--bounding-set=-dac_override,-dac_read_search,-sys_ptrace",
        "--",
        process.execPath,
        "--import",
        "tsx",
        child,
        "/proc",
        w.f.py,
      ],
      {
        encoding: "utf8",
        timeout: 20_000,
        maxBuffer: 512 * 1024 * 1024,
        cwd: REPO,
      },
    );
    assert.equal(r.status, 0, `${r.stderr} (${INSTALL_HINT})`);
    const facts = JSON.parse(r.stdout) as FileLockFacts;
    assert.equal(facts.available, true);
    assert.ok(
      facts.notes.some(
        (n) =>
          n.startsWith("could not read the open files of") &&
          /lock holders among them: pid [\d, ]*\b/.test(n) &&
          n.includes(` ${w.pyFlock.pid}`),
      ),
      facts.notes.join("\n"),
    );
    const st = statSync(w.f.py);
    const where = devWhere(st.dev, st.ino);
    const l = facts.locks.find((x) => x.where === where);
    assert.ok(l);
    assert.deepEqual(
      [l.name, l.details.holdersFrom, holderRows(l.holders)],
      [
        w.f.py,
        "proc-locks",
        [{ pid: w.pyFlock.pid, command: holderCmd("flock", w.f.py), role: "python", container: null }],
      ],
    );
    assert.deepEqual(facts.lockFiles[0]?.heldBy, [w.pyFlock.pid]);
  });
});
