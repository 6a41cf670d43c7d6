/**
 * `schedctl gen` IO: --force, --dry-run, --diff, atomic writes, determinism, and bad config → exit 2.
 * The command functions run in-process with captured stdout/stderr; a thrown UsageError is exit 2
 * (src/cli.ts maps it, in one place).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type GenOptions, gen, type Io, writeAtomic } from "../../src/commands/gen.js";
import { parseConfigText } from "../../src/config/load.js";
import { unifiedDiff } from "../../src/gen/diff.js";
import { generate } from "../../src/gen/kit.js";
import { loadTemplates } from "../../src/gen/templates.js";
import { FILE_LOCK_TOML, FULL_TOML, NO_LOCK_TOML, requireTool } from "../helpers/gen-fixtures.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function runGen(what: string, opts: GenOptions): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  };
  try {
    return { code: await gen(what, opts, io), stdout, stderr };
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    if (e.exitCode === 2) return { code: 2, stdout, stderr: `${stderr}schedctl: ${e.message}\n` };
    throw err;
  }
}

function appDir(toml = FULL_TOML, file = "pyproject.toml"): string {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-cmd-"));
  writeFileSync(join(dir, file), toml);
  return dir;
}

const KIT = ["Dockerfile", "compose.yaml", "gunicorn.conf.py", "k8s.yaml", "nginx.conf", "schedctl_lock.py"];
const listing = (dir: string) => readdirSync(dir).sort();

describe("gen: writing", () => {
  test("gen all writes the kit; a second run is byte-identical and leaves every file alone", async () => {
    const dir = appDir();
    const first = await runGen("all", { appDir: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(listing(dir), [...KIT, "pyproject.toml"].sort());
    assert.equal(first.stdout, "");
    for (const f of KIT)
      assert.match(first.stderr, new RegExp(`^wrote ${dir}/${f.replace(".", "\\.")}$`, "m"));
    const before = Object.fromEntries(KIT.map((f) => [f, readFileSync(join(dir, f), "utf8")]));
    const inodes = Object.fromEntries(KIT.map((f) => [f, statSync(join(dir, f)).ino]));
    const second = await runGen("all", { appDir: dir });
    assert.equal(second.code, 0);
    for (const f of KIT) {
      assert.match(second.stderr, new RegExp(`^unchanged ${dir}/${f.replace(".", "\\.")}$`, "m"));
      assert.equal(readFileSync(join(dir, f), "utf8"), before[f]);
      assert.equal(statSync(join(dir, f)).ino, inodes[f], `${f} was not rewritten`);
    }
  });

  test("deterministic: generating twice, and from an equivalent config with keys reordered, gives the same bytes", () => {
    const t = loadTemplates();
    const a = generate("all", parseConfigText(FULL_TOML, "pyproject.toml", "pyproject"), t);
    const b = generate("all", parseConfigText(FULL_TOML, "pyproject.toml", "pyproject"), t);
    assert.deepEqual(a, b);
    const reordered = FULL_TOML.replace(
      'app = "shop"\nwsgi = "app:create_app()"\n',
      'wsgi = "app:create_app()"\napp = "shop"\n',
    );
    assert.notEqual(reordered, FULL_TOML);
    assert.deepEqual(generate("all", parseConfigText(reordered, "pyproject.toml", "pyproject"), t), a);
  });

  test("a file that differs is never overwritten without --force: exit 2, one line naming it, nothing written", async () => {
    const dir = appDir();
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    const r = await runGen("all", { appDir: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^schedctl: ${dir}/Dockerfile: exists and differs from what schedctl would write; nothing written \\(use --diff to see the change, --force to overwrite\\)\\n$`,
      ),
    );
    assert.deepEqual(listing(dir), ["Dockerfile", "pyproject.toml"], "not even the new files were written");
    assert.equal(readFileSync(join(dir, "Dockerfile"), "utf8"), "FROM scratch\n");
  });

  test("--force overwrites atomically (a new inode), keeping the file's mode; no temp file is left", async () => {
    const dir = appDir();
    writeFileSync(join(dir, "nginx.conf"), "# mine\n");
    chmodSync(join(dir, "nginx.conf"), 0o600);
    const ino = statSync(join(dir, "nginx.conf")).ino;
    const r = await runGen("nginx", { appDir: dir, force: true });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^overwrote .*nginx\.conf$/m);
    const st = statSync(join(dir, "nginx.conf"));
    assert.notEqual(st.ino, ino, "replaced by rename, not rewritten in place");
    assert.equal(st.mode & 0o777, 0o600);
    assert.match(readFileSync(join(dir, "nginx.conf"), "utf8"), /^# nginx routing generated by schedctl/);
    assert.deepEqual(listing(dir), ["nginx.conf", "pyproject.toml"]);
  });

  test("writeAtomic cleans its temp file when the rename fails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-atomic-"));
    mkdirSync(join(dir, "target"));
    writeFileSync(join(dir, "target", "x"), "");
    await assert.rejects(writeAtomic(join(dir, "target"), "content"));
    assert.deepEqual(listing(dir), ["target"]);
  });

  test("--out writes elsewhere (creating the directory); the app dir only holds the config", async () => {
    const dir = appDir(FILE_LOCK_TOML, "schedctl.toml");
    const out = join(dir, "deploy", "kit");
    const r = await runGen("all", { appDir: dir, out });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listing(out), KIT);
    assert.deepEqual(listing(dir), ["deploy", "schedctl.toml"]);
  });

  test("gen all without a lock backend writes no lock module; gen lock then says why (exit 2)", async () => {
    const dir = appDir(NO_LOCK_TOML, "schedctl.toml");
    assert.equal((await runGen("all", { appDir: dir })).code, 0);
    assert.ok(!existsSync(join(dir, "schedctl_lock.py")));
    const r = await runGen("lock", { appDir: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /lock backend is "none"; set \[lock\] backend = "redis"/);
  });

  test("bad config: exit 2 naming the key and its line, nothing written", async () => {
    const dir = appDir(FULL_TOML.replace("web-replicas = 3", 'web-replicas = "three"'));
    const line = FULL_TOML.split("\n").findIndex((l) => l.startsWith("web-replicas")) + 1;
    const r = await runGen("all", { appDir: dir });
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `schedctl: pyproject.toml:${line}: [tool.schedctl.instances] web-replicas: expected a whole number of replica count (1-1000), got "three"\n`,
    );
    assert.deepEqual(listing(dir), ["pyproject.toml"]);
    assert.equal((await runGen("nope", { appDir: dir })).code, 2);
    assert.equal((await runGen("all", { appDir: dir, dryRun: true, diff: true })).code, 2);
  });
});

describe("gen: previews", () => {
  test("--dry-run prints every file with its state and writes nothing", async () => {
    const dir = appDir();
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    const r = await runGen("all", { appDir: dir, dryRun: true });
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      new RegExp(
        `^==> ${dir}/Dockerfile \\(changed; would need --force\\) <==\\n# syntax=docker/dockerfile:1\\n`,
        "m",
      ),
    );
    assert.match(r.stdout, new RegExp(`^==> ${dir}/nginx\\.conf \\(new\\) <==$`, "m"));
    assert.deepEqual(listing(dir), ["Dockerfile", "pyproject.toml"]);
    assert.equal(readFileSync(join(dir, "Dockerfile"), "utf8"), "FROM scratch\n");
  });

  test("--diff prints a unified diff that `patch` applies to give exactly the generated files; writes nothing", async () => {
    const patch = requireTool("patch", "patch");
    const dir = appDir();
    assert.equal((await runGen("all", { appDir: dir })).code, 0);
    const expected = Object.fromEntries(KIT.map((f) => [f, readFileSync(join(dir, f), "utf8")]));
    // edit two files and delete one
    writeFileSync(
      join(dir, "nginx.conf"),
      expected["nginx.conf"]?.replace(
        "proxy_read_timeout 65s;",
        "proxy_read_timeout 5s;\n    # local tweak",
      ) ?? "",
    );
    writeFileSync(join(dir, "Dockerfile"), `# header\n${expected.Dockerfile}`.replace("EXPOSE 8000\n", ""));
    spawnSync("rm", [join(dir, "k8s.yaml")]);
    const r = await runGen("all", { appDir: dir, diff: true });
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      new RegExp(`^--- ${dir}/nginx\\.conf\\n\\+\\+\\+ ${dir}/nginx\\.conf\\n@@ -`, "m"),
    );
    assert.match(
      r.stdout,
      new RegExp(`^--- /dev/null\\n\\+\\+\\+ ${dir}/k8s\\.yaml\\n@@ -0,0 \\+1,\\d+ @@`, "m"),
    );
    assert.ok(!r.stdout.includes(`+++ ${dir}/gunicorn.conf.py`), "unchanged files have no diff");
    assert.ok(!existsSync(join(dir, "k8s.yaml")), "--diff writes nothing");
    // patch refuses absolute names: make them relative to the app dir
    const relative = r.stdout.replace(/^(---|\+\+\+) (\S+)/gm, (_, side: string, path: string) =>
      path === "/dev/null"
        ? `${side} ${path}`
        : `${side} ${side === "---" ? "a" : "b"}/${path.slice(dir.length + 1)}`,
    );
    const p = spawnSync(patch, ["-p1", "-s", "-d", dir], { input: relative, encoding: "utf8" });
    assert.equal(p.status, 0, `${p.stdout}${p.stderr}`);
    for (const f of KIT) assert.equal(readFileSync(join(dir, f), "utf8"), expected[f], `${f} after patch`);
  });

  test("unifiedDiff matches GNU diff -u hunk for hunk on simple edits", () => {
    const diff = requireTool("diff", "diffutils");
    const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-diff-"));
    const cases: [string, string][] = [
      ["a\nb\nc\n", "a\nB\nc\n"],
      ["", "x\ny\n"],
      ["x\ny\n", ""],
      [
        "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n",
        "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\nfourteen\n15\n",
      ],
      ["a\nb\n", "a\nb"],
      ["a\nb", "a\nc"],
      ["k\nl\nm\n", "j\nk\nl\nm\nn\n"],
    ];
    for (const [i, [a, b]] of cases.entries()) {
      writeFileSync(join(dir, `a${i}`), a);
      writeFileSync(join(dir, `b${i}`), b);
      const gnu = spawnSync(diff, ["-u", `a${i}`, `b${i}`], { cwd: dir, encoding: "utf8" })
        .stdout.split("\n")
        .slice(2)
        .join("\n");
      const ours = unifiedDiff(a, b, "x", "y").split("\n").slice(2).join("\n");
      assert.equal(ours, gnu, `case ${i}`);
    }
    assert.equal(unifiedDiff("same\n", "same\n", "x", "y"), "");
  });

  test("property: patch(old, unifiedDiff(old, new)) == new", () => {
    const patch = requireTool("patch", "patch");
    const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-diffprop-"));
    const lines = fc.array(fc.constantFrom("a", "b", "c", "d", "e", "", "x y"), { maxLength: 25 });
    const samples = fc.sample(fc.tuple(lines, lines, fc.boolean(), fc.boolean()), { numRuns: 60, seed: 42 });
    let all = "";
    samples.forEach(([a, b, ea, eb], i) => {
      const old = a.join("\n") + (ea && a.length > 0 ? "" : a.length > 0 ? "\n" : "");
      const neu = b.join("\n") + (eb && b.length > 0 ? "" : b.length > 0 ? "\n" : "");
      writeFileSync(join(dir, `f${i}`), old);
      writeFileSync(join(dir, `f${i}.want`), neu);
      all += unifiedDiff(old, neu, `a/f${i}`, `b/f${i}`);
    });
    const p = spawnSync(patch, ["-p1", "-s", "-d", dir], { input: all, encoding: "utf8" });
    assert.equal(p.status, 0, `${p.stdout}${p.stderr}`);
    samples.forEach((_, i) => {
      assert.equal(
        readFileSync(join(dir, `f${i}`), "utf8"),
        readFileSync(join(dir, `f${i}.want`), "utf8"),
        `sample ${i}`,
      );
    });
  });
});
