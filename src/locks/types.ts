/**
 * The shared vocabulary of `schedctl locks` and the doctor groups `locks`, `runs` and `workers`.
 * File-lock facts come from /proc (src/facts/procs.ts), Redis facts from src/locks/redis-probe.ts, log and
 * HTTP facts from src/runs/. Everything here is plain JSON-serialisable data.
 */

export type LockBackend = "file" | "redis";

/**
 * held: a live owner (file: a holder process; redis: TTL set and renewed between two samples);
 * no-ttl: a Redis lock that never expires if its holder dies; expiring: TTL falling, not renewed;
 * gone: the key or file vanished between samples; stale: a lock file nobody holds;
 * unknown: seen once, no second sample.
 */
export type LockState = "held" | "no-ttl" | "expiring" | "gone" | "stale" | "unknown";

export type ProcessRole = "gunicorn-master" | "gunicorn-worker" | "python" | "other";

export interface LockHolder {
  pid: number;
  /** Command line, arguments joined by spaces (truncated to 300 chars). */
  command: string;
  role: ProcessRole;
  /** Container id (64 hex, or a pod/slice name) from /proc/PID/cgroup, when visible. */
  container?: string | null;
  fd?: number;
}

export interface LockRecord {
  backend: LockBackend;
  /** Redis key (as text; non-UTF-8 bytes escaped as \xNN), or the lock file's path. */
  name: string;
  /** The recognised library: redis-py, python-redis-lock, pottery-redlock, redbeat, rq, rq-scheduler,
   * rq-cron, celery-beatx, celerybeat-redis, bullmq, apscheduler-jobstore, schedctl, user-pattern,
   * flock, posix, ofd, lease. */
  kind: string;
  state: LockState;
  /** Who holds it, decoded: "web-1 pid 12", "uuid1 node 02:42:ac:11:00:02", "pid 4711"... null when unknown. */
  owner: string | null;
  /** Redis PTTL in ms (-1: no expiry); null for file locks. */
  ttlMs: number | null;
  /** How long it has been held, when the value says (uuid1 token time, schedctl "since"); else null. */
  heldForMs: number | null;
  holders: LockHolder[];
  /** Redis: the server or cluster node it lives on (password redacted). File: "dev 254:0 inode 1234". */
  where: string;
  /** Library-specific extras: decoded token fields, raw value type, inode, waiters... */
  details: Record<string, unknown>;
}

/** A process on a live target, as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  command: string;
  role: ProcessRole;
  container: string | null;
  /** For Gunicorn workers: their master's pid. */
  gunicornMaster: number | null;
}

/** A lock file named with --lock-file: does it exist, and who holds a lock on it. */
export interface LockFileFact {
  path: string;
  exists: boolean;
  dev: string | null;
  inode: number | null;
  heldBy: number[];
}

/** The kernel's view of file locks on a live target (src/facts/procs.ts). */
export interface FileLockFacts {
  available: boolean;
  reason: string | null;
  processes: ProcessInfo[];
  locks: LockRecord[];
  lockFiles: LockFileFact[];
  notes: string[];
}

/** What one `--redis URL` showed (src/locks/redis-probe.ts). */
export interface RedisServerReport {
  /** The URL with any password redacted. */
  url: string;
  mode: "standalone" | "cluster" | "sentinel";
  ok: boolean;
  error: string | null;
  errorKind: "connect" | "auth" | "timeout" | "protocol" | null;
  nodes: string[];
  keysScanned: number;
  locks: LockRecord[];
  notes: string[];
}
