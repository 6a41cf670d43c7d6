/**
 * The structure of the generated compose file and Kubernetes manifests: the YAML parses (the yaml package,
 * and src/deploy/compose.ts, the reader doctor uses), the scheduler is a true singleton, the web pool has
 * its replicas, timeouts line up with gunicorn.conf.py and nginx.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import type { SchedctlConfig } from "../../src/config/types.js";
import { parseCompose } from "../../src/deploy/compose.js";
import { timing } from "../../src/gen/common.js";
import { generateCompose } from "../../src/gen/compose.js";
import { generateGunicorn } from "../../src/gen/gunicorn.js";
import { generateK8s } from "../../src/gen/k8s.js";
import { generateNginx } from "../../src/gen/nginx.js";
import { loadTemplates } from "../../src/gen/templates.js";
import { FILE_LOCK_TOML, FULL_TOML, NO_LOCK_TOML } from "../helpers/gen-fixtures.js";

const t = loadTemplates();
const CONFIGS: [string, SchedctlConfig][] = [
  ["full", parseConfigText(FULL_TOML, "pyproject.toml", "pyproject")],
  ["file-lock", parseConfigText(FILE_LOCK_TOML, "schedctl.toml", "toml")],
  ["no-lock", parseConfigText(NO_LOCK_TOML, "schedctl.toml", "toml")],
];

type Service = {
  hostname?: string;
  image?: string;
  build?: string;
  environment: Record<string, string>;
  deploy?: { replicas: number };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  ports?: string[];
  volumes?: string[];
};

describe("compose.yaml", () => {
  for (const [name, cfg] of CONFIGS)
    test(name, () => {
      const text = generateCompose(cfg).content;
      const doc = parseYaml(text) as { version?: unknown; name: string; services: Record<string, Service> };
      assert.equal(doc.version, undefined, "no obsolete version: key");
      const { webHost, schedulerHost, webReplicas, webWorkers } = cfg.instances;
      const redis = cfg.lock.backend === "redis";
      assert.deepEqual(
        Object.keys(doc.services),
        ["nginx", ...(redis ? ["redis"] : []), schedulerHost, webHost].sort(),
      );
      const sched = doc.services[schedulerHost] as Service;
      const web = doc.services[webHost] as Service;
      const nginx = doc.services.nginx as Service;
      // the singleton
      assert.equal(sched.hostname, schedulerHost);
      assert.equal(sched.deploy?.replicas, 1);
      assert.equal(sched.environment.WORKERS_COUNT, "1");
      assert.equal(sched.environment.SCHEDULER_ENABLED, "1");
      assert.equal(sched.environment.SCHEDULER_ALLOWED_HOSTS, JSON.stringify([schedulerHost]));
      assert.equal(sched.environment.FLASK_SCHEDULER_ALLOWED_HOSTS, JSON.stringify([schedulerHost]));
      assert.equal(sched.environment.PORT, String(cfg.instances.schedulerPort));
      // the pool
      assert.equal(web.hostname, undefined);
      assert.equal(web.deploy?.replicas, webReplicas);
      assert.equal(web.environment.SCHEDULER_ENABLED, "0");
      assert.equal(web.environment.WORKERS_COUNT, webWorkers === "auto" ? undefined : String(webWorkers));
      assert.equal(web.ports, undefined, "only nginx publishes ports");
      // one image, both roles, healthchecks, timeouts
      for (const s of [sched, web]) {
        assert.equal(s.image, cfg.image);
        assert.equal(s.build, ".");
        assert.equal(s.environment.TZ, cfg.timezone);
        assert.deepEqual(s.healthcheck?.test.slice(0, 3), ["CMD", cfg.baseImage.pythonBin, "-c"]);
        const grace = Number(/^(\d+)s$/.exec(s.stop_grace_period ?? "")?.[1]);
        assert.ok(
          grace > cfg.timeouts.graceful,
          `stop_grace_period ${s.stop_grace_period} > graceful_timeout ${cfg.timeouts.graceful}`,
        );
      }
      assert.match(
        generateGunicorn(cfg, t).content,
        new RegExp(`^graceful_timeout = ${cfg.timeouts.graceful}$`, "m"),
      );
      // nginx waits for healthy app containers
      assert.deepEqual(nginx.depends_on, {
        [schedulerHost]: { condition: "service_healthy" },
        [webHost]: { condition: "service_healthy" },
      });
      assert.deepEqual(nginx.ports, [`${cfg.nginx.listen}:${cfg.nginx.listen}`]);
      assert.deepEqual(nginx.volumes, ["./nginx.conf:/etc/nginx/conf.d/default.conf:ro"]);
      if (redis) {
        assert.deepEqual(sched.depends_on, { redis: { condition: "service_healthy" } });
        assert.equal(sched.environment.SCHEDCTL_REDIS_URL, "redis://redis:6379/0");
        assert.deepEqual(doc.services.redis?.healthcheck?.test, ["CMD", "redis-cli", "ping"]);
      } else assert.equal(sched.environment.SCHEDCTL_REDIS_URL, undefined);

      // doctor's own compose reader sees the same
      const parsed = parseCompose(text, "compose.yaml", {});
      assert.equal(parsed.error, null);
      const p = parsed.project;
      assert.ok(p);
      assert.equal(p.version, null);
      const ps = p.services.find((s) => s.name === schedulerHost);
      assert.equal(ps?.replicas, 1);
      assert.equal(ps?.hostname, schedulerHost);
      assert.equal(ps?.stopGracePeriod?.seconds, timing(cfg).stopGracePeriod);
      assert.equal(p.services.find((s) => s.name === webHost)?.replicas, webReplicas);
    });
});

describe("k8s.yaml", () => {
  for (const [name, cfg] of CONFIGS)
    test(name, () => {
      const text = generateK8s(cfg).content;
      const docs = parseAllDocuments(text);
      for (const d of docs) assert.deepEqual(d.errors, []);
      // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field
      const [webDep, schedDep, webSvc, schedSvc, ingress] = docs.map((d) => d.toJS() as any);
      assert.equal(webDep.kind, "Deployment");
      assert.equal(webDep.spec.replicas, cfg.instances.webReplicas);
      assert.equal(webDep.spec.strategy, undefined);
      assert.equal(schedDep.spec.replicas, 1);
      assert.deepEqual(schedDep.spec.strategy, { type: "Recreate" }, "a rollout never runs two schedulers");
      assert.equal(schedDep.spec.template.spec.hostname, cfg.instances.schedulerHost);
      for (const dep of [webDep, schedDep]) {
        assert.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
        const c = dep.spec.template.spec.containers[0];
        assert.equal(c.image, cfg.image);
        assert.ok(c.readinessProbe.exec.command.includes("-c"));
        assert.equal(c.livenessProbe.tcpSocket.port, "http");
        assert.equal(dep.spec.template.spec.terminationGracePeriodSeconds, timing(cfg).stopGracePeriod);
      }
      const env = (dep: {
        spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
      }) => Object.fromEntries(dep.spec.template.spec.containers[0]?.env.map((e) => [e.name, e.value]) ?? []);
      assert.equal(env(schedDep).WORKERS_COUNT, "1");
      assert.equal(env(schedDep).SCHEDULER_ENABLED, "1");
      assert.equal(env(webDep).SCHEDULER_ENABLED, "0");
      assert.deepEqual(webSvc.spec.selector, webDep.spec.selector.matchLabels);
      assert.deepEqual(schedSvc.spec.selector, schedDep.spec.selector.matchLabels);
      assert.equal(ingress.kind, "Ingress");
      assert.equal(ingress.spec.ingressClassName, "nginx");
      const paths = ingress.spec.rules[0].http.paths.map(
        (p: { path: string; pathType: string; backend: { service: { name: string } } }) => [
          p.path,
          p.pathType,
          p.backend.service.name,
        ],
      );
      const sched = `${cfg.app}-scheduler`;
      assert.deepEqual(paths.slice(0, 2), [
        [cfg.scheduler.apiPrefix, "Exact", sched],
        [`${cfg.scheduler.apiPrefix}/`, "Prefix", sched],
      ]);
      assert.deepEqual(paths.at(-1), ["/", "Prefix", `${cfg.app}-web`]);
      assert.equal(
        ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"],
        String(timing(cfg).proxyReadTimeout),
      );
    });

  test("route kinds: = → Exact, ^~ and plain → Prefix, regexes named in a NOTE instead of a host-wide use-regex", () => {
    const cfg = CONFIGS[0]?.[1] as SchedctlConfig;
    const text = generateK8s(cfg).content;
    // biome-ignore lint/suspicious/noExplicitAny: one field
    const ingress = parseAllDocuments(text)[4]?.toJS() as any;
    assert.deepEqual(
      ingress.spec.rules[0].http.paths
        .slice(2, -1)
        .map((p: { path: string; pathType: string }) => [p.path, p.pathType]),
      [
        ["/jobs/run", "Exact"],
        ["/admin/jobs/", "Prefix"],
        ["/tasks", "Prefix"],
      ],
    );
    assert.match(text, /^# NOTE: route "~ \^\/api\/v\[0-9\]\{1,2\}\/cron\$" is a regex/m);
    assert.ok(!text.includes("use-regex: "));
    assert.match(generateNginx(cfg, t).content, /proxy_read_timeout 65s;/);
  });
});
