/**
 * The generated kit checked by doctor itself, through the built binary: `init` then `gen all` must produce a
 * deployment every static check passes (workers, deploy, routes with a real `nginx -t`), and the known broken
 * patterns must fail the matching check.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO, runCli } from "../helpers/cli.js";

interface Check {
  id: string;
  status: string;
  summary: string;
}

function doctor(args: string[]): { code: number | null; checks: Map<string, Check> } {
  const r = runCli(["doctor", "--format", "json", ...args]);
  const doc = JSON.parse(r.stdout) as { checks: Check[] };
  return { code: r.code, checks: new Map(doc.checks.map((c) => [c.id, c])) };
}

test("init + gen all writes a kit that passes every static check", () => {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-kit-"));
  const init = runCli(
    [
      "init",
      "--app",
      "shop",
      "--wsgi",
      "app:app",
      "--timezone",
      "Europe/Berlin",
      "--lock",
      "redis",
      "--web-replicas",
      "3",
    ],
    { cwd: dir },
  );
  assert.equal(init.code, 0, init.stderr);
  const gen = runCli(["gen", "all", "--out", "kit"], { cwd: dir });
  assert.equal(gen.code, 0, gen.stderr);
  const r = doctor(["--app-dir", join(dir, "kit"), "--only", "workers,deploy,routes"]);
  for (const [id, c] of r.checks) {
    if (id === "workers.live") continue; // no Gunicorn runs here
    assert.equal(c.status, "pass", `${id}: ${c.summary}`);
  }
  assert.match(r.checks.get("routes.nginx")?.summary ?? "", /nginx -t ok/);
  assert.equal(r.code, 0);
});

test("a /scheduler/ prefix with a regex for static files fails routes.nginx, naming the 301 and the regex", () => {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-kit-"));
  writeFileSync(
    join(dir, "nginx.conf"),
    `events {}
http {
  upstream web { server 127.0.0.1:8001; }
  upstream sched { server 127.0.0.1:8002; }
  server {
    listen 8080;
    location /scheduler/ { proxy_pass http://sched; }
    location ~* \\.(js|css)$ { proxy_pass http://web; }
    location / { proxy_pass http://web; }
  }
}
`,
  );
  const r = doctor(["--app-dir", dir, "--only", "routes.nginx"]);
  assert.equal(r.code, 1);
  const c = r.checks.get("routes.nginx");
  assert.equal(c?.status, "fail");
  assert.match(c?.summary ?? "", /301/);
  const text = runCli(["doctor", "--app-dir", dir, "--only", "routes.nginx"]).stdout;
  assert.match(text, /location = \/scheduler \{/, "the fix adds the exact location");
  assert.match(text, /\^~ \/scheduler\//);
});

test("flock across replicas fails workers.guard; a RollingUpdate scheduler fails deploy.k8s", () => {
  const flock = doctor([
    "--app-dir",
    join(REPO, "test/fixtures/deploy/flock-replicas"),
    "--only",
    "workers.guard",
  ]);
  assert.equal(flock.checks.get("workers.guard")?.status, "fail", flock.checks.get("workers.guard")?.summary);
  const k8s = doctor(["--app-dir", join(REPO, "test/fixtures/deploy/k8s-rolling"), "--only", "deploy.k8s"]);
  assert.equal(k8s.checks.get("deploy.k8s")?.status, "fail", k8s.checks.get("deploy.k8s")?.summary);
  assert.equal(k8s.code, 1);
});
