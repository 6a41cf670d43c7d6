/** Every generator behind one name: `schedctl gen <what>` and `gen all`. Pure: config in, files out. */
import type { SchedctlConfig } from "../config/types.js";
import type { GeneratedFile, GeneratorName } from "./common.js";
import { generateCompose } from "./compose.js";
import { generateDockerfile } from "./dockerfile.js";
import { generateGunicorn } from "./gunicorn.js";
import { generateK8s } from "./k8s.js";
import { generateLock } from "./lock.js";
import { generateNginx } from "./nginx.js";
import type { Templates } from "./templates.js";

export type GenTarget = GeneratorName | "all";

export function generateOne(name: GeneratorName, cfg: SchedctlConfig, t: Templates): GeneratedFile {
  switch (name) {
    case "dockerfile":
      return generateDockerfile(cfg, t);
    case "gunicorn":
      return generateGunicorn(cfg, t);
    case "nginx":
      return generateNginx(cfg, t);
    case "compose":
      return generateCompose(cfg);
    case "k8s":
      return generateK8s(cfg);
    case "lock":
      return generateLock(cfg, t);
  }
}

/** The files of one generator, or of the whole kit (without the lock module when the backend is "none"). */
export function generate(target: GenTarget, cfg: SchedctlConfig, t: Templates): GeneratedFile[] {
  if (target !== "all") return [generateOne(target, cfg, t)];
  const names: GeneratorName[] = ["dockerfile", "gunicorn", "nginx", "compose", "k8s"];
  if (cfg.lock.backend !== "none") names.push("lock");
  return names
    .map((n) => generateOne(n, cfg, t))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
