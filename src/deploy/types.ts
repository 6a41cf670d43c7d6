/**
 * The deployment facts behind the `workers` and `deploy` checks, gathered once from the app dir
 * (src/deploy/gather.ts). Everything here is plain data; checks read it through src/deploy/model.ts.
 */
import type { ComposeProject } from "./compose.js";
import type { DockerfileInfo, LintFinding, ParsedDockerfile } from "./dockerfile.js";
import type { GuardAnalysis } from "./guard.js";
import type { ParsedGunicornConfig } from "./gunicorn.js";
import type { K8sManifest } from "./k8s.js";

export interface DeployFileError {
  /** Path relative to the app dir. */
  file: string;
  /** One line: what is wrong ("docker-compose.yml:12: ..."). */
  message: string;
}

export interface DockerfileFact {
  /** Path relative to the app dir ("Dockerfile", "docker/Dockerfile.prod"). */
  path: string;
  parsed: ParsedDockerfile;
  /** The final stage's facts (compose build targets are resolved in the model). */
  info: DockerfileInfo | null;
  lint: LintFinding[];
}

export interface ComposeFileFact {
  path: string;
  project: ComposeProject | null;
  error: string | null;
}

export interface ProcfileFact {
  path: string;
  processes: { name: string; command: string; line: number }[];
}

export interface DeployFacts {
  appDir: string;
  /** The deploy-time environment (target env, .env, --env-file, --env): compose interpolation, bare images. */
  env: Record<string, string>;
  dockerfiles: DockerfileFact[];
  compose: ComposeFileFact[];
  k8s: K8sManifest[];
  procfile: ProcfileFact | null;
  /** gunicorn config files by path relative to the app dir. */
  gunicornConfigs: Record<string, ParsedGunicornConfig>;
  /** Shell scripts that may be entrypoints (path relative to the app dir → text). */
  scripts: Record<string, string>;
  /** How the app starts and guards its scheduler. */
  guard: GuardAnalysis;
  /** Every file read, by kind, for evidence. */
  files: {
    kind: "dockerfile" | "compose" | "k8s" | "gunicorn-config" | "procfile" | "script" | "env-file";
    path: string;
  }[];
  /** Unreadable or malformed inputs: collected, never thrown. */
  errors: DeployFileError[];
  /** Limits hit and assumptions made while gathering. */
  notes: string[];
}
