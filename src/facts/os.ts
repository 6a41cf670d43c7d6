import type { Target } from "../targets/target.js";
import type { OsFacts } from "./types.js";

/** Parses os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    let v = m[2] ?? "";
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v.replace(/\\(["$`\\])/g, "$1");
  }
  return out;
}

export async function gatherOsFacts(target: Target): Promise<OsFacts> {
  let rel: Record<string, string> = {};
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    const buf = await target.readFile(p, 64 * 1024).catch(() => null);
    if (buf) {
      rel = parseOsRelease(buf.toString("utf8"));
      break;
    }
  }
  const id = rel.ID?.toLowerCase() ?? null;
  const idLike = (rel.ID_LIKE ?? "").toLowerCase().split(/\s+/).filter(Boolean);

  // Look for both loaders: Debian with the musl package has ld-musl too, Alpine with gcompat has ld-linux.
  let musl: string | null = null;
  let glibc: string | null = null;
  for (const dir of ["/lib", "/lib64", "/usr/lib"]) {
    for (const e of (await target.readdir(dir)) ?? []) {
      if (!musl && e.startsWith("ld-musl-")) musl = `${dir}/${e}`;
      if (!glibc && (e.startsWith("ld-linux") || e.endsWith("-linux-gnu") || e === "libc.so.6"))
        glibc = `${dir}/${e}`;
    }
  }
  let libc: OsFacts["libc"];
  let libcEvidence: string;
  if (id === "alpine") {
    libc = "musl";
    libcEvidence = musl ?? "os-release ID=alpine";
  } else if (glibc) {
    libc = "glibc";
    libcEvidence = glibc;
  } else if (musl) {
    libc = "musl";
    libcEvidence = musl;
  } else {
    libc = "glibc";
    libcEvidence = "assumed (no libc found)";
  }

  const family = [id ?? "", ...idLike];
  const packageManager: OsFacts["packageManager"] =
    id === "alpine"
      ? "apk"
      : family.some((x) => x === "debian" || x === "ubuntu")
        ? "apt"
        : family.some((x) => x === "rhel" || x === "fedora" || x === "centos")
          ? "dnf"
          : null;

  return {
    id,
    idLike,
    versionId: rel.VERSION_ID ?? null,
    codename: rel.VERSION_CODENAME ?? null,
    prettyName: rel.PRETTY_NAME ?? null,
    libc,
    libcEvidence,
    packageManager,
  };
}
