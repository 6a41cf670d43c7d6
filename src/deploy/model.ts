/**
 * The deployment as it runs: every container that runs the app (compose services, Kubernetes containers, a
 * Dockerfile on its own, Procfile processes), each with its command, environment, hostname, replicas, the
 * Gunicorn settings Gunicorn would really use, and how many live schedulers it runs given the app's start
 * sites and guards. The `workers` and `deploy` checks are views of this. Pure.
 */
import { dirname, join, normalize } from "node:path/posix";
import type { ComposeService } from "./compose.js";
import { type DockerfileInfo, dockerfileInfo } from "./dockerfile.js";
import type { Guard, StartSite } from "./guard.js";
import {
  containerArgv,
  type EffectiveSetting,
  findGunicorn,
  type GunicornInvocation,
  type GunicornSources,
  gunicornSettings,
  parseGunicornArgs,
  resolveGunicorn,
} from "./gunicorn.js";
import type { K8sContainer, K8sHpa, K8sWorkload } from "./k8s.js";
import { expandK8sVars } from "./k8s-vars.js";
import {
  type EvalContext,
  evalExpr,
  execBlocks,
  newContext,
  type PyValue,
  pyRepr,
  pyTruthy,
} from "./pyexpr.js";
import { parseShell, shlexSplit } from "./shell.js";
import type { DeployFacts, DockerfileFact } from "./types.js";

export type Settings = ReturnType<typeof gunicornSettings>;

export interface SchedulerVerdict {
  /** Whether this instance starts a scheduler at all. */
  runs: "yes" | "no" | "unknown";
  /** The reasoning, one fact per line. */
  why: string[];
  /** Live schedulers per replica; null when unknown (then perReplicaMin is a lower bound). */
  perReplica: number | null;
  perReplicaMin: number;
  /** Where the live scheduler thread runs. */
  where: "workers" | "master" | "process" | "none";
  /** --preload with an import-time start: workers holding thread-less copies. */
  deadCopies: number | null;
  /** The start sites that apply to this instance. */
  sites: StartSite[];
  /** Guards around those starts. */
  guards: Guard[];
  /** What the lock guards limit: nothing, one per container (flock, socket), one overall (Redis, DB). */
  lockScope: "none" | "container" | "global";
  /** A post_fork `worker.age == 1` guard: works until the first worker is replaced. */
  ageGuard: boolean;
}

export interface Instance {
  /** "compose service web", "Deployment web, container app", "Dockerfile", "Procfile web". */
  id: string;
  kind: "compose" | "k8s" | "dockerfile" | "procfile" | "gunicorn-config";
  name: string;
  file: string;
  line: number;
  role: "gunicorn" | "python" | "other";
  replicas: { count: number; max: number; from: string; hpa: K8sHpa | null; stated: boolean };
  argv: string[] | null;
  argvFrom: string | null;
  gunicorn: GunicornInvocation | null;
  /** For `python file.py` processes: the file run. */
  pythonFile: string | null;
  env: Record<string, string>;
  envWhere: Record<string, string>;
  unknownEnv: string[];
  hostname: { value: string | null; from: string; perReplica?: string[] };
  dockerfile: DockerfileFact | null;
  dockerInfo: DockerfileInfo | null;
  dockerfileAssumed: boolean;
  settings: Settings | null;
  gunicornSources: GunicornSources | null;
  config: { path: string; chosenBy: string; found: boolean } | null;
  startupErrors: string[];
  scheduler: SchedulerVerdict;
  compose: ComposeService | null;
  k8s: { workload: K8sWorkload; container: K8sContainer } | null;
}

export interface DeployModel {
  instances: Instance[];
  /** The app has at least one scheduler.start(). */
  hasStarts: boolean;
  /** Live schedulers across the deployment (max replicas); null when unknown (then `min`). */
  total: number | null;
  totalMin: number;
  totalLines: string[];
}

const INFRA =
  /^(?:[^/]+\/)*?(nginx|nginxinc\/[\w-]+|redis|valkey|postgres|postgresql|mysql|mariadb|memcached|rabbitmq|traefik|caddy|haproxy|mongo|elasticsearch|opensearch|busybox|envoy|minio|localstack|mailhog|mailpit|adminer|pgadmin4?|grafana|prometheus|certbot|jaegertracing|otel)(?::|@|$)/i;

/** Flask's get_debug_flag(): FLASK_DEBUG non-empty and not 0/false/no (FLASK_ENV=development on Flask < 2.3). */
export function flaskDebug(env: Record<string, string>): { on: boolean; via: string | null } {
  const v = env.FLASK_DEBUG;
  if (v) return { on: !["0", "false", "no"].includes(v.toLowerCase()), via: `FLASK_DEBUG=${v}` };
  if (env.FLASK_ENV === "development") return { on: true, via: "FLASK_ENV=development (Flask < 2.3 only)" };
  return { on: false, via: null };
}

function relFromApp(p: string): string {
  return normalize(p).replace(/^\.\//, "");
}

function dockerfileForImage(
  deploy: DeployFacts,
  image: string | null,
): { df: DockerfileFact | null; assumed: boolean } {
  if (image && INFRA.test(image)) return { df: null, assumed: false };
  const primary = deploy.dockerfiles.filter((d) => /(^|\/)(Dockerfile|Containerfile)$/.test(d.path));
  if (deploy.dockerfiles.length === 1) return { df: deploy.dockerfiles[0] ?? null, assumed: true };
  if (primary.length === 1) return { df: primary[0] ?? null, assumed: true };
  return { df: null, assumed: false };
}

function composeDockerfile(
  deploy: DeployFacts,
  composePath: string,
  svc: ComposeService,
  all: ComposeService[],
): { df: DockerfileFact | null; assumed: boolean; build: ComposeService["build"] } {
  const base = dirname(composePath);
  const pick = (b: NonNullable<ComposeService["build"]>) => {
    const p = relFromApp(join(base, b.context, b.dockerfile));
    return deploy.dockerfiles.find((d) => relFromApp(d.path) === p) ?? null;
  };
  if (svc.build) return { df: pick(svc.build), assumed: false, build: svc.build };
  if (svc.image) {
    const sibling = all.find((s) => s !== svc && s.build && s.image === svc.image);
    if (sibling?.build) return { df: pick(sibling.build), assumed: false, build: sibling.build };
  }
  const r = dockerfileForImage(deploy, svc.image);
  return { ...r, build: null };
}

function pythonFileOf(argv: string[] | null): string | null {
  if (!argv) return null;
  // Look through sh -c and wrappers for `python [-u] file.py` or `python -m pkg.mod`.
  const scan = (words: string[]): string | null => {
    for (let i = 0; i < words.length; i++) {
      const w = (words[i] ?? "").split("/").pop() ?? "";
      if (!/^python[\d.]*$/.test(w)) continue;
      const rest = words.slice(i + 1).filter((x) => !/^-[uOBbsEIq]+$/.test(x));
      if (rest[0] === "-m" && rest[1] && rest[1] !== "gunicorn" && rest[1] !== "flask")
        return `${rest[1].replace(/\./g, "/")}.py`;
      if (rest[0]?.endsWith(".py")) return rest[0];
    }
    return null;
  };
  const direct = scan(argv);
  if (direct) return direct;
  const ci = argv.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a));
  if (ci >= 0 && argv[ci + 1])
    for (const c of parseShell(argv[ci + 1] as string, () => undefined).commands) {
      const r = scan(c.words.map((w) => w.text));
      if (r) return r;
    }
  return null;
}

interface Draft {
  id: string;
  kind: Instance["kind"];
  name: string;
  file: string;
  line: number;
  replicas: Instance["replicas"];
  argv: string[] | null;
  argvFrom: string | null;
  env: Record<string, string>;
  envWhere: Record<string, string>;
  unknownEnv: string[];
  hostname: Instance["hostname"];
  dockerfile: DockerfileFact | null;
  dockerInfo: DockerfileInfo | null;
  dockerfileAssumed: boolean;
  compose: ComposeService | null;
  k8s: Instance["k8s"];
}

function dockerEnv(
  info: DockerfileInfo | null,
  path: string | null,
): { env: Record<string, string>; where: Record<string, string> } {
  const env: Record<string, string> = {};
  const where: Record<string, string> = {};
  if (info && path)
    for (const [k, v] of Object.entries(info.env)) {
      env[k] = v.value;
      where[k] = `${path}:${v.line} ENV`;
    }
  return { env, where };
}

function argvFromDocker(
  info: DockerfileInfo | null,
  path: string | null,
): { argv: string[] | null; from: string | null } {
  if (!info || (!info.cmd && !info.entrypoint)) return { argv: null, from: null };
  const argv = containerArgv(info.entrypoint, info.cmd, info.shell);
  const parts = [
    info.entrypoint ? `${path}:${info.entrypoint.line} ENTRYPOINT` : null,
    info.cmd ? `${path}:${info.cmd.line} CMD` : null,
  ].filter(Boolean);
  return { argv, from: parts.join(" + ") };
}

function drafts(deploy: DeployFacts): Draft[] {
  const out: Draft[] = [];
  const usedDockerfiles = new Set<string>();
  for (const cf of deploy.compose) {
    if (!cf.project) continue;
    for (const svc of cf.project.services) {
      const { df, assumed, build } = composeDockerfile(deploy, cf.path, svc, cf.project.services);
      if (df) usedDockerfiles.add(df.path);
      const info = df
        ? build?.target || Object.keys(build?.args ?? {}).length
          ? dockerfileInfo(df.parsed, { target: build?.target, buildArgs: build?.args })
          : df.info
        : null;
      const de = dockerEnv(info, df?.path ?? null);
      const env = { ...de.env, ...svc.environment };
      const envWhere = { ...de.where, ...svc.envSources };
      let argv: string[] | null;
      let from: string | null;
      if (svc.entrypoint) {
        argv = [...svc.entrypoint, ...(svc.command ?? [])];
        from = `${cf.path}:${svc.line} entrypoint${svc.command ? " + command" : ""}`;
      } else if (svc.command) {
        const d = info
          ? containerArgv(info.entrypoint, { json: svc.command, shell: null }, info.shell)
          : svc.command;
        argv = d;
        from = `${cf.path}:${svc.commandLine ?? svc.line} command${info?.entrypoint ? ` (after ${df?.path}:${info.entrypoint.line} ENTRYPOINT)` : ""}`;
      } else {
        const d = argvFromDocker(info, df?.path ?? null);
        argv = d.argv;
        from = d.from;
      }
      out.push({
        id: `compose service ${svc.name}${deploy.compose.length > 1 ? ` (${cf.path})` : ""}`,
        kind: "compose",
        name: svc.name,
        file: cf.path,
        line: svc.line,
        replicas: {
          count: svc.replicas ?? 1,
          max: svc.replicas ?? 1,
          from: svc.replicasFrom ?? "compose default (1)",
          hpa: null,
          stated: svc.replicas !== null,
        },
        argv,
        argvFrom: from,
        env,
        envWhere,
        unknownEnv: [],
        hostname: svc.hostname
          ? { value: svc.hostname, from: `${cf.path}:${svc.hostnameLine} hostname` }
          : { value: null, from: "the container ID (no hostname: set)" },
        dockerfile: df,
        dockerInfo: info,
        dockerfileAssumed: assumed,
        compose: svc,
        k8s: null,
      });
    }
  }
  const configMaps = deploy.k8s.flatMap((m) => m.configMaps);
  const hpas = deploy.k8s.flatMap((m) => m.hpas);
  for (const m of deploy.k8s) {
    for (const w of m.workloads) {
      const hpa = hpas.find((h) => h.target.kind === w.kind && h.target.name === w.name) ?? null;
      for (const c of w.containers) {
        const { df, assumed } = dockerfileForImage(deploy, c.image);
        if (df) usedDockerfiles.add(df.path);
        const info = df?.info ?? null;
        const de = dockerEnv(info, df?.path ?? null);
        const env = { ...de.env };
        const envWhere = { ...de.where };
        const unknownEnv: string[] = [];
        for (const ef of c.envFrom) {
          const cm = ef.kind === "ConfigMap" ? configMaps.find((x) => x.name === ef.name) : null;
          if (cm)
            for (const [k, v] of Object.entries(cm.data)) {
              env[`${ef.prefix}${k}`] = v;
              envWhere[`${ef.prefix}${k}`] = `${m.file} ConfigMap ${cm.name}`;
            }
        }
        for (const [k, v] of Object.entries(c.env)) {
          env[k] = expandK8sVars(v, env);
          envWhere[k] = `${m.file} ${w.kind} ${w.name} env`;
        }
        for (const [k, ref] of Object.entries(c.envRefs)) {
          const cmRef = /^configMapKeyRef (.+)\/(.+)$/.exec(ref);
          const cm = cmRef ? configMaps.find((x) => x.name === cmRef[1]) : null;
          const v = cm && cmRef ? cm.data[cmRef[2] as string] : undefined;
          if (v !== undefined) {
            env[k] = v;
            envWhere[k] = `${m.file} ConfigMap ${cm?.name}`;
          } else {
            unknownEnv.push(k);
            delete env[k];
            envWhere[k] = `${m.file} ${ref}`;
          }
        }
        const expand = (xs: string[]) => xs.map((x) => expandK8sVars(x, env));
        let argv: string[] | null = null;
        let from: string | null = null;
        if (c.command) {
          argv = [...expand(c.command), ...expand(c.args ?? [])];
          from = `${m.file} ${w.kind} ${w.name} command${c.args ? " + args" : ""}`;
        } else if (c.args) {
          argv = info
            ? containerArgv(info.entrypoint, { json: expand(c.args), shell: null }, info.shell)
            : expand(c.args);
          from = `${m.file} ${w.kind} ${w.name} args${info?.entrypoint ? ` (after ${df?.path} ENTRYPOINT)` : ""}`;
        } else {
          const d = argvFromDocker(info, df?.path ?? null);
          argv = d.argv;
          from = d.from;
        }
        const count = w.kind === "DaemonSet" ? 1 : (w.replicas ?? 1);
        const max = hpa?.maxReplicas ?? count;
        const statefulNames =
          w.kind === "StatefulSet"
            ? Array.from({ length: Math.min(Math.max(max, 1), 20) }, (_, i) => `${w.name}-${i}`)
            : undefined;
        out.push({
          id: `${w.kind} ${w.name}${w.containers.length > 1 ? `, container ${c.name}` : ""}`,
          kind: "k8s",
          name: w.name,
          file: m.file,
          line: w.line,
          replicas: {
            count: hpa ? Math.max(count, hpa.minReplicas ?? 1) : count,
            max: Math.max(max, count),
            from: hpa
              ? `HorizontalPodAutoscaler ${hpa.name} (${hpa.minReplicas ?? 1}-${hpa.maxReplicas})`
              : w.kind === "DaemonSet"
                ? "DaemonSet: one per node"
                : w.replicas !== null
                  ? `${m.file} spec.replicas`
                  : "Kubernetes default (1)",
            hpa,
            stated: w.replicas !== null,
          },
          argv,
          argvFrom: from,
          env,
          envWhere,
          unknownEnv,
          hostname: w.hostname
            ? { value: w.hostname, from: `${m.file} spec.template.spec.hostname` }
            : statefulNames
              ? {
                  value: statefulNames[0] ?? null,
                  from: "the StatefulSet pod name",
                  perReplica: statefulNames,
                }
              : { value: null, from: `the pod name (${w.name}-<hash>-<id>, different for every pod)` },
          dockerfile: df,
          dockerInfo: info,
          dockerfileAssumed: assumed,
          compose: null,
          k8s: { workload: w, container: c },
        });
      }
    }
  }
  if (deploy.procfile) {
    for (const p of deploy.procfile.processes) {
      out.push({
        id: `Procfile ${p.name}`,
        kind: "procfile",
        name: p.name,
        file: deploy.procfile.path,
        line: p.line,
        replicas: {
          count: 1,
          max: 1,
          from: "Procfile (dynos not known; assuming 1)",
          hpa: null,
          stated: false,
        },
        argv: ["/bin/sh", "-c", p.command],
        argvFrom: `${deploy.procfile.path}:${p.line}`,
        env: { ...deploy.env },
        envWhere: Object.fromEntries(Object.keys(deploy.env).map((k) => [k, "deploy environment"])),
        unknownEnv: [],
        hostname: { value: null, from: "unknown" },
        dockerfile: null,
        dockerInfo: null,
        dockerfileAssumed: false,
        compose: null,
        k8s: null,
      });
    }
  }
  for (const df of deploy.dockerfiles) {
    if (usedDockerfiles.has(df.path) || !df.info) continue;
    // Only Dockerfiles that run something, and only when nothing else deploys them.
    if (!df.info.cmd && !df.info.entrypoint) continue;
    if (out.some((d) => d.kind !== "procfile") && !/(^|\/)(Dockerfile|Containerfile)$/.test(df.path))
      continue;
    const de = dockerEnv(df.info, df.path);
    const env = { ...de.env, ...deploy.env };
    const envWhere = { ...de.where };
    for (const k of Object.keys(deploy.env)) envWhere[k] = "deploy environment (--env, --env-file, .env)";
    const d = argvFromDocker(df.info, df.path);
    out.push({
      id: df.path,
      kind: "dockerfile",
      name: df.path,
      file: df.path,
      line: df.info.cmd?.line ?? df.info.entrypoint?.line ?? 1,
      replicas: {
        count: 1,
        max: 1,
        from: "no compose file or Kubernetes manifest: assuming one container",
        hpa: null,
        stated: false,
      },
      argv: d.argv,
      argvFrom: d.from,
      env,
      envWhere,
      unknownEnv: [],
      hostname: { value: null, from: "the container ID" },
      dockerfile: df,
      dockerInfo: df.info,
      dockerfileAssumed: false,
      compose: null,
      k8s: null,
    });
  }
  return out;
}

/**
 * The directory (relative to the app dir) that becomes the container's working directory: the compose build
 * context, else the Dockerfile's or Procfile's directory. `-c gunicorn.conf.py` and `python x.py` resolve there.
 */
function contextDir(deploy: DeployFacts, d: Draft): string {
  const dot = (p: string) => (p === "." ? "" : p);
  if (d.compose) {
    const cf = deploy.compose.find((c) => c.path === d.file);
    const svc = d.compose;
    const build =
      svc.build ?? cf?.project?.services.find((x) => x !== svc && x.build && x.image === svc.image)?.build;
    if (build) return dot(relFromApp(join(dirname(d.file), build.context)));
    return dot(dirname(d.dockerfile?.path ?? d.file));
  }
  if (d.dockerfile) return dot(dirname(d.dockerfile.path));
  return dot(dirname(d.file));
}

/** Config files keyed as Gunicorn would open them from `dir` (files elsewhere keep their app-relative path). */
function configFilesFor(
  deploy: DeployFacts,
  dir: string,
): { files: Record<string, DeployFacts["gunicornConfigs"][string]>; appPath: (p: string) => string } {
  if (!dir) return { files: deploy.gunicornConfigs, appPath: (p) => p };
  const files: Record<string, DeployFacts["gunicornConfigs"][string]> = {};
  const back = new Map<string, string>();
  for (const [k, v] of Object.entries(deploy.gunicornConfigs)) {
    const rel = k.startsWith(`${dir}/`) ? k.slice(dir.length + 1) : null;
    if (rel !== null) {
      files[rel] = v;
      back.set(rel, k);
    }
  }
  for (const [k, v] of Object.entries(deploy.gunicornConfigs)) if (!(k in files)) files[k] = v;
  return { files, appPath: (p) => back.get(p) ?? p };
}

/** Builds the deployment model from the gathered facts. */
export function buildModel(deploy: DeployFacts): DeployModel {
  const ds = drafts(deploy);
  const instances: Instance[] = [];
  for (const d of ds) {
    const gunicorn = d.argv ? findGunicorn(d.argv, d.env, deploy.scripts, new Set(d.unknownEnv)) : null;
    const ctxDir = contextDir(deploy, d);
    const pyRel = gunicorn ? null : pythonFileOf(d.argv);
    const pythonFile = pyRel && ctxDir && !pyRel.startsWith("/") ? relFromApp(join(ctxDir, pyRel)) : pyRel;
    const { files: configFiles, appPath } = configFilesFor(deploy, ctxDir);
    let settings: Settings | null = null;
    let sources: GunicornSources | null = null;
    let config: Instance["config"] = null;
    let startupErrors: string[] = [];
    const env = { ...d.env, ...(gunicorn?.envOverrides ?? {}) };
    const envWhere = { ...d.envWhere };
    for (const k of Object.keys(gunicorn?.envOverrides ?? {}))
      envWhere[k] = `${gunicorn?.via.join(" → ") || "command"}`;
    if (gunicorn) {
      sources = {
        cli: {
          args: gunicorn.args,
          where: `${d.argvFrom ?? "command"}${gunicorn.via.length ? ` (${gunicorn.via.join(" → ")})` : ""}`,
        },
        configFiles,
        cwd: d.dockerInfo?.workdir ?? null,
        envWhere,
        unknownEnv: new Set(d.unknownEnv),
        hostname: d.hostname.value,
      };
      settings = gunicornSettings(sources, env);
      const r = resolveGunicorn(sources, env);
      config = r.config
        ? { path: appPath(r.config.path), chosenBy: r.config.chosenBy, found: r.config.parsed !== null }
        : null;
      startupErrors = startupErrorsOf(settings);
    }
    const inst: Instance = {
      ...d,
      env,
      envWhere,
      role: gunicorn ? "gunicorn" : pythonFile ? "python" : "other",
      gunicorn,
      pythonFile,
      settings,
      gunicornSources: sources,
      config,
      startupErrors,
      scheduler: noScheduler(),
    };
    inst.scheduler = verdict(inst, deploy);
    instances.push(inst);
  }
  // Instances with nothing to run (no command at all) but a gunicorn config: judge the config alone.
  if (!instances.some((i) => i.role === "gunicorn") && Object.keys(deploy.gunicornConfigs).length > 0) {
    const path =
      Object.keys(deploy.gunicornConfigs).find((p) => p === "gunicorn.conf.py") ??
      Object.keys(deploy.gunicornConfigs)[0] ??
      "";
    const env = { ...deploy.env };
    const sources: GunicornSources = {
      cli: path === "gunicorn.conf.py" ? null : { args: ["-c", path], where: `assumed: gunicorn -c ${path}` },
      configFiles: deploy.gunicornConfigs,
      envWhere: Object.fromEntries(Object.keys(env).map((k) => [k, "deploy environment"])),
    };
    const settings = gunicornSettings(sources, env);
    const inst: Instance = {
      id: path,
      kind: "gunicorn-config",
      name: path,
      file: path,
      line: 1,
      role: "gunicorn",
      replicas: {
        count: 1,
        max: 1,
        from: "no compose file or Kubernetes manifest: assuming one instance",
        hpa: null,
        stated: false,
      },
      argv: null,
      argvFrom: null,
      gunicorn: {
        args: sources.cli?.args ?? [],
        text: `gunicorn ${sources.cli?.args.join(" ") ?? ""}`.trim(),
        via: ["no command found; assuming gunicorn is started in the app dir"],
        envOverrides: {},
        unresolved: [],
      },
      pythonFile: null,
      env,
      envWhere: sources.envWhere ?? {},
      unknownEnv: [],
      hostname: { value: null, from: "unknown" },
      dockerfile: null,
      dockerInfo: null,
      dockerfileAssumed: false,
      settings,
      gunicornSources: sources,
      config: { path, chosenBy: path === "gunicorn.conf.py" ? "default" : "cli", found: true },
      startupErrors: startupErrorsOf(settings),
      scheduler: noScheduler(),
      compose: null,
      k8s: null,
    };
    inst.scheduler = verdict(inst, deploy);
    instances.push(inst);
  }
  // Totals
  let total: number | null = 0;
  let totalMin = 0;
  const totalLines: string[] = [];
  let global = false;
  for (const i of instances) {
    const s = i.scheduler;
    if (s.runs === "no") continue;
    const per = s.perReplica;
    const n = i.replicas.max;
    if (s.lockScope === "global") {
      global = true;
      totalLines.push(
        `${i.id}: ${n} replica${n === 1 ? "" : "s"}, guarded by a lock shared by every instance`,
      );
      continue;
    }
    if (per === null || s.runs === "unknown") total = null;
    else if (total !== null) total += per * n;
    totalMin += (s.runs === "yes" ? s.perReplicaMin : 0) * (s.runs === "yes" ? i.replicas.count : 0);
    totalLines.push(
      `${i.id}: ${per ?? `≥${s.perReplicaMin}`} per container × ${n} replica${n === 1 ? "" : "s"}${i.replicas.hpa ? ` (HPA max)` : ""}`,
    );
  }
  if (global) {
    if (total !== null) total += 1;
    totalMin += 1;
  }
  return { instances, hasStarts: deploy.guard.starts.length > 0, total, totalMin, totalLines };
}

const MASTER_HOOKS = new Set(["on_starting", "when_ready", "on_reload", "pre_fork", "nworkers_changed"]);
const LOCKS = new Set(["file-lock", "socket-lock", "redis-lock", "db-lock"]);

/** The site's module run with this instance's environment: the names a condition can use. */
function moduleNames(
  site: StartSite,
  deploy: DeployFacts,
  env: Record<string, string>,
  unknownEnv: string[],
  hostname: string | null,
): EvalContext {
  const ctx = newContext(env, { unknownEnv: new Set(unknownEnv), hostname });
  const top = deploy.gunicornConfigs[site.file]?.blocks ?? deploy.guard.modules[site.file];
  if (top) {
    execBlocks(top, ctx);
    const topLines = new Set(top.map((b) => b.head.line));
    // Then the enclosing functions' own assignments before the start.
    for (const b of site.bindings) if (!topLines.has(b.line)) ctx.names.set(b.name, evalExpr(b.expr, ctx));
  } else for (const b of site.bindings) ctx.names.set(b.name, evalExpr(b.expr, ctx));
  return ctx;
}

function evalCondition(
  site: StartSite,
  cond: string,
  deploy: DeployFacts,
  env: Record<string, string>,
  unknownEnv: string[],
  hostname: string | null,
): PyValue {
  return evalExpr(cond, moduleNames(site, deploy, env, unknownEnv, hostname));
}

function describeEnv(vars: string[], env: Record<string, string>): string {
  return vars.map((v) => (env[v] === undefined ? `${v} unset` : `${v}=${JSON.stringify(env[v])}`)).join(", ");
}

/** The allowed hosts Flask-APScheduler will use, from the app's code (and FLASK_SCHEDULER_ALLOWED_HOSTS). */
export function allowedHosts(
  deploy: DeployFacts,
  env: Record<string, string>,
): { hosts: string[] | null; from: string; unknown: boolean } | null {
  if (deploy.guard.fromPrefixedEnv && env.FLASK_SCHEDULER_ALLOWED_HOSTS !== undefined) {
    try {
      const v: unknown = JSON.parse(env.FLASK_SCHEDULER_ALLOWED_HOSTS);
      if (Array.isArray(v))
        return {
          hosts: v.map(String),
          from: "FLASK_SCHEDULER_ALLOWED_HOSTS (app.config.from_prefixed_env())",
          unknown: false,
        };
    } catch {
      return {
        hosts: [env.FLASK_SCHEDULER_ALLOWED_HOSTS],
        from: "FLASK_SCHEDULER_ALLOWED_HOSTS (a string, not a JSON list)",
        unknown: false,
      };
    }
  }
  const a = deploy.guard.allowedHosts[deploy.guard.allowedHosts.length - 1];
  if (!a) return null;
  const v = evalExpr(a.expr, newContext(env));
  const from = `${a.file}:${a.line} SCHEDULER_ALLOWED_HOSTS = ${a.expr}`;
  if ((v.t === "list" || v.t === "tuple") && v.v.every((x) => x.t === "str"))
    return { hosts: v.v.map((x) => (x as { v: string }).v), from, unknown: false };
  return { hosts: null, from: `${from} (${pyRepr(v)})`, unknown: true };
}

/** The verdict before anything is known: no scheduler runs. */
function noScheduler(): SchedulerVerdict {
  return {
    runs: "no",
    why: [],
    perReplica: 0,
    perReplicaMin: 0,
    where: "none",
    deadCopies: null,
    sites: [],
    guards: [],
    lockScope: "none",
    ageGuard: false,
  };
}

/** Why Gunicorn would refuse to start with these settings (each reason once). */
function startupErrorsOf(settings: Settings): string[] {
  return [
    ...new Set(
      Object.values(settings)
        .map((s) => s.startupError)
        .filter((x): x is string => x !== null),
    ),
  ];
}

function verdict(inst: Instance, deploy: DeployFacts): SchedulerVerdict {
  const v = noScheduler();
  const starts = deploy.guard.starts;
  if (starts.length === 0) {
    v.why.push("no scheduler.start() in the app's Python files");
    return v;
  }
  if (inst.startupErrors.length > 0) {
    v.why.push(`Gunicorn would not start: ${inst.startupErrors[0]}`);
    return v;
  }
  if (inst.role === "other") {
    v.why.push(
      inst.argv
        ? `runs ${inst.argv.join(" ").slice(0, 80)}, not Gunicorn or a Python script`
        : "no command known",
    );
    return v;
  }
  const env = inst.env;
  const debug = flaskDebug(env);
  const workers = inst.settings?.workers as (EffectiveSetting & { min?: number | null }) | undefined;
  const W = typeof workers?.value === "number" ? workers.value : null;
  const Wmin = W ?? (workers && "min" in workers && typeof workers.min === "number" ? workers.min : 1);
  const preload = inst.settings?.preload_app.value === true;
  const app = inst.gunicorn ? parseGunicornArgs(inst.gunicorn.args).app : null;
  const factory = app ? (/:([A-Za-z_]\w*)\s*\(/.exec(app)?.[1] ?? null) : null;
  const appModule = app ? (app.split(":")[0] ?? "").replace(/\./g, "/") : null;
  const outcomes: {
    site: StartSite;
    runs: boolean | null;
    count: number | null;
    min: number;
    where: SchedulerVerdict["where"];
    dead: number | null;
    note: string;
  }[] = [];
  for (const site of starts) {
    const at = `${site.file}:${site.line}`;
    if (inst.role === "python") {
      if (site.file !== inst.pythonFile && !inst.pythonFile?.endsWith(site.file)) continue;
      outcomes.push({
        site,
        runs: true,
        count: 1,
        min: 1,
        where: "process",
        dead: null,
        note: `${at}: ${inst.pythonFile} starts it in its one process`,
      });
      continue;
    }
    // Gunicorn instance.
    if (site.context === "hook") {
      if (!inst.config || normalize(inst.config.path) !== normalize(site.file)) continue;
      const master = MASTER_HOOKS.has(site.hook ?? "");
      outcomes.push({
        site,
        runs: true,
        count: master ? 1 : W,
        min: master ? 1 : Wmin,
        where: master ? "master" : "workers",
        dead: null,
        note: `${at}: started in the ${site.hook} hook (${master ? "runs in the master" : "runs in every worker"})`,
      });
    } else {
      if (deploy.gunicornConfigs[site.file]) continue; // a hook-less start in a config file: not app code
      if (site.context === "main-block") {
        outcomes.push({
          site,
          runs: false,
          count: 0,
          min: 0,
          where: "none",
          dead: null,
          note: `${at}: only under \`if __name__ == "__main__":\`, which Gunicorn never runs`,
        });
        continue;
      }
      if (site.context === "function" && !site.calledAtImport && site.function !== factory) {
        outcomes.push({
          site,
          runs: null,
          count: null,
          min: 0,
          where: "workers",
          dead: null,
          note: `${at}: inside ${site.function}(), which nothing calls at import: when (and in how many workers) it runs is unknown`,
        });
        continue;
      }
      const lazy = site.context === "request" || site.context === "first-request";
      const inMaster = preload && !lazy;
      outcomes.push({
        site,
        runs: true,
        count: inMaster ? 1 : W,
        min: inMaster ? 1 : Wmin,
        where: inMaster ? "master" : "workers",
        dead: inMaster ? W : null,
        note: lazy
          ? `${at}: started from a request handler in ${site.function}(): each worker starts one when it serves that request`
          : inMaster
            ? `${at}: runs at import, and --preload imports the app once in the master before forking`
            : `${at}: runs at import${site.context === "function" ? ` (${site.function}() is ${site.function === factory ? `the app factory in ${app}` : "called at import"})` : ""}: every worker imports the app`,
      });
      void appModule;
    }
  }
  if (outcomes.length === 0) {
    v.why.push(
      inst.role === "python"
        ? `${inst.pythonFile} has no scheduler.start()`
        : "no start site applies to this instance",
    );
    return v;
  }
  // Condition guards and Flask-APScheduler's gates, per site.
  for (const o of outcomes) {
    if (o.runs === false) continue;
    for (const g of o.site.guards) {
      if (g.kind === "condition" && g.condition) {
        // Plain conditions only switch the start off when they are decidably false.
        const v = evalCondition(o.site, g.condition, deploy, env, inst.unknownEnv, inst.hostname.value);
        if (pyTruthy(v) === false) {
          o.runs = false;
          o.note += `; \`${g.condition}\` (${g.file}:${g.line}) is false here`;
        }
        continue;
      }
      if (!g.condition || !["env-flag", "hostname", "reloader"].includes(g.kind)) continue;
      if (g.kind === "reloader") {
        if (!debug.on)
          o.note += `; the reloader guard at ${g.file}:${g.line} passes under Gunicorn (not in debug mode)`;
        else {
          o.runs = false;
          o.note += `; the reloader guard at ${g.file}:${g.line} is false under Gunicorn in debug mode (WERKZEUG_RUN_MAIN unset)`;
        }
        continue;
      }
      const hosts = inst.hostname.perReplica ?? [inst.hostname.value];
      const res = hosts.map((h) =>
        evalCondition(o.site, g.condition as string, deploy, env, inst.unknownEnv, h),
      );
      const truth = res.map((r) => pyTruthy(r));
      const shown =
        g.kind === "hostname"
          ? `hostname ${inst.hostname.value ?? `(${inst.hostname.from})`}`
          : describeEnv(g.variables, env) || "its inputs";
      if (truth.every((t) => t === false)) {
        o.runs = false;
        o.note += `; \`${g.condition}\` (${g.file}:${g.line}) is false here (${shown})`;
      } else if (truth.some((t) => t === null)) {
        o.runs = o.runs === true ? null : o.runs;
        o.note += `; \`${g.condition}\` (${g.file}:${g.line}) cannot be decided statically (${res.map((r) => pyRepr(r)).find((x) => x.startsWith("<")) ?? shown})`;
      } else {
        o.note += `; \`${g.condition}\` (${g.file}:${g.line}) is true here (${shown})`;
        if (inst.hostname.perReplica && truth.filter(Boolean).length < truth.length) {
          const k = truth.filter(Boolean).length;
          o.note += ` for ${k} of ${truth.length} pods`;
        }
      }
    }
    if (o.runs !== false && o.site.flaskApscheduler) {
      if (debug.on && env.WERKZEUG_RUN_MAIN !== "true") {
        o.runs = false;
        o.note += `; ${debug.via}: Flask-APScheduler's start() returns without starting`;
      } else {
        const ah = allowedHosts(deploy, env);
        if (ah) {
          if (ah.unknown) {
            o.runs = o.runs === true ? null : o.runs;
            o.note += `; allowed hosts unknown: ${ah.from}`;
          } else if (ah.hosts && !ah.hosts.includes("*")) {
            const hosts = inst.hostname.perReplica ?? [inst.hostname.value];
            const ok = hosts.filter((h) => h !== null && ah.hosts?.includes(h.toLowerCase()));
            if (ok.length === 0) {
              o.runs = false;
              o.note += `; hostname ${inst.hostname.value ?? `is ${inst.hostname.from}`}${inst.hostname.value ? "" : ","} not in SCHEDULER_ALLOWED_HOSTS ${JSON.stringify(ah.hosts)} (${ah.from})`;
            } else
              o.note += `; hostname ${ok.join(", ")} is in SCHEDULER_ALLOWED_HOSTS ${JSON.stringify(ah.hosts)}`;
          }
        }
      }
    }
  }
  const running = outcomes.filter((o) => o.runs !== false);
  v.sites = outcomes.map((o) => o.site);
  v.why = outcomes.map((o) => o.note);
  if (running.length === 0) return v;
  v.runs = running.some((o) => o.runs === true) ? "yes" : "unknown";
  // The scheduler that runs: the biggest count among the sites that run.
  const best = [...running].sort(
    (a, b) => (b.count ?? Number.POSITIVE_INFINITY) - (a.count ?? Number.POSITIVE_INFINITY),
  )[0] as (typeof running)[number];
  v.where = best.where;
  v.deadCopies = best.dead;
  let count = best.count;
  let min = best.min;
  v.guards = running.flatMap((o) => o.site.guards);
  const locks = v.guards.filter((g) => LOCKS.has(g.kind));
  if (v.guards.some((g) => g.kind === "worker-age")) {
    v.ageGuard = true;
    count = 1;
    min = 1;
    v.why.push(
      "worker.age == 1: only the first worker ever spawned starts it; once that worker is replaced (max_requests, timeout, crash, HUP) no worker has age 1 again",
    );
  }
  // schedctl_lock.lead(): its backend (SCHEDCTL_LOCK_BACKEND, else the generated default) decides the scope.
  const backendOf = (g: Guard): string | null => {
    if (!g.backend) return null;
    const b = evalExpr(g.backend, newContext(env, { unknownEnv: new Set(inst.unknownEnv) }));
    return b.t === "str" ? b.v : null;
  };
  for (const g of locks) {
    const b = backendOf(g);
    if (b !== null)
      v.why.push(
        `schedctl_lock.lead() at ${g.file}:${g.line} uses the ${b} backend${b === "file" ? " (one host or container only)" : ""}`,
      );
  }
  const scopeOf = (g: Guard) =>
    g.kind === "db-lock" || (g.kind === "redis-lock" && backendOf(g) !== "file") ? "global" : "container";
  if (locks.some((g) => scopeOf(g) === "global")) v.lockScope = "global";
  else if (locks.length > 0) v.lockScope = "container";
  if (v.lockScope !== "none") {
    if (count !== null) count = Math.min(count, 1);
    min = Math.min(min, 1);
  }
  // StatefulSet pods with per-pod hostnames: only some replicas may pass a hostname gate (handled in notes).
  v.perReplica = count;
  v.perReplicaMin = v.runs === "yes" ? min : 0;
  return v;
}

/** Instances that run a scheduler (yes or unknown). */
export function schedulerInstances(m: DeployModel): Instance[] {
  return m.instances.filter((i) => i.scheduler.runs !== "no");
}

/** Gunicorn instances. */
export function gunicornInstances(m: DeployModel): Instance[] {
  return m.instances.filter((i) => i.role === "gunicorn");
}

/**
 * The gunicorn arguments with one setting's flag set to `value` (replacing every occurrence, keeping the
 * written style) or removed (`value` null) — for exact fix lines. A missing flag is added first.
 */
export function rewriteGunicornArgs(
  args: string[],
  setting: "workers" | "max_requests" | "preload_app",
  value: string | null,
): string[] {
  const names = {
    workers: ["-w", "--workers"],
    max_requests: ["--max-requests"],
    preload_app: ["--preload"],
  }[setting];
  const out: string[] = [];
  let done = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    const hit =
      names.find((n) => n.startsWith("--") && (a === n || a.startsWith(`${n}=`))) ??
      names.find((n) => !n.startsWith("--") && a.startsWith(n) && !a.startsWith("--"));
    if (!hit) {
      out.push(a);
      continue;
    }
    const attached = a !== hit;
    if (setting !== "preload_app" && !attached) i++;
    if (!done && value !== null) {
      if (setting === "preload_app") out.push(hit);
      else if (attached) out.push(hit.startsWith("--") ? `${hit}=${value}` : `${hit}${value}`);
      else out.push(hit, value);
    }
    done = true;
  }
  if (!done && value !== null)
    return setting === "preload_app"
      ? [names[0] as string, ...out]
      : [names[names.length - 1] as string, value, ...out];
  return out;
}

/** Shell-quotes a command vector for display. */
export function showArgv(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(" ");
}

export function splitCommandString(s: string): string[] {
  return shlexSplit(s).words;
}
