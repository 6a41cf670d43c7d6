import type { Guard } from "../../deploy/guard.js";
import { type Instance, schedulerInstances } from "../../deploy/model.js";
import {
  type DeployCheckDefinition,
  envFixLines,
  instanceEvidence,
  instanceTable,
  modelOf,
  noStarts,
  plural,
  settingFix,
} from "../deploy/common.js";
import type { CheckResult, Fix } from "../types.js";

const KIND_TEXT: Record<Guard["kind"], string> = {
  "env-flag": "an environment-variable flag",
  hostname: "a hostname check",
  "file-lock": "a file lock",
  "socket-lock": "a bound socket",
  "redis-lock": "a Redis lock",
  "db-lock": "a database advisory lock",
  "worker-age": "worker.age == 1 in a post_fork hook",
  reloader: "the Werkzeug reloader check",
  condition: "a condition",
};

/** The guards worth naming (plain conditions on constants are evaluated, not guards). */
const realGuards = (i: Instance) => i.scheduler.guards.filter((g) => g.kind !== "condition");

function guardPhrase(g: Guard): string {
  if (g.kind === "file-lock")
    return `fcntl.flock${g.lockPath ? ` on ${g.lockPath}` : ""} (${g.file}:${g.line})`;
  if (g.kind === "socket-lock") return `a socket bound to ${g.lockPath ?? "a port"} (${g.file}:${g.line})`;
  if (g.kind === "env-flag") return `\`${g.condition}\` (${g.file}:${g.line})`;
  return `${KIND_TEXT[g.kind]} (${g.file}:${g.line})`;
}

function singletonFix(i: Instance): Fix {
  if (i.kind === "k8s")
    return {
      text: `Keep exactly one pod running the scheduler, also during rollouts (${i.file}, ${i.id}):`,
      commands: ["spec:", "  replicas: 1", "  strategy:", "    type: Recreate"],
    };
  if (i.kind === "compose")
    return {
      text: `Run the scheduler in one container only: a scheduler service with one replica and one worker, the web service without it (${i.file}):`,
      commands: [
        "services:",
        "  scheduler:",
        "    <<: *app",
        "    environment:",
        '      RUN_SCHEDULER: "1"',
        '      WORKERS_COUNT: "1"',
        "    deploy:",
        "      replicas: 1",
      ],
    };
  return {
    text: "Run exactly one container with the scheduler, or use a lock every instance shares: schedctl gen lock",
    commands: ["schedctl gen lock"],
  };
}

export const workersGuard: DeployCheckDefinition = {
  id: "workers.guard",
  group: "workers",
  needs: ["deploy"],
  title: "The guard around scheduler.start(), judged against workers × instances",
  description:
    "Finds every scheduler.start() in the app and the guard around it (environment-variable flag, hostname / SCHEDULER_ALLOWED_HOSTS, fcntl.flock file lock, bound socket, Redis or database lock, worker.age == 1 in post_fork, --preload, none), then counts live schedulers across the deployment: Gunicorn workers per container × replicas from compose / Kubernetes. An environment flag is read by every worker of a container; a file lock only excludes processes of one container; a Redis lock excludes everyone.",
  run(facts): CheckResult {
    const m = modelOf(facts);
    if (!m.hasStarts) return { status: "skip", summary: noStarts(facts), details: [], evidence: {} };
    const starts = facts.deploy.guard.starts;
    const relevant = m.instances.filter((i) => i.role !== "other");
    const evidence: Record<string, unknown> = {
      table: instanceTable(relevant),
      starts: starts.map((s) => ({
        at: `${s.file}:${s.line}`,
        text: s.text,
        context: s.context,
        function: s.function,
        hook: s.hook,
        guards: s.guards.map((g) => ({
          kind: g.kind,
          at: `${g.file}:${g.line}`,
          condition: g.condition,
          lockPath: g.lockPath,
          scope: g.scope,
        })),
      })),
      instances: relevant.map(instanceEvidence),
      total: m.total,
      totalMin: m.totalMin,
    };
    const details: string[] = [];
    for (const i of relevant) for (const w of i.scheduler.why) details.push(`${i.id}: ${w}`);
    details.push(...m.totalLines.map((l) => `count: ${l}`));
    if (relevant.length === 0) {
      const s0 = starts[0];
      const guards = [...new Set(starts.flatMap((s) => s.guards.map((g) => g.kind)))];
      return {
        status: "skip",
        summary: `no container command found to count processes (the app starts its scheduler at ${s0?.file}:${s0?.line}${guards.length ? `, guarded by ${guards.map((k) => KIND_TEXT[k]).join(" and ")}` : ", unguarded"})`,
        details,
        evidence,
      };
    }
    const running = schedulerInstances(m);
    if (running.length === 0) {
      const broken = relevant.find((i) => i.startupErrors.length > 0);
      const why = [
        ...(broken ? [`Gunicorn in ${broken.id} would not start: ${broken.startupErrors[0]}`] : []),
        ...relevant.flatMap((i) => i.scheduler.why.map((w) => `${i.id}: ${w}`)),
      ];
      return {
        status: "fail",
        summary: `no instance starts the scheduler: ${why[0] ?? "every start is gated off"}`,
        details,
        evidence,
        fix: {
          text: "Make exactly one instance start it: start the scheduler where Gunicorn runs it (at import or in a hook), and open its gate on that instance only.",
          commands: [],
        },
      };
    }
    const total = m.total;
    const min = m.totalMin;
    const ageGuarded = running.filter((i) => i.scheduler.ageGuard);
    const global = running.filter((i) => i.scheduler.lockScope === "global");
    const noTtl = global
      .flatMap((i) => i.scheduler.guards)
      .find((g) => g.kind === "redis-lock" && g.ttl === false);
    if ((total !== null && total > 1) || min > 1) {
      const n = total ?? min;
      const atLeast = total === null ? "at least " : "";
      // Explain with the instance that contributes most.
      const worst = [...running]
        .filter((i) => i.scheduler.lockScope !== "global")
        .sort(
          (a, b) =>
            (b.scheduler.perReplica ?? b.scheduler.perReplicaMin) * b.replicas.max -
            (a.scheduler.perReplica ?? a.scheduler.perReplicaMin) * a.replicas.max,
        )[0] as Instance;
      const s = worst.scheduler;
      const lock = s.guards.find((g) => g.kind === "file-lock" || g.kind === "socket-lock");
      const flag = s.guards.find((g) => g.kind === "env-flag" || g.kind === "hostname");
      const workers = s.perReplica ?? s.perReplicaMin;
      let summary: string;
      let fix: Fix;
      if (s.lockScope === "container") {
        summary = `${atLeast}${n} schedulers, one per container: ${guardPhrase(lock as Guard)} locks only inside one container, and ${worst.id} runs ${plural(worst.replicas.max, "replica")} (${worst.replicas.from})`;
        fix = singletonFix(worst);
      } else if (flag && workers > 1) {
        summary = `${atLeast}${n} schedulers: ${guardPhrase(flag)} is true for the whole of ${worst.id}, and each of its ${workers} Gunicorn workers reads it and starts one${worst.replicas.max > 1 ? `, in each of ${worst.replicas.max} replicas` : ""}`;
        const f = settingFix(worst, "workers", "1");
        fix = {
          text: `A flag picks containers, not processes: run the flagged instance with one worker. ${f.text}`,
          commands: f.commands,
        };
      } else if (s.where === "master") {
        summary = `${atLeast}${n} schedulers: --preload starts one in the master of each container, and ${worst.id} runs ${plural(worst.replicas.max, "replica")}`;
        fix = singletonFix(worst);
      } else if (worst.replicas.max > 1 && workers <= 1) {
        summary = `${atLeast}${n} schedulers: ${worst.id} starts one per container${flag ? ` (${guardPhrase(flag)} is true in every replica)` : ""} and runs ${plural(worst.replicas.max, "replica")} (${worst.replicas.from})`;
        fix = singletonFix(worst);
      } else {
        const site = s.sites[0];
        summary = `${atLeast}${n} schedulers: nothing guards ${site ? `${site.text} (${site.file}:${site.line})` : "scheduler.start()"}, and ${worst.id} runs ${s.perReplica === null ? "at least " : ""}${workers} Gunicorn workers${worst.replicas.max > 1 ? ` × ${worst.replicas.max} replicas` : ""}; each starts its own`;
        if (worst.replicas.max > 1) fix = singletonFix(worst);
        else {
          const f = settingFix(worst, "workers", "1");
          fix = {
            text: `Give the scheduler an instance with a single worker. ${f.text}`,
            commands: f.commands,
          };
        }
      }
      return { status: "fail", summary, details, evidence, fix };
    }
    if (ageGuarded.length > 0) {
      const i = ageGuarded[0] as Instance;
      const g = i.scheduler.guards.find((x) => x.kind === "worker-age") as Guard;
      return {
        status: "warn",
        summary: `1 scheduler until the first worker recycle: ${g.text} (${g.file}:${g.line}) in ${i.id} matches only the first worker ever spawned; once it is replaced (max_requests, timeout, crash, HUP) no scheduler runs`,
        details,
        evidence,
        fix: {
          text: "Do not pick a worker by age. Start the scheduler in a dedicated single-worker instance (no post_fork trick), or take a lock:",
          commands: [...envFixLines(i, "WORKERS_COUNT", "1").lines, "schedctl gen lock"],
        },
      };
    }
    if (total === null) {
      const u =
        running.find((i) => i.scheduler.runs === "unknown" || i.scheduler.perReplica === null) ?? running[0];
      return {
        status: "warn",
        summary: `cannot tell how many schedulers run: ${u?.id}: ${u?.scheduler.why.find((w) => /unknown|cannot|depends/.test(w)) ?? "its worker count or gate depends on runtime values"}`,
        details,
        evidence,
      };
    }
    if (noTtl) {
      return {
        status: "warn",
        summary: `1 scheduler, but the Redis lock at ${noTtl.file}:${noTtl.line} sets no expiry: if its holder dies, no instance ever takes over`,
        details,
        evidence,
        fix: {
          text: "Give the lock a timeout and renew it while the scheduler runs:",
          commands: ['lock = redis_client.lock("schedctl:scheduler", timeout=60)'],
        },
      };
    }
    const i = running[0] as Instance;
    const candidates = running.reduce(
      (n, x) =>
        n +
        x.replicas.max *
          (x.scheduler.where === "workers" && typeof x.settings?.workers.value === "number"
            ? x.settings.workers.value
            : 1),
      0,
    );
    const g = global[0]?.scheduler.guards.find((x) => x.kind === "redis-lock" || x.kind === "db-lock");
    return {
      status: "pass",
      summary: g
        ? `1 scheduler: ${KIND_TEXT[g.kind]} (${g.file}:${g.line}) lets one of ${plural(candidates, "candidate process", "candidate processes")} run it`
        : `1 scheduler: ${i.scheduler.where === "master" ? `the master of ${i.id} (--preload)` : i.id} (${plural(i.replicas.max, "replica")}, ${i.scheduler.where === "process" ? "its own process" : plural(typeof i.settings?.workers.value === "number" ? i.settings.workers.value : 1, "worker")}${realGuards(i).length ? `, guarded by ${[...new Set(realGuards(i).map((x) => KIND_TEXT[x.kind]))].join(" and ")}` : ""})`,
      details,
      evidence,
    };
  },
};
