import { allowedHosts, type Instance } from "../../deploy/model.js";
import type { CheckResult } from "../types.js";
import { type DeployCheckDefinition, modelOf, plural, skip } from "./common.js";

interface Finding {
  level: "fail" | "warn";
  text: string;
  fix: { text: string; commands: string[] };
}

const SCHEDULER_VARS =
  /^(TZ|WORKERS_COUNT|WEB_CONCURRENCY|GUNICORN_CMD_ARGS|RUN_SCHEDULER|FLASK_DEBUG|\w*SCHEDULER\w*)$/;

export const deployCompose: DeployCheckDefinition = {
  id: "deploy.compose",
  group: "deploy",
  needs: ["deploy"],
  title: "docker compose: a true singleton for the scheduler",
  description:
    "Reads docker-compose.yml / compose.yaml with the deploy-time environment (interpolation, env_file): the service that runs the scheduler has one replica (deploy.replicas / scale), no scaled service starts a scheduler, stop_grace_period is at least Gunicorn's graceful_timeout (compose's default is 10 s, Gunicorn's 30 s), no obsolete top-level version:, and a hostname listed in SCHEDULER_ALLOWED_HOSTS on the one service meant to run it.",
  run(facts): CheckResult {
    const files = facts.deploy.compose;
    if (files.length === 0)
      return skip(
        `no docker-compose.yml, docker-compose.yaml, compose.yaml or compose.yml in ${facts.deploy.appDir}`,
      );
    const m = modelOf(facts);
    const findings: Finding[] = [];
    for (const f of files)
      if (f.error)
        findings.push({
          level: "fail",
          text: f.error,
          fix: {
            text: `Fix the YAML in ${f.path}; check it with:`,
            commands: [`docker compose -f ${f.path} config --quiet`],
          },
        });
    const compose = m.instances.filter((i) => i.kind === "compose");
    for (const f of files) {
      const p = f.project;
      if (!p) continue;
      // Scaled services that run a scheduler (unless a lock shared by all guards it).
      for (const i of compose.filter((x) => x.file === f.path)) {
        const svc = i.compose;
        if (!svc) continue;
        if (svc.scale !== null && svc.deployReplicas !== null && svc.scale !== svc.deployReplicas)
          findings.push({
            level: "fail",
            text: `service ${svc.name}: scale: ${svc.scale} and deploy.replicas: ${svc.deployReplicas} disagree (compose refuses: "can't set distinct values on 'scale' and 'deploy.replicas'")`,
            fix: {
              text: `Keep one of them in ${f.path}:`,
              commands: [`    deploy:`, `      replicas: ${svc.deployReplicas}`],
            },
          });
        if (svc.containerName && (svc.replicas ?? 1) > 1)
          findings.push({
            level: "fail",
            text: `service ${svc.name}: container_name ${svc.containerName} with ${svc.replicas} replicas: compose cannot create two containers with one name`,
            fix: { text: `Remove container_name from service ${svc.name} (${f.path}).`, commands: [] },
          });
        const s = i.scheduler;
        if (s.runs !== "no" && s.lockScope !== "global" && i.replicas.max > 1) {
          const per = s.perReplica ?? s.perReplicaMin;
          findings.push({
            level: s.runs === "yes" ? "fail" : "warn",
            text: `service ${svc.name} ${s.runs === "yes" ? "runs" : "may run"} the scheduler and has ${plural(i.replicas.max, "replica")} (${i.replicas.from}): ${per * i.replicas.max} schedulers${s.lockScope === "container" ? " (a file lock is per container)" : ""}`,
            fix: {
              text: `Give the scheduler its own one-replica service and keep ${svc.name} scaled without it (${f.path}):`,
              commands: [
                "  scheduler:",
                "    <<: *app",
                "    hostname: scheduler",
                "    environment:",
                '      RUN_SCHEDULER: "1"',
                '      WORKERS_COUNT: "1"',
                "    deploy:",
                "      replicas: 1",
              ],
            },
          });
        }
        // stop_grace_period vs graceful_timeout
        if (i.role === "gunicorn" && i.settings) {
          const gt =
            typeof i.settings.graceful_timeout.value === "number" ? i.settings.graceful_timeout.value : null;
          const sgp = svc.stopGracePeriod?.seconds ?? 10;
          if (gt !== null && sgp < gt)
            findings.push({
              level: "warn",
              text: `service ${svc.name}: stop_grace_period ${svc.stopGracePeriod ? svc.stopGracePeriod.raw : "10s (compose default)"} < Gunicorn graceful_timeout ${gt}s (${i.settings.graceful_timeout.decidedBy}): docker compose stop SIGKILLs Gunicorn while its workers still finish requests and running jobs`,
              fix: {
                text: `Let Gunicorn's graceful shutdown finish (service ${svc.name}, ${f.path}):`,
                commands: [`    stop_grace_period: ${gt + 5}s`],
              },
            });
        }
        // Unset variables that matter.
      }
      if (p.version)
        findings.push({
          level: "warn",
          text: `${f.path}:${p.version.line}: the top-level version: "${p.version.value}" is obsolete (compose-spec); docker compose warns and ignores it`,
          fix: {
            text: `Delete line ${p.version.line} of ${f.path}:`,
            commands: [`version: "${p.version.value}"`],
          },
        });
      for (const w of p.warnings) {
        const v = /"(\w+)" variable/.exec(w)?.[1];
        if (v && SCHEDULER_VARS.test(v))
          findings.push({
            level: "warn",
            text: `${f.path}: ${w}${v === "TZ" ? ' — TZ="" makes glibc use UTC while tzlocal reads the files' : ""}`,
            fix: { text: `Give ${v} a default in ${f.path}:`, commands: [`\${${v}:-<value>}`] },
          });
      }
    }
    // SCHEDULER_ALLOWED_HOSTS needs a hostname on exactly one (unscaled) service.
    const gated = compose.filter((i) => i.role !== "other");
    const hostGate = gated
      .map((i) => ({ i, ah: allowedHosts(facts.deploy, i.env) }))
      .filter((x) => x.ah?.hosts && !x.ah.hosts.includes("*"));
    if (hostGate.length > 0 && facts.deploy.guard.flaskApscheduler) {
      const hosts = hostGate[0]?.ah?.hosts ?? [];
      const matching = gated.filter(
        (i) => i.hostname.value !== null && hosts.includes(i.hostname.value.toLowerCase()),
      );
      if (matching.length === 0) {
        const target = gated.find((i) => /sched/i.test(i.name)) ?? (gated[0] as Instance);
        findings.push({
          level: "fail",
          text: `SCHEDULER_ALLOWED_HOSTS is ${JSON.stringify(hosts)} (${hostGate[0]?.ah?.from}) but no service sets that hostname: container hostnames default to the container ID, so no container ever starts the scheduler`,
          fix: {
            text: `Set the hostname on the one service that should run it (${target.file}, service ${target.name}):`,
            commands: [`    hostname: ${hosts[0] ?? "scheduler"}`],
          },
        });
      }
      for (const i of matching)
        if (i.replicas.max > 1)
          findings.push({
            level: "fail",
            text: `service ${i.name} has hostname ${i.hostname.value} (allowed to run the scheduler) and ${i.replicas.max} replicas: every replica gets the same hostname and starts it`,
            fix: {
              text: `One replica for service ${i.name}:`,
              commands: ["    deploy:", "      replicas: 1"],
            },
          });
    }
    const services = compose.length;
    const sched = compose.filter((i) => i.scheduler.runs !== "no");
    const evidence = {
      table: {
        columns: [
          "service",
          "replicas",
          "runs scheduler",
          "hostname",
          "stop_grace_period",
          "graceful_timeout",
        ],
        rows: compose.map((i) => [
          i.name,
          i.replicas.stated ? String(i.replicas.max) : "1 (default)",
          i.scheduler.runs,
          i.hostname.value ?? "-",
          i.compose?.stopGracePeriod?.raw ?? "10s (default)",
          i.role === "gunicorn" ? String(i.settings?.graceful_timeout.value ?? "?") : "-",
        ]),
      },
      files: files.map((f) => ({
        path: f.path,
        error: f.error,
        version: f.project?.version ?? null,
        warnings: f.project?.warnings ?? [],
      })),
    };
    const sorted = [...findings].sort((a, b) => (a.level === b.level ? 0 : a.level === "fail" ? -1 : 1));
    const top = sorted[0];
    if (!top)
      return {
        status: "pass",
        summary:
          sched.length > 0
            ? `${sched.map((i) => `service ${i.name}: ${plural(i.replicas.max, "replica")}${i.hostname.value ? `, hostname ${i.hostname.value}` : ""}${i.compose?.stopGracePeriod ? `, stop_grace_period ${i.compose.stopGracePeriod.raw}` : ""}`).join("; ")} — the only compose service running the scheduler`
            : `${plural(services, "service")} checked; none runs the scheduler more than once`,
        details: [],
        evidence,
      };
    return {
      status: top.level,
      summary: top.text,
      details: sorted.slice(1).map((f) => `${f.level}: ${f.text}`),
      evidence,
      fix: top.fix,
    };
  },
};
