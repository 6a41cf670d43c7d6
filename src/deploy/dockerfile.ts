/**
 * Dockerfile reading (instructions, stages, ARG/ENV, exec vs shell form, `# hadolint ignore=` pragmas), the
 * hadolint rules schedctl cares about (DL3008, DL3009, DL3015, DL3018, DL3025, DL4006, with hadolint's own
 * semantics), and the facts the deploy/workers checks need: base image and distro guess, ENV, timezone lines,
 * CMD/ENTRYPOINT. Pure; no IO.
 */
import { containerArgv, findGunicorn, type GunicornInvocation } from "./gunicorn.js";
import { commandFlags, type ParsedShell, parseShell, type ShellWord, type SimpleCommand } from "./shell.js";

export interface DockerInstruction {
  /** Upper-case keyword: RUN, FROM, CMD... */
  keyword: string;
  /** 1-based line where the instruction starts. */
  line: number;
  endLine: number;
  /** Everything after the keyword, continuation lines joined (comment lines inside dropped), trimmed. */
  raw: string;
  /** Leading `--name=value` flags (RUN --mount=..., FROM --platform=..., COPY --from=...). */
  flags: string[];
  /** raw without the leading flags. */
  args: string;
  /** Exec (JSON array) form, when args is a JSON array of strings. */
  json: string[] | null;
  /** Index of the stage (FROM) it belongs to; -1 before the first FROM. */
  stage: number;
  /** For ONBUILD: the wrapped instruction. */
  onbuild?: DockerInstruction;
}

export interface DockerStage {
  index: number;
  line: number;
  /** FROM argument as written (after flags). */
  raw: string;
  /** Image reference after global-ARG substitution, without tag/digest ("python", "ghcr.io/x/y"). */
  image: string;
  tag: string | null;
  digest: string | null;
  alias: string | null;
  platform: string | null;
  /** The earlier stage this one builds FROM (by alias or index), else null (an external image). */
  parent: number | null;
}

export interface ParsedDockerfile {
  instructions: DockerInstruction[];
  stages: DockerStage[];
  /** ARGs declared before the first FROM, with their defaults (null: no default). */
  globalArgs: Record<string, string | null>;
  escape: string;
  /** `# hadolint ignore=` pragmas: the instruction line they apply to (comment line + 1) → rule codes. */
  ignores: Record<number, string[]>;
  /** `# hadolint global ignore=` rule codes. */
  globalIgnores: string[];
  errors: string[];
}

export interface LintFinding {
  rule: string;
  line: number;
  message: string;
}

/** hadolint's severities for the rules implemented here. */
export const HADOLINT_SEVERITY: Record<string, "error" | "warning" | "info" | "style"> = {
  DL3008: "warning",
  DL3009: "info",
  DL3015: "info",
  DL3018: "warning",
  DL3025: "warning",
  DL4006: "warning",
};

export const HADOLINT_MESSAGES: Record<string, string> = {
  DL3008:
    "Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get install <package>=<version>`",
  DL3009: "Delete the apt lists (/var/lib/apt/lists) after installing something",
  DL3015: "Avoid additional packages by specifying `--no-install-recommends`",
  DL3018: "Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`",
  DL3025: "Use arguments JSON notation for CMD and ENTRYPOINT arguments",
  DL4006:
    "Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh in an alpine image or if your shell is symlinked to busybox then consider explicitly setting your SHELL to /bin/ash, or disable this check",
};

// ---------------------------------------------------------------------------------------------------------
// Parsing

function parseJsonArray(s: string): string[] | null {
  const t = s.trim();
  if (!t.startsWith("[")) return null;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {
    return null;
  }
  return null;
}

function splitFlags(raw: string): { flags: string[]; args: string } {
  const flags: string[] = [];
  let rest = raw;
  for (;;) {
    const m = /^--([A-Za-z][\w-]*)(=(?:"[^"]*"|'[^']*'|\S)*)?\s*/.exec(rest);
    if (!m) break;
    flags.push(m[0].trim());
    rest = rest.slice(m[0].length);
  }
  return { flags, args: rest.trim() };
}

const PRAGMA_IGNORE = /^#\s*hadolint\s+ignore\s*=\s*([DLSC0-9]+(?:\s*,\s*[DLSC0-9]+)*)\s*(?:#.*)?$/;
const PRAGMA_GLOBAL = /^#\s*hadolint\s+global\s+ignore\s*=\s*([DLSC0-9]+(?:\s*,\s*[DLSC0-9]+)*)\s*(?:#.*)?$/;

/**
 * Docker's variable substitution in instruction words: `$X`, `${X}`, `${X:-d}`, `${X:+a}`, `${X-d}`, `${X+a}`,
 * with `\$` escapes. Unknown variables become "". Returns the text and the names that were unset.
 */
export function substituteDockerVars(
  s: string,
  lookup: (name: string) => string | undefined,
  esc = "\\",
): { text: string; unset: string[] } {
  const unset: string[] = [];
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? "";
    if (c === esc && s[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    if (c !== "$") {
      out += c;
      continue;
    }
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(s.slice(i));
    if (braced?.[1]) {
      const v = lookup(braced[1]);
      const op = braced[2];
      const word = braced[3] ?? "";
      if (v === undefined && op === undefined) unset.push(braced[1]);
      if (op === ":-") out += v === undefined || v === "" ? word : v;
      else if (op === "-") out += v === undefined ? word : v;
      else if (op === ":+") out += v === undefined || v === "" ? "" : word;
      else if (op === "+") out += v === undefined ? "" : word;
      else out += v ?? "";
      i += braced[0].length - 1;
      continue;
    }
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
    if (plain?.[1]) {
      const v = lookup(plain[1]);
      if (v === undefined) unset.push(plain[1]);
      out += v ?? "";
      i += plain[0].length - 1;
      continue;
    }
    out += c;
  }
  return { text: out, unset };
}

/** Splits ENV/ARG/LABEL arguments into words, honouring quotes and escapes (quotes removed). */
function dockerWords(s: string, esc: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? "";
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === esc && i + 1 < s.length) {
      cur += s[i + 1];
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      const body = s.slice(i + 1, end < 0 ? undefined : end);
      cur += c === '"' ? body.replace(/\\(["\\$])/g, "$1") : body;
      i = end < 0 ? s.length : end;
      continue;
    }
    cur += c;
  }
  if (inWord) words.push(cur);
  return words;
}

/** `KEY=VALUE ...` pairs (modern ENV/ARG), or the legacy `ENV KEY value with spaces`. Raw (unsubstituted). */
export function parseKeyValues(args: string, esc = "\\", legacyAllowed = true): [string, string | null][] {
  const trimmed = args.trim();
  const first = /^([^\s=]+)(\s+|=|$)/.exec(trimmed);
  if (!first?.[1]) return [];
  if (legacyAllowed && first[2] !== "=" && first[2] !== "" && first[2] !== undefined) {
    // Legacy form: the rest of the line is the value.
    return [[first[1], trimmed.slice(first[0].length).trim()]];
  }
  const out: [string, string | null][] = [];
  // Keep raw (with quotes) so substitution can run; split respecting quotes.
  const rawWords: string[] = [];
  let cur = "";
  let quote: string | null = null;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i] ?? "";
    if (quote) {
      cur += c;
      if (c === esc && quote === '"' && i + 1 < trimmed.length) {
        cur += trimmed[++i];
      } else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      continue;
    }
    if (c === esc && i + 1 < trimmed.length) {
      cur += c + (trimmed[++i] ?? "");
      continue;
    }
    if (/\s/.test(c)) {
      if (cur) rawWords.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur) rawWords.push(cur);
  for (const w of rawWords) {
    const eq = w.indexOf("=");
    if (eq < 0) out.push([w, null]);
    else out.push([w.slice(0, eq), w.slice(eq + 1)]);
  }
  return out;
}

/** Removes quotes/escapes from one raw value word (after substitution). */
export function unquoteDockerValue(raw: string, esc = "\\"): string {
  return dockerWords(raw, esc).join(" ");
}

function parseImageRef(ref: string): { image: string; tag: string | null; digest: string | null } {
  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag: string | null = null;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { image: rest, tag, digest };
}

/** Parses a Dockerfile: instructions with line numbers, stages, global ARGs, hadolint pragmas. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split(/\r?\n/);
  const result: ParsedDockerfile = {
    instructions: [],
    stages: [],
    globalArgs: {},
    escape: "\\",
    ignores: {},
    globalIgnores: [],
    errors: [],
  };
  // Parser directives: only at the very top, before any instruction, blank line or other comment.
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(\S+)\s*$/.exec(lines[i] ?? "");
    if (!m?.[1]) break;
    if (m[1].toLowerCase() === "escape") {
      if (m[2] === "`" || m[2] === "\\") result.escape = m[2];
      else result.errors.push(`line ${i + 1}: invalid escape directive ${m[2]}`);
    } else if (!["syntax", "check"].includes(m[1].toLowerCase())) break;
  }
  const esc = result.escape;
  i = 0;
  let stage = -1;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const trimmed = line.trim();
    if (trimmed === "") {
      i++;
      continue;
    }
    if (trimmed.startsWith("#")) {
      const ig = PRAGMA_IGNORE.exec(trimmed);
      if (ig?.[1]) result.ignores[i + 2] = ig[1].split(",").map((x) => x.trim());
      const gl = PRAGMA_GLOBAL.exec(trimmed);
      if (gl?.[1]) result.globalIgnores.push(...gl[1].split(",").map((x) => x.trim()));
      i++;
      continue;
    }
    const start = i;
    let body = line.replace(/^\s+/, "");
    // Continuation: a line ending with the escape character (trailing blanks allowed) joins the next one.
    const continues = (s: string) => {
      const r = s.replace(/[ \t]+$/, "");
      if (!r.endsWith(esc)) return false;
      // An escaped escape character at the end does not continue.
      let n = 0;
      for (let k = r.length - 1; k >= 0 && r[k] === esc; k--) n++;
      return n % 2 === 1;
    };
    while (continues(body)) {
      body = body.replace(/[ \t]+$/, "").slice(0, -1);
      // Comment lines and empty lines inside a continued instruction are dropped.
      let k = i + 1;
      while (k < lines.length && /^\s*(#.*)?$/.test(lines[k] ?? "")) k++;
      if (k >= lines.length) break;
      i = k;
      body += lines[i] ?? "";
    }
    const end = i;
    i++;
    const m = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(body.trim());
    if (!m?.[1]) {
      result.errors.push(`line ${start + 1}: cannot parse ${JSON.stringify(body.trim().slice(0, 40))}`);
      continue;
    }
    const keyword = m[1].toUpperCase();
    const raw = (m[2] ?? "").trim();
    const instr = makeInstruction(keyword, raw, start + 1, end + 1, stage);
    if (keyword === "FROM") {
      stage = result.stages.length;
      instr.stage = stage;
      const fromArgs = instr.args.split(/\s+/);
      const ref = fromArgs[0] ?? "";
      const alias = fromArgs[1]?.toUpperCase() === "AS" ? (fromArgs[2] ?? null) : null;
      const lookup = (n: string) => result.globalArgs[n] ?? undefined;
      const substituted = substituteDockerVars(ref, lookup, esc).text;
      const parsed = parseImageRef(substituted);
      const platform = instr.flags.find((f) => f.startsWith("--platform="))?.slice(11) ?? null;
      const parentIdx = result.stages.findIndex(
        (s) => s.alias !== null && s.alias.toLowerCase() === substituted.toLowerCase(),
      );
      const byIndex = /^\d+$/.test(substituted) ? Number(substituted) : -1;
      result.stages.push({
        index: stage,
        line: start + 1,
        raw: instr.args,
        image: parsed.image,
        tag: parsed.tag,
        digest: parsed.digest,
        alias,
        platform,
        parent: parentIdx >= 0 ? parentIdx : byIndex >= 0 && byIndex < stage ? byIndex : null,
      });
    } else if (keyword === "ARG" && stage === -1) {
      for (const [k, v] of parseKeyValues(instr.args, esc, false)) {
        result.globalArgs[k] =
          v === null
            ? null
            : unquoteDockerValue(
                substituteDockerVars(v, (n) => result.globalArgs[n] ?? undefined, esc).text,
                esc,
              );
      }
    }
    result.instructions.push(instr);
  }
  return result;
}

function makeInstruction(
  keyword: string,
  raw: string,
  line: number,
  endLine: number,
  stage: number,
): DockerInstruction {
  const { flags, args } = ["RUN", "FROM", "COPY", "ADD", "HEALTHCHECK"].includes(keyword)
    ? splitFlags(raw)
    : { flags: [], args: raw };
  const instr: DockerInstruction = { keyword, line, endLine, raw, flags, args, json: null, stage };
  if (["RUN", "CMD", "ENTRYPOINT", "SHELL"].includes(keyword)) instr.json = parseJsonArray(args);
  if (keyword === "HEALTHCHECK") {
    const m = /^CMD\s+([\s\S]*)$/i.exec(args);
    if (m) instr.json = parseJsonArray(m[1] ?? "");
  }
  if (keyword === "ONBUILD") {
    const m = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(raw);
    if (m?.[1])
      instr.onbuild = makeInstruction(m[1].toUpperCase(), (m[2] ?? "").trim(), line, endLine, stage);
  }
  return instr;
}

// ---------------------------------------------------------------------------------------------------------
// hadolint rules

/** The shell script hadolint parses for a RUN/SHELL: the text, or a JSON array's elements joined by spaces. */
function scriptOf(instr: DockerInstruction): string {
  return instr.json ? instr.json.join(" ") : instr.args;
}

interface HCommand {
  name: string;
  args: ShellWord[];
  flags: { flag: string; id: number }[];
}

function hcommands(shell: ParsedShell): HCommand[] {
  return shell.commands
    .filter((c) => c.words.length > 0)
    .map((c: SimpleCommand) => {
      const [name, ...args] = c.words;
      return { name: name?.text ?? "", args, flags: commandFlags(args) };
    });
}

const cmdHasArgs = (names: string[], expected: string[], c: HCommand) =>
  names.includes(c.name) && c.args.some((a) => expected.includes(a.text));
const hasFlag = (flag: string, c: HCommand) => c.flags.some((f) => f.flag === flag);

/** hadolint's getArgsNoFlags after dropFlagArg: the value after a dropped flag goes too, unless given inline (`=`). */
function argsNoFlags(c: HCommand, drop: string[]): string[] {
  const flagIds = new Set(c.flags.map((f) => f.id));
  const dropIds = new Set<number>();
  for (const f of c.flags) {
    if (!drop.includes(f.flag)) continue;
    const token = c.args.find((a) => a.id === f.id);
    if (token?.text.includes("=")) continue;
    const next = c.args.filter((a) => a.id > f.id).sort((a, b) => a.id - b.id)[0];
    if (next) dropIds.add(next.id);
  }
  return c.args.filter((a) => !flagIds.has(a.id) && !dropIds.has(a.id)).map((a) => a.text);
}

function aptGetPackages(cmds: HCommand[]): string[] {
  return cmds
    .filter((c) => cmdHasArgs(["apt-get"], ["install"], c))
    .flatMap((c) => argsNoFlags(c, ["t", "target-release"]).filter((a) => a !== "install"));
}

function apkAddPackages(cmds: HCommand[]): string[] {
  return cmds
    .filter((c) => cmdHasArgs(["apk"], ["add"], c))
    .flatMap((c) => argsNoFlags(c, ["t", "virtual", "repository", "X"]).filter((a) => a !== "add"));
}

interface RunMount {
  type: string;
  target: string;
}

function runMounts(flags: string[]): RunMount[] {
  return flags
    .filter((f) => f.startsWith("--mount="))
    .map((f) => {
      const opts = Object.fromEntries(
        f
          .slice(8)
          .replace(/^["']|["']$/g, "")
          .split(",")
          .map((kv) => {
            const eq = kv.indexOf("=");
            return eq < 0 ? [kv, "true"] : [kv.slice(0, eq), kv.slice(eq + 1)];
          }),
      ) as Record<string, string>;
      return { type: opts.type ?? "bind", target: opts.target ?? opts.dst ?? opts.destination ?? "" };
    });
}

const hasCacheDirectory = (dir: string, mounts: RunMount[]) =>
  mounts.some((m) => (m.type === "cache" || m.type === "tmpfs") && m.target.startsWith(dir));

/**
 * hadolint's DL3008, DL3009, DL3015, DL3018, DL3025 (CMD, ENTRYPOINT and, since 2.15, HEALTHCHECK) and DL4006,
 * honouring `# hadolint ignore=` (the next instruction) and `# hadolint global ignore=`. Sorted by line.
 * As in hadolint, the four RUN package rules also check `ONBUILD RUN`; a RUN's shell text is parsed the way
 * ShellCheck presents it (every simple command, quotes removed, `$VAR` kept as `${VAR}`), and an exec-form
 * RUN is its elements joined by spaces.
 */
export function lintDockerfile(text: string): { rule: string; line: number; message: string }[] {
  const df = parseDockerfile(text);
  const out: LintFinding[] = [];
  const add = (rule: string, line: number) =>
    out.push({ rule, line, message: HADOLINT_MESSAGES[rule] ?? rule });
  const parsedCache = new Map<DockerInstruction, HCommand[]>();
  const cmdsOf = (instr: DockerInstruction) => {
    let c = parsedCache.get(instr);
    if (!c) {
      c = hcommands(parseShell(scriptOf(instr)));
      parsedCache.set(instr, c);
    }
    return c;
  };

  // DL4006 state: a pipefail (or non-POSIX) SHELL seen in the current stage.
  let pipefail = false;
  // DL3009 state.
  let lastFrom: string | null = null;
  const fromImages = new Set<string>();
  const forgets: { line: number; from: string | null; alias: string | null }[] = [];
  let currentFrom: { key: string; alias: string | null } | null = null;

  for (const instr of df.instructions) {
    const kw = instr.keyword;
    if (kw === "FROM") {
      pipefail = false;
      const st = df.stages[instr.stage];
      const key = `${instr.flags.join(" ")} ${instr.args}`.trim();
      currentFrom = { key, alias: st?.alias ?? null };
      lastFrom = key;
      if (st) fromImages.add(parseImageRef(instr.args.split(/\s+/)[0] ?? "").image);
      continue;
    }
    if (kw === "SHELL") {
      const script = scriptOf(instr);
      if (["pwsh", "powershell", "cmd"].some((p) => script.startsWith(p))) pipefail = true;
      else
        pipefail = cmdsOf(instr).some((c) => {
          const base = c.name.split("/").pop() ?? "";
          return (
            ["bash", "zsh", "ash"].includes(base) &&
            hasFlag("o", c) &&
            c.args.some((a) => a.text === "pipefail")
          );
        });
      continue;
    }
    if (kw === "CMD" || kw === "ENTRYPOINT") {
      if (!instr.json) add("DL3025", instr.line);
      continue;
    }
    if (kw === "HEALTHCHECK") {
      if (/^CMD\s/i.test(instr.args) && !instr.json) add("DL3025", instr.line);
      continue;
    }
    const run =
      kw === "RUN" ? instr : kw === "ONBUILD" && instr.onbuild?.keyword === "RUN" ? instr.onbuild : null;
    if (!run) continue;
    const onbuild = kw === "ONBUILD";
    const shell = parseShell(scriptOf(run));
    const cmds = cmdsOf(run);
    // DL3008 (also ONBUILD)
    const pkgs = aptGetPackages(cmds);
    if (!pkgs.every((p) => p.includes("=") || p.includes("/") || p.endsWith(".deb")))
      add("DL3008", instr.line);
    // DL3015 (also ONBUILD)
    if (
      cmds.some(
        (c) =>
          cmdHasArgs(["apt-get"], ["install"], c) &&
          !(
            hasFlag("no-install-recommends", c) ||
            c.args.some((a) => a.text === "APT::Install-Recommends=false")
          ),
      )
    )
      add("DL3015", instr.line);
    // DL4006 (RUN only)
    if (!onbuild && !pipefail && shell.hasPipe) add("DL4006", instr.line);
    // DL3018 (also ONBUILD)
    const apk = apkAddPackages(cmds);
    if (!apk.every((p) => p.includes("=") || p.includes("~") || p.endsWith(".apk")))
      add("DL3018", instr.line);
    // DL3009 (also ONBUILD, where no FROM is ever seen: always the "final" image)
    const update = cmds.some((c) => cmdHasArgs(["apt-get", "apt", "aptitude"], ["update"], c));
    const cleanup = cmds.some((c) => cmdHasArgs(["rm"], ["-rf", "/var/lib/apt/lists/*"], c));
    if (update && !cleanup) {
      const mounts = runMounts(run.flags);
      const cached =
        hasCacheDirectory("/var/lib/apt/lists", mounts) ||
        (hasCacheDirectory("/var/lib/apt", mounts) && hasCacheDirectory("/var/cache/apt", mounts));
      if (!cached)
        forgets.push(
          onbuild
            ? { line: instr.line, from: "\u0000onbuild", alias: null }
            : { line: instr.line, from: currentFrom?.key ?? null, alias: currentFrom?.alias ?? null },
        );
    }
  }
  for (const f of forgets) {
    if (f.from === "\u0000onbuild" || f.from === lastFrom || (f.alias !== null && fromImages.has(f.alias)))
      add("DL3009", f.line);
  }
  const global = new Set(df.globalIgnores);
  return out
    .filter((f) => !global.has(f.rule) && !(df.ignores[f.line] ?? []).includes(f.rule))
    .sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

// ---------------------------------------------------------------------------------------------------------
// Facts for the checks

export type DistroId = "debian" | "ubuntu" | "alpine" | "distroless" | "rhel" | "unknown";

export interface DistroGuess {
  id: DistroId;
  /** "12", "13", "3.20", "22.04" when known */
  version: string | null;
  codename: string | null;
  why: string;
}

export interface CommandForm {
  line: number;
  /** Exec form arguments, or null for shell form. */
  json: string[] | null;
  /** Shell-form text, or null for exec form. */
  shell: string | null;
}

export interface TzLines {
  /** ENV TZ as set (after substitution), with its line. */
  tzEnv: { value: string; line: number } | null;
  /** ln -s / cp of a zoneinfo file onto /etc/localtime. */
  localtime: { kind: "symlink" | "copy"; source: string; zone: string | null; line: number }[];
  /** echo X > /etc/timezone (or tee). */
  timezoneFile: { value: string; line: number }[];
  /** `rm /etc/timezone` */
  timezoneRemoved: number[];
  tzdataInstall: {
    manager: "apt" | "apk" | "dnf" | "yum" | "microdnf";
    line: number;
    noninteractive: boolean;
  }[];
  tzdataRemove: { manager: "apt" | "apk"; line: number }[];
  reconfigure: number[];
  /** A RUN that imports zoneinfo/tzlocal to fail the build on a bad zone. */
  buildCheck: number | null;
}

export interface DockerfileInfo {
  /** The stage whose image runs (the last one, or the compose build target). */
  stage: number;
  stageName: string | null;
  /** The external base image behind the stage (following FROM <alias> chains). */
  base: { ref: string; image: string; tag: string | null; line: number };
  distro: DistroGuess;
  /** Final ENV of the stage (inherited through FROM <alias>), values substituted. */
  env: Record<string, { value: string; line: number }>;
  /** ARG values visible in the stage (build args applied). */
  args: Record<string, string | null>;
  workdir: string | null;
  cmd: CommandForm | null;
  entrypoint: CommandForm | null;
  /** SHELL in effect for shell-form CMD/ENTRYPOINT. */
  shell: string[];
  healthcheck: { line: number; json: string[] | null; none: boolean } | null;
  user: string | null;
  tz: TzLines;
  /** Package managers the stage's RUN lines call. */
  packageManagers: string[];
}

/** The distro behind an image reference, from the name and tag alone. */
export function guessDistro(image: string, tag: string | null): DistroGuess {
  const name = image.toLowerCase();
  const t = (tag ?? "latest").toLowerCase();
  const last = name.split("/").pop() ?? name;
  const codenames: Record<string, string> = {
    trixie: "13",
    bookworm: "12",
    bullseye: "11",
    buster: "10",
    stretch: "9",
  };
  const ubuntu: Record<string, string> = { noble: "24.04", jammy: "22.04", focal: "20.04", bionic: "18.04" };
  if (name.includes("distroless")) {
    const m = /debian(\d+)/.exec(`${name}:${t}`);
    return {
      id: "distroless",
      version: m?.[1] ?? null,
      codename: null,
      why: `${image} is a distroless image (no shell, no package manager)`,
    };
  }
  const alpine = /alpine(\d+(?:\.\d+)*)?/.exec(t);
  if (last === "alpine" || alpine) {
    const version = last === "alpine" ? (/^\d+(\.\d+)*/.exec(t)?.[0] ?? null) : (alpine?.[1] ?? null);
    return {
      id: "alpine",
      version,
      codename: null,
      why: `${image}:${tag ?? "latest"} is Alpine-based (musl, apk)`,
    };
  }
  if (last === "ubuntu" || Object.keys(ubuntu).some((c) => t.includes(c))) {
    const code = Object.keys(ubuntu).find((c) => t.includes(c)) ?? null;
    const version = /^\d+\.\d+/.exec(t)?.[0] ?? (code ? (ubuntu[code] ?? null) : null);
    return { id: "ubuntu", version, codename: code, why: `${image}:${tag ?? "latest"} is Ubuntu` };
  }
  if (
    /^(ubi\d*|ubi\d+-minimal|centos|fedora|rockylinux|almalinux|amazonlinux)/.test(last) ||
    /\/ubi\d/.test(name)
  ) {
    const v = /\bubi(\d+)/.exec(name)?.[1] ?? /(\d+)/.exec(`${last}:${tag ?? ""}`)?.[1] ?? null;
    return { id: "rhel", version: v, codename: null, why: `${image} is RHEL-family` };
  }
  const code = Object.keys(codenames).find((c) => t.includes(c));
  if (code)
    return {
      id: "debian",
      version: codenames[code] ?? null,
      codename: code,
      why: `${image}:${tag} names Debian ${code}`,
    };
  if (last === "debian") {
    const v = /^(\d+)/.exec(t)?.[1] ?? null;
    return { id: "debian", version: v, codename: null, why: `${image}:${tag ?? "latest"} is Debian` };
  }
  if (["python", "pypy", "node", "ruby", "golang", "openjdk", "buildpack-deps"].includes(last)) {
    return {
      id: "debian",
      version: "13",
      codename: "trixie",
      why: `${image}:${tag ?? "latest"} names no Debian release: the official images default to the newest stable, trixie (13), since August 2025`,
    };
  }
  return {
    id: "unknown",
    version: null,
    codename: null,
    why: `nothing in ${image}:${tag ?? "latest"} names a distro`,
  };
}

const TZDATA = /^tzdata([=:].*)?$/;

/**
 * The facts of the stage that runs: the last stage, or `target` (a stage alias, as compose's build.target).
 * `buildArgs` are --build-arg values.
 */
export function dockerfileInfo(
  df: ParsedDockerfile,
  opts: { target?: string | null; buildArgs?: Record<string, string> } = {},
): DockerfileInfo | null {
  if (df.stages.length === 0) return null;
  let idx = df.stages.length - 1;
  if (opts.target) {
    const t = df.stages.find((s) => s.alias?.toLowerCase() === opts.target?.toLowerCase());
    if (t) idx = t.index;
  }
  // The chain of stages from the external base to idx.
  const chain: number[] = [];
  for (let s: number | null = idx; s !== null; s = df.stages[s]?.parent ?? null) {
    if (chain.includes(s)) break;
    chain.unshift(s);
  }
  const baseStage = df.stages[chain[0] ?? idx] as DockerStage;
  const target = df.stages[idx] as DockerStage;
  const info: DockerfileInfo = {
    stage: idx,
    stageName: target.alias,
    base: {
      ref: `${baseStage.image}${baseStage.tag ? `:${baseStage.tag}` : ""}`,
      image: baseStage.image,
      tag: baseStage.tag,
      line: baseStage.line,
    },
    distro: guessDistro(baseStage.image, baseStage.tag),
    env: {},
    args: {},
    workdir: null,
    cmd: null,
    entrypoint: null,
    shell: ["/bin/sh", "-c"],
    healthcheck: null,
    user: null,
    tz: {
      tzEnv: null,
      localtime: [],
      timezoneFile: [],
      timezoneRemoved: [],
      tzdataInstall: [],
      tzdataRemove: [],
      reconfigure: [],
      buildCheck: null,
    },
    packageManagers: [],
  };
  const esc = df.escape;
  const managers = new Set<string>();
  let cmdStage = -1;
  for (const s of chain) {
    const stageArgs: Record<string, string | null> = {};
    for (const instr of df.instructions.filter((x) => x.stage === s)) {
      const lookup = (n: string): string | undefined => {
        if (n in info.env) return info.env[n]?.value;
        if (n in stageArgs) return stageArgs[n] ?? undefined;
        return undefined;
      };
      const sub = (v: string) => unquoteDockerValue(substituteDockerVars(v, lookup, esc).text, esc);
      switch (instr.keyword) {
        case "ARG":
          for (const [k, v] of parseKeyValues(instr.args, esc, false)) {
            const given = opts.buildArgs?.[k];
            stageArgs[k] = given ?? (v !== null ? sub(v) : (df.globalArgs[k] ?? null));
            info.args[k] = stageArgs[k] ?? null;
          }
          break;
        case "ENV":
          for (const [k, v] of parseKeyValues(instr.args, esc, true)) {
            const value = v === null ? "" : sub(v);
            info.env[k] = { value, line: instr.line };
            if (k === "TZ") info.tz.tzEnv = { value, line: instr.line };
          }
          break;
        case "WORKDIR": {
          const w = sub(instr.args);
          info.workdir =
            w.startsWith("/") || info.workdir === null ? w : `${info.workdir.replace(/\/$/, "")}/${w}`;
          break;
        }
        case "USER":
          info.user = sub(instr.args);
          break;
        case "SHELL":
          if (instr.json) info.shell = instr.json;
          break;
        case "CMD":
          info.cmd = { line: instr.line, json: instr.json, shell: instr.json ? null : instr.args };
          cmdStage = s;
          break;
        case "ENTRYPOINT":
          info.entrypoint = { line: instr.line, json: instr.json, shell: instr.json ? null : instr.args };
          // "If CMD is defined from the base image, setting ENTRYPOINT will reset CMD to an empty value."
          if (cmdStage !== s) info.cmd = null;
          break;
        case "HEALTHCHECK":
          info.healthcheck = { line: instr.line, json: instr.json, none: /^NONE\b/i.test(instr.args) };
          break;
        case "RUN":
          scanRunForTz(instr, lookup, info, managers);
          break;
      }
    }
  }
  info.packageManagers = [...managers];
  if (info.distro.id === "unknown") {
    if (managers.has("apk"))
      info.distro = { id: "alpine", version: null, codename: null, why: "the Dockerfile runs apk" };
    else if (managers.has("apt"))
      info.distro = { id: "debian", version: null, codename: null, why: "the Dockerfile runs apt-get" };
    else if (managers.has("dnf") || managers.has("yum") || managers.has("microdnf"))
      info.distro = { id: "rhel", version: null, codename: null, why: "the Dockerfile runs dnf/yum" };
  }
  return info;
}

function scanRunForTz(
  instr: DockerInstruction,
  lookup: (n: string) => string | undefined,
  info: DockerfileInfo,
  managers: Set<string>,
): void {
  const script = scriptOf(instr);
  const shell = parseShell(script, (n) => lookup(n));
  const tz = info.tz;
  const noninteractiveGlobal = info.env.DEBIAN_FRONTEND?.value === "noninteractive";
  const exportedNoninteractive = /DEBIAN_FRONTEND=noninteractive/.test(script);
  for (const c of shell.commands) {
    const words = c.words.map((w) => w.text);
    const name = (words[0] ?? "").split("/").pop() ?? "";
    const args = words.slice(1);
    if (["apt-get", "apt", "aptitude"].includes(name)) managers.add("apt");
    if (name === "apk") managers.add("apk");
    if (["dnf", "yum", "microdnf"].includes(name)) managers.add(name);
    const pkgArgs = args.filter((a) => !a.startsWith("-"));
    if (
      ["apt-get", "apt"].includes(name) &&
      args.includes("install") &&
      pkgArgs.some((a) => TZDATA.test(a))
    ) {
      const ni =
        noninteractiveGlobal ||
        c.assignments.some((a) => a.name === "DEBIAN_FRONTEND" && a.value === "noninteractive") ||
        exportedNoninteractive;
      tz.tzdataInstall.push({ manager: "apt", line: instr.line, noninteractive: ni });
    }
    if (name === "apk" && args.includes("add") && pkgArgs.some((a) => TZDATA.test(a)))
      tz.tzdataInstall.push({ manager: "apk", line: instr.line, noninteractive: true });
    if (
      ["dnf", "yum", "microdnf"].includes(name) &&
      args.some((a) => /^(install|reinstall)$/.test(a)) &&
      pkgArgs.some((a) => TZDATA.test(a))
    )
      tz.tzdataInstall.push({ manager: name as "dnf", line: instr.line, noninteractive: true });
    if (name === "apk" && args.includes("del") && pkgArgs.includes("tzdata"))
      tz.tzdataRemove.push({ manager: "apk", line: instr.line });
    if (
      ["apt-get", "apt"].includes(name) &&
      args.some((a) => /^(remove|purge|autoremove)$/.test(a)) &&
      pkgArgs.includes("tzdata")
    )
      tz.tzdataRemove.push({ manager: "apt", line: instr.line });
    if (name === "dpkg-reconfigure" && args.includes("tzdata")) tz.reconfigure.push(instr.line);
    if ((name === "ln" || name === "cp") && args[args.length - 1] === "/etc/localtime") {
      const source = args.filter((a) => !a.startsWith("-")).slice(-2)[0] ?? "";
      const zm = /\/zoneinfo\/(.+)$/.exec(source);
      const symlink = name === "ln" && args.some((a) => /^-[a-zA-Z]*s/.test(a) || a === "--symbolic");
      tz.localtime.push({
        kind: symlink ? "symlink" : "copy",
        source,
        zone: zm?.[1] ?? null,
        line: instr.line,
      });
    }
    if (name === "rm" && args.includes("/etc/timezone")) tz.timezoneRemoved.push(instr.line);
    if ((name === "echo" || name === "printf") && c.redirects.some((r) => /^>+\/etc\/timezone$/.test(r)))
      tz.timezoneFile.push({
        value: args
          .filter((a) => !/^-[neE]+$/.test(a))
          .join(" ")
          .trim(),
        line: instr.line,
      });
    if (name === "tee" && args.includes("/etc/timezone"))
      tz.timezoneFile.push({ value: "(piped)", line: instr.line });
    if (/^python[\d.]*$/.test(name) && args.some((a) => /zoneinfo|tzlocal|get_localzone/.test(a)))
      tz.buildCheck = instr.line;
  }
}

/**
 * The gunicorn invocation of the stage's ENTRYPOINT/CMD (composed as Docker does), with the stage's ENV for
 * `$VAR` in shell forms and entrypoint scripts found in the app dir; null when the image does not run gunicorn.
 */
export function dockerfileGunicorn(
  info: DockerfileInfo,
  opts: { env?: Record<string, string>; scripts?: Record<string, string> } = {},
): GunicornInvocation | null {
  if (!info.cmd && !info.entrypoint) return null;
  const env = {
    ...Object.fromEntries(Object.entries(info.env).map(([k, v]) => [k, v.value])),
    ...(opts.env ?? {}),
  };
  return findGunicorn(containerArgv(info.entrypoint, info.cmd, info.shell), env, opts.scripts ?? {});
}
