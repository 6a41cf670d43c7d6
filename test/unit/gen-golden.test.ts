/**
 * Golden files: every generator's output for three configs, and the Dockerfile for every base image, each a
 * real file under test/golden/. `UPDATE_GOLDEN=1` rewrites them (refused when CI is set: CI must compare).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseConfigText } from "../../src/config/load.js";
import type { SchedctlConfig } from "../../src/config/types.js";
import type { GeneratedFile } from "../../src/gen/common.js";
import { generateDockerfile } from "../../src/gen/dockerfile.js";
import { generate } from "../../src/gen/kit.js";
import { loadTemplates } from "../../src/gen/templates.js";
import { BASE_IMAGES, configFor, FILE_LOCK_TOML, FULL_TOML, NO_LOCK_TOML } from "../helpers/gen-fixtures.js";

const GOLDEN = fileURLToPath(new URL("../golden/", import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === "1";

function check(dir: string, files: GeneratedFile[], exhaustive = true): void {
  const base = join(GOLDEN, dir);
  if (UPDATE) {
    assert.ok(
      !process.env.CI,
      "UPDATE_GOLDEN=1 is refused in CI: goldens are compared there, never rewritten",
    );
    mkdirSync(base, { recursive: true });
    for (const f of files) writeFileSync(join(base, f.path), f.content);
  }
  for (const f of files) {
    const path = join(base, f.path);
    assert.ok(
      existsSync(path),
      `missing golden ${dir}/${f.path} (run the test with UPDATE_GOLDEN=1 and review the diff)`,
    );
    assert.equal(
      f.content,
      readFileSync(path, "utf8"),
      `${dir}/${f.path} differs from its golden (UPDATE_GOLDEN=1 rewrites it)`,
    );
  }
  if (exhaustive)
    assert.deepEqual(readdirSync(base).sort(), files.map((f) => f.path).sort(), `${dir}: stale golden files`);
}

const t = loadTemplates();
const SCENARIOS: [string, SchedctlConfig][] = [
  ["full", parseConfigText(FULL_TOML, "pyproject.toml", "pyproject")],
  ["file-lock", parseConfigText(FILE_LOCK_TOML, "schedctl.toml", "toml")],
  ["no-lock", parseConfigText(NO_LOCK_TOML, "schedctl.toml", "toml")],
];

describe("golden files", () => {
  for (const [name, cfg] of SCENARIOS)
    test(`gen all: ${name}`, () => {
      const files = generate("all", cfg, t);
      check(name, files);
      for (const f of files) {
        assert.ok(
          f.content.endsWith("\n") && !f.content.endsWith("\n\n"),
          `${f.path}: exactly one trailing newline`,
        );
        assert.ok(!/[ \t]$/m.test(f.content), `${f.path}: no trailing spaces`);
        assert.ok(
          !/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(f.content.replace(/2026-01-01T00:00:00\.000Z/g, "")),
          `${f.path}: no timestamps`,
        );
      }
    });

  test("gen dockerfile: every base image", () => {
    for (const b of BASE_IMAGES) {
      const f = generateDockerfile(configFor(b.image, b.python), t);
      check("dockerfile", [{ path: `${b.golden}.Dockerfile`, content: f.content }], false);
    }
    assert.deepEqual(
      readdirSync(join(GOLDEN, "dockerfile")).sort(),
      BASE_IMAGES.map((b) => `${b.golden}.Dockerfile`).sort(),
      "dockerfile: stale golden files",
    );
  });
});
