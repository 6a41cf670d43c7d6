import type { CheckResult } from "../types.js";
import { type DeployCheckDefinition, modelOf, plural, skip } from "./common.js";

interface Finding {
  level: "fail" | "warn";
  text: string;
  fix: { text: string; commands: string[] };
}

export const deployK8s: DeployCheckDefinition = {
  id: "deploy.k8s",
  group: "deploy",
  needs: ["deploy"],
  title: "Kubernetes: a true singleton for the scheduler",
  description:
    "Reads the Kubernetes manifests in the app dir (k8s/, deploy/, manifests/, *.yaml with kind: Deployment; multi-document): the workload that runs the scheduler has replicas: 1, no HorizontalPodAutoscaler scales it, a Deployment uses strategy: Recreate (RollingUpdate starts the new pod before the old one stops, so two schedulers run during every rollout), no DaemonSet runs it, and terminationGracePeriodSeconds covers Gunicorn's graceful_timeout.",
  run(facts): CheckResult {
    const manifests = facts.deploy.k8s;
    if (manifests.length === 0)
      return skip(
        `no Kubernetes manifests (k8s/, deploy/, manifests/, *.yaml with kind: Deployment) in ${facts.deploy.appDir}`,
      );
    const m = modelOf(facts);
    const findings: Finding[] = [];
    for (const f of manifests)
      if (f.error)
        findings.push({
          level: "fail",
          text: f.error,
          fix: {
            text: `Fix the YAML in ${f.file}; check it with:`,
            commands: [`kubectl apply --dry-run=client -f ${f.file}`],
          },
        });
    const k8s = m.instances.filter((i) => i.kind === "k8s");
    for (const i of k8s) {
      const w = i.k8s?.workload;
      if (!w) continue;
      const s = i.scheduler;
      const runs = s.runs !== "no" && s.lockScope !== "global";
      if (runs) {
        const hpa = i.replicas.hpa;
        if (hpa)
          findings.push({
            level: "fail",
            text: `HorizontalPodAutoscaler ${hpa.name} (${hpa.file}) scales ${w.kind} ${w.name}, which runs the scheduler, up to ${hpa.maxReplicas} pods: up to ${(hpa.maxReplicas ?? 1) * Math.max(1, s.perReplicaMin)} schedulers`,
            fix: {
              text: `Do not autoscale the scheduler: delete the HPA (and scale the web Deployment instead).`,
              commands: [`kubectl delete hpa ${hpa.name}${hpa.namespace ? ` -n ${hpa.namespace}` : ""}`],
            },
          });
        if (w.kind === "DaemonSet")
          findings.push({
            level: "fail",
            text: `DaemonSet ${w.name} runs the scheduler: one per node`,
            fix: {
              text: "Run the scheduler as a one-replica Deployment with strategy Recreate:",
              commands: ["kind: Deployment", "spec:", "  replicas: 1", "  strategy:", "    type: Recreate"],
            },
          });
        else if ((w.replicas ?? 1) > 1)
          findings.push({
            level: s.runs === "yes" ? "fail" : "warn",
            text: `${w.kind} ${w.name} (${w.file}) runs the scheduler with replicas: ${w.replicas}: ${(w.replicas ?? 1) * (s.perReplica ?? s.perReplicaMin)} schedulers${s.lockScope === "container" ? " (a file lock is per pod)" : ""}`,
            fix: {
              text: `One replica for the scheduler's ${w.kind} (${w.file}):`,
              commands: ["spec:", "  replicas: 1"],
            },
          });
        if (w.kind === "Deployment" && w.strategy !== "Recreate")
          findings.push({
            level: "warn",
            text: `Deployment ${w.name} (${w.file}) runs the scheduler with strategy ${w.strategy ?? "RollingUpdate (default)"}: during every rollout the new pod starts before the old one stops, so two schedulers run and jobs due then fire twice`,
            fix: {
              text: `Stop the old pod first (${w.file}):`,
              commands: ["spec:", "  strategy:", "    type: Recreate"],
            },
          });
      }
      if (i.role === "gunicorn" && i.settings) {
        const gt =
          typeof i.settings.graceful_timeout.value === "number" ? i.settings.graceful_timeout.value : null;
        const tg = w.terminationGracePeriodSeconds ?? 30;
        if (gt !== null && tg < gt)
          findings.push({
            level: "warn",
            text: `${w.kind} ${w.name}: terminationGracePeriodSeconds ${tg}${w.terminationGracePeriodSeconds === null ? " (default)" : ""} < Gunicorn graceful_timeout ${gt}s: the kubelet SIGKILLs Gunicorn before its workers finish`,
            fix: {
              text: `Give the pod time to stop (${w.file}):`,
              commands: [
                "spec:",
                "  template:",
                "    spec:",
                `      terminationGracePeriodSeconds: ${gt + 5}`,
              ],
            },
          });
      }
    }
    const evidence = {
      table: {
        columns: ["workload", "replicas", "strategy", "HPA", "runs scheduler"],
        rows: k8s.map((i) => [
          i.id,
          i.k8s?.workload.replicas === null ? "1 (default)" : String(i.k8s?.workload.replicas),
          i.k8s?.workload.strategy ??
            (i.k8s?.workload.kind === "Deployment" ? "RollingUpdate (default)" : "-"),
          i.replicas.hpa ? `${i.replicas.hpa.name} (max ${i.replicas.hpa.maxReplicas})` : "-",
          i.scheduler.runs,
        ]),
      },
      manifests: manifests.map((f) => ({ file: f.file, documents: f.documents, error: f.error })),
    };
    const sorted = [...findings].sort((a, b) => (a.level === b.level ? 0 : a.level === "fail" ? -1 : 1));
    const top = sorted[0];
    if (!top) {
      const sched = k8s.filter((i) => i.scheduler.runs !== "no");
      return {
        status: "pass",
        summary:
          sched.length > 0
            ? sched
                .map(
                  (i) =>
                    `${i.id}: ${plural(i.k8s?.workload.replicas ?? 1, "replica")}${i.k8s?.workload.kind === "Deployment" ? `, strategy ${i.k8s.workload.strategy}` : ""}, no HPA`,
                )
                .join("; ")
            : `${plural(k8s.length, "container")} in ${plural(manifests.length, "manifest")}; none runs the scheduler more than once`,
        details: [],
        evidence,
      };
    }
    return {
      status: top.level,
      summary: top.text,
      details: sorted.slice(1).map((f) => `${f.level}: ${f.text}`),
      evidence,
      fix: top.fix,
    };
  },
};
