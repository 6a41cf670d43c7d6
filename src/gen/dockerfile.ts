/**
 * `schedctl gen dockerfile`: a timezone-correct image for both roles, per base image flavour.
 * The timezone lines come from src/checks/tz/common.ts dockerfileTzLines (the same recipe doctor prints as a
 * fix), so gen and doctor cannot disagree about /etc/timezone on trixie or tzdata on Alpine.
 */
import { dockerfileTzLines } from "../checks/tz/common.js";
import type { BaseImage, SchedctlConfig } from "../config/types.js";
import type { OsFacts } from "../facts/types.js";
import { execForm, FILE_NAMES, finish, type GeneratedFile, gunicornArgs, healthCommand } from "./common.js";
import { render, type Templates } from "./templates.js";

/** The os-release facts a base image stands for, as doctor would read them from the image. */
export function imageOsFacts(image: BaseImage): OsFacts {
  return {
    id: image.osId,
    idLike: image.osId === "ubuntu" ? ["debian"] : [],
    versionId: image.osVersion,
    codename: null,
    prettyName: null,
    libc: image.flavor === "alpine" ? "musl" : "glibc",
    libcEvidence: `base image ${image.ref}`,
    packageManager: image.flavor === "alpine" ? "apk" : image.flavor === "distroless" ? null : "apt",
  };
}

const LINK =
  /ln -snf "\/usr\/share\/zoneinfo\/\$TZ" \/etc\/localtime(?: && (?:rm -f \/etc\/timezone|echo "\$TZ" > \/etc\/timezone))?/;
const APT_INSTALL = /DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata/;

/** The /etc/localtime (+ /etc/timezone) step and, on apt images, the tzdata install, from dockerfileTzLines. */
export function tzRecipe(image: BaseImage, zone: string): { link: string; aptInstall: string | null } {
  const text = dockerfileTzLines(imageOsFacts(image), zone).join("\n");
  const link = LINK.exec(text)?.[0];
  if (!link)
    throw new Error("dockerfileTzLines no longer writes the /etc/localtime link schedctl gen expects");
  const apt = APT_INSTALL.exec(text)?.[0] ?? null;
  return { link, aptInstall: apt };
}

/** apt packages Ubuntu needs, pinned where a pin means something: Python to the release's series. */
function ubuntuPackages(image: BaseImage): string[] {
  return [`python3=${image.python}.*`, `python3-venv=${image.python}.*`, "tzdata=20*"];
}

function imageNote(image: BaseImage): string {
  switch (image.flavor) {
    case "debian":
      return image.usesEtcTimezone
        ? `${image.ref} is Debian ${image.osVersion} with tzdata installed.`
        : `${image.ref} is Debian ${image.osVersion} (trixie) with tzdata installed; it no longer uses /etc/timezone.`;
    case "alpine":
      return `${image.ref} ships tzdata (the official Python images install it).`;
    case "ubuntu":
      return `${image.ref} runs Ubuntu's Python ${image.python} in a virtualenv.`;
    case "distroless":
      return `${image.ref} runs Debian ${image.osVersion}'s Python ${image.python} and has no shell.`;
  }
}

function envBlock(vars: Record<string, string>): string {
  return Object.keys(vars)
    .sort()
    .map((k) => `${k}=${vars[k]}`)
    .join(" \\\n    ");
}

/** A shell-form RUN instruction with a pipe (`a | b`, not `a || b`), quoted text ignored. */
function hasPipe(run: string): boolean {
  const unquoted = run.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, "");
  return /(^|[^|])\|(?!\|)/.test(unquoted);
}

/**
 * hadolint DL4006: a RUN with a pipe needs `SHELL [..., "-o", "pipefail", ...]` earlier in its stage, or
 * a failing first command goes unnoticed. Inserts one before the first such RUN of each stage (bash on
 * Debian/Ubuntu, where /bin/sh is dash; ash on Alpine).
 */
export function ensurePipefail(text: string, flavor: BaseImage["flavor"]): string {
  const shell =
    flavor === "alpine" ? '["/bin/ash", "-eo", "pipefail", "-c"]' : '["/bin/bash", "-o", "pipefail", "-c"]';
  const lines = text.split("\n");
  const out: string[] = [];
  let stageHasShell = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^FROM\s/i.test(line)) stageHasShell = false;
    if (/^SHELL\s/i.test(line) && /pipefail/.test(line)) stageHasShell = true;
    if (/^RUN\s+(?!\[)/i.test(line)) {
      let j = i;
      let instr = line;
      while (/\\$/.test(lines[j] as string) && j + 1 < lines.length) instr += `\n${lines[++j]}`;
      if (!stageHasShell && hasPipe(instr.replace(/^RUN\s+/i, ""))) {
        out.push(`SHELL ${shell}`);
        stageHasShell = true;
      }
    }
    out.push(line);
  }
  return out.join("\n");
}

export function generateDockerfile(cfg: SchedctlConfig, t: Templates): GeneratedFile {
  const image = cfg.baseImage;
  const { link, aptInstall } = tzRecipe(image, cfg.timezone);
  const env: Record<string, string> = {
    PORT: String(cfg.port),
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
    SCHEDULER_TIMEZONE: cfg.timezone,
    TZ: cfg.timezone,
  };
  if (image.flavor === "ubuntu")
    Object.assign(env, { PATH: "/opt/venv/bin:$PATH", VIRTUAL_ENV: "/opt/venv" });
  if (image.flavor === "distroless") env.PYTHONPATH = "/opt/site-packages";

  const vars: Record<string, string> = {
    source: cfg.source,
    image_note: imageNote(image),
    base_image: image.ref,
    env: envBlock(env),
    requirements: cfg.requirements,
    requirements_note: cfg.lock.backend === "redis" ? " and redis (for schedctl_lock.py)" : "",
    port: String(cfg.port),
    healthcheck: execForm(healthCommand(cfg)),
    cmd: execForm(image.flavor === "distroless" ? gunicornArgs(cfg) : ["gunicorn", ...gunicornArgs(cfg)]),
  };
  if (image.flavor !== "distroless") {
    vars.tz_link = link;
    vars.tz_sources = image.usesEtcTimezone
      ? "TZ, /etc/localtime, /etc/timezone"
      : "TZ, /etc/localtime; Debian 13 has no /etc/timezone";
  }
  if (image.flavor === "ubuntu") {
    if (!aptInstall) throw new Error("dockerfileTzLines no longer installs tzdata with apt-get");
    vars.apt_install = aptInstall.replace(/tzdata$/, ubuntuPackages(image).join(" "));
  }
  if (image.flavor === "distroless") {
    vars.python = image.python;
    vars.build_image = image.buildImage as string;
  }
  const name = `dockerfile/${image.flavor}.Dockerfile` as const;
  const text = render(t[name], vars, name);
  return { path: FILE_NAMES.dockerfile, content: finish(ensurePipefail(text, image.flavor)) };
}
