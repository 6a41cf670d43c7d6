/**
 * The kernel's view of file locks on this host (or the container schedctl runs in), the way lslocks builds it:
 * /proc/locks for every lock and its waiters, then every /proc/PID/fdinfo/FD `lock:` line for ALL the
 * processes holding each lock (a flock taken before fork is held by the master and every worker, and the pid
 * in /proc/locks may be a parent that has exited), /proc/PID/fd/FD for its path, and /proc/PID/{stat,cmdline,
 * cgroup} to name each holder.
 *
 * Read-only by construction: it reads /proc and stat()s the --lock-file paths; it never opens a lock file,
 * never creates one and never takes or tests a lock (no flock, no fcntl). Every read is bounded; processes
 * that exit mid-scan are skipped; descriptors it may not read (other users' processes without root) are
 * reported in `notes`, never thrown. A /proc/PID/cmdline read (which can block on a stuck process) and each
 * stat of a --lock-file (which can block on a dead NFS server) are given a timeout.
 */
import {
  closeSync,
  close as fsClose,
  constants as fsConstants,
  open as fsOpen,
  read as fsRead,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
} from "node:fs";
import { realpath, stat } from "node:fs/promises";
import {
  classifyProcess,
  decodeDev,
  devString,
  lockKey,
  lockKind,
  lockWhere,
  PF_KTHREAD,
  type ProcLockEntry,
  parseCgroupContainer,
  parseCmdline,
  parseFdinfoLocks,
  parseLockLine,
  parseProcLocks,
  parseProcStat,
} from "../locks/proclocks.js";
import type {
  FileLockFacts,
  LockFileFact,
  LockHolder,
  LockRecord,
  ProcessInfo,
  ProcessRole,
} from "../locks/types.js";

export interface GatherFileLocksOptions {
  /** The procfs to read (default "/proc"); tests pass a fixture tree. */
  proc?: string;
  /** --lock-file paths: stat()ed only, never opened. */
  lockFiles: string[];
}

const LOCKS_MAX = 32 * 1024 * 1024;
const FDINFO_MAX = 1024 * 1024;
const SMALL_MAX = 64 * 1024;
const CMDLINE_MAX = 8 * 1024;
const COMMAND_MAX = 300;
const SLOW_READ_MS = 1000;
const LOCK_FILE_STAT_MS = 2000;
const CMDLINE_CONCURRENCY = 32;
const SHOW_PIDS = 10;
/** Per-lock notes of one kind shown before "... and N more". */
const NOTES_PER_KIND = 5;

interface ReadOk {
  text: string;
  truncated: boolean;
}
type ReadResult = ReadOk | { code: string };

const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads at most `max` bytes of a (proc) file synchronously, until end of file; errors come back as their code.
 * Multi-record seq_files such as /proc/locks return about one page per read(), so one read is never enough.
 */
function readBounded(path: string, max: number): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY);
  } catch (e) {
    return { code: errCode(e) };
  }
  try {
    let buf = scratch;
    let len = 0;
    let truncated = false;
    for (;;) {
      if (len >= max) {
        truncated = true;
        break;
      }
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(max, buf.length * 4));
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = readSync(fd, buf, len, Math.min(buf.length, max) - len, null);
      if (n <= 0) break;
      len += n;
    }
    return { text: buf.toString("latin1", 0, len), truncated };
  } catch (e) {
    return { code: errCode(e) };
  } finally {
    closeQuietly(fd);
  }
}

/** Closes fd; a process that exited meanwhile may have taken the file with it. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already gone
  }
}

const LOCK_TAG = Buffer.from("lock:\t", "latin1");

/**
 * The lock lines of one /proc/PID/fdinfo/FD. The hot path of a scan (one call per open descriptor on the
 * system): one read into a shared buffer, a byte search for "lock:\t", and text decoded only when present.
 * One read is the whole file: fdinfo is a single_open seq_file (one record, the kernel grows its buffer until
 * the record fits), so a short read is the end; only a full buffer needs more reads.
 */
function readFdinfoLocks(path: string): ProcLockEntry[] | { code: string } {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY);
  } catch (e) {
    return { code: errCode(e) };
  }
  let n: number;
  try {
    n = readSync(fd, scratch, 0, scratch.length, null);
  } catch (e) {
    return { code: errCode(e) };
  } finally {
    closeQuietly(fd);
  }
  if (n === scratch.length) {
    // Many POSIX ranges through one descriptor: read it whole (bounded).
    const r = readBounded(path, FDINFO_MAX);
    return "text" in r ? parseFdinfoLocks(r.text).locks : r;
  }
  const first = scratch.subarray(0, n).indexOf(LOCK_TAG);
  if (first < 0) return [];
  const out: ProcLockEntry[] = [];
  for (const line of scratch.toString("latin1", first, n).split("\n")) {
    if (!line.startsWith("lock:\t")) continue;
    const e = parseLockLine(line.slice(6));
    if (e) out.push(e);
  }
  return out;
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

const isGone = (code: string) => code === "ENOENT" || code === "ESRCH" || code === "ENOTDIR";
const isDenied = (code: string) => code === "EACCES" || code === "EPERM";

/** Races a promise against a timer; the loser is left to settle (its rejection is swallowed). */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => {});
  const t = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * One read of /proc/PID/cmdline (the kernel copies the whole argument area in one read), asynchronous and with
 * a timeout: the kernel takes the process's mmap lock for it, so it can block on a process stuck in a fault.
 * Callback fs calls: about twice as fast as FileHandle for hundreds of tiny proc files.
 */
function readCmdline(path: string): Promise<string[] | "timeout" | null> {
  const work = new Promise<string[] | null>((resolve) => {
    fsOpen(path, "r", (err, fd) => {
      if (err) return resolve(null);
      const buf = Buffer.allocUnsafe(CMDLINE_MAX);
      fsRead(fd, buf, 0, CMDLINE_MAX, null, (err2, n) => {
        fsClose(fd, () => {});
        resolve(err2 ? null : parseCmdline(buf.toString("utf8", 0, n)));
      });
    });
  });
  return withTimeout(work, SLOW_READ_MS);
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const pidList = (pids: Iterable<number>): string => {
  const all = [...pids].sort((a, b) => a - b);
  const shown = all.slice(0, SHOW_PIDS).join(", ");
  return all.length > SHOW_PIDS ? `${shown} and ${all.length - SHOW_PIDS} more` : shown;
};

interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string[];
  command: string;
  container: string | null;
  role: ProcessRole;
  gunicornMaster: number | null;
}

interface ProcessTable {
  byPid: Map<number, ProcEntry>;
  /** True when kernel threads are visible: this procfs belongs to the initial PID namespace. */
  initPidNs: boolean;
  notes: string[];
  readable: boolean;
  reason: string | null;
}

function numericDirs(proc: string): number[] | { code: string } {
  try {
    return readdirSync(proc)
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  } catch (e) {
    return { code: errCode(e) };
  }
}

/** Every user-space process: pid, parent, command line, container, Gunicorn role. */
async function readProcessTable(proc: string): Promise<ProcessTable> {
  const notes: string[] = [];
  const pids = numericDirs(proc);
  if (!Array.isArray(pids))
    return {
      byPid: new Map(),
      initPidNs: false,
      notes,
      readable: false,
      reason: `cannot list ${proc}: ${pids.code}`,
    };
  let initPidNs = false;
  const raw: { pid: number; ppid: number; comm: string; container: string | null }[] = [];
  for (const pid of pids) {
    const st = readBounded(`${proc}/${pid}/stat`, SMALL_MAX);
    if (!("text" in st)) continue; // exited
    const s = parseProcStat(st.text);
    if (!s) continue;
    if (s.flags & PF_KTHREAD) {
      initPidNs = true;
      continue;
    }
    const cg = readBounded(`${proc}/${pid}/cgroup`, SMALL_MAX);
    raw.push({
      pid,
      ppid: s.ppid,
      comm: s.comm,
      container: "text" in cg ? parseCgroupContainer(cg.text) : null,
    });
  }
  const slow: number[] = [];
  const cmdlines = await mapLimit(raw, CMDLINE_CONCURRENCY, (r) => readCmdline(`${proc}/${r.pid}/cmdline`));
  const byPid = new Map<number, ProcEntry>();
  raw.forEach((r, i) => {
    const c = cmdlines[i];
    if (c === "timeout") slow.push(r.pid);
    const cmdline = Array.isArray(c) ? c : [];
    const joined = cmdline.join(" ").trim();
    byPid.set(r.pid, {
      pid: r.pid,
      ppid: r.ppid,
      comm: r.comm,
      cmdline,
      command: (joined === "" ? `[${r.comm}]` : joined).slice(0, COMMAND_MAX),
      container: r.container,
      role: "other",
      gunicornMaster: null,
    });
  });
  if (slow.length > 0)
    notes.push(
      `/proc/PID/cmdline did not answer within ${SLOW_READ_MS} ms for pid ${pidList(slow)} (a process stuck in the kernel); named by its short name only`,
    );

  // Roles, parents first (a worker is a gunicorn process whose parent is a gunicorn master).
  const done = new Set<number>();
  const roleOf = (p: ProcEntry, depth: number): ProcessRole => {
    if (done.has(p.pid) || depth > 64) return p.role;
    const parent = byPid.get(p.ppid);
    const parentRole = parent && parent.pid !== p.pid ? roleOf(parent, depth + 1) : null;
    p.role = classifyProcess(p.cmdline, parent ? { cmdline: parent.cmdline, role: parentRole } : null);
    done.add(p.pid);
    return p.role;
  };
  for (const p of byPid.values()) roleOf(p, 0);
  for (const p of byPid.values()) {
    if (p.role !== "gunicorn-worker") continue;
    let cur = byPid.get(p.ppid);
    for (let i = 0; cur && i < 16; i++, cur = byPid.get(cur.ppid)) {
      if (cur.role === "gunicorn-master") {
        p.gunicornMaster = cur.pid;
        break;
      }
    }
  }
  return { byPid, initPidNs, notes, readable: true, reason: null };
}

const toProcessInfo = (p: ProcEntry): ProcessInfo => ({
  pid: p.pid,
  ppid: p.ppid,
  command: p.command,
  role: p.role,
  container: p.container,
  gunicornMaster: p.gunicornMaster,
});

/** Every user-space process of a procfs (kernel threads left out), with its Gunicorn role, by pid. */
export async function listProcesses(proc = "/proc"): Promise<ProcessInfo[]> {
  const t = await readProcessTable(proc);
  return [...t.byPid.values()].map(toProcessInfo);
}

interface LockAcc {
  entry: ProcLockEntry;
  ids: number[];
  waiters: ProcLockEntry[];
  /** holder pid -> lowest fd it holds the lock through. */
  holders: Map<number, number>;
  /** holder pid -> the path its descriptor resolves to. */
  paths: Map<number, string>;
  inProcLocks: boolean;
  fromFallback: boolean;
}

interface LockFileStat {
  path: string;
  real: string | null;
  exists: boolean;
  dev: string | null;
  inode: number | null;
  error: string | null;
}

async function statLockFile(path: string): Promise<LockFileStat> {
  const r = await withTimeout(stat(path, { bigint: true }), LOCK_FILE_STAT_MS).catch((e: unknown) => ({
    code: errCode(e),
  }));
  if (r === "timeout")
    return {
      path,
      real: null,
      exists: false,
      dev: null,
      inode: null,
      error: `stat timed out after ${LOCK_FILE_STAT_MS} ms`,
    };
  if ("code" in r) return { path, real: null, exists: false, dev: null, inode: null, error: String(r.code) };
  const { major, minor } = decodeDev(r.dev);
  const real = await withTimeout(realpath(path), LOCK_FILE_STAT_MS).catch(() => null);
  return {
    path,
    real: typeof real === "string" ? real : null,
    exists: true,
    dev: devString(major, minor),
    inode: Number(r.ino),
    error: null,
  };
}

const DELETED = " (deleted)";

/**
 * Every file lock the kernel shows, with all its holders named, and the --lock-file paths: do they exist, who
 * holds them. See the module comment for what it reads and what it never does.
 */
export async function gatherFileLocks(opts: GatherFileLocksOptions): Promise<FileLockFacts> {
  const proc = opts.proc ?? "/proc";
  const notes: string[] = [];
  const lockFileStats = Promise.all([...new Set(opts.lockFiles)].map(statLockFile));
  const [table, files] = await Promise.all([readProcessTable(proc), lockFileStats]);
  // Read right before the descriptor scan, so both see (nearly) the same moment.
  const locksRead = readBounded(`${proc}/locks`, LOCKS_MAX);
  notes.push(...table.notes);

  if (!("text" in locksRead)) {
    const reason = `cannot read ${proc}/locks: ${locksRead.code}${locksRead.code === "ENOENT" ? " (no procfs mounted?)" : ""}`;
    for (const f of files) if (!f.exists) notes.push(lockFileMissingNote(f));
    return {
      available: false,
      reason,
      processes: [...table.byPid.values()].filter((p) => p.role !== "other").map(toProcessInfo),
      locks: [],
      lockFiles: files.map((f) => ({
        path: f.path,
        exists: f.exists,
        dev: f.dev,
        inode: f.inode,
        heldBy: [],
      })),
      notes,
    };
  }
  if (locksRead.truncated)
    notes.push(`${proc}/locks is larger than ${LOCKS_MAX} bytes: only its beginning was read`);

  // 1. /proc/locks: held locks (depth 0) and their waiters.
  const parsed = parseProcLocks(locksRead.text);
  if (parsed.rejected.length > 0)
    notes.push(
      `${parsed.rejected.length} line(s) of ${proc}/locks not understood, e.g. ${JSON.stringify(parsed.rejected[0]?.text ?? "")}`,
    );
  const accs = new Map<string, LockAcc>();
  const lastById = new Map<number, LockAcc>();
  const orphanWaiters: ProcLockEntry[] = [];
  for (const e of parsed) {
    if (e.depth === 0) {
      const key = lockKey(e);
      let acc = accs.get(key);
      if (acc) acc.ids.push(e.id);
      else {
        acc = {
          entry: e,
          ids: [e.id],
          waiters: [],
          holders: new Map(),
          paths: new Map(),
          inProcLocks: true,
          fromFallback: false,
        };
        accs.set(key, acc);
      }
      lastById.set(e.id, acc);
    } else {
      const acc = lastById.get(e.id);
      if (acc) acc.waiters.push(e);
      else orphanWaiters.push(e);
    }
  }

  // 2. Every process's descriptors: fdinfo lock lines name all holders, fd links name the file.
  const denied: number[] = [];
  const otherErrors: string[] = [];
  let vanished = 0;
  let scanned = 0;
  for (const pid of table.byPid.keys()) {
    if (++scanned % 64 === 0) await new Promise((r) => setImmediate(r));
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fdinfo`);
    } catch (e) {
      const code = errCode(e);
      if (isDenied(code)) denied.push(pid);
      else if (isGone(code)) vanished++;
      else otherErrors.push(`${pid}: ${code}`);
      continue;
    }
    for (const fdName of fds) {
      const fdLocks = readFdinfoLocks(`${proc}/${pid}/fdinfo/${fdName}`);
      if (!Array.isArray(fdLocks)) {
        if (isDenied(fdLocks.code)) {
          denied.push(pid);
          break;
        }
        continue; // closed meanwhile
      }
      if (fdLocks.length === 0) continue;
      let link: string | null = null;
      try {
        link = readlinkSync(`${proc}/${pid}/fd/${fdName}`);
      } catch {
        link = null;
      }
      const fd = Number(fdName);
      for (const l of fdLocks) {
        const key = lockKey(l);
        let acc = accs.get(key);
        if (!acc) {
          acc = {
            entry: l,
            ids: [],
            waiters: [],
            holders: new Map(),
            paths: new Map(),
            inProcLocks: false,
            fromFallback: false,
          };
          accs.set(key, acc);
        }
        const prev = acc.holders.get(pid);
        if (prev === undefined || fd < prev) acc.holders.set(pid, fd);
        if (link !== null && !acc.paths.has(pid)) acc.paths.set(pid, link);
      }
    }
  }
  const deniedSet = new Set(denied);
  if (deniedSet.size > 0) {
    const root = process.getuid?.() === 0;
    const lockers = new Set([...accs.values()].map((a) => a.entry.pid).filter((p) => deniedSet.has(p)));
    notes.push(
      `could not read the open files of ${deniedSet.size} process(es) (pid ${pidList(deniedSet)}): permission denied${root ? " even to root (protected, or lacking capabilities)" : ""}${lockers.size > 0 ? `; lock holders among them: pid ${pidList(lockers)}` : ""}. Their locks are listed from ${proc}/locks with the locker's pid only, without path or other holders${root ? "" : "; run as root to see them"}`,
    );
  }
  if (vanished > 0) notes.push(`${vanished} process(es) exited during the scan`);
  if (otherErrors.length > 0)
    notes.push(`could not list the descriptors of ${otherErrors.slice(0, SHOW_PIDS).join(", ")}`);

  // Holders the fd scan could not see (descriptors unreadable): the pid /proc/locks names, when alive.
  for (const acc of accs.values()) {
    const pid = acc.entry.pid;
    if (acc.holders.size === 0 && pid > 0 && deniedSet.has(pid)) {
      acc.holders.set(pid, -1);
      acc.fromFallback = true;
    }
  }

  // 3. Records.
  const holderOf = (pid: number, fd?: number): LockHolder => {
    const p = table.byPid.get(pid);
    const h: LockHolder = {
      pid,
      command: p?.command ?? "(exited)",
      role: p?.role ?? "other",
      container: p?.container ?? null,
    };
    if (fd !== undefined && fd >= 0) h.fd = fd;
    return h;
  };
  const involved = new Set<number>();
  const perLockNotes = new Map<string, string[]>();
  const perLock = (kind: string, note: string) => {
    const list = perLockNotes.get(kind) ?? [];
    list.push(note);
    perLockNotes.set(kind, list);
  };
  const records: { acc: LockAcc; rec: LockRecord; path: string | null }[] = [];
  for (const acc of accs.values()) {
    const e = acc.entry;
    const holderPids = [...acc.holders.keys()].sort((a, b) => a - b);
    const holders = holderPids.map((pid) => holderOf(pid, acc.holders.get(pid)));
    for (const pid of holderPids) involved.add(pid);
    for (const w of acc.waiters) involved.add(w.pid);
    const preferred =
      acc.paths.get(e.pid) ?? (holderPids.map((p) => acc.paths.get(p)).find((x) => x !== undefined) || null);
    const deleted = preferred?.endsWith(DELETED) ?? false;
    const path = preferred === null ? null : deleted ? preferred.slice(0, -DELETED.length) : preferred;
    const distinctPaths = [...new Set(acc.paths.values())].map((p) =>
      p.endsWith(DELETED) ? p.slice(0, -DELETED.length) : p,
    );
    const ownerPid = holderPids.includes(e.pid) ? e.pid : holderPids[0];
    const ownerProc = ownerPid === undefined ? undefined : table.byPid.get(ownerPid);
    const lockerAlive = e.pid > 0 ? table.byPid.has(e.pid) : null;
    const lockerHolds = holderPids.includes(e.pid);
    const details: Record<string, unknown> = {
      type: e.type,
      mode: e.mode,
      access: e.access,
      lockId: acc.ids[0] ?? null,
      lockerPid: e.pid,
      lockerAlive,
      lockerHolds,
      start: e.start,
      end: e.end,
      dev: e.major === null || e.minor === null ? null : devString(e.major, e.minor),
      inode: e.inode,
      waiters: acc.waiters.map((w) => {
        const h = holderOf(w.pid);
        return {
          pid: w.pid,
          command: h.command,
          role: h.role,
          container: h.container,
          type: w.type,
          access: w.access,
          depth: w.depth,
        };
      }),
      deleted,
      inProcLocks: acc.inProcLocks,
      holdersFrom: acc.fromFallback ? "proc-locks" : holders.length > 0 ? "fdinfo" : "none",
    };
    if (acc.ids.length > 1) details.lockIds = acc.ids;
    if (distinctPaths.length > 1) details.paths = distinctPaths;
    if (path === null) details.path = null;
    records.push({
      acc,
      path,
      rec: {
        backend: "file",
        name: path ?? lockWhere(e),
        kind: lockKind(e.type),
        state: "held",
        owner:
          ownerPid === undefined
            ? null
            : `${ownerProc?.container ? `${ownerProc.container.slice(0, 12)} ` : ""}pid ${ownerPid}`,
        ttlMs: null,
        heldForMs: null,
        holders,
        where: lockWhere(e),
        details,
      },
    });
    if (deleted)
      perLock("deleted", `${path}: held on a file that has since been deleted (pid ${pidList(holderPids)})`);
    if (e.pid > 0 && !lockerHolds && holders.length > 0 && !acc.fromFallback)
      perLock(
        "locker",
        lockerAlive
          ? `${path ?? lockWhere(e)}: the kernel names pid ${e.pid} as the locker, which no longer holds it (it closed its descriptor after fork, or the pid was reused); held by ${holders.length === 1 ? "pid" : "pids"} ${pidList(holderPids)}`
          : `${path ?? lockWhere(e)}: the kernel names pid ${e.pid} as the locker, which has exited; the lock lives on in ${holders.length === 1 ? "pid" : "pids"} ${pidList(holderPids)} (they share its open file, inherited by fork)`,
      );
    // pid 0: the kernel could not map the locker into this /proc's PID namespace (it exited, or lives
    // outside), so /proc/locks hides the lock; any other pid: the lock was taken after /proc/locks was read.
    if (!acc.inProcLocks && e.pid === 0)
      perLock(
        "hidden",
        `${path ?? lockWhere(e)}: held (by pid ${pidList(holderPids)}) but hidden from ${proc}/locks — its locker has exited or lives outside this PID namespace; found through fdinfo`,
      );
    else if (!acc.inProcLocks)
      perLock("late", `${path ?? lockWhere(e)}: taken during the scan (after ${proc}/locks was read)`);
    if (acc.fromFallback)
      perLock(
        "fallback",
        `${lockWhere(e)}: holder named from ${proc}/locks only (pid ${e.pid}); its descriptors could not be read, so the path and any holders sharing it after fork are unknown`,
      );
  }
  for (const list of perLockNotes.values()) {
    notes.push(...list.slice(0, NOTES_PER_KIND));
    if (list.length > NOTES_PER_KIND)
      notes.push(`... and ${list.length - NOTES_PER_KIND} more like the above`);
  }
  if (orphanWaiters.length > 0)
    notes.push(
      `${orphanWaiters.length} waiter(s) in ${proc}/locks whose blocking lock is not listed (pid ${pidList(orphanWaiters.map((w) => w.pid))})`,
    );

  // 4. --lock-file paths: match by device and inode (or by inode and the same path when the device numbers of
  //    stat() and the lock differ, as on btrfs subvolumes and overlayfs).
  const lockFiles: LockFileFact[] = [];
  const stale: LockRecord[] = [];
  for (const f of files) {
    const heldBy = new Set<number>();
    if (f.exists && f.inode !== null) {
      for (const r of records) {
        const e = r.acc.entry;
        if (e.inode !== f.inode) continue;
        const devMatch = e.major !== null && e.minor !== null && devString(e.major, e.minor) === f.dev;
        const pathMatch = r.path !== null && (r.path === f.path || r.path === f.real);
        if (!devMatch && !pathMatch) continue;
        r.rec.name = f.path;
        if (r.path !== null && r.path !== f.path) r.rec.details.path = r.path;
        for (const h of r.rec.holders) heldBy.add(h.pid);
      }
    }
    lockFiles.push({
      path: f.path,
      exists: f.exists,
      dev: f.dev,
      inode: f.inode,
      heldBy: [...heldBy].sort((a, b) => a - b),
    });
    if (
      f.exists &&
      heldBy.size === 0 &&
      !records.some((r) => r.rec.name === f.path && r.rec.where === `dev ${f.dev} inode ${f.inode}`)
    ) {
      stale.push({
        backend: "file",
        name: f.path,
        kind: "flock",
        state: "stale",
        owner: null,
        ttlMs: null,
        heldForMs: null,
        holders: [],
        where: `dev ${f.dev} inode ${f.inode}`,
        details: { exists: true, dev: f.dev, inode: f.inode, lockFile: true },
      });
      notes.push(`--lock-file ${f.path} exists but nobody holds a lock on it (stale)`);
    }
    if (!f.exists && !records.some((r) => r.rec.name === f.path)) {
      // A lock file that does not exist is still an answer to "does my scheduler hold its lock?".
      stale.push({
        backend: "file",
        name: f.path,
        kind: "flock",
        state: "gone",
        owner: null,
        ttlMs: null,
        heldForMs: null,
        holders: [],
        where: "missing",
        details: { exists: false, lockFile: true },
      });
    }
    if (!f.exists) {
      notes.push(lockFileMissingNote(f));
      const elsewhere = records.filter((r) => r.rec.state === "held" && r.path === f.path);
      if (elsewhere.length > 0)
        notes.push(
          `${f.path}: not present here, but ${elsewhere.length} lock(s) are held on files with that path in other mount namespaces or containers (pid ${pidList(elsewhere.flatMap((r) => r.rec.holders.map((h) => h.pid)))})`,
        );
    }
  }

  // 5. The same path WRITE-locked on different files: one lock per container (or mount namespace).
  const byName = new Map<string, LockRecord[]>();
  for (const { rec } of records) {
    if (rec.state !== "held" || rec.details.access !== "WRITE" || rec.name.startsWith("dev ")) continue;
    const list = byName.get(rec.name) ?? [];
    list.push(rec);
    byName.set(rec.name, list);
  }
  for (const [name, recs] of byName) {
    const wheres = [...new Set(recs.map((r) => r.where))];
    if (wheres.length < 2) continue;
    const containers = [
      ...new Set(recs.flatMap((r) => r.holders.map((h) => h.container?.slice(0, 12) ?? "host"))),
    ];
    for (const r of recs) {
      r.details.oneLockPerContainer = true;
      r.details.sameNameFiles = wheres.length;
    }
    notes.push(
      `${name} is WRITE-locked on ${wheres.length} different files (${wheres.join("; ")}; ${containers.length > 1 ? `containers ${containers.join(", ")}` : "separate mount namespaces"}): each container has its own lock file, so this lock keeps nothing apart across instances — ${wheres.length} holders each believe they are the only one`,
    );
  }

  const locks = [...records.map((r) => r.rec), ...stale].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.where < b.where ? -1 : a.where > b.where ? 1 : 0,
  );
  const processes = [...table.byPid.values()]
    .filter((p) => p.role !== "other" || involved.has(p.pid))
    .map(toProcessInfo);
  return { available: true, reason: null, processes, locks, lockFiles, notes };
}

function lockFileMissingNote(f: LockFileStat): string {
  if (f.error && f.error !== "ENOENT")
    return `--lock-file ${f.path}: cannot stat it (${f.error}); schedctl does not open or create it`;
  return `--lock-file ${f.path} does not exist (schedctl never creates it): no process holds a lock on it here`;
}
