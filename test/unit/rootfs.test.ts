/**
 * RootFsTarget on hand-built trees: every path and every symlink resolves inside the root, never on the host;
 * loops and dangling links end in null, not a hang; limits and listings behave as the Target interface says.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { RootFsTarget } from "../../src/targets/rootfs.js";
import { TargetReadError } from "../../src/targets/target.js";

const MARKER = "schedctl-fixture-root-marker";
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A temp root: files (path -> content) and symlinks (path -> verbatim target). */
function tree(files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "schedctl-rootfs-test-"));
  roots.push(root);
  for (const [p, content] of Object.entries(files)) {
    const dest = join(root, p);
    mkdirSync(dirname(dest), { recursive: true });
    if (p.endsWith("/")) mkdirSync(dest, { recursive: true });
    else writeFileSync(dest, content);
  }
  for (const [p, target] of Object.entries(links)) {
    const dest = join(root, p);
    mkdirSync(dirname(dest), { recursive: true });
    symlinkSync(target, dest);
  }
  return root;
}

describe("RootFsTarget: nothing escapes the root", () => {
  const root = tree(
    {
      "etc/hostname": `${MARKER}-hostname\n`,
      "etc/passwd": `${MARKER}-passwd\n`,
      "usr/share/zoneinfo/UTC": `${MARKER}-UTC-zone\n`,
      "usr/share/zoneinfo/Etc/UTC": `${MARKER}-Etc-UTC-zone\n`,
    },
    {
      "etc/localtime": "/usr/share/zoneinfo/UTC",
      "etc/climb": "../../../../../etc/hostname",
      "etc/climb-abs": "/../../../../etc/passwd",
      "a/b/deep": "../../../../../../../../../../etc/hostname",
      "etc/climb-missing": "../../../../../etc/shadow",
      "etc/rootlink": "/",
      "etc/dotdot": "..",
    },
  );
  const t = new RootFsTarget(root);

  test("an absolute symlink reads the root's file, not the host's", async () => {
    assert.equal((await t.readFile("/etc/localtime", 4096))?.toString(), `${MARKER}-UTC-zone\n`);
    assert.equal(await t.realpath("/etc/localtime"), "/usr/share/zoneinfo/UTC");
    assert.equal(await t.readlink("/etc/localtime"), "/usr/share/zoneinfo/UTC");
    assert.deepEqual(await t.lstat("/etc/localtime"), { type: "symlink", size: 23 });
    assert.deepEqual(await t.stat("/etc/localtime"), {
      type: "file",
      size: `${MARKER}-UTC-zone\n`.length,
    });
  });

  test("relative links climbing past / stop at the root", async () => {
    for (const p of ["/etc/climb", "/a/b/deep"]) {
      assert.equal((await t.readFile(p, 4096))?.toString(), `${MARKER}-hostname\n`, p);
      assert.equal(await t.realpath(p), "/etc/hostname", p);
    }
    assert.equal((await t.readFile("/etc/climb-abs", 4096))?.toString(), `${MARKER}-passwd\n`);
    // The host has /etc/shadow; the root does not: missing, never the host's file.
    assert.equal(await t.readFile("/etc/climb-missing", 4096), null);
    assert.equal(await t.stat("/etc/climb-missing"), null);
    assert.equal(await t.realpath("/etc/climb-missing"), null);
  });

  test(".. components in the asked path stop at the root", async () => {
    assert.equal((await t.readFile("/../../../etc/hostname", 4096))?.toString(), `${MARKER}-hostname\n`);
    assert.equal((await t.readFile("../../etc/hostname", 4096))?.toString(), `${MARKER}-hostname\n`);
    assert.equal((await t.readFile("/usr/../../../etc/passwd", 4096))?.toString(), `${MARKER}-passwd\n`);
    assert.equal(await t.realpath("/../.."), "/");
    assert.equal(await t.readFile("/../../etc/shadow", 4096), null);
  });

  test("links to / and .. stay in the root", async () => {
    assert.equal((await t.readFile("/etc/rootlink/etc/hostname", 4096))?.toString(), `${MARKER}-hostname\n`);
    assert.equal(await t.realpath("/etc/rootlink"), "/");
    assert.equal(await t.realpath("/etc/dotdot/etc/dotdot/etc/dotdot"), "/");
    assert.equal((await t.readFile("/etc/dotdot/etc/passwd", 4096))?.toString(), `${MARKER}-passwd\n`);
    assert.deepEqual(await t.readdir("/etc/rootlink"), ["a", "etc", "usr"]);
  });
});

describe("RootFsTarget: loops and dangling links", () => {
  const root = tree(
    { "etc/real": "x" },
    {
      "etc/a": "b",
      "etc/b": "a",
      "etc/self": "self",
      "etc/abs-loop": "/etc/abs-loop",
      "etc/dangling": "/usr/share/zoneinfo/Nowhere/City",
      "etc/dangling-rel": "missing-dir/file",
      "etc/loopdir": "loopdir/x",
    },
  );
  const t = new RootFsTarget(root);

  test("a->b->a and a->a: realpath, stat and readFile return null without hanging", async () => {
    const started = Date.now();
    for (const p of ["/etc/a", "/etc/b", "/etc/self", "/etc/abs-loop", "/etc/loopdir", "/etc/a/x"]) {
      assert.equal(await t.realpath(p), null, `realpath ${p}`);
      assert.equal(await t.stat(p), null, `stat ${p}`);
      assert.equal(await t.readFile(p, 4096), null, `readFile ${p}`);
      assert.equal(await t.readdir(p), null, `readdir ${p}`);
      assert.deepEqual(await t.listFiles(p), [], `listFiles ${p}`);
    }
    // lstat and readlink look at the link itself, which exists.
    assert.equal((await t.lstat("/etc/a"))?.type, "symlink");
    assert.equal(await t.readlink("/etc/self"), "self");
    assert.ok(Date.now() - started < 5000, "loops are cut off quickly");
  });

  test("a dangling link: lstat says symlink, stat/realpath/readFile say null", async () => {
    for (const [p, target] of [
      ["/etc/dangling", "/usr/share/zoneinfo/Nowhere/City"],
      ["/etc/dangling-rel", "missing-dir/file"],
    ] as const) {
      assert.equal((await t.lstat(p))?.type, "symlink", p);
      assert.equal(await t.readlink(p), target, p);
      assert.equal(await t.stat(p), null, p);
      assert.equal(await t.realpath(p), null, p);
      assert.equal(await t.readFile(p, 4096), null, p);
    }
  });

  test("missing paths and paths through a regular file are null", async () => {
    assert.equal(await t.lstat("/nope"), null);
    assert.equal(await t.stat("/nope/deeper"), null);
    assert.equal(await t.readFile("/etc/real/child", 10), null);
    assert.equal(await t.realpath("/etc/real/child"), null);
    assert.equal(await t.readlink("/etc/real"), null, "not a link");
    assert.equal(await t.readlink("/nope"), null);
    assert.equal(await t.readdir("/etc/real"), null, "not a directory");
    assert.equal(await t.readdir("/nope"), null);
  });
});

describe("RootFsTarget: intermediate links, limits, listings", () => {
  const root = tree(
    {
      "opt/zi/Asia/Shanghai": "SHANGHAI",
      "opt/zi/Etc/UTC": "UTC!",
      "opt/zi/zone1970.tab": "tab",
      "opt/zi/posix/Asia/Shanghai": "posix copy",
      "opt/zi/right/Asia/Shanghai": "right copy",
      "opt/big": "0123456789",
      "data/b.txt": "bb",
      "data/a.txt": "a",
      "data/C.txt": "C",
      "data/sub/deep/x.py": "xyz",
      "data/skipme/y": "y",
      "data/nested/skipme/z": "z",
      "outside/secret": "s",
      "etc/dir/": "",
    },
    {
      "usr/share/zoneinfo": "/opt/zi",
      "usr/lib/zoneinfo": "../../opt/zi",
      "etc/localtime": "/usr/share/zoneinfo/Asia/Shanghai",
      "data/link-to-outside": "/outside",
      "data/file-link": "a.txt",
    },
  );
  const t = new RootFsTarget(root);

  test("links in directories on the way are followed inside the root", async () => {
    assert.equal((await t.readFile("/usr/share/zoneinfo/Asia/Shanghai", 100))?.toString(), "SHANGHAI");
    assert.equal((await t.readFile("/usr/lib/zoneinfo/Etc/UTC", 100))?.toString(), "UTC!");
    assert.equal(await t.realpath("/usr/share/zoneinfo/Asia/Shanghai"), "/opt/zi/Asia/Shanghai");
    assert.equal(await t.realpath("/etc/localtime"), "/opt/zi/Asia/Shanghai");
    assert.equal((await t.readFile("/etc/localtime", 100))?.toString(), "SHANGHAI");
    assert.deepEqual(await t.stat("/usr/share/zoneinfo"), (await t.stat("/opt/zi")) ?? undefined);
    assert.equal((await t.stat("/usr/share/zoneinfo"))?.type, "dir");
    assert.equal((await t.lstat("/usr/share/zoneinfo"))?.type, "symlink");
    // lstat follows links on the way but not the last component.
    assert.equal((await t.lstat("/usr/share/zoneinfo/Asia"))?.type, "dir");
  });

  test("readFile: exactly at the limit reads, one byte over throws TargetReadError", async () => {
    assert.equal((await t.readFile("/opt/big", 10))?.toString(), "0123456789");
    await assert.rejects(t.readFile("/opt/big", 9), (err: unknown) => {
      assert.ok(err instanceof TargetReadError);
      assert.equal(err.path, "/opt/big");
      assert.match(err.reason, /larger than 9 bytes/);
      return true;
    });
    await assert.rejects(t.readFile("/etc/dir", 100), TargetReadError, "a directory is not a regular file");
  });

  test("readdir is sorted and follows links", async () => {
    assert.deepEqual(await t.readdir("/data"), [
      "C.txt",
      "a.txt",
      "b.txt",
      "file-link",
      "link-to-outside",
      "nested",
      "skipme",
      "sub",
    ]);
    assert.deepEqual(await t.readdir("/usr/share/zoneinfo"), [
      "Asia",
      "Etc",
      "posix",
      "right",
      "zone1970.tab",
    ]);
  });

  test("listFiles: relative paths with sizes, sorted, links not followed, named top-level dirs skipped", async () => {
    assert.deepEqual(await t.listFiles("/data", new Set(["skipme"])), [
      { path: "C.txt", size: 1 },
      { path: "a.txt", size: 1 },
      { path: "b.txt", size: 2 },
      { path: "nested/skipme/z", size: 1 }, // only the top-level "skipme" is skipped
      { path: "sub/deep/x.py", size: 3 },
    ]);
    assert.deepEqual(
      (await t.listFiles("/data")).map((f) => f.path),
      ["C.txt", "a.txt", "b.txt", "nested/skipme/z", "skipme/y", "sub/deep/x.py"],
    );
    // The directory itself may be reached through a link (zoneinfo -> /opt/zi).
    assert.deepEqual(await t.listFiles("/usr/share/zoneinfo", new Set(["posix", "right"])), [
      { path: "Asia/Shanghai", size: 8 },
      { path: "Etc/UTC", size: 4 },
      { path: "zone1970.tab", size: 3 },
    ]);
    assert.deepEqual(await t.listFiles("/missing"), []);
  });
});

describe("RootFsTarget: identity", () => {
  test('"/" is this host, live', () => {
    const t = new RootFsTarget("/");
    assert.equal(t.kind, "host");
    assert.equal(t.live, true);
    assert.equal(t.description, "this host");
  });

  test("another directory is an unpacked root, not live, with an empty environment", async () => {
    const dir = tree({ "etc/hostname": "h" });
    const t = new RootFsTarget(dir);
    assert.equal(t.kind, "root");
    assert.equal(t.live, false);
    assert.equal(t.description, `root ${dir}`);
    assert.deepEqual(await t.environment(), {});
  });

  test("options override kind, description and environment", async () => {
    const t = new RootFsTarget("/tmp", {
      kind: "container",
      description: "container web-1",
      env: { TZ: "UTC" },
    });
    assert.equal(t.kind, "container");
    assert.equal(t.live, false);
    assert.equal(t.description, "container web-1");
    const env = await t.environment();
    assert.deepEqual(env, { TZ: "UTC" });
    env.TZ = "changed";
    assert.deepEqual(await t.environment(), { TZ: "UTC" }, "a copy each time");
  });

  test("the host environment is this process's", async () => {
    const env = await new RootFsTarget("/").environment();
    assert.equal(env.PATH, process.env.PATH);
  });
});

describe("RootFsTarget on this host (/): the kernel resolves, with the same answers", () => {
  test("links, dangling links, loops and missing paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-host-"));
    writeFileSync(join(dir, "real"), "content");
    symlinkSync("real", join(dir, "link"));
    symlinkSync("nowhere", join(dir, "dangling"));
    symlinkSync("loop-b", join(dir, "loop-a"));
    symlinkSync("loop-a", join(dir, "loop-b"));
    const t = new RootFsTarget("/");
    assert.equal(t.kind, "host");
    assert.equal(await t.realpath(join(dir, "link")), realpathSync(join(dir, "real")));
    assert.equal((await t.readFile(join(dir, "link"), 100))?.toString(), "content");
    assert.equal((await t.lstat(join(dir, "link")))?.type, "symlink");
    assert.equal((await t.stat(join(dir, "link")))?.type, "file");
    assert.equal((await t.lstat(join(dir, "dangling")))?.type, "symlink");
    assert.equal(await t.stat(join(dir, "dangling")), null);
    assert.equal(await t.realpath(join(dir, "dangling")), null);
    assert.equal(await t.readFile(join(dir, "dangling"), 100), null);
    assert.equal(await t.readlink(join(dir, "dangling")), "nowhere");
    assert.equal(await t.realpath(join(dir, "loop-a")), null);
    assert.equal(await t.stat(join(dir, "loop-a")), null);
    assert.equal(await t.lstat(join(dir, "missing")), null);
    assert.equal(await t.stat(join(dir, "no/such/dir/file")), null);
  });
});
