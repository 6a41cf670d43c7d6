/**
 * The generators' templates live in templates/ at the package root, as real files (a Dockerfile is a
 * Dockerfile). Placeholders are `{{name}}`; a placeholder alone on its line takes that line's indentation
 * for every line of its value, and vanishes with the line when the value is empty. Rendering is strict:
 * a placeholder without a value, or a value without a placeholder, is a bug and throws.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TEMPLATE_NAMES = [
  "gunicorn.conf.py",
  "schedctl_lock.py",
  "nginx.conf",
  "dockerfile/debian.Dockerfile",
  "dockerfile/alpine.Dockerfile",
  "dockerfile/ubuntu.Dockerfile",
  "dockerfile/distroless.Dockerfile",
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type Templates = Record<TemplateName, string>;

let dir: string | null = null;

/** templates/ of this package: found upwards from this module (src/gen/, dist/ or dist/chunks/). */
export function templatesDir(): string {
  if (dir) return dir;
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, "templates", "gunicorn.conf.py")) && existsSync(join(d, "package.json"))) {
      dir = join(d, "templates");
      return dir;
    }
    d = dirname(d);
  }
  throw new Error(`schedctl: templates/ not found above ${fileURLToPath(import.meta.url)}`);
}

let cache: Templates | null = null;

/** Reads every template once. */
export function loadTemplates(): Templates {
  if (cache) return cache;
  const base = templatesDir();
  const out = {} as Templates;
  for (const name of TEMPLATE_NAMES) out[name] = readFileSync(join(base, name), "utf8");
  cache = out;
  return out;
}

/** Fills `{{name}}` placeholders; see the module comment for the rules. */
export function render(template: string, vars: Record<string, string>, name = "template"): string {
  const used = new Set<string>();
  const value = (key: string): string => {
    const v = vars[key];
    if (v === undefined) throw new Error(`${name}: no value for {{${key}}}`);
    used.add(key);
    return v;
  };
  const lines: string[] = [];
  for (const line of template.split("\n")) {
    const whole = /^([ \t]*)\{\{([a-z_]+)\}\}[ \t]*$/.exec(line);
    if (whole) {
      const v = value(whole[2] as string);
      if (v === "") continue;
      for (const l of v.split("\n")) lines.push(l === "" ? "" : `${whole[1]}${l}`);
      continue;
    }
    lines.push(line.replace(/\{\{([a-z_]+)\}\}/g, (_, k: string) => value(k)));
  }
  for (const k of Object.keys(vars))
    if (!used.has(k)) throw new Error(`${name}: {{${k}}} is not in the template`);
  return lines.join("\n");
}
