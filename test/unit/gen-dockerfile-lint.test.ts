/**
 * hadolint's DL3008, DL3009, DL3015, DL3018, DL3025 and DL4006 (src/deploy/dockerfile.ts lintDockerfile, which
 * implements them with hadolint's semantics) on every Dockerfile `schedctl gen` writes: none may fire. Then
 * the same linter on deliberately broken variants, so a silent linter cannot make this pass.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { lintDockerfile, parseDockerfile } from "../../src/deploy/dockerfile.js";
import { ensurePipefail, generateDockerfile } from "../../src/gen/dockerfile.js";
import { loadTemplates } from "../../src/gen/templates.js";
import {
  BASE_IMAGES,
  configFor,
  FILE_LOCK_TOML,
  NO_LOCK_TOML,
  requireTool,
} from "../helpers/gen-fixtures.js";

const RULES = ["DL3008", "DL3009", "DL3015", "DL3018", "DL3025", "DL4006"];
const t = loadTemplates();

const dockerfiles = (): [string, string][] => [
  ...BASE_IMAGES.map((b): [string, string] => [
    b.image,
    generateDockerfile(configFor(b.image, b.python), t).content,
  ]),
  [
    "file-lock (alpine)",
    generateDockerfile(parseConfigText(FILE_LOCK_TOML, "schedctl.toml", "toml"), t).content,
  ],
  [
    "no-lock (bookworm)",
    generateDockerfile(parseConfigText(NO_LOCK_TOML, "schedctl.toml", "toml"), t).content,
  ],
  [
    "distroless debian13",
    generateDockerfile(configFor("gcr.io/distroless/python3-debian13", "3.13"), t).content,
  ],
];

describe("generated Dockerfiles pass hadolint's DL3008/DL3009/DL3015/DL3018/DL3025/DL4006", () => {
  test("no finding on any base image", () => {
    for (const [name, text] of dockerfiles()) {
      const findings = lintDockerfile(text).filter((f) => RULES.includes(f.rule));
      assert.deepEqual(
        findings,
        [],
        `${name}:\n${findings.map((f) => `${f.line}: ${f.rule} ${f.message}`).join("\n")}`,
      );
      assert.ok(!/hadolint ignore/.test(text), `${name}: passes without ignore pragmas`);
    }
  });

  test("the linter does fire on broken variants of our own output", () => {
    const ubuntu = generateDockerfile(configFor("ubuntu:24.04"), t).content;
    const slim = generateDockerfile(configFor("python:3.12-slim"), t).content;
    const rulesOf = (text: string) => [...new Set(lintDockerfile(text).map((f) => f.rule))].sort();
    assert.deepEqual(rulesOf(ubuntu.replace(" --no-install-recommends", "")), ["DL3015"]);
    assert.deepEqual(rulesOf(ubuntu.replace("python3=3.12.* ", "python3 ")), ["DL3008"]);
    assert.deepEqual(rulesOf(ubuntu.replace(" && rm -rf /var/lib/apt/lists/* \\\n", " \\\n")), ["DL3009"]);
    assert.deepEqual(
      rulesOf(slim.replace(/^CMD \[.*\]$/m, "CMD gunicorn --config gunicorn.conf.py app:app")),
      ["DL3025"],
    );
    assert.deepEqual(rulesOf(slim.replace(/ {2}CMD \["python".*\]$/m, "  CMD python -c 'pass'")), ["DL3025"]);
    const piped = slim.replace(
      "RUN pip install --no-cache-dir -r requirements.txt",
      "RUN pip freeze | tee /tmp/freeze.txt",
    );
    assert.deepEqual(rulesOf(piped), ["DL4006"]);
    assert.deepEqual(
      rulesOf(ensurePipefail(piped, "debian")),
      [],
      "ensurePipefail adds the SHELL DL4006 wants",
    );
    assert.match(
      ensurePipefail(piped, "debian"),
      /^SHELL \["\/bin\/bash", "-o", "pipefail", "-c"\]\nRUN pip freeze \| tee/m,
    );
    const alpine = generateDockerfile(configFor("python:3.12-alpine"), t).content;
    const apk = alpine.replace("RUN ln -snf", "RUN apk add --no-cache tzdata && ln -snf");
    assert.deepEqual(rulesOf(apk), ["DL3018"]);
    assert.deepEqual(
      rulesOf(ensurePipefail(alpine.replace("RUN pip install", "RUN echo a | cat && pip install"), "alpine")),
      [],
    );
    assert.equal(
      ensurePipefail("FROM x\nRUN a || b\n", "debian"),
      "FROM x\nRUN a || b\n",
      "|| is not a pipe",
    );
  });

  test("every shell-form RUN is valid for the image's /bin/sh (dash on Debian/Ubuntu, busybox ash on Alpine)", () => {
    const dash = requireTool("dash", "dash");
    const busybox = requireTool("busybox", "busybox-static");
    let checked = 0;
    for (const [name, text] of dockerfiles()) {
      const alpine = /^FROM python:[0-9.]+-alpine/m.test(text);
      for (const i of parseDockerfile(text).instructions) {
        if (i.keyword !== "RUN" || i.json) continue;
        const r = alpine
          ? spawnSync(busybox, ["ash", "-n", "-c", i.args], { encoding: "utf8" })
          : spawnSync(dash, ["-n", "-c", i.args], { encoding: "utf8" });
        assert.equal(r.status, 0, `${name}:${i.line}: ${r.stderr}\n${i.args}`);
        checked++;
      }
    }
    assert.ok(checked >= 15, `${checked} RUN instructions checked`);
  });
});
