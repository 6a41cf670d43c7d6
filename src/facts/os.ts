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

  let libc: OsFacts["libc"] = "glibc";
  let libcEvidence = "assumed (no libc found)";
  outer: for (const dir of ["/lib", "/lib64", "/usr/lib"]) {
    const entries = (await target.readdir(dir)) ?? [];
    for (const e of entries) {
      if (e.startsWith("ld-musl-")) {
        libc = "musl";
        libcEvidence = `${dir}/${e}`;
        break outer;
      }
      if (e.startsWith("ld-linux") || e.endsWith("-linux-gnu") || e === "libc.so.6") {
        libc = "glibc";
        libcEvidence = `${dir}/${e}`;
        break outer;
      }
    }
  }
  if (libcEvidence.startsWith("assumed") && id === "alpine") {
    libc = "musl";
    libcEvidence = "os-release ID=alpine";
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
