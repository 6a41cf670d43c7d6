/**
 * The /proc parsers on literal kernel text (reference locks.md §3.1, kernel 6.18 captures, older kernels'
 * formats from fs/locks.c history), then src/facts/procs.ts on a fake /proc tree: holders after fork, a dead
 * locker, OFD -1, waiters, one lock file per container, deleted files, processes that vanish mid-scan,
 * descriptors it may not read, --lock-file paths that exist, are stale or are missing.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gatherFileLocks, listProcesses } from "../../src/facts/procs.js";
import {
  classifyProcess,
  decodeDev,
  isGunicornCommand,
  lockKind,
  parseCgroupContainer,
  parseCmdline,
  parseFdinfoLocks,
  parseProcLocks,
  parseProcStat,
} from "../../src/locks/proclocks.js";
import type { FileLockFacts, LockRecord } from "../../src/locks/types.js";
import { type FakeProcess, makeProcTree, removeProcTree } from "../helpers/proc-fixture.js";

describe("parseProcLocks", () => {
  test("locks.md §3.1 sample (kernel 6.18): holders, waiters at depth 1 and 2, OFD -1", () => {
    const text = [
      "1: POSIX  ADVISORY  WRITE 18974 fe:00:2154562 0 EOF",
      "1: -> POSIX  ADVISORY  WRITE 19016 fe:00:2154562 0 EOF",
      "2: FLOCK  ADVISORY  WRITE 18967 fe:00:2160369 0 EOF",
      "2: -> FLOCK  ADVISORY  WRITE 18971 fe:00:2160369 0 EOF",
      "2:  -> FLOCK  ADVISORY  READ 18973 fe:00:2160369 0 EOF",
      "3: OFDLCK ADVISORY  WRITE -1 fe:00:2159937 0 EOF",
      "",
    ].join("\n");
    const r = parseProcLocks(text);
    assert.deepEqual(r.rejected, []);
    assert.equal(r.length, 6);
    assert.deepEqual(r[0], {
      id: 1,
      depth: 0,
      type: "POSIX",
      mode: "ADVISORY",
      access: "WRITE",
      pid: 18974,
      major: 254,
      minor: 0,
      inode: 2154562,
      start: 0,
      end: null,
    });
    assert.deepEqual(
      r.map((e) => [e.id, e.depth, e.type, e.access, e.pid]),
      [
        [1, 0, "POSIX", "WRITE", 18974],
        [1, 1, "POSIX", "WRITE", 19016],
        [2, 0, "FLOCK", "WRITE", 18967],
        [2, 1, "FLOCK", "WRITE", 18971],
        [2, 2, "FLOCK", "READ", 18973],
        [3, 0, "OFDLCK", "WRITE", -1],
      ],
    );
  });

  test("every type and mode the kernel prints, byte ranges, hex devices, <none>:0, ID gaps", () => {
    const text = [
      "1: POSIX  ADVISORY  WRITE 26617 fe:00:2146518 5 14",
      "3: FLOCK  ADVISORY  READ 26612 fe:00:2146513 0 EOF",
      "4: OFDLCK ADVISORY  READ -1 103:02:98765 100 199",
      "5: ACCESS ADVISORY  READ 1000 fe:00:12 0 EOF",
      "6: LEASE  ACTIVE    READ 4567 fe:00:222 0 EOF",
      "7: LEASE  BREAKING  READ 4567 fe:00:223 0 EOF",
      "7: -> LEASE  BREAKER   WRITE 4568 fe:00:223 0 EOF",
      "8: DELEG  ACTIVE    READ 1234 00:31:12345 0 EOF",
      "9: UNKNOWN UNKNOWN  UNLCK 0 <none>:0 0 EOF",
      "10: POSIX  *NOINODE* WRITE 999 <none>:0 0 EOF",
      // Before Linux 5.15 (mandatory locking and LOCK_MAND removed): MANDATORY, and MSNFS flocks with
      // their RW/NONE modes padded to five characters.
      "11: POSIX  MANDATORY WRITE 3456 08:01:1111 0 EOF",
      "12: FLOCK  MSNFS     READ  2345 08:01:9999 0 EOF",
      "13: FLOCK  MSNFS     RW    2346 08:01:9998 0 EOF",
      "14: FLOCK  MSNFS     NONE  2347 08:01:9997 0 EOF",
      "15: POSIX  ADVISORY  WRITE 77 fe:00:5 9007199254740000 EOF",
      "16: FLOCK  ADVISORY  WRITE 88 1a2:1ff:4294967296 0 EOF",
    ].join("\n");
    const r = parseProcLocks(text);
    assert.deepEqual(r.rejected, []);
    const by = (id: number, depth = 0) => {
      const e = r.find((x) => x.id === id && x.depth === depth);
      assert.ok(e, `entry ${id}/${depth}`);
      return e;
    };
    assert.deepEqual([by(1).start, by(1).end], [5, 14]);
    assert.deepEqual(
      [by(4).major, by(4).minor, by(4).inode, by(4).start, by(4).end],
      [0x103, 2, 98765, 100, 199],
    );
    assert.equal(by(5).type, "ACCESS");
    assert.deepEqual([by(6).type, by(6).mode], ["LEASE", "ACTIVE"]);
    assert.deepEqual([by(7).mode, by(7, 1).mode, by(7, 1).pid], ["BREAKING", "BREAKER", 4568]);
    assert.deepEqual([by(8).type, by(8).major, by(8).minor], ["DELEG", 0, 0x31]);
    assert.deepEqual(
      [by(9).type, by(9).mode, by(9).access, by(9).major, by(9).inode],
      ["UNKNOWN", "UNKNOWN", "UNLCK", null, null],
    );
    assert.deepEqual(
      [by(10).mode, by(10).major, by(10).minor, by(10).inode],
      ["*NOINODE*", null, null, null],
    );
    assert.equal(by(11).mode, "MANDATORY");
    assert.deepEqual(
      [12, 13, 14].map((i) => [by(i).mode, by(i).access]),
      [
        ["MSNFS", "READ"],
        ["MSNFS", "RW"],
        ["MSNFS", "NONE"],
      ],
    );
    assert.equal(by(15).start, 9007199254740000);
    assert.deepEqual([by(16).major, by(16).minor, by(16).inode], [0x1a2, 0x1ff, 4294967296]);
    assert.deepEqual(
      r.map((e) => e.id),
      [1, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
      "gaps kept",
    );
    assert.deepEqual(["FLOCK", "POSIX", "ACCESS", "OFDLCK", "LEASE", "DELEG", "UNKNOWN"].map(lockKind), [
      "flock",
      "posix",
      "posix",
      "ofd",
      "lease",
      "lease",
      "unknown",
    ]);
  });

  test("waiters at any depth: (depth - 1) spaces then '-> '; old kernels' flat '-> '", () => {
    const text = [
      "2: FLOCK  ADVISORY  WRITE 10 fe:00:1 0 EOF",
      "2: -> FLOCK  ADVISORY  WRITE 11 fe:00:1 0 EOF",
      "2:  -> FLOCK  ADVISORY  WRITE 12 fe:00:1 0 EOF",
      "2:   -> FLOCK  ADVISORY  READ 13 fe:00:1 0 EOF",
      "2:    -> FLOCK  ADVISORY  READ 14 fe:00:1 0 EOF",
      "2: -> FLOCK  ADVISORY  READ 15 fe:00:1 0 EOF",
    ].join("\n");
    assert.deepEqual(
      parseProcLocks(text).map((e) => [e.pid, e.depth]),
      [
        [10, 0],
        [11, 1],
        [12, 2],
        [13, 3],
        [14, 4],
        [15, 1],
      ],
    );
  });

  test("garbage, truncated and malformed lines are rejected with their line numbers, never thrown", () => {
    const text = [
      "1: FLOCK  ADVISORY  WRITE 18967 fe:00:2160369 0 EOF",
      "hello world",
      "2: FLOCK  ADVISORY  WRITE x fe:00:1 0 EOF",
      "3: FLOCK  ADVISORY  WRITE 1 fe:00 0 EOF",
      "4: POSIX  ADVISORY  WRI",
      "5: POSIX  ADVISORY  WRITE 1 zz:00:1 0 EOF",
      "-> FLOCK  ADVISORY  WRITE 1 fe:00:1 0 EOF",
      "6: POSIX  ADVISORY  WRITE 1 fe:00:1 0 EOF extra",
      "   ",
      "7: POSIX  ADVISORY  WRITE 7 fe:00:7 0 EOF\r",
    ].join("\n");
    const r = parseProcLocks(text);
    assert.deepEqual(
      r.map((e) => e.id),
      [1, 7],
    );
    assert.deepEqual(
      r.rejected.map((x) => x.line),
      [2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(r.rejected[0]?.text, "hello world");
    assert.deepEqual(parseProcLocks(""), Object.assign([], { rejected: [] }));
    assert.doesNotThrow(() => parseProcLocks("\0\0\u{1F600}\n:::\n1:"));
  });
});

describe("parseFdinfoLocks", () => {
  test("a flock inherited by fork (kernel 6.18 capture) and the header fields", () => {
    const text =
      "pos:\t0\nflags:\t0100001\nmnt_id:\t31\nino:\t2159777\nlock:\t1: FLOCK  ADVISORY  WRITE 18817 fe:00:2159777 0 EOF\n";
    const r = parseFdinfoLocks(text);
    assert.deepEqual(
      { pos: r.pos, flags: r.flags, mntId: r.mntId, ino: r.ino, rejected: r.rejected },
      { pos: 0, flags: "0100001", mntId: 31, ino: 2159777, rejected: [] },
    );
    assert.equal(r.locks.length, 1);
    assert.deepEqual(
      [r.locks[0]?.type, r.locks[0]?.pid, r.locks[0]?.inode, r.locks[0]?.depth],
      ["FLOCK", 18817, 2159777, 0],
    );
  });

  test("several POSIX ranges through one fd, an OFD lock, other fdinfo keys, a bad lock line", () => {
    const text = [
      "pos:\t12",
      "flags:\t02100002",
      "mnt_id:\t24",
      "ino:\t2146518",
      "lock:\t1: POSIX  ADVISORY  WRITE 26617 fe:00:2146518 5 14",
      "lock:\t2: POSIX  ADVISORY  READ 26617 fe:00:2146518 100 EOF",
      "lock:\t3: OFDLCK ADVISORY  WRITE -1 fe:00:2146518 20 29",
      "lock:\tnonsense",
      "eventfd-count:  0",
    ].join("\n");
    const r = parseFdinfoLocks(text);
    assert.deepEqual(
      r.locks.map((l) => [l.id, l.type, l.access, l.start, l.end]),
      [
        [1, "POSIX", "WRITE", 5, 14],
        [2, "POSIX", "READ", 100, null],
        [3, "OFDLCK", "WRITE", 20, 29],
      ],
    );
    assert.deepEqual(
      r.rejected.map((x) => x.line),
      [8],
    );
  });

  test("no ino: line (before Linux 5.14), no locks, empty text", () => {
    const r = parseFdinfoLocks("pos:\t0\nflags:\t02\nmnt_id:\t9\n");
    assert.deepEqual([r.ino, r.locks.length], [null, 0]);
    assert.deepEqual(parseFdinfoLocks("").locks, []);
  });
});

describe("parseCgroupContainer", () => {
  const id = "4f1c2a9d8e7b6c5d4f1c2a9d8e7b6c5d4f1c2a9d8e7b6c5d4f1c2a9d8e7b6c5d";
  const uid = "1f3b5b8c-4d2e-4f5a-9c1b-0123456789ab";
  const cases: [string, string, string | null][] = [
    ["docker, cgroup v1", `12:memory:/docker/${id}\n11:cpu,cpuacct:/docker/${id}\n0::/\n`, id],
    ["docker, systemd driver v2", `0::/system.slice/docker-${id}.scope\n`, id],
    [
      "containerd (kubelet, systemd driver)",
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, "_")}.slice/cri-containerd-${id}.scope\n`,
      id,
    ],
    [
      "cri-o",
      `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, "_")}.slice/crio-${id}.scope\n`,
      id,
    ],
    ["kubepods, cgroupfs driver v1", `11:memory:/kubepods/burstable/pod${uid}/${id}\n`, id],
    [
      "podman",
      `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${id}.scope/container\n`,
      id,
    ],
    [
      "pod slice only",
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, "_")}.slice\n`,
      `pod${uid}`,
    ],
    [
      "cri-o conmon is outside the container",
      `0::/kubepods.slice/kubepods-pod${uid.replace(/-/g, "_")}.slice/crio-conmon-${id}.scope\n`,
      null,
    ],
    ["host session", "0::/user.slice/user-1000.slice/session-3.scope\n", null],
    ["private cgroup namespace", "0::/\n", null],
    [
      "32-hex slice name is not a container id",
      "4:memory:/process_api/a80f8b9e2e57a8b76a3f326a8e79bf6c\n",
      null,
    ],
    ["garbage", "not a cgroup file", null],
  ];
  for (const [name, text, want] of cases) test(name, () => assert.equal(parseCgroupContainer(text), want));
});

describe("decodeDev", () => {
  // glibc's makedev, to round-trip.
  const makedev = (ma: number, mi: number): bigint => {
    const M = BigInt(ma);
    const m = BigInt(mi);
    return ((M & 0xfffn) << 8n) | ((M & ~0xfffn) << 32n) | (m & 0xffn) | ((m & ~0xffn) << 12n);
  };
  test("fe:00 = 65024 = 254:0 (Node's stat().dev)", () => {
    assert.deepEqual(decodeDev(65024n), { major: 254, minor: 0 });
    assert.deepEqual(decodeDev(65024), { major: 254, minor: 0 });
  });
  test("round-trips large majors and minors", () => {
    for (const [ma, mi] of [
      [259, 2],
      [0, 300],
      [8, 1],
      [4096, 1048575],
      [0xfffff, 0xfffff],
      [0, 0],
    ] as [number, number][]) {
      assert.deepEqual(decodeDev(makedev(ma, mi)), { major: ma, minor: mi }, `${ma}:${mi}`);
    }
  });
  test("this machine: stat() of / decodes to a device in /proc/self/mountinfo", () => {
    const { major, minor } = decodeDev(statSync("/", { bigint: true }).dev);
    assert.ok(Number.isInteger(major) && Number.isInteger(minor));
  });
});

describe("classifyProcess", () => {
  const gun = ["/usr/bin/python3", "/usr/bin/gunicorn", "--preload", "-w", "4", "app:app"];
  test("setproctitle titles", () => {
    assert.equal(classifyProcess(["gunicorn: master [app:app]"], null), "gunicorn-master");
    assert.equal(
      classifyProcess(["gunicorn: worker [app:app]"], { cmdline: ["gunicorn: master [app:app]"] }),
      "gunicorn-worker",
    );
    assert.equal(classifyProcess(parseCmdline("gunicorn: worker [web]\0\0\0\0"), null), "gunicorn-worker");
    assert.equal(
      classifyProcess(parseCmdline("gunicorn: master [web]                 "), null),
      "gunicorn-master",
    );
  });
  test("without titles: the parent decides", () => {
    assert.equal(classifyProcess(gun, null), "gunicorn-master");
    assert.equal(classifyProcess(gun, { cmdline: ["/bin/sh", "-c", "gunicorn app:app"] }), "gunicorn-master");
    assert.equal(classifyProcess(gun, { cmdline: ["/usr/bin/tini", "--", "gunicorn"] }), "gunicorn-master");
    assert.equal(classifyProcess(gun, { cmdline: gun }), "gunicorn-worker");
    assert.equal(classifyProcess(gun, { cmdline: ["gunicorn: master [app]"] }), "gunicorn-worker");
    assert.equal(classifyProcess(gun, { cmdline: gun, role: "gunicorn-master" }), "gunicorn-worker");
    assert.equal(classifyProcess(gun, { cmdline: gun, role: "gunicorn-worker" }), "python");
    assert.equal(classifyProcess(gun, { cmdline: ["bash"], role: "other" }), "gunicorn-master");
  });
  test("the ways gunicorn is started", () => {
    for (const c of [
      ["/venv/bin/gunicorn", "app:app"],
      ["gunicorn3", "-w", "2", "app:app"],
      ["python3", "-m", "gunicorn", "app:app"],
      ["python", "-mgunicorn", "app:app"],
      ["/usr/local/bin/python3.12", "-u", "/usr/local/bin/gunicorn", "app:app"],
      ["python3", "-W", "ignore", "/venv/bin/gunicorn", "app:app"],
      ["python3", "-m", "gunicorn.app.wsgiapp", "app:app"],
    ])
      assert.equal(isGunicornCommand(c), true, c.join(" "));
    for (const c of [
      ["python3", "-c", "import gunicorn"],
      ["python3", "app.py", "gunicorn"],
      ["node", "gunicorn"],
      ["/usr/bin/gunicorn-helper"],
      [],
    ])
      assert.equal(isGunicornCommand(c), false, c.join(" "));
  });
  test("python and other", () => {
    assert.equal(classifyProcess(["/usr/bin/python3", "/srv/run.py"], null), "python");
    assert.equal(classifyProcess(["python3.11", "-m", "flask", "run"], null), "python");
    assert.equal(classifyProcess(["/usr/bin/pypy3", "x.py"], null), "python");
    assert.equal(classifyProcess(["flock", "-x", "/tmp/a", "sleep", "30"], null), "other");
    assert.equal(classifyProcess(["/usr/bin/python3-config"], null), "other");
    assert.equal(classifyProcess([], null), "other");
  });
});

test("parseProcStat: comm with spaces and parentheses, kthread flag", () => {
  const s = parseProcStat("42 (my (weird) name) S 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0");
  assert.deepEqual(s && [s.pid, s.comm, s.state, s.ppid, s.flags, s.startTime], [
    42,
    "my (weird) name",
    "S",
    7,
    4194560,
    999,
  ]);
  assert.equal(parseProcStat("garbage"), null);
  assert.equal(parseProcStat(""), null);
});

// ---------------------------------------------------------------------------------------------------------
// procs.ts on a fake /proc tree

/** The repository root: `--import tsx` resolves from the child's working directory. */
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const DOCKER_A = "a".repeat(64);
const DOCKER_B = "b".repeat(64);
const GUN = ["/usr/bin/python3", "/usr/bin/gunicorn", "--preload", "-w", "2", "app:app"];

interface Fixture {
  proc: string;
  files: string;
  appLock: string;
  staleLock: string;
  missingLock: string;
  devHex: string;
  devDec: string;
  appIno: number;
}

function hexDev(dev: bigint): { hex: string; dec: string } {
  const { major, minor } = decodeDev(dev);
  return {
    hex: `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`,
    dec: `${major}:${minor}`,
  };
}

function buildFixture(opts: { denyPid500?: boolean } = {}): Fixture {
  const files = mkdtempSync(join(tmpdir(), "schedctl-lockfiles-"));
  const appLock = join(files, "app.lock");
  const staleLock = join(files, "stale.lock");
  writeFileSync(appLock, "");
  writeFileSync(staleLock, "");
  const st = statSync(appLock, { bigint: true });
  const { hex, dec } = hexDev(st.dev);
  const appIno = Number(st.ino);
  const app = (pid: number) => `1: FLOCK  ADVISORY  WRITE ${pid} ${hex}:${appIno} 0 EOF`;
  const locks = [
    `1: FLOCK  ADVISORY  WRITE 201 ${hex}:${appIno} 0 EOF`,
    `1: -> FLOCK  ADVISORY  WRITE 300 ${hex}:${appIno} 0 EOF`,
    "3: OFDLCK ADVISORY  WRITE -1 fe:00:777 0 EOF",
    "4: POSIX  ADVISORY  WRITE 500 fe:00:888 10 19",
    "5: FLOCK  ADVISORY  WRITE 601 00:2a:2 0 EOF",
    "6: FLOCK  ADVISORY  WRITE 602 00:2b:2 0 EOF",
    "7: FLOCK  ADVISORY  WRITE 700 fe:00:999 0 EOF",
    "8: POSIX  ADVISORY  READ 800 fe:00:1000 0 EOF",
    "9: FLOCK  ADVISORY  WRITE 150 fe:00:1500 0 EOF",
    "10: FLOCK  ADVISORY  READ 1 fe:00:2000 0 EOF",
    "10: -> FLOCK  ADVISORY  WRITE 999 fe:00:2000 0 EOF",
    "11: FLOCK  ADVISORY  WRITE 1000 fe:00:3000 0 EOF",
    "this line is not a lock",
    "",
  ].join("\n");
  const py = (script: string) => ["/usr/bin/python3", script];
  const processes: FakeProcess[] = [
    {
      pid: 1,
      ppid: 0,
      comm: "init",
      cmdline: ["/sbin/init"],
      fds: { 9: { link: "/run/x.lock", locks: ["1: FLOCK  ADVISORY  READ 1 fe:00:2000 0 EOF"] } },
    },
    { pid: 2, ppid: 0, comm: "kthreadd", cmdline: [], kthread: true },
    {
      pid: 201,
      ppid: 1,
      comm: "gunicorn",
      cmdline: GUN,
      cgroup: `0::/system.slice/docker-${DOCKER_A}.scope\n`,
      fds: { 0: { link: "/dev/null" }, 3: { link: appLock, locks: [app(201)], ino: appIno } },
    },
    ...[202, 203].map(
      (pid): FakeProcess => ({
        pid,
        ppid: 201,
        comm: "gunicorn",
        cmdline: GUN,
        cgroup: `0::/system.slice/docker-${DOCKER_A}.scope\n`,
        fds: { 3: { link: appLock, locks: [app(201)], ino: appIno }, 7: { link: "socket:[1234]" } },
      }),
    ),
    { pid: 300, ppid: 1, comm: "python3", cmdline: py("/srv/app/run.py"), fds: { 3: { link: appLock } } },
    {
      pid: 400,
      ppid: 1,
      comm: "python3",
      cmdline: py("/srv/app/ofd.py"),
      fds: { 5: { link: "/srv/app/ofd.lock", locks: ["1: OFDLCK ADVISORY  WRITE -1 fe:00:777 0 EOF"] } },
    },
    {
      pid: 500,
      ppid: 1,
      comm: "python3",
      cmdline: py("/srv/app/posix.py"),
      fds: { 4: { link: "/srv/app/posix.lock", locks: ["1: POSIX  ADVISORY  WRITE 500 fe:00:888 10 19"] } },
      unreadableFds: opts.denyPid500 === true,
    },
    ...(
      [
        [601, DOCKER_A],
        [602, DOCKER_B],
      ] as const
    ).map(
      ([pid, c], i): FakeProcess => ({
        pid,
        ppid: 1,
        comm: "python3",
        cmdline: py("/app/scheduler.py"),
        cgroup: `0::/system.slice/docker-${c}.scope\n`,
        fds: {
          3: {
            link: "/tmp/scheduler.lock",
            locks: [`1: FLOCK  ADVISORY  WRITE ${pid} 00:${(0x2a + i).toString(16)}:2 0 EOF`],
          },
        },
      }),
    ),
    {
      pid: 700,
      ppid: 1,
      comm: "python3",
      cmdline: py("/srv/leader.py"),
      fds: {
        4: {
          link: "/var/run/app/leader.lock (deleted)",
          locks: ["1: FLOCK  ADVISORY  WRITE 700 fe:00:999 0 EOF"],
        },
      },
    },
    { pid: 800, ppid: 1, comm: "python3", cmdline: py("/srv/gone.py"), vanished: true },
    // 150 locked, forked 151 and 152, exited: /proc/locks still names 150.
    ...[151, 152].map(
      (pid): FakeProcess => ({
        pid,
        ppid: 1,
        comm: "python3",
        cmdline: py("/srv/forked.py"),
        fds: { 3: { link: "/srv/forked.lock", locks: ["1: FLOCK  ADVISORY  WRITE 150 fe:00:1500 0 EOF"] } },
      }),
    ),
    // A lock only fdinfo shows: its locker died inside a PID namespace (pid 0, hidden from /proc/locks).
    {
      pid: 900,
      ppid: 1,
      comm: "python3",
      cmdline: py("/srv/hidden.py"),
      fds: { 3: { link: "/srv/hidden.lock", locks: ["1: FLOCK  ADVISORY  WRITE 0 fe:00:1234 0 EOF"] } },
    },
    // Taken between the read of /proc/locks and the descriptor scan.
    {
      pid: 950,
      ppid: 1,
      comm: "python3",
      cmdline: py("/srv/late.py"),
      fds: { 3: { link: "/srv/late.lock", locks: ["1: FLOCK  ADVISORY  WRITE 950 fe:00:5000 0 EOF"] } },
    },
    { pid: 999, ppid: 1, comm: "flock", cmdline: ["flock", "/run/x.lock", "true"] },
    // 1000 locked, forked 1001 and closed its own descriptor: alive, named by the kernel, not a holder.
    { pid: 1000, ppid: 1, comm: "bash", cmdline: ["bash"] },
    {
      pid: 1001,
      ppid: 1000,
      comm: "python3",
      cmdline: py("/srv/child.py"),
      fds: { 3: { link: "/srv/child.lock", locks: ["1: FLOCK  ADVISORY  WRITE 1000 fe:00:3000 0 EOF"] } },
    },
  ];
  return {
    proc: makeProcTree({ locks, processes }),
    files,
    appLock,
    staleLock,
    missingLock: join(files, "missing.lock"),
    devHex: hex,
    devDec: dec,
    appIno,
  };
}

function removeFixture(f: Fixture): void {
  removeProcTree(f.proc);
  rmSync(f.files, { recursive: true, force: true });
}

const byWhere = (facts: FileLockFacts, where: string): LockRecord => {
  const l = facts.locks.find((x) => x.where === where && x.state === "held");
  assert.ok(l, `a held lock at ${where}; have ${facts.locks.map((x) => x.where).join(", ")}`);
  return l;
};

describe("gatherFileLocks on a fake /proc", () => {
  let fx: Fixture;
  let facts: FileLockFacts;
  before(async () => {
    fx = buildFixture();
    facts = await gatherFileLocks({ proc: fx.proc, lockFiles: [fx.appLock, fx.staleLock, fx.missingLock] });
  });
  after(() => removeFixture(fx));

  test("available, and the unparsable /proc/locks line is noted", () => {
    assert.equal(facts.available, true);
    assert.equal(facts.reason, null);
    assert.ok(facts.notes.some((n) => n.includes("not understood") && n.includes("this line is not a lock")));
  });

  test("a flock taken before fork: master and both workers hold it, with a waiter", () => {
    const l = byWhere(facts, `dev ${fx.devDec} inode ${fx.appIno}`);
    assert.equal(l.name, fx.appLock);
    assert.deepEqual(
      [l.backend, l.kind, l.state, l.ttlMs, l.heldForMs],
      ["file", "flock", "held", null, null],
    );
    assert.deepEqual(l.holders, [
      { pid: 201, command: GUN.join(" "), role: "gunicorn-master", container: DOCKER_A, fd: 3 },
      { pid: 202, command: GUN.join(" "), role: "gunicorn-worker", container: DOCKER_A, fd: 3 },
      { pid: 203, command: GUN.join(" "), role: "gunicorn-worker", container: DOCKER_A, fd: 3 },
    ]);
    assert.equal(l.owner, `${DOCKER_A.slice(0, 12)} pid 201`);
    assert.deepEqual(l.details.waiters, [
      {
        pid: 300,
        command: "/usr/bin/python3 /srv/app/run.py",
        role: "python",
        container: null,
        type: "FLOCK",
        access: "WRITE",
        depth: 1,
      },
    ]);
    assert.equal(l.details.lockId, 1);
    assert.equal(l.details.type, "FLOCK");
    assert.equal(l.details.access, "WRITE");
    assert.equal(l.details.lockerAlive, true);
    assert.equal(l.details.deleted, false);
    assert.equal(l.details.holdersFrom, "fdinfo");
  });

  test("--lock-file facts: held (by dev+inode), stale, missing", () => {
    const st = statSync(fx.appLock);
    assert.deepEqual(facts.lockFiles, [
      { path: fx.appLock, exists: true, dev: fx.devDec, inode: st.ino, heldBy: [201, 202, 203] },
      { path: fx.staleLock, exists: true, dev: fx.devDec, inode: statSync(fx.staleLock).ino, heldBy: [] },
      { path: fx.missingLock, exists: false, dev: null, inode: null, heldBy: [] },
    ]);
    const stale = facts.locks.filter((l) => l.state === "stale");
    assert.deepEqual(
      stale.map((l) => [l.name, l.holders.length, l.where]),
      [[fx.staleLock, 0, `dev ${fx.devDec} inode ${statSync(fx.staleLock).ino}`]],
    );
    assert.ok(facts.notes.some((n) => n.includes(fx.staleLock) && n.includes("stale")));
    assert.ok(facts.notes.some((n) => n.includes(fx.missingLock) && n.includes("does not exist")));
    assert.equal(existsSync(fx.missingLock), false);
  });

  test("OFD lock (pid -1): holder from fdinfo", () => {
    const l = byWhere(facts, "dev 254:0 inode 777");
    assert.deepEqual(
      [l.name, l.kind, l.details.lockerPid, l.details.lockerAlive],
      ["/srv/app/ofd.lock", "ofd", -1, null],
    );
    assert.deepEqual(
      l.holders.map((h) => [h.pid, h.role, h.fd]),
      [[400, "python", 5]],
    );
    assert.equal(l.owner, "pid 400");
  });

  test("POSIX byte range", () => {
    const l = byWhere(facts, "dev 254:0 inode 888");
    assert.deepEqual(
      [l.name, l.kind, l.details.start, l.details.end],
      ["/srv/app/posix.lock", "posix", 10, 19],
    );
    assert.deepEqual(
      l.holders.map((h) => h.pid),
      [500],
    );
  });

  test("the same path WRITE-locked on two files in two containers: one lock per container", () => {
    const ls = facts.locks.filter((l) => l.name === "/tmp/scheduler.lock");
    assert.deepEqual(
      ls.map((l) => [l.where, l.holders.map((h) => [h.pid, h.container])]),
      [
        ["dev 0:42 inode 2", [[601, DOCKER_A]]],
        ["dev 0:43 inode 2", [[602, DOCKER_B]]],
      ],
    );
    for (const l of ls) assert.deepEqual([l.details.oneLockPerContainer, l.details.sameNameFiles], [true, 2]);
    assert.ok(
      facts.notes.some(
        (n) =>
          n.startsWith("/tmp/scheduler.lock is WRITE-locked on 2 different files") &&
          n.includes(DOCKER_A.slice(0, 12)) &&
          n.includes(DOCKER_B.slice(0, 12)),
      ),
    );
    assert.equal(facts.locks.find((l) => l.name === fx.appLock)?.details.oneLockPerContainer, undefined);
  });

  test("a deleted lock file: ' (deleted)' stripped and noted", () => {
    const l = byWhere(facts, "dev 254:0 inode 999");
    assert.deepEqual([l.name, l.details.deleted], ["/var/run/app/leader.lock", true]);
    assert.ok(
      facts.notes.some((n) =>
        n.startsWith("/var/run/app/leader.lock: held on a file that has since been deleted"),
      ),
    );
  });

  test("a process that vanished mid-scan: lock kept, no holder, noted", () => {
    const l = byWhere(facts, "dev 254:0 inode 1000");
    assert.deepEqual([l.name, l.holders, l.details.holdersFrom], ["dev 254:0 inode 1000", [], "none"]);
    assert.ok(facts.notes.includes("1 process(es) exited during the scan"));
  });

  test("locker exited after fork: the kernel's pid is dead, the children hold it", () => {
    const l = byWhere(facts, "dev 254:0 inode 1500");
    assert.deepEqual(
      [l.name, l.details.lockerPid, l.details.lockerAlive, l.holders.map((h) => h.pid), l.owner],
      ["/srv/forked.lock", 150, false, [151, 152], "pid 151"],
    );
    assert.ok(
      facts.notes.some(
        (n) => n.includes("names pid 150 as the locker, which has exited") && n.includes("151, 152"),
      ),
    );
  });

  test("the locker is alive but no longer holds the lock (closed its descriptor after fork)", () => {
    const l = byWhere(facts, "dev 254:0 inode 3000");
    assert.deepEqual(
      [
        l.name,
        l.details.lockerPid,
        l.details.lockerAlive,
        l.details.lockerHolds,
        l.holders.map((h) => h.pid),
        l.owner,
      ],
      ["/srv/child.lock", 1000, true, false, [1001], "pid 1001"],
    );
    assert.ok(
      facts.notes.some((n) =>
        n.startsWith("/srv/child.lock: the kernel names pid 1000 as the locker, which no longer holds it"),
      ),
    );
  });

  test("a lock only fdinfo shows (hidden from /proc/locks in a PID namespace)", () => {
    const l = byWhere(facts, "dev 254:0 inode 1234");
    assert.deepEqual(
      [l.name, l.details.inProcLocks, l.details.lockId, l.holders.map((h) => h.pid)],
      ["/srv/hidden.lock", false, null, [900]],
    );
    assert.ok(facts.notes.some((n) => n.startsWith("/srv/hidden.lock: held (by pid 900) but hidden from")));
  });

  test("a lock taken during the scan (in fdinfo, not yet in /proc/locks)", () => {
    const l = byWhere(facts, "dev 254:0 inode 5000");
    assert.deepEqual(
      [l.name, l.details.inProcLocks, l.holders.map((h) => h.pid)],
      ["/srv/late.lock", false, [950]],
    );
    assert.ok(
      facts.notes.includes(`/srv/late.lock: taken during the scan (after ${fx.proc}/locks was read)`),
    );
    assert.ok(!facts.notes.some((n) => n.startsWith("/srv/late.lock: held")));
  });

  test("a READ lock and its waiter", () => {
    const l = byWhere(facts, "dev 254:0 inode 2000");
    assert.deepEqual(
      [
        l.details.access,
        l.holders.map((h) => [h.pid, h.command]),
        (l.details.waiters as { pid: number }[]).map((w) => w.pid),
      ],
      ["READ", [[1, "/sbin/init"]], [999]],
    );
  });

  test("processes: Gunicorn and Python processes plus everyone involved; no kernel threads", () => {
    const pids = facts.processes.map((p) => p.pid);
    assert.deepEqual(
      pids,
      [1, 151, 152, 201, 202, 203, 300, 400, 500, 601, 602, 700, 800, 900, 950, 999, 1001],
    );
    const w = facts.processes.find((p) => p.pid === 202);
    assert.deepEqual(w, {
      pid: 202,
      ppid: 201,
      command: GUN.join(" "),
      role: "gunicorn-worker",
      container: DOCKER_A,
      gunicornMaster: 201,
    });
    assert.equal(facts.processes.find((p) => p.pid === 201)?.gunicornMaster, null);
  });

  test("every lock is backend file, sorted by name", () => {
    assert.ok(facts.locks.every((l) => l.backend === "file"));
    const names = facts.locks.map((l) => l.name);
    assert.deepEqual(names, [...names].sort());
  });

  test("listProcesses: every user-space process with its role", async () => {
    const ps = await listProcesses(fx.proc);
    assert.deepEqual(
      ps.map((p) => [p.pid, p.role]),
      [
        [1, "other"],
        [151, "python"],
        [152, "python"],
        [201, "gunicorn-master"],
        [202, "gunicorn-worker"],
        [203, "gunicorn-worker"],
        [300, "python"],
        [400, "python"],
        [500, "python"],
        [601, "python"],
        [602, "python"],
        [700, "python"],
        [800, "python"],
        [900, "python"],
        [950, "python"],
        [999, "other"],
        [1000, "other"],
        [1001, "python"],
      ],
    );
  });
});

describe("gatherFileLocks degraded", () => {
  test("descriptors it may not read: the pid from /proc/locks, no path, a clear note", () => {
    const fx = buildFixture({ denyPid500: true });
    try {
      const child = fileURLToPath(new URL("../helpers/proc-gather-child.ts", import.meta.url));
      const args = ["--import", "tsx", child, fx.proc, fx.appLock];
      let out: string;
      if (process.getuid?.() === 0) {
        // Root reads mode-000 directories; without CAP_DAC_OVERRIDE it cannot, like any other user.
        const r = spawnSync(
          "setpriv",
          ["--bounding-set=-dac_override,-dac_read_search", "--", process.execPath, ...args],
          { encoding: "utf8", timeout: 15_000, cwd: REPO },
        );
        if (r.error) assert.fail(`setpriv: ${r.error.message} — apt-get install -y util-linux`);
        assert.equal(r.status, 0, r.stderr);
        out = r.stdout;
      } else {
        out = execFileSync(process.execPath, args, { encoding: "utf8", timeout: 15_000, cwd: REPO });
      }
      const facts = JSON.parse(out) as FileLockFacts;
      const l = facts.locks.find((x) => x.where === "dev 254:0 inode 888");
      assert.ok(l);
      assert.deepEqual(
        [l.name, l.holders.map((h) => [h.pid, h.role, h.fd]), l.details.holdersFrom],
        ["dev 254:0 inode 888", [[500, "python", undefined]], "proc-locks"],
      );
      assert.ok(
        facts.notes.some((n) =>
          n.startsWith("could not read the open files of 1 process(es) (pid 500): permission denied"),
        ),
      );
      assert.ok(facts.notes.some((n) => n.includes("holder named from") && n.includes("pid 500")));
      // Everything else is still there.
      assert.deepEqual(facts.lockFiles[0]?.heldBy, [201, 202, 203]);
    } finally {
      removeFixture(fx);
    }
  });

  test("no /proc/locks: unavailable with the reason, lock files still stat()ed, never throws", async () => {
    const proc = makeProcTree({
      locks: "",
      processes: [{ pid: 10, ppid: 1, comm: "gunicorn", cmdline: GUN }],
    });
    rmSync(join(proc, "locks"));
    const files = mkdtempSync(join(tmpdir(), "schedctl-lockfiles-"));
    try {
      writeFileSync(join(files, "a.lock"), "");
      const facts = await gatherFileLocks({
        proc,
        lockFiles: [join(files, "a.lock"), join(files, "b.lock")],
      });
      assert.equal(facts.available, false);
      assert.match(facts.reason ?? "", /^cannot read .*\/locks: ENOENT/);
      assert.deepEqual(
        facts.lockFiles.map((f) => [f.exists, f.heldBy]),
        [
          [true, []],
          [false, []],
        ],
      );
      assert.deepEqual(
        facts.processes.map((p) => [p.pid, p.role]),
        [[10, "gunicorn-master"]],
      );
    } finally {
      removeProcTree(proc);
      rmSync(files, { recursive: true, force: true });
    }
  });

  test("an fdinfo larger than one read (2,000 POSIX ranges through one descriptor)", async () => {
    const lines = Array.from(
      { length: 2000 },
      (_, i) => `${i + 1}: POSIX  ADVISORY  WRITE 42 fe:00:4242 ${i * 10} ${i * 10 + 4}`,
    );
    const proc = makeProcTree({
      locks: `${lines.join("\n")}\n`,
      processes: [
        {
          pid: 42,
          ppid: 1,
          comm: "python3",
          cmdline: ["/usr/bin/python3", "ranges.py"],
          fds: { 3: { link: "/srv/ranges.db", locks: lines } },
        },
      ],
    });
    try {
      const facts = await gatherFileLocks({ proc, lockFiles: [] });
      assert.equal(facts.locks.length, 2000);
      assert.ok(
        facts.locks.every(
          (l) => l.name === "/srv/ranges.db" && l.holders.length === 1 && l.holders[0]?.pid === 42,
        ),
      );
      assert.deepEqual(
        facts.locks
          .map((l) => l.details.start)
          .sort((a, b) => Number(a) - Number(b))
          .slice(0, 3),
        [0, 10, 20],
      );
    } finally {
      removeProcTree(proc);
    }
  });

  test("a procfs that does not exist at all", async () => {
    const facts = await gatherFileLocks({ proc: "/nonexistent/proc", lockFiles: [] });
    assert.deepEqual([facts.available, facts.locks, facts.processes], [false, [], []]);
    assert.deepEqual(await listProcesses("/nonexistent/proc"), []);
  });

  test("empty /proc/locks: no locks; a --lock-file that exists is stale", async () => {
    const proc = makeProcTree({ locks: "", processes: [] });
    const files = mkdtempSync(join(tmpdir(), "schedctl-lockfiles-"));
    try {
      writeFileSync(join(files, "s.lock"), "");
      const facts = await gatherFileLocks({ proc, lockFiles: [join(files, "s.lock")] });
      assert.equal(facts.available, true);
      assert.deepEqual(
        facts.locks.map((l) => [l.name, l.state, l.kind]),
        [[join(files, "s.lock"), "stale", "flock"]],
      );
    } finally {
      removeProcTree(proc);
      rmSync(files, { recursive: true, force: true });
    }
  });
});
