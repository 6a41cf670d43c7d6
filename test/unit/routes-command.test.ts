/**
 * `schedctl routes explain` (src/commands/routes.ts) called directly: text and JSON output on fixture
 * configurations, and bad input as one-line UsageErrors (exit 2) naming the input.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type RoutesIo, routesExplain } from "../../src/commands/routes.js";
import { UsageError } from "../../src/errors.js";

const FIXTURES = new URL("../fixtures/nginx/", import.meta.url).pathname;
const DEBIAN = `${FIXTURES}debian/nginx.conf`;

type Run = (io: RoutesIo) => Promise<number>;

async function capture(fn: Run): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await fn({
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

async function usageError(fn: Run): Promise<UsageError> {
  try {
    await capture(fn);
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /\n/, "one line");
    return e;
  }
  assert.fail("expected a UsageError");
}

const tmp = mkdtempSync(join(tmpdir(), "schedctl-routes-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("routes explain: output", () => {
  test("text: the winning location, file:line, and the numbered steps", async () => {
    const r = await capture((io) =>
      routesExplain(["/scheduler/jobs/x.js", "/scheduler"], { nginx: DEBIAN, server: "app.example.com" }, io),
    );
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^server app\.example\.com {2}\(sites-enabled\/app:1\)\n/);
    assert.match(r.stdout, /→ location \^~ \/scheduler\/ {2}\(sites-enabled\/app:12\)\n/);
    assert.match(
      r.stdout,
      /\n\/scheduler\/jobs\/x\.js\n {2}→ location \^~ \/scheduler\/ {2}\(.*sites-enabled\/app:12\)\n {4}1\. URI as nginx matches it: \/scheduler\/jobs\/x\.js\n {4}2\. at server level: longest matching prefix is location \^~ \/scheduler\//,
    );
    assert.match(r.stdout, /has "\^~", so this level's 1 regex location\(s\) are not checked/);
    assert.match(r.stdout, /\n\/scheduler\n {2}→ location = \/scheduler {2}\(/);
    assert.equal(r.stderr, "");
  });

  test("json: exactly schemaVersion, server, results[{uri, match, redirect, steps}]", async () => {
    const r = await capture((io) =>
      routesExplain(["/scheduler/", "/nope/x.css"], { nginx: DEBIAN, format: "json" }, io),
    );
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc), ["schemaVersion", "server", "results"]);
    assert.equal(doc.schemaVersion, "1.0");
    assert.deepEqual(doc.server.names, ["app.example.com"]);
    assert.equal(doc.results.length, 2);
    for (const res of doc.results) assert.deepEqual(Object.keys(res), ["uri", "match", "redirect", "steps"]);
    assert.deepEqual(doc.results[0].match, {
      modifier: "^~",
      pattern: "/scheduler/",
      file: `${FIXTURES}debian/sites-enabled/app`,
      line: 12,
    });
    assert.equal(doc.results[0].redirect, null);
    assert.equal(doc.results[1].match.modifier, "~*");
    assert.ok(doc.results[1].steps.length >= 3);
  });

  test("a 301 is reported as redirect {status, location}", async () => {
    const f = join(tmp, "redirect.conf");
    writeFileSync(f, "server { listen 80; location /scheduler/ { proxy_pass http://s:8000; } }\n");
    const r = await capture((io) => routesExplain(["/scheduler?x=1"], { nginx: f, format: "json" }, io));
    const res = JSON.parse(r.stdout).results[0];
    assert.deepEqual(res.redirect, { status: 301, location: "/scheduler/?x=1" });
    assert.equal(res.match.pattern, "/scheduler/");
    const t = await capture((io) => routesExplain(["/scheduler"], { nginx: f }, io));
    assert.match(t.stdout, /→ 301 → \/scheduler\/ {2}\(location \/scheduler\/, /);
  });

  test("an unknown --server name falls back to the default server, said on stderr", async () => {
    const r = await capture((io) => routesExplain(["/"], { nginx: DEBIAN, server: "other.example.com" }, io));
    assert.match(r.stderr, /no server_name matches other\.example\.com: nginx uses the default server/);
  });
});

describe("routes explain: bad input is a UsageError naming it", () => {
  test("URI not starting with /", async () => {
    const e = await usageError((io) => routesExplain(["scheduler/jobs"], { nginx: DEBIAN }, io));
    assert.match(e.message, /^URI "scheduler\/jobs": must start with "\/"/);
  });
  test("URI with a space or control character", async () => {
    assert.match(
      (await usageError((io) => routesExplain(["/a b"], { nginx: DEBIAN }, io))).message,
      /contains a space; .*%20/,
    );
  });
  test("missing file", async () => {
    const e = await usageError((io) => routesExplain(["/"], { nginx: "/nonexistent/nginx.conf" }, io));
    assert.equal(e.message, "--nginx /nonexistent/nginx.conf: no such file (or it cannot be read)");
  });
  test("parse error, with file:line", async () => {
    const f = join(tmp, "broken.conf");
    writeFileSync(f, "server {\n  listen 80\n}\n");
    const e = await usageError((io) => routesExplain(["/"], { nginx: f }, io));
    assert.equal(e.message, `--nginx ${f}: ${f}:3: unexpected "}" (the directive before it has no ";")`);
  });
  test("a configuration nginx refuses", async () => {
    const f = join(tmp, "dup.conf");
    writeFileSync(f, "server {\n  location /x { }\n  location ^~ /x { }\n}\n");
    const e = await usageError((io) => routesExplain(["/x"], { nginx: f }, io));
    assert.match(
      e.message,
      /nginx would refuse this configuration: .*dup\.conf:3: duplicate location "\/x"$/,
    );
  });
  test("binary file", async () => {
    const f = join(tmp, "bin.conf");
    writeFileSync(f, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
    assert.match((await usageError((io) => routesExplain(["/"], { nginx: f }, io))).message, /binary file/);
  });
  test("bad --format", async () => {
    assert.match(
      (await usageError((io) => routesExplain(["/"], { nginx: DEBIAN, format: "xml" }, io))).message,
      /--format xml/,
    );
  });
});
