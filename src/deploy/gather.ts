/**
 * Reads, under the app dir, everything the deploy/workers checks need: Dockerfiles, compose files (and their
 * env_files), Kubernetes manifests, gunicorn config files (gunicorn.conf.py and any named by `-c`), entrypoint
 * scripts, a Procfile and the Python sources (bounded: size, count, depth; virtualenvs skipped). Every file's
 * problem is collected in `errors`; nothing throws.
 */

import type { Dirent } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { NOT_APP_DIRS } from "../facts/app.js";
import { AppDirReader } from "../facts/app-dir.js";
import { composeEnvFiles, parseCompose } from "./compose.js";
import { dockerfileInfo, lintDockerfile, parseDockerfile } from "./dockerfile.js";
import { emptyDeployFacts } from "./empty.js";
import { analyzeGuards, type PySource } from "./guard.js";
import { parseGunicornConfig } from "./gunicorn.js";
import { looksLikeK8s, parseK8s } from "./k8s.js";
import type { DeployFacts } from "./types.js";

const MAX_DEPTH = 5;
const MAX_FILES = 5000;
const MAX_PY_FILES = 2000;
const MAX_PY_BYTES = 1024 * 1024;
const MAX_CONFIG_BYTES = 512 * 1024;
const MAX_SCRIPTS = 50;
const K8S_DIRS = new Set([
  "k8s",
  "kubernetes",
  "kube",
  "deploy",
  "deployment",
  "deployments",
  "manifests",
  "kustomize",
  "overlays",
  "base",
]);
const COMPOSE_NAMES = new Set(["docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml"]);

interface Walked {
  rel: string;
  abs: string;
  size: number;
  /** Directory names on the way (relative). */
  dirs: string[];
}

async function walk(root: string, notes: string[], reader: AppDirReader): Promise<Walked[]> {
  const out: Walked[] = [];
  const go = async (dir: string, depth: number, dirs: string[]): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    if (out.length >= MAX_FILES) return;
    let entries: Dirent[];
    try {
      entries = [...(await reader.list(dir))];
    } catch (e) {
      if (depth === 0) throw e;
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (out.length >= MAX_FILES) {
        notes.push(`stopped listing ${root} after ${MAX_FILES} files`);
        return;
      }
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (NOT_APP_DIRS.has(e.name) || (e.name.startsWith(".") && e.name !== ".k8s")) continue;
        // A virtualenv under another name.
        if (await reader.stat(join(abs, "pyvenv.cfg")).catch(() => null)) continue;
        await go(abs, depth + 1, [...dirs, e.name]);
      } else if (e.isFile() || e.isSymbolicLink()) {
        const st = await reader.stat(abs).catch(() => null);
        if (!st?.isFile()) continue;
        out.push({ rel: relative(root, abs).split("\\").join("/"), abs, size: st.size, dirs });
      }
    }
  };
  await go(root, 0, []);
  return out;
}

async function readText(
  f: Walked,
  limit: number,
  facts: DeployFacts,
  reader: AppDirReader,
): Promise<string | null> {
  if (f.size > limit) {
    facts.errors.push({
      file: f.rel,
      message: `${f.rel}: ${f.size} bytes, larger than the ${limit}-byte limit; not read`,
    });
    return null;
  }
  try {
    const buf = await reader.read(f.abs);
    if (buf.includes(0)) {
      facts.errors.push({ file: f.rel, message: `${f.rel}: binary file; not read` });
      return null;
    }
    return buf.toString("utf8");
  } catch (e) {
    facts.errors.push({ file: f.rel, message: `${f.rel}: ${(e as Error).message}` });
    return null;
  }
}

const isDockerfile = (name: string) =>
  /^(Dockerfile|Containerfile)(\.[\w.-]+)?$/.test(name) ||
  /\.(Dockerfile|dockerfile|containerfile)$/.test(name);
const isGunicornConfigName = (name: string) =>
  /^gunicorn([._-]?(conf|config|cfg|settings))?(\.[\w-]+)?\.py$/i.test(name) ||
  /^(conf|config)[._-]gunicorn\.py$/i.test(name);

/** Gathers the deploy facts of an app dir with the deploy-time environment (facts.env). */
/** `files`: the reader this gather shares with the tz facts (one is made when not given). */
export async function gatherDeployFacts(
  appDir: string,
  env: Record<string, string>,
  reader = new AppDirReader(),
): Promise<DeployFacts> {
  const facts = emptyDeployFacts(appDir, env);
  let files: Walked[];
  try {
    files = await walk(appDir, facts.notes, reader);
  } catch (e) {
    facts.errors.push({ file: appDir, message: `${appDir}: ${(e as Error).message}` });
    return facts;
  }
  const commandTexts: string[] = [];

  // Dockerfiles
  for (const f of files.filter((x) => isDockerfile(basename(x.rel)))) {
    const text = await readText(f, MAX_CONFIG_BYTES, facts, reader);
    if (text === null) continue;
    try {
      const parsed = parseDockerfile(text);
      for (const e of parsed.errors) facts.errors.push({ file: f.rel, message: `${f.rel}: ${e}` });
      facts.dockerfiles.push({
        path: f.rel,
        parsed,
        info: dockerfileInfo(parsed),
        lint: lintDockerfile(text),
      });
      facts.files.push({ kind: "dockerfile", path: f.rel });
      commandTexts.push(text);
    } catch (e) {
      facts.errors.push({ file: f.rel, message: `${f.rel}: ${(e as Error).message}` });
    }
  }

  // Compose files (and their env_files)
  for (const f of files.filter((x) => COMPOSE_NAMES.has(basename(x.rel)) && x.dirs.length <= 2)) {
    const text = await readText(f, MAX_CONFIG_BYTES, facts, reader);
    if (text === null) continue;
    const envFiles: Record<string, string | null> = {};
    for (const p of composeEnvFiles(text)) {
      const abs = join(dirname(f.abs), p);
      try {
        const st = await reader.stat(abs);
        envFiles[p] = st.size > MAX_CONFIG_BYTES ? null : (await reader.read(abs)).toString("utf8");
        facts.files.push({ kind: "env-file", path: relative(appDir, abs) });
      } catch (e) {
        envFiles[p] = null;
        facts.errors.push({
          file: f.rel,
          message: `${f.rel}: env_file ${p}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (e as Error).message}`,
        });
      }
    }
    // Compose reads `.env` next to the compose file for interpolation; the given env wins.
    const dotenv = files.find((x) => x.rel === (dirname(f.rel) === "." ? ".env" : `${dirname(f.rel)}/.env`));
    const interpEnv: Record<string, string> = {};
    if (dotenv) {
      const t = await readText(dotenv, MAX_CONFIG_BYTES, facts, reader);
      if (t !== null)
        for (const line of t.split(/\r?\n/)) {
          const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
          if (m?.[1]) interpEnv[m[1]] = (m[2] ?? "").replace(/^(['"])(.*)\1$/, "$2");
        }
    }
    Object.assign(interpEnv, env);
    try {
      const r = parseCompose(text, f.rel, interpEnv, envFiles);
      facts.compose.push({ path: f.rel, project: r.project, error: r.error });
      if (r.error) facts.errors.push({ file: f.rel, message: r.error });
      facts.files.push({ kind: "compose", path: f.rel });
      commandTexts.push(text);
    } catch (e) {
      facts.errors.push({ file: f.rel, message: `${f.rel}: ${(e as Error).message}` });
    }
  }

  // Kubernetes manifests
  for (const f of files.filter((x) => /\.ya?ml$/i.test(x.rel) && !COMPOSE_NAMES.has(basename(x.rel)))) {
    const inK8sDir = f.dirs.some((d) => K8S_DIRS.has(d.toLowerCase()));
    if (!inK8sDir && f.dirs.length > 2) continue;
    if (f.dirs.includes("templates") || f.dirs.includes(".github")) continue;
    const text = await readText(f, MAX_CONFIG_BYTES, facts, reader);
    if (text === null) continue;
    if (!looksLikeK8s(text)) continue;
    if (
      !inK8sDir &&
      !/^\s*kind\s*:\s*(Deployment|StatefulSet|DaemonSet|HorizontalPodAutoscaler|Pod|CronJob|List)\b/m.test(
        text,
      )
    )
      continue;
    if (/\{\{.*\}\}/.test(text)) {
      facts.notes.push(
        `${f.rel}: a Helm/Go template (contains {{ }}); render it (helm template) to check it`,
      );
      continue;
    }
    try {
      const m = parseK8s(text, f.rel);
      facts.k8s.push(m);
      if (m.error) facts.errors.push({ file: f.rel, message: m.error });
      facts.files.push({ kind: "k8s", path: f.rel });
      commandTexts.push(text);
    } catch (e) {
      facts.errors.push({ file: f.rel, message: `${f.rel}: ${(e as Error).message}` });
    }
  }

  // Procfile
  const pf = files.find((x) => x.rel === "Procfile");
  if (pf) {
    const text = await readText(pf, MAX_CONFIG_BYTES, facts, reader);
    if (text !== null) {
      const processes = text
        .split(/\r?\n/)
        .map((l, i) => ({ m: /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(l.trim()), line: i + 1 }))
        .filter((x) => x.m)
        .map((x) => ({ name: x.m?.[1] ?? "", command: (x.m?.[2] ?? "").trim(), line: x.line }));
      facts.procfile = { path: pf.rel, processes };
      facts.files.push({ kind: "procfile", path: pf.rel });
      commandTexts.push(text);
    }
  }

  // Entrypoint scripts
  for (const f of files.filter(
    (x) =>
      /\.(sh|bash)$/.test(x.rel) || /(^|[/_-])(entrypoint|start|run|boot)([._-]|$)/i.test(basename(x.rel)),
  )) {
    if (Object.keys(facts.scripts).length >= MAX_SCRIPTS) break;
    if (/\.(py|ya?ml|json|md|txt|toml|cfg|ini|lock)$/i.test(f.rel)) continue;
    const text = await readText(f, 64 * 1024, facts, reader);
    if (text === null) continue;
    if (!/\.(sh|bash)$/.test(f.rel) && !text.startsWith("#!")) continue;
    facts.scripts[f.rel] = text;
    facts.files.push({ kind: "script", path: f.rel });
    commandTexts.push(text);
  }

  // gunicorn config files: by name, and any named with -c/--config anywhere in the commands.
  const named = new Set<string>();
  const gunicornLines = commandTexts.flatMap((t) =>
    t.split("\n").filter((l) => /gunicorn|GUNICORN_CMD_ARGS/.test(l)),
  );
  for (const t of [...gunicornLines, env.GUNICORN_CMD_ARGS ?? ""]) {
    for (const m of t.matchAll(
      /(?:^|[\s"'[,])(?:-c|--config)(?:\s*=\s*|\s+|["'],\s*["'])["']?((?:python:)?[\w./-]+)/g,
    )) {
      const p = m[1] ?? "";
      named.add(p.startsWith("python:") ? `${p.slice(7).replace(/\./g, "/")}.py` : p);
    }
  }
  const pyFiles = files.filter((x) => x.rel.endsWith(".py"));
  const configFiles = pyFiles.filter((f) => {
    if (isGunicornConfigName(basename(f.rel))) return true;
    for (const n of named) {
      const clean = n.replace(/^\.\//, "");
      if (
        f.rel === clean ||
        (clean.startsWith("/") && basename(clean) === basename(f.rel)) ||
        f.rel.endsWith(`/${clean}`)
      )
        return true;
    }
    return false;
  });
  for (const n of named) {
    const clean = n.replace(/^\.\//, "");
    if (!configFiles.some((f) => f.rel === clean || basename(f.rel) === basename(clean)))
      facts.notes.push(`gunicorn -c ${n}: no such file under ${appDir}; its settings are unknown`);
  }
  const sources: PySource[] = [];
  for (const f of configFiles) {
    const text = await readText(f, MAX_CONFIG_BYTES, facts, reader);
    if (text === null) continue;
    facts.gunicornConfigs[f.rel] = parseGunicornConfig(text);
    facts.files.push({ kind: "gunicorn-config", path: f.rel });
    sources.push({ path: f.rel, text, role: "gunicorn-config" });
  }

  // Python sources
  let count = 0;
  for (const f of pyFiles) {
    if (configFiles.includes(f)) continue;
    if (count >= MAX_PY_FILES) {
      facts.notes.push(`read the first ${MAX_PY_FILES} Python files only`);
      break;
    }
    if (f.size > MAX_PY_BYTES) {
      facts.notes.push(`${f.rel}: larger than ${MAX_PY_BYTES} bytes; skipped`);
      continue;
    }
    if (/(^|\/)(tests?|migrations)\//.test(f.rel)) continue;
    const text = await readText(f, MAX_PY_BYTES, facts, reader);
    if (text === null) continue;
    count++;
    sources.push({ path: f.rel, text, role: "app" });
  }
  try {
    facts.guard = analyzeGuards(sources);
  } catch (e) {
    facts.errors.push({ file: appDir, message: `analysing the Python sources: ${(e as Error).message}` });
  }
  return facts;
}
