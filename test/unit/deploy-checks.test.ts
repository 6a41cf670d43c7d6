// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile, compose and shell text with ${VAR} on purpose
/**
 * deploy.dockerfile, deploy.compose and deploy.k8s on fixture app dirs (test/fixtures/deploy/*) and small temp
 * variants, plus the gatherer's file discovery and error collection.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { FactsWithDeploy } from "../../src/checks/deploy/common.js";
import { deployCompose } from "../../src/checks/deploy/compose.js";
import { deployDockerfile } from "../../src/checks/deploy/dockerfile.js";
import { deployK8s } from "../../src/checks/deploy/k8s.js";
import { gatherDeployFacts } from "../../src/deploy/gather.js";
import { factsForDir, fixtureFacts, tempApp } from "../helpers/deploy-facts.js";

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});
async function temp(
  files: Record<string, string>,
  opts: Parameters<typeof factsForDir>[1] = {},
): Promise<FactsWithDeploy> {
  const t = tempApp(files);
  cleanups.push(t.cleanup);
  return factsForDir(t.dir, opts);
}
const APP =
  "from apscheduler.schedulers.background import BackgroundScheduler\nscheduler = BackgroundScheduler()\nscheduler.start()\n";

describe("deploy.dockerfile", () => {
  test("the correct Dockerfile passes (TZ, link, tzdata, pipefail SHELL, exec-form CMD and HEALTHCHECK)", async () => {
    const r = deployDockerfile.run(await fixtureFacts("correct"));
    assert.equal(r.status, "pass");
    assert.equal(
      r.summary,
      "Dockerfile: TZ=Asia/Shanghai with /etc/localtime linked to Asia/Shanghai; no hadolint warnings (DL3008 DL3009 DL3015 DL3018 DL3025 DL4006)",
    );
  });
  test("Alpine: cp then apk del tzdata fails with tzlocal's error; the hadolint findings follow", async () => {
    const r = deployDockerfile.run(await fixtureFacts("dockerfile-tz-bad"));
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "Dockerfile:3: apk del tzdata after copying the zone file: libc keeps working from the copy, but tzlocal reads /etc/timezone (or TZ) and raises ZoneInfoNotFoundError: 'No time zone found with key Asia/Shanghai' (+3 more)",
    );
    assert.deepEqual(r.details.slice(1), [
      "Dockerfile:3: DL3018 warning: Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`",
      "Dockerfile:7: DL4006 warning: Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh in an alpine image or if your shell is symlinked to busybox then consider explicitly setting your SHELL to /bin/ash, or disable this check",
      "Dockerfile:10: DL3025 warning: Use arguments JSON notation for CMD and ENTRYPOINT arguments",
    ]);
    assert.deepEqual(r.fix?.commands, [
      "ENV TZ=Asia/Shanghai",
      'RUN apk add --no-cache tzdata && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone',
    ]);
  });
  test("the zone sources disagree: TZ vs the /etc/localtime link", async () => {
    const f = await temp({
      Dockerfile:
        'FROM python:3.12-slim-bookworm\nENV TZ=Asia/Shanghai\nRUN ln -snf /usr/share/zoneinfo/Etc/UTC /etc/localtime\nCMD ["gunicorn", "app:app"]\n',
    });
    const r = deployDockerfile.run(f);
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^Dockerfile:3: ENV TZ says Asia\/Shanghai but \/etc\/localtime → \/usr\/share\/zoneinfo\/Etc\/UTC says Etc\/UTC: tzlocal raises "Multiple conflicting time zone configurations found"/,
    );
    assert.deepEqual(r.fix?.commands.slice(0, 2), ["ENV TZ=Asia/Shanghai", "RUN apt-get update \\"]);
  });
  test("a legacy name on Debian 13 fails; not a zone name fails; empty TZ warns", async () => {
    const legacy = deployDockerfile.run(
      await temp({ Dockerfile: 'FROM python:3.13-slim\nENV TZ=US/Eastern\nCMD ["x"]\n' }),
    );
    assert.equal(legacy.status, "fail");
    assert.match(
      legacy.summary,
      /TZ=US\/Eastern is a legacy alias, and python:3\.13-slim is Debian 13 \(trixie\)/,
    );
    const abbr = deployDockerfile.run(
      await temp({ Dockerfile: 'FROM python:3.12-slim\nENV TZ=CEST\nCMD ["x"]\n' }),
    );
    assert.equal(abbr.status, "fail");
    assert.match(abbr.summary, /TZ=CEST is not a zone name: glibc silently falls back to UTC/);
    const empty = deployDockerfile.run(
      await temp({ Dockerfile: 'FROM python:3.12-slim\nENV TZ=\nCMD ["x"]\n' }),
    );
    assert.equal(empty.status, "warn");
  });
  test("a plain Alpine or Ubuntu base with TZ but no tzdata", async () => {
    const r = deployDockerfile.run(
      await temp({
        Dockerfile:
          'FROM alpine:3.20\nENV TZ=Europe/Berlin\nRUN apk add --no-cache python3=3.12.3-r1\nCMD ["python3"]\n',
      }),
    );
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /has no tzdata and nothing installs it: libc silently uses UTC and tzlocal says "tzlocal\(\) does not support non-zoneinfo timezones like Europe\/Berlin"/,
    );
    const ubuntu = deployDockerfile.run(
      await temp({
        Dockerfile:
          'FROM ubuntu:22.04\nENV TZ=Europe/Berlin\nRUN apt-get update && apt-get install -y --no-install-recommends tzdata=2024* && rm -rf /var/lib/apt/lists/*\nCMD ["x"]\n',
      }),
    );
    assert.equal(ubuntu.status, "warn");
    assert.match(
      ubuntu.summary,
      /without DEBIAN_FRONTEND=noninteractive: on Ubuntu the build stops at the "Geographic area:" prompt/,
    );
  });
  test("SCHEDULER_TIMEZONE differs from the image's zone: warn", async () => {
    const r = deployDockerfile.run(
      await temp(
        { Dockerfile: 'FROM python:3.12-slim\nENV TZ=Etc/UTC\nCMD ["x"]\n' },
        { schedulerTimezone: [{ value: "Asia/Shanghai", source: "config.py:2" }] },
      ),
    );
    assert.equal(r.status, "warn");
    assert.match(
      r.summary,
      /the image runs in Etc\/UTC but SCHEDULER_TIMEZONE=Asia\/Shanghai \(config\.py:2\)/,
    );
    assert.deepEqual(r.fix?.commands[0], "ENV TZ=Asia/Shanghai");
  });
  test("hadolint-only findings: the fix is the exact line (exec-form CMD, pipefail SHELL)", async () => {
    const cmd = deployDockerfile.run(
      await temp({ Dockerfile: "FROM python:3.12-slim\nCMD gunicorn -w 1 -b 0.0.0.0:8000 app:app\n" }),
    );
    assert.equal(cmd.status, "warn");
    assert.deepEqual(cmd.fix?.commands, ['CMD ["gunicorn", "-w", "1", "-b", "0.0.0.0:8000", "app:app"]']);
    const hc = deployDockerfile.run(
      await temp({
        Dockerfile:
          'FROM python:3.12-slim\nHEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1\nCMD ["x"]\n',
      }),
    );
    assert.deepEqual(hc.fix?.commands, [
      'HEALTHCHECK --interval=30s CMD ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]',
    ]);
    const pipe = deployDockerfile.run(
      await temp({ Dockerfile: 'FROM python:3.12-alpine\nRUN wget -qO- https://x | sh\nCMD ["x"]\n' }),
    );
    assert.deepEqual(pipe.fix?.commands, ['SHELL ["/bin/ash", "-o", "pipefail", "-c"]']);
  });
  test("info-level findings (DL3009, DL3015) alone do not fail", async () => {
    const r = deployDockerfile.run(
      await temp({
        Dockerfile: 'FROM debian:12\nRUN apt-get update && apt-get install -y curl=7.*\nCMD ["x"]\n',
      }),
    );
    assert.equal(r.status, "pass");
    assert.match(r.summary, /no hadolint warnings .*, 2 info$/);
  });
  test("no Dockerfile: skip with the reason", async () => {
    const f = await temp({ "app.py": APP });
    const r = deployDockerfile.run(f);
    assert.equal(r.status, "skip");
    assert.match(r.summary, /^no Dockerfile in \//);
  });
});

describe("deploy.compose", () => {
  test("the correct compose file passes", async () => {
    const r = deployCompose.run(await fixtureFacts("correct"));
    assert.equal(r.status, "pass");
    assert.equal(
      r.summary,
      "service scheduler: 1 replica, hostname scheduler, stop_grace_period 35s — the only compose service running the scheduler",
    );
  });
  test("a scaled service running the scheduler fails", async () => {
    const r = deployCompose.run(await fixtureFacts("flock-replicas"));
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "service web runs the scheduler and has 3 replicas (docker-compose.yml:4 deploy.replicas): 3 schedulers (a file lock is per container)",
    );
  });
  test("SCHEDULER_ALLOWED_HOSTS without a hostname fails; the obsolete version: warns", async () => {
    const r = deployCompose.run(await fixtureFacts("allowed-hosts-nohost"));
    assert.equal(r.status, "fail");
    assert.match(
      r.summary,
      /^SCHEDULER_ALLOWED_HOSTS is \["scheduler"\] .* but no service sets that hostname/,
    );
    assert.deepEqual(r.fix?.commands, ["    hostname: scheduler"]);
    assert.ok(
      r.details.some((d) =>
        d.startsWith('warn: docker-compose.yml:1: the top-level version: "3.8" is obsolete'),
      ),
    );
  });
  test("stop_grace_period shorter than graceful_timeout (compose's 10 s default vs Gunicorn's 30 s)", async () => {
    const f = await temp({
      "app.py": APP,
      Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "-w", "1", "app:app"]\n',
      "compose.yaml": "services:\n  app:\n    build: .\n",
    });
    const r = deployCompose.run(f);
    assert.equal(r.status, "warn");
    assert.match(
      r.summary,
      /^service app: stop_grace_period 10s \(compose default\) < Gunicorn graceful_timeout 30s \(default\)/,
    );
    assert.deepEqual(r.fix?.commands, ["    stop_grace_period: 35s"]);
  });
  test("scale and deploy.replicas disagreeing, container_name with replicas", async () => {
    const f = await temp({
      "app.py": "print()\n",
      "docker-compose.yml":
        "services:\n  a:\n    image: x\n    scale: 2\n    deploy:\n      replicas: 3\n  b:\n    image: y\n    container_name: b\n    deploy:\n      replicas: 2\n",
    });
    const r = deployCompose.run(f);
    assert.equal(r.status, "fail");
    assert.match(r.summary, /service a: scale: 2 and deploy\.replicas: 3 disagree/);
    assert.ok(r.details.some((d) => d.includes("container_name b with 2 replicas")));
  });
  test('an unset ${TZ} warns (TZ="" splits glibc and tzlocal)', async () => {
    const f = await temp({
      "docker-compose.yml": "services:\n  app:\n    image: myapp\n    environment:\n      - TZ=${TZ}\n",
    });
    const r = deployCompose.run(f);
    assert.equal(r.status, "warn");
    assert.match(r.summary, /The "TZ" variable is not set\. Defaulting to a blank string\./);
  });
  test("a YAML syntax error is one line with file:line", async () => {
    const r = deployCompose.run(await fixtureFacts("broken-yaml"));
    assert.equal(r.status, "fail");
    assert.match(r.summary, /^docker-compose\.yml:\d+: [^\n]+$/);
  });
  test("no compose file: skip with the reason", async () => {
    const r = deployCompose.run(await fixtureFacts("no-guard-single"));
    assert.equal(r.status, "skip");
    assert.match(
      r.summary,
      /^no docker-compose\.yml, docker-compose\.yaml, compose\.yaml or compose\.yml in /,
    );
  });
});

describe("deploy.k8s", () => {
  test("HPA on the scheduler Deployment, replicas 2, RollingUpdate", async () => {
    const r = deployK8s.run(await fixtureFacts("k8s-rolling"));
    assert.equal(r.status, "fail");
    assert.equal(
      r.summary,
      "HorizontalPodAutoscaler scheduler (k8s/app.yaml) scales Deployment scheduler, which runs the scheduler, up to 5 pods: up to 5 schedulers",
    );
    assert.deepEqual(r.fix?.commands, ["kubectl delete hpa scheduler"]);
    assert.deepEqual(
      r.details.map((d) => d.replace(/ \(k8s\/app\.yaml\)/, "")),
      [
        "fail: Deployment scheduler runs the scheduler with replicas: 2: 2 schedulers",
        "warn: Deployment scheduler runs the scheduler with strategy RollingUpdate (default): during every rollout the new pod starts before the old one stops, so two schedulers run and jobs due then fire twice",
        "warn: Deployment scheduler: terminationGracePeriodSeconds 30 (default) < Gunicorn graceful_timeout 60s: the kubelet SIGKILLs Gunicorn before its workers finish",
        "warn: Deployment web: terminationGracePeriodSeconds 30 (default) < Gunicorn graceful_timeout 60s: the kubelet SIGKILLs Gunicorn before its workers finish",
      ],
    );
  });
  test("replicas 1 + Recreate, HPA only on web: pass", async () => {
    const r = deployK8s.run(await fixtureFacts("k8s-good"));
    assert.equal(r.status, "pass");
    assert.equal(r.summary, "Deployment scheduler: 1 replica, strategy Recreate, no HPA");
  });
  test("RollingUpdate alone warns with the exact strategy lines", async () => {
    const f = await temp({
      "app.py": APP,
      Dockerfile: 'FROM python:3.12\nCMD ["gunicorn", "app:app"]\n',
      "deploy/app.yml":
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: me/app:1\n",
    });
    const r = deployK8s.run(f);
    assert.equal(r.status, "warn");
    assert.match(
      r.summary,
      /^Deployment app \(deploy\/app\.yml\) runs the scheduler with strategy RollingUpdate \(default\)/,
    );
    assert.deepEqual(r.fix?.commands, ["spec:", "  strategy:", "    type: Recreate"]);
  });
  test("no manifests: skip with the reason", async () => {
    const r = deployK8s.run(await fixtureFacts("correct"));
    assert.equal(r.status, "skip");
    assert.match(
      r.summary,
      /^no Kubernetes manifests \(k8s\/, deploy\/, manifests\/, \*\.yaml with kind: Deployment\) in /,
    );
  });
});

describe("gatherDeployFacts", () => {
  test("finds every kind of file and reads the gunicorn config named by -c", async () => {
    const t = tempApp({
      "Dockerfile.prod": 'FROM python:3.12\nCMD ["gunicorn", "-c", "conf/gunicorn_prod.py", "app:app"]\n',
      "conf/gunicorn_prod.py": "workers = 2\n",
      "docker/entrypoint.sh": '#!/bin/sh\nexec "$@"\n',
      "k8s/base/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {}\n",
      "charts/app/templates/deploy.yaml":
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: {{ .Release.Name }}}\n",
      ".venv/lib/site.py": "scheduler.start()\n",
      "app.py": APP,
      Procfile: "web: gunicorn app:app\n",
    });
    cleanups.push(t.cleanup);
    const d = await gatherDeployFacts(t.dir, {});
    assert.deepEqual(d.files.map((f) => `${f.kind}:${f.path}`).sort(), [
      "dockerfile:Dockerfile.prod",
      "gunicorn-config:conf/gunicorn_prod.py",
      "k8s:k8s/base/deploy.yaml",
      "procfile:Procfile",
      "script:docker/entrypoint.sh",
    ]);
    assert.equal(d.guard.filesScanned, 2, "app.py and the gunicorn config; the virtualenv is skipped");
    assert.deepEqual(d.errors, []);
  });
  test("unreadable and malformed inputs are collected, never thrown", async () => {
    const t = tempApp({
      "docker-compose.yml": "services:\n  web:\n    env_file: missing.env\n    image: x\n",
      "k8s/bad.yaml": "apiVersion: v1\nkind: Deployment\nspec: [\n",
    });
    cleanups.push(t.cleanup);
    const d = await gatherDeployFacts(t.dir, {});
    assert.deepEqual(
      d.errors.map((e) => e.message.replace(/:\d+:/, ":N:")),
      [
        "docker-compose.yml: env_file missing.env: not found",
        "k8s/bad.yaml:N: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    );
    const none = await gatherDeployFacts("/nonexistent/schedctl-app", {});
    assert.equal(none.errors.length, 1);
    assert.match(none.errors[0]?.message ?? "", /ENOENT/);
  });
});
