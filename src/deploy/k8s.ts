/**
 * Kubernetes manifests (multi-document YAML, `kind: List`): Deployments, StatefulSets, DaemonSets, Jobs,
 * CronJobs and Pods with replicas, update strategy, pod hostname and containers (command, args, env, envFrom);
 * HorizontalPodAutoscalers and ConfigMaps. Pure. A syntax error is one line naming file:line.
 */
import { LineCounter, parseAllDocuments } from "yaml";
import { yamlErrorLine } from "./compose.js";

export { expandK8sVars } from "./k8s-vars.js";

export interface K8sContainer {
  name: string;
  image: string | null;
  /** Overrides the image's ENTRYPOINT. */
  command: string[] | null;
  /** Overrides the image's CMD. */
  args: string[] | null;
  /** Literal env values (and ConfigMap keys resolved later). */
  env: Record<string, string>;
  /** env entries whose value comes from a reference: name → "secretKeyRef app-secrets/KEY". */
  envRefs: Record<string, string>;
  envFrom: { kind: "ConfigMap" | "Secret"; name: string; prefix: string }[];
}

export interface K8sWorkload {
  kind: string;
  name: string;
  namespace: string | null;
  file: string;
  line: number;
  /** spec.replicas as written; null when absent (the API's default is 1). */
  replicas: number | null;
  /** Deployment .spec.strategy.type / StatefulSet .spec.updateStrategy.type; null when absent. */
  strategy: string | null;
  maxSurge: string | number | null;
  hostname: string | null;
  terminationGracePeriodSeconds: number | null;
  containers: K8sContainer[];
}

export interface K8sHpa {
  name: string;
  namespace: string | null;
  file: string;
  line: number;
  target: { kind: string; name: string };
  minReplicas: number | null;
  maxReplicas: number | null;
}

export interface K8sConfigMap {
  name: string;
  namespace: string | null;
  data: Record<string, string>;
}

export interface K8sManifest {
  file: string;
  documents: number;
  workloads: K8sWorkload[];
  hpas: K8sHpa[];
  configMaps: K8sConfigMap[];
  /** One line: "k8s/app.yaml:12: <what is wrong>". */
  error: string | null;
}

const WORKLOAD_KINDS = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
  "CronJob",
  "Pod",
]);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const strOrNull = (v: unknown): string | null =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null;
const strList = (v: unknown): string[] | null => (Array.isArray(v) ? v.map((x) => String(x)) : null);

function podSpecOf(kind: string, spec: Obj): Obj {
  if (kind === "Pod") return spec;
  if (kind === "CronJob") return obj(obj(obj(obj(spec.jobTemplate).spec).template).spec);
  return obj(obj(spec.template).spec);
}

function containers(pod: Obj): K8sContainer[] {
  const list = Array.isArray(pod.containers) ? pod.containers : [];
  return list.map((c) => {
    const o = obj(c);
    const env: Record<string, string> = {};
    const envRefs: Record<string, string> = {};
    for (const e of Array.isArray(o.env) ? o.env : []) {
      const eo = obj(e);
      const name = strOrNull(eo.name);
      if (!name) continue;
      if (eo.value !== undefined) env[name] = strOrNull(eo.value) ?? "";
      else if (eo.valueFrom) {
        const vf = obj(eo.valueFrom);
        if (vf.configMapKeyRef) {
          const r = obj(vf.configMapKeyRef);
          envRefs[name] = `configMapKeyRef ${strOrNull(r.name)}/${strOrNull(r.key)}`;
        } else if (vf.secretKeyRef) {
          const r = obj(vf.secretKeyRef);
          envRefs[name] = `secretKeyRef ${strOrNull(r.name)}/${strOrNull(r.key)}`;
        } else if (vf.fieldRef) envRefs[name] = `fieldRef ${strOrNull(obj(vf.fieldRef).fieldPath)}`;
        else envRefs[name] = "valueFrom";
      } else env[name] = "";
    }
    const envFrom: K8sContainer["envFrom"] = [];
    for (const e of Array.isArray(o.envFrom) ? o.envFrom : []) {
      const eo = obj(e);
      const prefix = strOrNull(eo.prefix) ?? "";
      if (eo.configMapRef)
        envFrom.push({ kind: "ConfigMap", name: strOrNull(obj(eo.configMapRef).name) ?? "", prefix });
      if (eo.secretRef)
        envFrom.push({ kind: "Secret", name: strOrNull(obj(eo.secretRef).name) ?? "", prefix });
    }
    return {
      name: strOrNull(o.name) ?? "",
      image: strOrNull(o.image),
      command: strList(o.command),
      args: strList(o.args),
      env,
      envRefs,
      envFrom,
    };
  });
}

/** Parses every document of a manifest file. */
export function parseK8s(text: string, file: string): K8sManifest {
  const out: K8sManifest = { file, documents: 0, workloads: [], hpas: [], configMaps: [], error: null };
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    if (d.errors.length > 0) {
      out.error = yamlErrorLine(file, d.errors[0], lc);
      return out;
    }
  }
  for (const d of list) {
    const js = d.toJS({ maxAliasCount: 1000 }) as unknown;
    if (js === null || js === undefined) continue;
    out.documents++;
    const startLine = d.contents?.range ? lc.linePos(d.contents.range[0]).line : 1;
    const items =
      obj(js).kind === "List" && Array.isArray(obj(js).items) ? (obj(js).items as unknown[]) : [js];
    for (const item of items) {
      const o = obj(item);
      const kind = strOrNull(o.kind) ?? "";
      const meta = obj(o.metadata);
      const name = strOrNull(meta.name) ?? "";
      const namespace = strOrNull(meta.namespace);
      const spec = obj(o.spec);
      if (WORKLOAD_KINDS.has(kind)) {
        const pod = podSpecOf(kind, spec);
        const strat =
          kind === "StatefulSet" || kind === "DaemonSet" ? obj(spec.updateStrategy) : obj(spec.strategy);
        out.workloads.push({
          kind,
          name,
          namespace,
          file,
          line: startLine,
          replicas:
            typeof spec.replicas === "number"
              ? spec.replicas
              : spec.replicas !== undefined
                ? Number(spec.replicas)
                : null,
          strategy: strOrNull(strat.type),
          maxSurge: (obj(strat.rollingUpdate).maxSurge as string | number | undefined) ?? null,
          hostname: strOrNull(pod.hostname),
          terminationGracePeriodSeconds:
            typeof pod.terminationGracePeriodSeconds === "number" ? pod.terminationGracePeriodSeconds : null,
          containers: containers(pod),
        });
      } else if (kind === "HorizontalPodAutoscaler") {
        const ref = obj(spec.scaleTargetRef);
        out.hpas.push({
          name,
          namespace,
          file,
          line: startLine,
          target: { kind: strOrNull(ref.kind) ?? "", name: strOrNull(ref.name) ?? "" },
          minReplicas: typeof spec.minReplicas === "number" ? spec.minReplicas : null,
          maxReplicas: typeof spec.maxReplicas === "number" ? spec.maxReplicas : null,
        });
      } else if (kind === "ConfigMap") {
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(obj(o.data))) data[k] = strOrNull(v) ?? "";
        out.configMaps.push({ name, namespace, data });
      }
    }
  }
  return out;
}

/** Whether a YAML text looks like Kubernetes (has apiVersion and kind) — to pick manifests among *.yaml. */
export function looksLikeK8s(text: string): boolean {
  return /^\s*apiVersion\s*:/m.test(text) && /^\s*kind\s*:/m.test(text);
}
