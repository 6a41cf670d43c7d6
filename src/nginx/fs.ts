/**
 * The file-system edge of the nginx modules: reading configuration files (size-checked before reading,
 * so a huge or binary file is refused without loading it) and expanding `include` globs like glob(3)
 * (sorted; `*` and `?` do not match a leading dot; `[...]` classes).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import { NginxParseError } from "./lexer.js";
import { DEFAULT_MAX_FILE_CHARS, type ParseOptions } from "./parse.js";

/** Reads a configuration file; null when it does not exist. Refuses directories, huge and binary files. */
export function readConfigFile(path: string, maxBytes = DEFAULT_MAX_FILE_CHARS): string | null {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (st.isDirectory()) throw new NginxParseError(path, 0, "is a directory, not an nginx configuration file");
  if (!st.isFile()) throw new NginxParseError(path, 0, "is not a regular file");
  if (st.size > maxBytes) {
    throw new NginxParseError(
      path,
      0,
      `file too large (${st.size} bytes; the limit is ${maxBytes}): not an nginx configuration?`,
    );
  }
  const buf = readFileSync(path);
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    const line = buf.subarray(0, nul).toString("latin1").split("\n").length;
    throw new NginxParseError(path, line, "binary file (NUL byte): not an nginx configuration");
  }
  return buf.toString("utf8");
}

function segmentRegex(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Expands an absolute glob pattern (only `*`, `?` and `[...]`, as nginx's include uses glob(3)). */
export function globFiles(pattern: string): string[] {
  const parts = pattern.split("/");
  const absolute = parts[0] === "";
  let bases = [absolute ? "/" : "."];
  for (let i = absolute ? 1 : 0; i < parts.length; i++) {
    const seg = parts[i] as string;
    if (seg === "") continue;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      if (!/[*?[]/.test(seg)) {
        const p = posix.join(base, seg);
        try {
          const st = statSync(p);
          if (last || st.isDirectory()) next.push(p);
        } catch {
          // no such entry
        }
        continue;
      }
      const re = segmentRegex(seg);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        if (n.startsWith(".") && !seg.startsWith(".")) continue;
        if (!re.test(n)) continue;
        const p = posix.join(base, n);
        if (!last) {
          try {
            if (!statSync(p).isDirectory()) continue;
          } catch {
            continue;
          }
        }
        next.push(p);
      }
    }
    bases = next;
  }
  return bases.sort();
}

/** ParseOptions reading the real file system. */
export function fsParseOptions(extra: Partial<ParseOptions> = {}): ParseOptions {
  return { readFile: (p) => readConfigFile(p), glob: globFiles, ...extra };
}
