// biome-ignore-all lint/suspicious/noTemplateCurlyInString: renders shell expansions as hadolint does (${NAME})
/**
 * A small POSIX-shell reader: enough of sh/bash syntax to find the simple commands in a Dockerfile RUN line, a
 * CMD in shell form, a compose `command:` string or an entrypoint script, the way ShellCheck's parser (which
 * hadolint uses) presents them: every simple command anywhere in the script (inside `$(...)`, subshells, `if`
 * bodies...), its leading assignments, its words with quotes removed, and whether the script has a pipe.
 * Pure; no IO.
 */

export interface ShellWord {
  /** The word with quotes removed and expansions rendered (see ExpandMode). */
  text: string;
  /** Order of the word in the script (hadolint's token ids: a flag's value is the next id). */
  id: number;
  /** The word contained a parameter expansion, command substitution or arithmetic. */
  expanded: boolean;
  /** An expansion could not be resolved (runtime mode: unset variable with no default, `$(...)`). */
  unresolved: string[];
  /** Any part of the word was quoted. */
  quoted: boolean;
}

export interface SimpleCommand {
  /** `NAME=value` words before the command name. */
  assignments: { name: string; value: string }[];
  /** Command name first; empty when the command is only assignments. */
  words: ShellWord[];
  /** Redirection operators with their targets (`> /dev/null`, `2>&1`). */
  redirects: string[];
}

export interface ParsedShell {
  commands: SimpleCommand[];
  /** A `|` or `|&` pipeline operator outside quotes (ShellCheck's T_Pipe), anywhere in the script. */
  hasPipe: boolean;
  /** Unterminated quotes and the like; the parse still returns what it read. */
  errors: string[];
}

/**
 * How `$NAME`, `${...}`, `$(...)` and `$((...))` are rendered:
 * - "names": as hadolint's `simplify` does: `${NAME}`, `${cmd args}`, arithmetic as `${VAR}` (commands inside
 *   substitutions are still reported);
 * - a function: runtime expansion; it returns the value, or undefined when the variable is unset (then
 *   `${X:-d}` defaults apply), or null when the value is unknowable (recorded in `unresolved`).
 */
export type ExpandMode = "names" | ((name: string) => string | undefined | null);

const RESERVED_START = new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"]);
const RESERVED_END = new Set(["fi", "done", "esac", "}"]);
const REDIRECTS = new Set(["<<<", "<<", "<<-", ">>", ">&", "<&", ">|", "<>", "<", ">", "&>", "&>>"]);

interface Tok {
  kind: "word" | "op" | "newline";
  text: string;
  word?: ShellWord;
}

class Reader {
  pos = 0;
  nextId = 0;
  errors: string[] = [];
  hasPipe = false;
  inner: SimpleCommand[] = [];
  constructor(
    readonly src: string,
    readonly mode: ExpandMode,
  ) {}

  peek(o = 0): string {
    return this.src[this.pos + o] ?? "";
  }

  /** Reads up to the matching close of `$(`/`` ` ``/`${`, honouring quotes; returns the inner text. */
  balanced(open: string, close: string): string {
    let depth = 1;
    const start = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] ?? "";
      if (c === "\\") {
        this.pos += 2;
        continue;
      }
      if (c === "'" && open !== "{") {
        const end = this.src.indexOf("'", this.pos + 1);
        this.pos = end < 0 ? this.src.length : end + 1;
        continue;
      }
      if (c === '"') {
        this.pos++;
        while (this.pos < this.src.length && this.src[this.pos] !== '"') {
          if (this.src[this.pos] === "\\") this.pos++;
          this.pos++;
        }
        this.pos++;
        continue;
      }
      if (this.src.startsWith(open, this.pos) && open !== close) depth++;
      else if (this.src.startsWith(close, this.pos)) {
        depth--;
        if (depth === 0) {
          const inner = this.src.slice(start, this.pos);
          this.pos += close.length;
          return inner;
        }
      }
      this.pos++;
    }
    this.errors.push(`unterminated ${open === "(" ? "$(" : open}`);
    return this.src.slice(start);
  }

  /** A `...` command substitution at pos (pointing at the first '`'), into w. */
  backquote(w: { text: string; unresolved: string[]; expanded: boolean }): void {
    this.pos++;
    const inner = this.balanced("`", "`");
    w.expanded = true;
    this.subscript(inner);
    if (this.mode === "names") w.text += "${VAR}";
    else w.unresolved.push(`\`${inner}\``);
  }

  /** A `$...` expansion at pos (pointing at '$'); returns rendered text. */
  dollar(w: { unresolved: string[]; expanded: boolean }): string {
    const next = this.peek(1);
    if (next === "(" && this.peek(2) === "(") {
      this.pos += 3;
      const inner = this.balanced("((", "))");
      w.expanded = true;
      if (this.mode === "names") return "${VAR}";
      w.unresolved.push(`$((${inner}))`);
      return "";
    }
    if (next === "(") {
      this.pos += 2;
      const inner = this.balanced("(", ")");
      w.expanded = true;
      this.subscript(inner);
      if (this.mode === "names") return `\${${this.flatten(inner)}}`;
      w.unresolved.push(`$(${inner})`);
      return "";
    }
    if (next === "{") {
      this.pos += 2;
      const inner = this.balanced("{", "}");
      w.expanded = true;
      return this.braced(inner, w);
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(this.src.slice(this.pos + 1));
    if (m?.[1]) {
      this.pos += 1 + m[1].length;
      w.expanded = true;
      return this.lookup(m[1], w);
    }
    this.pos++;
    return "$";
  }

  lookup(name: string, w: { unresolved: string[] }): string {
    if (this.mode === "names") return `\${${name}}`;
    const v = this.mode(name);
    if (v === null) {
      w.unresolved.push(`$${name}`);
      return "";
    }
    return v ?? "";
  }

  braced(inner: string, w: { unresolved: string[] }): string {
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])(?:(:?[-=?+])([\s\S]*))?$/.exec(inner);
    if (!m?.[1]) {
      if (this.mode === "names") return `\${${inner}}`;
      w.unresolved.push(`\${${inner}}`);
      return "";
    }
    const name = m[1];
    if (this.mode === "names") return `\${${name}}`;
    const op = m[2];
    const word = m[3] ?? "";
    const v = this.mode(name);
    if (v === null) {
      w.unresolved.push(`\${${inner}}`);
      return "";
    }
    const wordValue = () => {
      const r = new Reader(word, this.mode);
      const parsed = r.word();
      w.unresolved.push(...(parsed?.unresolved ?? []));
      return parsed?.text ?? "";
    };
    switch (op) {
      case undefined:
        return v ?? "";
      case ":-":
      case ":=":
        return v === undefined || v === "" ? wordValue() : v;
      case "-":
      case "=":
        return v === undefined ? wordValue() : v;
      case ":+":
        return v === undefined || v === "" ? "" : wordValue();
      case "+":
        return v === undefined ? "" : wordValue();
      case ":?":
      case "?":
        if (v === undefined || (op === ":?" && v === "")) {
          w.unresolved.push(`\${${inner}}`);
          return "";
        }
        return v;
      default:
        return v ?? "";
    }
  }

  /** hadolint's simplify of a command substitution: its words run together. */
  flatten(inner: string): string {
    const r = new Reader(inner, "names");
    return r
      .all()
      .flatMap((c) => [...c.assignments.map((a) => `${a.name}=${a.value}`), ...c.words.map((x) => x.text)])
      .join("");
  }

  /** Commands inside a substitution are commands of the script too (ShellCheck's getCommand finds them). */
  subscript(inner: string): void {
    const r = new Reader(inner, this.mode === "names" ? "names" : () => null);
    const cmds = r.all();
    if (r.hasPipe) this.hasPipe = true;
    this.inner.push(...cmds);
  }

  /** One word starting at pos (no leading blanks), or null at an operator/newline/end. */
  word(): ShellWord | null {
    const w: ShellWord = { text: "", id: 0, expanded: false, unresolved: [], quoted: false };
    let any = false;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] ?? "";
      if (c === " " || c === "\t" || c === "\n" || c === "\r") break;
      if ("|&;()<>".includes(c)) break;
      any = true;
      if (c === "\\") {
        const n = this.peek(1);
        if (n === "\n") this.pos += 2;
        else {
          w.text += n;
          w.quoted = true;
          this.pos += 2;
        }
        continue;
      }
      if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) {
          this.errors.push("unterminated single quote");
          w.text += this.src.slice(this.pos + 1);
          this.pos = this.src.length;
        } else {
          w.text += this.src.slice(this.pos + 1, end);
          this.pos = end + 1;
        }
        w.quoted = true;
        continue;
      }
      if (c === "$" && this.peek(1) === "'") {
        const end = this.src.indexOf("'", this.pos + 2);
        const body = this.src.slice(this.pos + 2, end < 0 ? undefined : end);
        w.text += body.replace(/\\n/g, "\n").replace(/\\t/g, "\t").replace(/\\(.)/g, "$1");
        this.pos = end < 0 ? this.src.length : end + 1;
        w.quoted = true;
        continue;
      }
      if (c === '"') {
        w.quoted = true;
        this.pos++;
        let closed = false;
        while (this.pos < this.src.length) {
          const d = this.src[this.pos] ?? "";
          if (d === '"') {
            this.pos++;
            closed = true;
            break;
          }
          if (d === "\\") {
            const n = this.peek(1);
            if (n === "\n") this.pos += 2;
            else if ('$`"\\'.includes(n)) {
              w.text += n;
              this.pos += 2;
            } else {
              w.text += d;
              this.pos++;
            }
            continue;
          }
          if (d === "$") {
            w.text += this.dollar(w);
            continue;
          }
          if (d === "`") {
            this.backquote(w);
            continue;
          }
          w.text += d;
          this.pos++;
        }
        if (!closed) this.errors.push("unterminated double quote");
        continue;
      }
      if (c === "$") {
        w.text += this.dollar(w);
        continue;
      }
      if (c === "`") {
        this.backquote(w);
        continue;
      }
      w.text += c;
      this.pos++;
    }
    if (!any) return null;
    w.id = this.nextId++;
    return w;
  }

  tokens(): Tok[] {
    const out: Tok[] = [];
    const heredocs: string[] = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] ?? "";
      if (c === " " || c === "\t" || c === "\r") {
        this.pos++;
        continue;
      }
      if (c === "\\" && this.peek(1) === "\n") {
        this.pos += 2;
        continue;
      }
      if (c === "\n") {
        this.pos++;
        out.push({ kind: "newline", text: "\n" });
        // Skip here-document bodies opened on the line just ended.
        while (heredocs.length > 0) {
          const delim = heredocs.shift() ?? "";
          while (this.pos < this.src.length) {
            const eol = this.src.indexOf("\n", this.pos);
            const line = this.src.slice(this.pos, eol < 0 ? undefined : eol);
            this.pos = eol < 0 ? this.src.length : eol + 1;
            if (line.replace(/^\t+/, "") === delim) break;
          }
        }
        continue;
      }
      if (c === "#") {
        // A '#' at the start of a word starts a comment (inside a word, word() keeps it).
        const eol = this.src.indexOf("\n", this.pos);
        this.pos = eol < 0 ? this.src.length : eol;
        continue;
      }
      // Operators, longest first. A redirect may carry a leading fd number written against it (2>&1).
      const ops = [
        "&&",
        "||",
        ";;",
        "|&",
        "&>>",
        "&>",
        ">>",
        "<<<",
        "<<-",
        "<<",
        ">&",
        "<&",
        ">|",
        "<>",
        "|",
        "&",
        ";",
        "(",
        ")",
        "<",
        ">",
      ];
      const op = ops.find((o) => this.src.startsWith(o, this.pos));
      if (op) {
        this.pos += op.length;
        if (op === "|" || op === "|&") this.hasPipe = true;
        out.push({ kind: "op", text: op });
        if (op === "<<" || op === "<<-") {
          while (this.peek() === " " || this.peek() === "\t") this.pos++;
          const d = this.word();
          if (d) {
            heredocs.push(d.text);
            out.push({ kind: "word", text: d.text, word: d });
          }
        }
        continue;
      }
      const start = this.pos;
      const w = this.word();
      if (!w) {
        this.pos++;
        continue;
      }
      // `2>&1`: digits glued to a redirect operator are its fd, not a word.
      const raw = this.src.slice(start, this.pos);
      if (/^\d+$/.test(raw) && (this.peek() === ">" || this.peek() === "<")) continue;
      out.push({ kind: "word", text: w.text, word: w });
    }
    return out;
  }

  all(): SimpleCommand[] {
    const toks = this.tokens();
    const cmds: SimpleCommand[] = [];
    let cur: SimpleCommand = { assignments: [], words: [], redirects: [] };
    let skipUntilSep = false; // `for x in a b c`, `case w in`
    const flush = () => {
      if (cur.words.length > 0 || cur.assignments.length > 0) cmds.push(cur);
      cur = { assignments: [], words: [], redirects: [] };
    };
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (!t) continue;
      if (t.kind === "newline" || (t.kind === "op" && !REDIRECTS.has(t.text))) {
        flush();
        skipUntilSep = false;
        continue;
      }
      if (t.kind === "op") {
        // redirection: consume its target
        const target = toks[i + 1];
        if (target?.kind === "word") {
          cur.redirects.push(`${t.text}${target.text}`);
          i++;
        } else cur.redirects.push(t.text);
        continue;
      }
      if (skipUntilSep) {
        if (t.text === "do" || t.text === "in") {
          if (t.text === "do") skipUntilSep = false;
        }
        continue;
      }
      const w = t.word as ShellWord;
      if (cur.words.length === 0) {
        if (cur.assignments.length === 0 && RESERVED_START.has(t.text) && !w.quoted) continue;
        if (cur.assignments.length === 0 && RESERVED_END.has(t.text) && !w.quoted) continue;
        if (
          cur.assignments.length === 0 &&
          (t.text === "for" || t.text === "case" || t.text === "select") &&
          !w.quoted
        ) {
          skipUntilSep = true;
          continue;
        }
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(t.text);
        if (m?.[1] !== undefined && !/^['"]/.test(t.text)) {
          cur.assignments.push({ name: m[1], value: m[2] ?? "" });
          continue;
        }
      }
      cur.words.push(w);
    }
    flush();
    return [...cmds, ...this.inner];
  }
}

/** Parses a shell script into its simple commands (see ParsedShell). */
export function parseShell(script: string, mode: ExpandMode = "names"): ParsedShell {
  const r = new Reader(script, mode);
  const commands = r.all();
  return { commands, hasPipe: r.hasPipe, errors: r.errors };
}

/**
 * Splits a string into words like Python's `shlex.split` (posix) — how Gunicorn reads GUNICORN_CMD_ARGS and
 * how compose splits a string `command:`: quotes and backslashes, no expansion, no operators.
 */
export function shlexSplit(s: string): { words: string[]; error: string | null } {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? "";
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return { words, error: "No closing quotation" };
      cur += s.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const d = s[i] ?? "";
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && (s[i + 1] === '"' || s[i + 1] === "\\")) {
          cur += s[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) return { words, error: "No closing quotation" };
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= s.length) return { words, error: "No escaped character" };
      cur += s[i + 1];
      i += 2;
      continue;
    }
    cur += c;
    i++;
  }
  if (inWord) words.push(cur);
  return { words, error: null };
}

/** Quotes one argument for display in a shell command line. */
export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** hadolint's flag view of a command's arguments: `--name[=v]` → name, `-abc` → a, b, c (`-`, `--` are not flags). */
export function commandFlags(words: ShellWord[]): { flag: string; id: number }[] {
  const out: { flag: string; id: number }[] = [];
  for (const w of words) {
    const a = w.text;
    if (a === "--" || a === "-") continue;
    if (a.startsWith("--")) out.push({ flag: a.slice(2).split("=")[0] ?? "", id: w.id });
    else if (a.startsWith("-")) for (const ch of a.slice(1)) out.push({ flag: ch, id: w.id });
  }
  return out;
}
