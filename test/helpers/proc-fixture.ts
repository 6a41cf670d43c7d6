/**
 * Builds a fake procfs tree in a temp dir for src/facts/procs.ts: /locks plus, per process, stat, cmdline,
 * cgroup, fd/N symlinks and fdinfo/N files. Links may dangle: only readlink() is ever done on them.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakeFd {
  /** What /proc/PID/fd/N points to. */
  link: string;
  /** The lock lines shown in fdinfo (without the "lock:\t" prefix). */
  locks?: string[];
  ino?: number;
}

export interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string[];
  /** /proc/PID/cgroup text; default "0::/". */
  cgroup?: string;
  fds?: Record<number, FakeFd>;
  /** Kernel thread: PF_KTHREAD set, no cmdline, no fds. */
  kthread?: boolean;
  /** fdinfo/ and fd/ made unreadable (mode 000: only without CAP_DAC_OVERRIDE). */
  unreadableFds?: boolean;
  /** stat and cmdline exist but fd/ and fdinfo/ are gone (the process exited mid-scan). */
  vanished?: boolean;
  /** Raw cmdline bytes, overriding cmdline (setproctitle padding, ...). */
  rawCmdline?: string;
}

export interface FakeProc {
  locks: string;
  processes: FakeProcess[];
}

export function statLine(p: FakeProcess): string {
  const flags = p.kthread ? 0x00208040 : 0x00400100;
  // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime
  // cstime priority nice num_threads itrealvalue starttime ...
  return `${p.pid} (${p.comm}) S ${p.ppid} ${p.pid} ${p.pid} 0 -1 ${flags} 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
}

export function makeProcTree(spec: FakeProc): string {
  const root = mkdtempSync(join(tmpdir(), "schedctl-proc-"));
  writeFileSync(join(root, "locks"), spec.locks);
  mkdirSync(join(root, "self"));
  for (const p of spec.processes) {
    const dir = join(root, String(p.pid));
    mkdirSync(dir);
    writeFileSync(join(dir, "stat"), statLine(p));
    writeFileSync(join(dir, "cmdline"), p.rawCmdline ?? (p.kthread ? "" : `${p.cmdline.join("\0")}\0`));
    writeFileSync(join(dir, "cgroup"), p.cgroup ?? "0::/\n");
    if (p.vanished) continue;
    mkdirSync(join(dir, "fd"));
    mkdirSync(join(dir, "fdinfo"));
    for (const [n, fd] of Object.entries(p.fds ?? {})) {
      symlinkSync(fd.link, join(dir, "fd", n));
      const lines = [`pos:\t0`, `flags:\t0100002`, `mnt_id:\t31`, `ino:\t${fd.ino ?? 1}`];
      for (const l of fd.locks ?? []) lines.push(`lock:\t${l}`);
      writeFileSync(join(dir, "fdinfo", n), `${lines.join("\n")}\n`);
    }
    if (p.unreadableFds) {
      chmodSync(join(dir, "fd"), 0o000);
      chmodSync(join(dir, "fdinfo"), 0o000);
    }
  }
  return root;
}

export function removeProcTree(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
