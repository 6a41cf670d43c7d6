/**
 * src/facts/app-dir.ts: the tz facts and the deploy facts walk the same app dir; through one AppDirReader
 * each directory is listed and each file read once, and both give what they give on their own.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gatherDeployFacts } from "../../src/deploy/gather.js";
import { gatherAppFacts } from "../../src/facts/app.js";
import { type AppDirFs, AppDirReader } from "../../src/facts/app-dir.js";

const APP = fileURLToPath(new URL("../fixtures/init-app", import.meta.url));

/** The real file system, counting the calls per path. */
function countingFs(): { fs: AppDirFs; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const count = (kind: string, path: string) =>
    calls.set(`${kind} ${path}`, (calls.get(`${kind} ${path}`) ?? 0) + 1);
  return {
    calls,
    fs: {
      readdir: (dir, opts) => {
        count("readdir", dir);
        return readdir(dir, opts);
      },
      stat: (path) => {
        count("stat", path);
        return stat(path);
      },
      readFile: (path) => {
        count("readFile", path);
        return readFile(path);
      },
    },
  };
}

describe("AppDirReader", () => {
  test("tz and deploy facts share one walk: every directory listed and every file read once", async () => {
    const { fs, calls } = countingFs();
    const shared = new AppDirReader(fs);
    const app = await gatherAppFacts(APP, shared);
    const deploy = await gatherDeployFacts(APP, {}, shared);
    const reads = [...calls].filter(([k]) => k.startsWith("readFile "));
    assert.ok(
      reads.some(([k]) => k.endsWith(".py")),
      "the Python sources were read",
    );
    assert.deepEqual(
      [...calls].filter(([, n]) => n > 1),
      [],
      "no path listed, stat'ed or read twice",
    );
    // the same facts as with a reader each
    assert.deepEqual(app, await gatherAppFacts(APP));
    assert.deepEqual(deploy, await gatherDeployFacts(APP, {}));
  });

  test("a missing file, directory or stat rejects as fs does, and is asked once", async () => {
    const { fs, calls } = countingFs();
    const r = new AppDirReader(fs);
    const missing = `${APP}/no-such-file`;
    for (let i = 0; i < 2; i++) {
      await assert.rejects(r.read(missing), { code: "ENOENT" });
      await assert.rejects(r.stat(missing), { code: "ENOENT" });
      await assert.rejects(r.list(missing), { code: "ENOENT" });
      assert.equal(await r.text(missing), null);
    }
    assert.deepEqual([...calls.values()], [1, 1, 1]);
  });
});
