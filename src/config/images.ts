import type { BaseImage } from "./types.js";

/** CPython shipped by each distro release schedctl supports as a non-python:* base. */
const UBUNTU_PYTHON: Record<string, { version: string; python: string }> = {
  "22.04": { version: "22.04", python: "3.10" },
  jammy: { version: "22.04", python: "3.10" },
  "24.04": { version: "24.04", python: "3.12" },
  noble: { version: "24.04", python: "3.12" },
};
const DISTROLESS: Record<string, { debian: string; codename: string; python: string }> = {
  "12": { debian: "12", codename: "bookworm", python: "3.11" },
  "13": { debian: "13", codename: "trixie", python: "3.13" },
};

/**
 * Facts about a base image reference already matched by patterns.BASE_IMAGE, or null for anything else.
 * python:X-slim without a suffix is Debian 13 (trixie) since the official images moved in August 2025;
 * python:X-alpine ships tzdata (docker-library/python adds it for PEP 615), so does distroless.
 */
export function classifyBaseImage(ref: string): BaseImage | null {
  let m = /^python:(3\.\d+)-slim(?:-(bookworm|trixie))?$/.exec(ref);
  if (m?.[1]) {
    const trixie = m[2] !== "bookworm";
    return {
      ref,
      flavor: "debian",
      osId: "debian",
      osVersion: trixie ? "13" : "12",
      python: m[1],
      pythonBin: "python",
      buildImage: null,
      usesEtcTimezone: !trixie,
      hasTzdata: true,
    };
  }
  m = /^python:(3\.\d+)-alpine(3\.\d+)?$/.exec(ref);
  if (m?.[1])
    return {
      ref,
      flavor: "alpine",
      osId: "alpine",
      osVersion: m[2] ?? "3",
      python: m[1],
      pythonBin: "python",
      buildImage: null,
      usesEtcTimezone: true,
      hasTzdata: true,
    };
  m = /^ubuntu:(.+)$/.exec(ref);
  if (m?.[1]) {
    const u = UBUNTU_PYTHON[m[1]];
    if (!u) return null;
    return {
      ref,
      flavor: "ubuntu",
      osId: "ubuntu",
      osVersion: u.version,
      python: u.python,
      pythonBin: "python",
      buildImage: null,
      usesEtcTimezone: true,
      hasTzdata: false,
    };
  }
  m = /^gcr\.io\/distroless\/python3-debian(\d+)(?::[a-z-]+)?$/.exec(ref);
  if (m?.[1]) {
    const d = DISTROLESS[m[1]];
    if (!d) return null;
    return {
      ref,
      flavor: "distroless",
      osId: "debian",
      osVersion: d.debian,
      python: d.python,
      pythonBin: "/usr/bin/python3",
      buildImage: `python:${d.python}-slim-${d.codename}`,
      usesEtcTimezone: Number(d.debian) < 13,
      hasTzdata: true,
    };
  }
  return null;
}

/** Whether the image's Python is fixed by the distro (ubuntu, distroless) rather than by its tag. */
export function pythonFixedByDistro(image: BaseImage): boolean {
  return image.flavor === "ubuntu" || image.flavor === "distroless";
}
