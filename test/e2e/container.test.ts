import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO, runCli } from "../helpers/cli.js";
import { makeRoot } from "../helpers/rootfs.js";

// --container snapshots a running container with one `docker exec`. No Docker engine runs here, so the
// transport is test/helpers/fake-docker.sh: the same script, run by a real busybox /bin/sh chrooted into a
// fixture root with /proc mounted, with the container's environment.
const BUSYBOX = "/bin/busybox";

function container(name: string, env: string, spec: Parameters<typeof makeRoot>[0]): Record<string, string> {
  assert.ok(existsSync(BUSYBOX), `${BUSYBOX} is missing: apt-get install -y busybox-static`);
  assert.ok(
    existsSync("/usr/sbin/chroot") && existsSync("/usr/bin/unshare"),
    "chroot/unshare missing: apt-get install -y coreutils util-linux",
  );
  const root = makeRoot(spec);
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "proc"), { recursive: true });
  mkdirSync(join(root, "dev"), { recursive: true });
  copyFileSync(BUSYBOX, join(root, "bin/busybox"));
  for (const applet of ["sh", "od", "tr", "ls", "tar", "cat", "wc"])
    symlinkSync("busybox", join(root, "bin", applet));
  const dir = mkdtempSync(join(tmpdir(), "schedctl-containers-"));
  symlinkSync(root, join(dir, name));
  writeFileSync(join(dir, `${name}.env`), env);
  return { SCHEDCTL_DOCKER: join(REPO, "test/helpers/fake-docker.sh"), SCHEDCTL_TEST_CONTAINERS: dir };
}

test("doctor --container reads the container's files, zoneinfo and environment in one exec", () => {
  const env = container("web-1", "TZ=Asia/Shanghai PATH=/bin", {
    files: {
      "/etc/timezone": "Etc/UTC\n",
      "/etc/os-release": "ID=alpine\nVERSION_ID=3.20.0\n",
      "/lib/ld-musl-x86_64.so.1": "",
    },
    links: { "/etc/localtime": "/usr/share/zoneinfo/Etc/UTC" },
  });
  const emptyApp = mkdtempSync(join(tmpdir(), "schedctl-app-"));
  const r = runCli(
    [
      "doctor",
      "--container",
      "web-1",
      "--format",
      "json",
      "--at",
      "2026-12-01T00:00:00Z",
      "--app-dir",
      emptyApp,
    ],
    { env },
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout) as {
    target: { kind: string; description: string };
    checks: { id: string; status: string; summary: string; evidence: Record<string, unknown> }[];
  };
  assert.deepEqual(report.target, { kind: "container", description: "container web-1" });
  const sources = report.checks.find((c) => c.id === "tz.sources");
  // TZ comes from the container's environment (not ours) and wins; the stale files are only a warning.
  assert.equal(sources?.status, "warn", sources?.summary);
  assert.match(sources?.summary ?? "", /TZ says Asia\/Shanghai/);
  const libc = report.checks.find((c) => c.id === "tz.libc");
  assert.equal(libc?.evidence.libc, "musl", "libc detected from the container's /lib listing");
  const tzl = report.checks.find((c) => c.id === "tz.tzlocal");
  const p = tzl?.evidence.predictions as Record<string, { zone: string }>;
  assert.equal(p["4.x"]?.zone, "Asia/Shanghai");
});

test("doctor --container fails with exit 3 when the container does not exist", () => {
  const env = container("web-1", "PATH=/bin", {});
  const r = runCli(["doctor", "--container", "web-2"], { env });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /docker exec web-2: exit 1: Error response from daemon: No such container: web-2/);
});
