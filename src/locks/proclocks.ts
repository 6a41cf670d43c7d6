/**
 * Parsers for the kernel's file-lock views and the /proc files that name a lock's holders. Pure: no IO.
 *
 * /proc/locks (fs/locks.c `locks_show` / `lock_get_status`), one line per lock, waiters after their blocker:
 *   1: POSIX  ADVISORY  WRITE 18974 fe:00:2154562 0 EOF
 *   1: -> POSIX  ADVISORY  WRITE 19016 fe:00:2154562 0 EOF      (depth 1: blocked on lock 1)
 *   2:  -> FLOCK  ADVISORY  READ 18973 fe:00:2160369 0 EOF      (depth 2: blocked behind a waiter)
 *   3: OFDLCK ADVISORY  WRITE -1 fe:00:2159937 0 EOF
 * /proc/PID/fdinfo/FD repeats the same line after "lock:\t" for every lock held through that descriptor.
 */
import type { ProcessRole } from "./types.js";

export interface ProcLockEntry {
  /** The list position the kernel printed (waiters reuse their blocker's id; filtered entries leave gaps). */
  id: number;
  /** 0 = a held lock (or a lease), 1+ = a waiter, blocked behind the lock (depth 1) or another waiter. */
  depth: number;
  /** FLOCK, POSIX, OFDLCK, ACCESS, LEASE, DELEG, UNKNOWN, or whatever a newer kernel prints. */
  type: string;
  /** ADVISORY, MANDATORY, *NOINODE*, MSNFS; ACTIVE/BREAKING/BREAKER for leases; UNKNOWN. */
  mode: string;
  /** WRITE, READ, UNLCK; RW and NONE for old LOCK_MAND flocks. */
  access: string;
  /** The locker's pid as the kernel keeps it (FLOCK: at flock() time, may be dead); -1 for OFD locks. */
  pid: number;
  major: number | null;
  minor: number | null;
  inode: number | null;
  start: number;
  /** null = EOF (to the end of the file). */
  end: number | null;
}

export interface RejectedLine {
  /** 1-based line number in the text given. */
  line: number;
  text: string;
}

/** The entries, as an array, with the lines that did not parse attached. */
export type ProcLocksParse = ProcLockEntry[] & { rejected: RejectedLine[] };

const LOCK_LINE =
  /^(\d+):( +)(?:(->) +)?(\S+) +(\S+) +(\S+) +(-?\d+) +(?:([0-9a-fA-F]+):([0-9a-fA-F]+):(\d+)|<none>:0) +(-?\d+) +(-?\d+|EOF) *$/;

/** One lock line (without any "lock:\t" prefix), or null when it is not one. */
export function parseLockLine(line: string): ProcLockEntry | null {
  const m = LOCK_LINE.exec(line.replace(/\r$/, ""));
  if (!m) return null;
  const [, id, spaces, arrow, type, mode, access, pid, maj, min, ino, start, end] = m;
  const dev = maj !== undefined && min !== undefined && ino !== undefined;
  return {
    id: Number(id),
    // The kernel prints (depth - 1) spaces then "-> " after "ID: "; old kernels printed every waiter as "-> ".
    depth: arrow ? (spaces?.length ?? 1) : 0,
    type: type ?? "",
    mode: mode ?? "",
    access: access ?? "",
    pid: Number(pid),
    major: dev ? Number.parseInt(maj, 16) : null,
    minor: dev ? Number.parseInt(min, 16) : null,
    inode: dev ? Number(ino) : null,
    start: Number(start),
    end: end === "EOF" ? null : Number(end),
  };
}

/** Parses /proc/locks. Never throws: lines that are not lock lines go to `.rejected` (blank lines are skipped). */
export function parseProcLocks(text: string): ProcLocksParse {
  const out = [] as unknown as ProcLocksParse;
  out.rejected = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.trim() === "") continue;
    const e = parseLockLine(line);
    if (e) out.push(e);
    else out.rejected.push({ line: i + 1, text: line });
  }
  return out;
}

export interface FdinfoLocks {
  pos: number | null;
  /** Octal open flags as printed ("0100002"). */
  flags: string | null;
  mntId: number | null;
  /** The open file's inode number (the `ino:` line, Linux 5.14+), null when absent. */
  ino: number | null;
  locks: ProcLockEntry[];
  rejected: RejectedLine[];
}

/** Parses /proc/PID/fdinfo/FD: its header fields and every `lock:\t<lock line>`. Never throws. */
export function parseFdinfoLocks(text: string): FdinfoLocks {
  const out: FdinfoLocks = { pos: null, flags: null, mntId: null, ino: null, locks: [], rejected: [] };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    switch (key) {
      case "pos":
        out.pos = /^\d+$/.test(value) ? Number(value) : null;
        break;
      case "flags":
        out.flags = /^[0-7]+$/.test(value) ? value : null;
        break;
      case "mnt_id":
        out.mntId = /^\d+$/.test(value) ? Number(value) : null;
        break;
      case "ino":
        out.ino = /^\d+$/.test(value) ? Number(value) : null;
        break;
      case "lock": {
        const e = parseLockLine(line.slice(colon + 1).replace(/^\s+/, ""));
        if (e) out.locks.push(e);
        else out.rejected.push({ line: i + 1, text: line });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** The lock family schedctl reports (LockRecord.kind). */
export function lockKind(type: string): string {
  switch (type) {
    case "FLOCK":
      return "flock";
    case "POSIX":
    case "ACCESS":
      return "posix";
    case "OFDLCK":
      return "ofd";
    case "LEASE":
    case "DELEG":
      return "lease";
    default:
      return type.toLowerCase();
  }
}

/** "M:m" in decimal, as /proc/self/mountinfo and lslocks print it. */
export function devString(major: number, minor: number): string {
  return `${major}:${minor}`;
}

/** "dev 254:0 inode 1234" for an entry ("no inode" for `<none>:0`). */
export function lockWhere(e: Pick<ProcLockEntry, "major" | "minor" | "inode">): string {
  if (e.major === null || e.minor === null || e.inode === null) return "no inode";
  return `dev ${devString(e.major, e.minor)} inode ${e.inode}`;
}

/**
 * What identifies one lock in both /proc/locks and fdinfo (lslocks' `is_holder`): type, access, device,
 * inode, range and the kernel's pid. The id is not part of it: fdinfo numbers locks per descriptor.
 */
export function lockKey(e: ProcLockEntry): string {
  return `${e.type}|${e.mode}|${e.access}|${e.major ?? "-"}:${e.minor ?? "-"}:${e.inode ?? "-"}|${e.start}|${e.end ?? "EOF"}|${e.pid}`;
}

/** glibc's gnu_dev_major/gnu_dev_minor of a dev_t (Node: fs.statSync(p, { bigint: true }).dev). */
export function decodeDev(dev: bigint | number): { major: number; minor: number } {
  const d = BigInt.asUintN(64, typeof dev === "bigint" ? dev : BigInt(Math.trunc(dev)));
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(BigInt.asUintN(32, major)), minor: Number(BigInt.asUintN(32, minor)) };
}

const HEX64 = "[0-9a-f]{64}";
const CONTAINER_SEGMENT = new RegExp(
  `^(?:(docker|cri-containerd|crio|libpod|containerd)-)?(${HEX64})(?:\\.scope)?$`,
);
const POD_UID =
  /^(?:kubepods(?:-[a-z]+)*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/**
 * The container a process runs in, from /proc/PID/cgroup (v1 or v2 lines "N:controllers:path"): the 64-hex
 * id of Docker (`/docker/<id>`, `docker-<id>.scope`), containerd/CRI-O (`cri-containerd-<id>.scope`,
 * `crio-<id>.scope`, kubepods cgroupfs `/kubepods/.../pod<uid>/<id>`), Podman (`libpod-<id>.scope`); else the
 * Kubernetes pod ("pod<uid>") when only that is visible; else null (host, or a private cgroup namespace).
 * CRI-O's `crio-conmon-<id>.scope` is the container's monitor, outside it: null.
 */
export function parseCgroupContainer(text: string): string | null {
  let pod: string | null = null;
  for (const line of text.split("\n")) {
    const m = /^\d+:[^:]*:(.*)$/.exec(line.trim());
    const path = m?.[1];
    if (!path) continue;
    const segments = path.split("/").filter(Boolean);
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i] ?? "";
      if (seg.includes("conmon")) break;
      const c = CONTAINER_SEGMENT.exec(seg);
      if (c?.[2]) return c[2];
      const p = POD_UID.exec(seg);
      if (p?.[1] && pod === null) pod = `pod${p[1].replace(/_/g, "-")}`;
    }
  }
  return pod;
}

/** /proc/PID/cmdline: NUL-separated arguments; trailing empty ones (setproctitle padding) dropped. */
export function parseCmdline(raw: string): string[] {
  const args = raw.split("\0");
  while (args.length > 0 && (args[args.length - 1] ?? "").trim() === "") args.pop();
  return args;
}

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** task flags (PF_KTHREAD = 0x00200000 marks a kernel thread). */
  flags: number;
  /** Clock ticks after boot. */
  startTime: number;
}

export const PF_KTHREAD = 0x00200000;

/** /proc/PID/stat; comm may contain spaces and parentheses, so fields are counted after the last ")". */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const ppid = Number(rest[1]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid)) return null;
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid,
    flags: Number(rest[6] ?? 0) || 0,
    startTime: Number(rest[19] ?? 0) || 0,
  };
}

const basename = (p: string): string => p.slice(p.lastIndexOf("/") + 1);
const PYTHON_EXE = /^(?:python|pypy)(?:\d+(?:\.\d+)*)?(?:[dmu]|-dbg)?$/;
const GUNICORN_EXE = /^gunicorn3?$/;
const TITLE = /^gunicorn: (master|worker)\b/;

function isPython(argv0: string): boolean {
  return PYTHON_EXE.test(basename(argv0));
}

/** A gunicorn command line: the `gunicorn` script, `python .../gunicorn ...` or `python -m gunicorn ...`. */
export function isGunicornCommand(cmdline: string[]): boolean {
  const argv0 = cmdline[0] ?? "";
  if (TITLE.test(cmdline.join(" ").trim())) return true;
  if (GUNICORN_EXE.test(basename(argv0))) return true;
  if (!isPython(argv0)) return false;
  for (let i = 1; i < cmdline.length; i++) {
    const a = cmdline[i] ?? "";
    if (a === "-m") return /^gunicorn(?:\.|$)/.test(cmdline[i + 1] ?? "");
    if (a.startsWith("-m")) return /^gunicorn(?:\.|$)/.test(a.slice(2));
    if (a === "-c" || a.startsWith("-c")) return false;
    if (a === "-W" || a === "-X") {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return GUNICORN_EXE.test(basename(a));
  }
  return false;
}

export interface ParentInfo {
  cmdline: string[];
  /** The parent's own role when already known (classify parents first); else judged from its command line. */
  role?: ProcessRole | null;
}

/**
 * A process's role from its command line and its parent's. Gunicorn sets process titles when setproctitle is
 * installed ("gunicorn: master [app]", "gunicorn: worker [app]"); without it master and workers share one
 * command line, and a worker is the gunicorn process whose parent is a gunicorn master.
 * (A master re-executed by USR2 is a child of the old master and shows as a worker unless titles are set.)
 */
export function classifyProcess(cmdline: string[], parent: ParentInfo | null): ProcessRole {
  const title = TITLE.exec(cmdline.join(" ").trim());
  if (title) return title[1] === "master" ? "gunicorn-master" : "gunicorn-worker";
  if (isGunicornCommand(cmdline)) {
    if (!parent) return "gunicorn-master";
    const parentTitle = TITLE.exec(parent.cmdline.join(" ").trim());
    const parentRole: ProcessRole =
      parent.role ??
      (parentTitle
        ? parentTitle[1] === "master"
          ? "gunicorn-master"
          : "gunicorn-worker"
        : isGunicornCommand(parent.cmdline)
          ? "gunicorn-master"
          : "other");
    if (parentRole === "gunicorn-master") return "gunicorn-worker";
    // A gunicorn command started by a worker (its own subprocess) is neither master nor worker.
    if (parentRole === "gunicorn-worker") return "python";
    return "gunicorn-master";
  }
  if (cmdline.length > 0 && isPython(cmdline[0] ?? "")) return "python";
  return "other";
}
