/**
 * `schedctl gen k8s`: the web Deployment (N replicas), the scheduler Deployment (1 replica, strategy
 * Recreate so a rollout never runs two, a fixed pod hostname for SCHEDULER_ALLOWED_HOSTS), a Service
 * for each, and an ingress-nginx Ingress sending the scheduler paths (Exact/Prefix) to the scheduler.
 */
import type { Route, SchedctlConfig } from "../config/types.js";
import { FILE_NAMES, type GeneratedFile, healthCommand, timing } from "./common.js";
import { roleEnvironment } from "./compose.js";
import { yamlDocument } from "./yaml.js";

type PathType = "Exact" | "Prefix";

/** The Ingress path of a route; null for regexes (ingress-nginx's use-regex would apply host-wide). */
export function ingressPath(r: Route): { path: string; pathType: PathType } | null {
  if (r.modifier === "=") return { path: r.value, pathType: "Exact" };
  if (r.modifier === "" || r.modifier === "^~") return { path: r.value, pathType: "Prefix" };
  return null;
}

export function k8sObjects(cfg: SchedctlConfig): { objects: Record<string, unknown>[]; notes: string[] } {
  const tm = timing(cfg);
  const labels = (component: string) => ({
    "app.kubernetes.io/name": cfg.app,
    "app.kubernetes.io/component": component,
  });
  const name = (component: string) => `${cfg.app}-${component}`;
  const deployment = (role: "web" | "scheduler") => {
    const env = roleEnvironment(cfg, role);
    const port = Number(env.PORT);
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: name(role), labels: { ...labels(role), "app.kubernetes.io/managed-by": "schedctl" } },
      spec: {
        replicas: role === "web" ? cfg.instances.webReplicas : 1,
        ...(role === "scheduler" ? { strategy: { type: "Recreate" } } : {}),
        selector: { matchLabels: labels(role) },
        template: {
          metadata: { labels: labels(role) },
          spec: {
            ...(role === "scheduler" ? { hostname: cfg.instances.schedulerHost } : {}),
            terminationGracePeriodSeconds: tm.stopGracePeriod,
            securityContext: { runAsNonRoot: true },
            containers: [
              {
                name: "app",
                image: cfg.image,
                ports: [{ name: "http", containerPort: port }],
                env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
                readinessProbe: {
                  exec: { command: healthCommand(cfg) },
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  tcpSocket: { port: "http" },
                  initialDelaySeconds: 10,
                  periodSeconds: 15,
                  timeoutSeconds: 5,
                  failureThreshold: 4,
                },
              },
            ],
          },
        },
      },
    };
  };
  const service = (role: "web" | "scheduler") => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: name(role), labels: labels(role) },
    spec: { selector: labels(role), ports: [{ name: "http", port: 80, targetPort: "http" }] },
  });
  const backend = (role: "web" | "scheduler") => ({ service: { name: name(role), port: { name: "http" } } });
  const notes: string[] = [];
  const paths: { path: string; pathType: PathType; backend: unknown }[] = [
    { path: cfg.scheduler.apiPrefix, pathType: "Exact", backend: backend("scheduler") },
    { path: `${cfg.scheduler.apiPrefix}/`, pathType: "Prefix", backend: backend("scheduler") },
  ];
  for (const r of cfg.scheduler.routes) {
    const p = ingressPath(r);
    if (p) paths.push({ ...p, backend: backend("scheduler") });
    else
      notes.push(
        `route "${r.raw}" is a regex: it has no Ingress path without ingress-nginx's use-regex annotation, which changes every path of the host; route it by hand`,
      );
  }
  paths.push({ path: "/", pathType: "Prefix", backend: backend("web") });
  const host = cfg.nginx.serverName !== "_" ? { host: cfg.nginx.serverName } : {};
  const ingress = {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: cfg.app,
      labels: { "app.kubernetes.io/name": cfg.app },
      annotations: {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": String(tm.proxyReadTimeout),
        "nginx.ingress.kubernetes.io/proxy-send-timeout": String(tm.proxyReadTimeout),
      },
    },
    spec: { ingressClassName: "nginx", rules: [{ ...host, http: { paths } }] },
  };
  if (cfg.instances.webWorkers === "auto")
    notes.push(
      "web-workers = \"auto\": gunicorn counts the node's CPUs, not the pod's limit; set a number in [instances] web-workers",
    );
  return {
    objects: [deployment("web"), deployment("scheduler"), service("web"), service("scheduler"), ingress],
    notes,
  };
}

export function generateK8s(cfg: SchedctlConfig): GeneratedFile {
  const { objects, notes } = k8sObjects(cfg);
  const header = [
    `Generated by schedctl from ${cfg.source} (\`schedctl gen k8s\`).`,
    `${cfg.app}-scheduler runs the scheduler: replicas 1 and strategy Recreate, so a rollout never runs two.`,
    ...notes.map((n) => `NOTE: ${n}`),
  ].join("\n");
  const docs = objects.map((o, i) => yamlDocument(o, i === 0 ? header : undefined));
  return { path: FILE_NAMES.k8s, content: docs.join("---\n") };
}
