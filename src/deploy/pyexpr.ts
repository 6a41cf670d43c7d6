/**
 * Just enough Python to read a gunicorn.conf.py or a guard condition statically: logical lines and indented
 * blocks, expressions (literals, names, attributes, calls, subscripts, arithmetic, comparisons, boolean
 * operators, conditional expressions, f-strings), and an evaluator that knows `os.environ`/`os.getenv`,
 * `int()`/`str()`/`bool()`/`max()`/`min()`, string methods and `multiprocessing.cpu_count()`. What cannot be
 * known statically (the CPU count, a variable from a Secret, an unknown function) evaluates to `unknown` with
 * the reason; what Python would raise evaluates to `error` with the exception text. Pure; no IO.
 */

export type PyValue =
  | { t: "int"; v: number }
  | { t: "float"; v: number }
  | { t: "str"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "none" }
  | { t: "list"; v: PyValue[] }
  | { t: "tuple"; v: PyValue[] }
  | { t: "dict"; v: [PyValue, PyValue][] }
  | { t: "func"; name: string; self?: PyValue; def?: PyFunctionDef }
  | { t: "module"; name: string }
  | { t: "unknown"; dependsOn: string[] }
  | { t: "error"; exc: string };

/** A function defined in the module being evaluated (called by the statement executor). */
export interface PyFunctionDef {
  params: { name: string; dflt: string | null }[];
  body: PyBlock[];
  /** The defining module's names (late binding, like Python's globals). */
  scope: Map<string, PyValue>;
}

export interface PyLine {
  /** 1-based line where the logical line starts. */
  line: number;
  indent: number;
  /** The logical line, continuation lines joined, comments removed. */
  text: string;
}

export interface PyBlock {
  head: PyLine;
  body: PyBlock[];
}

// ---------------------------------------------------------------------------------------------------------
// Lines and blocks

/** Splits Python source into logical lines (brackets, backslashes and triple-quoted strings joined). */
export function logicalLines(src: string): PyLine[] {
  const out: PyLine[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    // start of a physical line
    let indent = 0;
    while (src[i] === " " || src[i] === "\t") {
      indent += src[i] === "\t" ? 8 - (indent % 8) : 1;
      i++;
    }
    const startLine = line;
    let text = "";
    let depth = 0;
    let done = false;
    while (i < src.length && !done) {
      const c = src[i] ?? "";
      if (c === "#") {
        while (i < src.length && src[i] !== "\n") i++;
        continue;
      }
      if (c === "\\" && src[i + 1] === "\n") {
        i += 2;
        line++;
        text += " ";
        continue;
      }
      if (c === "\n") {
        i++;
        line++;
        if (depth > 0) {
          text += " ";
          continue;
        }
        done = true;
        continue;
      }
      if (c === "'" || c === '"') {
        const triple = src.startsWith(c.repeat(3), i);
        const q = triple ? c.repeat(3) : c;
        let j = i + q.length;
        while (j < src.length) {
          if (src[j] === "\\") {
            j += 2;
            continue;
          }
          if (src.startsWith(q, j)) break;
          if (!triple && src[j] === "\n") break;
          j++;
        }
        const end = Math.min(src.length, j + q.length);
        const lit = src.slice(i, end);
        line += (lit.match(/\n/g) ?? []).length;
        text += lit;
        i = end;
        continue;
      }
      if ("([{".includes(c)) depth++;
      if (")]}".includes(c)) depth = Math.max(0, depth - 1);
      text += c;
      i++;
    }
    const t = text.trim();
    if (t) out.push({ line: startLine, indent, text: t });
  }
  return out;
}

/** Nests logical lines into blocks by indentation (`if x:` heads own the deeper lines that follow). */
export function blocks(lines: PyLine[]): PyBlock[] {
  const root: PyBlock[] = [];
  const stack: { indent: number; body: PyBlock[] }[] = [{ indent: -1, body: root }];
  for (const l of lines) {
    while (stack.length > 1 && l.indent <= (stack[stack.length - 1]?.indent ?? -1)) stack.pop();
    const parent = stack[stack.length - 1] as { indent: number; body: PyBlock[] };
    // One-line compound statements: `if x: y = 1`
    const inline = /^(if|elif|else|try|except|finally|with|for|while|def|class)\b[^:]*?:\s*(\S.*)$/.exec(
      l.text,
    );
    if (inline?.[2] && !l.text.trimEnd().endsWith(":") && splitTopLevelColon(l.text) !== null) {
      const colon = splitTopLevelColon(l.text) as number;
      const head: PyLine = { ...l, text: l.text.slice(0, colon + 1) };
      const body: PyLine = { line: l.line, indent: l.indent + 4, text: l.text.slice(colon + 1).trim() };
      parent.body.push({ head, body: [{ head: body, body: [] }] });
      continue;
    }
    const b: PyBlock = { head: l, body: [] };
    parent.body.push(b);
    if (
      l.text.endsWith(":") &&
      /^(if|elif|else|try|except|finally|with|for|while|def|async\s+def|class|async\s+with|async\s+for|match|case)\b/.test(
        l.text,
      )
    )
      stack.push({ indent: l.indent, body: b.body });
  }
  return root;
}

/** Index of the colon ending a compound statement's header (outside brackets/strings/lambda), or null. */
function splitTopLevelColon(s: string): number | null {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) return null;
      i = end;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === ":" && depth === 0) return i;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Expressions

export type PyNode =
  | { k: "num"; v: number; float: boolean }
  | { k: "str"; v: string; f: boolean }
  | { k: "name"; id: string }
  | { k: "const"; v: boolean | null }
  | { k: "attr"; obj: PyNode; name: string }
  | { k: "call"; fn: PyNode; args: PyNode[]; kwargs: [string, PyNode][] }
  | { k: "index"; obj: PyNode; idx: PyNode }
  | { k: "unary"; op: string; x: PyNode }
  | { k: "bin"; op: string; a: PyNode; b: PyNode }
  | { k: "cmp"; ops: string[]; xs: PyNode[] }
  | { k: "bool"; op: "and" | "or"; a: PyNode; b: PyNode }
  | { k: "not"; x: PyNode }
  | { k: "ifexp"; c: PyNode; a: PyNode; b: PyNode }
  | { k: "seq"; kind: "list" | "tuple" | "set"; xs: PyNode[] }
  | { k: "dict"; items: [PyNode, PyNode][] }
  | { k: "unsupported"; text: string };

interface Tok {
  t: "name" | "num" | "str" | "op" | "end";
  v: string;
  prefix?: string;
}

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const str = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(s.slice(i));
    if (str && (str[1] === "" || /^[A-Za-z]+$/.test(str[1] ?? ""))) {
      const prefix = (str[1] ?? "").toLowerCase();
      const q = str[2] ?? '"';
      let j = i + str[0].length;
      let body = "";
      while (j < s.length && !s.startsWith(q, j)) {
        if (s[j] === "\\" && !prefix.includes("r")) {
          const n = s[j + 1] ?? "";
          body += n === "n" ? "\n" : n === "t" ? "\t" : n === "\n" ? "" : n;
          j += 2;
          continue;
        }
        body += s[j];
        j++;
      }
      out.push({ t: "str", v: body, prefix });
      i = j + q.length;
      continue;
    }
    const num =
      /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(
        s.slice(i),
      );
    if (num?.[1] && /\d/.test(c + (s[i + 1] ?? ""))) {
      if (/^\d|^\.\d/.test(s.slice(i))) {
        out.push({ t: "num", v: num[1] });
        i += num[1].length;
        continue;
      }
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (name) {
      out.push({ t: "name", v: name[0] });
      i += name[0].length;
      continue;
    }
    const ops = [
      "**",
      "//",
      "==",
      "!=",
      "<=",
      ">=",
      "<<",
      ">>",
      "->",
      ":=",
      "+",
      "-",
      "*",
      "/",
      "%",
      "<",
      ">",
      "(",
      ")",
      "[",
      "]",
      "{",
      "}",
      ",",
      ".",
      ":",
      "~",
      "|",
      "&",
      "^",
      "@",
      "=",
    ];
    const op = ops.find((o) => s.startsWith(o, i));
    if (!op) throw new Error(`unexpected ${JSON.stringify(c)}`);
    out.push({ t: "op", v: op });
    i += op.length;
  }
  out.push({ t: "end", v: "" });
  return out;
}

class Parser {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  peek(o = 0): Tok {
    return this.toks[this.i + o] ?? { t: "end", v: "" };
  }
  is(v: string, o = 0): boolean {
    const t = this.peek(o);
    return (t.t === "op" || t.t === "name") && t.v === v;
  }
  take(v?: string): Tok {
    const t = this.peek();
    if (v !== undefined && t.v !== v) throw new Error(`expected ${v} got ${t.v || "end"}`);
    this.i++;
    return t;
  }
  expr(): PyNode {
    if (this.is("lambda")) throw new Error("lambda");
    const a = this.or();
    if (this.is("if")) {
      this.take();
      const c = this.or();
      this.take("else");
      const b = this.expr();
      return { k: "ifexp", c, a, b };
    }
    return a;
  }
  or(): PyNode {
    let a = this.and();
    while (this.is("or")) {
      this.take();
      a = { k: "bool", op: "or", a, b: this.and() };
    }
    return a;
  }
  and(): PyNode {
    let a = this.not();
    while (this.is("and")) {
      this.take();
      a = { k: "bool", op: "and", a, b: this.not() };
    }
    return a;
  }
  not(): PyNode {
    if (this.is("not")) {
      this.take();
      return { k: "not", x: this.not() };
    }
    return this.cmp();
  }
  cmp(): PyNode {
    const first = this.bitor();
    const ops: string[] = [];
    const xs: PyNode[] = [first];
    for (;;) {
      let op: string | null = null;
      if (["==", "!=", "<", ">", "<=", ">="].includes(this.peek().v) && this.peek().t === "op")
        op = this.take().v;
      else if (this.is("in")) {
        this.take();
        op = "in";
      } else if (this.is("not") && this.is("in", 1)) {
        this.take();
        this.take();
        op = "not in";
      } else if (this.is("is")) {
        this.take();
        op = "is";
        if (this.is("not")) {
          this.take();
          op = "is not";
        }
      }
      if (!op) break;
      ops.push(op);
      xs.push(this.bitor());
    }
    return ops.length === 0 ? first : { k: "cmp", ops, xs };
  }
  bitor(): PyNode {
    let a = this.arith();
    while (["|", "&", "^"].includes(this.peek().v) && this.peek().t === "op") {
      const op = this.take().v;
      a = { k: "bin", op, a, b: this.arith() };
    }
    return a;
  }
  arith(): PyNode {
    let a = this.term();
    while ((this.is("+") || this.is("-")) && this.peek().t === "op") {
      const op = this.take().v;
      a = { k: "bin", op, a, b: this.term() };
    }
    return a;
  }
  term(): PyNode {
    let a = this.unary();
    while (["*", "/", "//", "%", "@"].includes(this.peek().v) && this.peek().t === "op") {
      const op = this.take().v;
      a = { k: "bin", op, a, b: this.unary() };
    }
    return a;
  }
  unary(): PyNode {
    if ((this.is("-") || this.is("+") || this.is("~")) && this.peek().t === "op") {
      const op = this.take().v;
      return { k: "unary", op, x: this.unary() };
    }
    return this.power();
  }
  power(): PyNode {
    const a = this.primary();
    if (this.is("**")) {
      this.take();
      return { k: "bin", op: "**", a, b: this.unary() };
    }
    return a;
  }
  primary(): PyNode {
    let a = this.atom();
    for (;;) {
      if (this.is(".")) {
        this.take();
        a = { k: "attr", obj: a, name: this.take().v };
      } else if (this.is("(")) {
        this.take();
        const args: PyNode[] = [];
        const kwargs: [string, PyNode][] = [];
        while (!this.is(")")) {
          if (this.peek().t === "name" && this.is("=", 1)) {
            const n = this.take().v;
            this.take("=");
            kwargs.push([n, this.expr()]);
          } else if (this.is("*") || this.is("**")) {
            this.take();
            args.push({ k: "unsupported", text: "*args" });
            this.expr();
          } else args.push(this.expr());
          if (this.is(",")) this.take();
          else break;
        }
        this.take(")");
        a = { k: "call", fn: a, args, kwargs };
      } else if (this.is("[")) {
        this.take();
        const idx = this.is(":") ? { k: "unsupported" as const, text: "slice" } : this.expr();
        while (!this.is("]") && this.peek().t !== "end") this.take();
        this.take("]");
        a = { k: "index", obj: a, idx };
      } else return a;
    }
  }
  atom(): PyNode {
    const t = this.take();
    if (t.t === "num") {
      const clean = t.v.replace(/_/g, "");
      const float = /[.eE]/.test(clean) && !/^0[xX]/.test(clean);
      return { k: "num", v: float ? Number.parseFloat(clean) : Number(clean), float };
    }
    if (t.t === "str") {
      let v = t.v;
      let f = (t.prefix ?? "").includes("f");
      // implicit concatenation
      while (this.peek().t === "str") {
        const n = this.take();
        v += n.v;
        f = f || (n.prefix ?? "").includes("f");
      }
      return { k: "str", v, f };
    }
    if (t.t === "name") {
      if (t.v === "True") return { k: "const", v: true };
      if (t.v === "False") return { k: "const", v: false };
      if (t.v === "None") return { k: "const", v: null };
      return { k: "name", id: t.v };
    }
    if (t.v === "(") {
      if (this.is(")")) {
        this.take();
        return { k: "seq", kind: "tuple", xs: [] };
      }
      const first = this.expr();
      if (this.is(",")) {
        const xs = [first];
        while (this.is(",")) {
          this.take();
          if (this.is(")")) break;
          xs.push(this.expr());
        }
        this.take(")");
        return { k: "seq", kind: "tuple", xs };
      }
      if (this.is("for")) throw new Error("generator");
      this.take(")");
      return first;
    }
    if (t.v === "[") {
      const xs: PyNode[] = [];
      while (!this.is("]")) {
        xs.push(this.expr());
        if (this.is("for")) throw new Error("comprehension");
        if (this.is(",")) this.take();
        else break;
      }
      this.take("]");
      return { k: "seq", kind: "list", xs };
    }
    if (t.v === "{") {
      const items: [PyNode, PyNode][] = [];
      const xs: PyNode[] = [];
      while (!this.is("}")) {
        const key = this.expr();
        if (this.is(":")) {
          this.take();
          items.push([key, this.expr()]);
        } else xs.push(key);
        if (this.is("for")) throw new Error("comprehension");
        if (this.is(",")) this.take();
        else break;
      }
      this.take("}");
      return xs.length > 0 ? { k: "seq", kind: "set", xs } : { k: "dict", items };
    }
    throw new Error(`unexpected ${t.v || "end of expression"}`);
  }
}

/** Parses one Python expression; unsupported syntax gives an `unsupported` node (evaluates to unknown). */
export function parseExpr(text: string): PyNode {
  try {
    const p = new Parser(tokenize(text));
    const n = p.expr();
    if (p.is(",")) {
      const xs = [n];
      while (p.is(",")) {
        p.take();
        if (p.peek().t === "end") break;
        xs.push(p.expr());
      }
      if (p.peek().t !== "end") return { k: "unsupported", text };
      return { k: "seq", kind: "tuple", xs };
    }
    if (p.peek().t !== "end") return { k: "unsupported", text };
    return n;
  } catch {
    return { k: "unsupported", text };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

export interface EvalContext {
  /** The process environment (os.environ). */
  env: Record<string, string>;
  /** Variables that are set but whose value cannot be known (Kubernetes valueFrom, a Secret). */
  unknownEnv?: Set<string>;
  /** multiprocessing.cpu_count(); null: unknown. */
  cpuCount: number | null;
  /** Module-level names already bound. */
  names: Map<string, PyValue>;
  /** Environment variables the evaluation read (for evidence). */
  envRead: Set<string>;
  /** socket.gethostname(), when known. */
  hostname?: string | null;
  /** Call depth of user functions (bounded). */
  depth?: number;
}

export const unknown = (...dependsOn: string[]): PyValue => ({ t: "unknown", dependsOn });
const err = (exc: string): PyValue => ({ t: "error", exc });
const str = (v: string): PyValue => ({ t: "str", v });
const int = (v: number): PyValue => ({ t: "int", v });
const bool = (v: boolean): PyValue => ({ t: "bool", v });
const NONE: PyValue = { t: "none" };

const CPU = "the CPU count (multiprocessing.cpu_count())";

/** Python's repr() of a value, for messages and evidence. */
export function pyRepr(v: PyValue): string {
  switch (v.t) {
    case "int":
      return String(v.v);
    case "float":
      return Number.isInteger(v.v) ? `${v.v}.0` : String(v.v);
    case "str":
      return `'${v.v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
    case "bool":
      return v.v ? "True" : "False";
    case "none":
      return "None";
    case "list":
      return `[${v.v.map(pyRepr).join(", ")}]`;
    case "tuple":
      return `(${v.v.map(pyRepr).join(", ")}${v.v.length === 1 ? "," : ""})`;
    case "dict":
      return `{${v.v.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
    case "func":
      return `<function ${v.name}>`;
    case "module":
      return `<module ${v.name}>`;
    case "unknown":
      return `<depends on ${v.dependsOn.join(", ")}>`;
    case "error":
      return `<raises ${v.exc}>`;
  }
}

/** str() of a value. */
export function pyStr(v: PyValue): string {
  if (v.t === "str") return v.v;
  return pyRepr(v);
}

/** Python truthiness; null when unknown. */
export function pyTruthy(v: PyValue): boolean | null {
  switch (v.t) {
    case "int":
    case "float":
      return v.v !== 0;
    case "str":
      return v.v !== "";
    case "bool":
      return v.v;
    case "none":
      return false;
    case "list":
    case "tuple":
    case "dict":
      return v.v.length > 0;
    case "func":
    case "module":
      return true;
    default:
      return null;
  }
}

type NumLike = Extract<PyValue, { t: "int" | "float" | "bool" }>;
const isNum = (v: PyValue): v is NumLike => v.t === "int" || v.t === "float" || v.t === "bool";
const numOf = (v: PyValue): number => (v.t === "bool" ? (v.v ? 1 : 0) : (v as { v: number }).v);
const typeName = (v: PyValue) =>
  v.t === "none"
    ? "NoneType"
    : v.t === "func"
      ? "function"
      : v.t === "unknown" || v.t === "error"
        ? "object"
        : v.t;

/** Python's int() of a string (base 10): blanks and underscores between digits allowed. */
export function pyIntFromString(s: string, base = 10): PyValue {
  const t = s.trim();
  const re =
    base === 0
      ? /^[+-]?(0[xX][0-9a-fA-F](_?[0-9a-fA-F])*|0[oO][0-7](_?[0-7])*|0[bB][01](_?[01])*|[1-9](_?\d)*|0(_?0)*)$/
      : /^[+-]?\d(_?\d)*$/;
  if (!re.test(t)) return err(`ValueError: invalid literal for int() with base ${base}: ${pyRepr(str(s))}`);
  const clean = t.replace(/_/g, "");
  if (base === 0) {
    const neg = clean.startsWith("-");
    const body = clean.replace(/^[+-]/, "");
    const v = /^0[xX]/.test(body)
      ? Number.parseInt(body.slice(2), 16)
      : /^0[oO]/.test(body)
        ? Number.parseInt(body.slice(2), 8)
        : /^0[bB]/.test(body)
          ? Number.parseInt(body.slice(2), 2)
          : Number.parseInt(body, 10);
    return int(neg ? -v : v);
  }
  return int(Number.parseInt(clean, 10));
}

function merge(...vs: PyValue[]): PyValue | null {
  const e = vs.find((v) => v.t === "error");
  if (e) return e;
  const us = vs.filter((v): v is { t: "unknown"; dependsOn: string[] } => v.t === "unknown");
  if (us.length > 0) return unknown(...new Set(us.flatMap((u) => u.dependsOn)));
  return null;
}

function eq(a: PyValue, b: PyValue): boolean {
  if (isNum(a) && isNum(b)) return numOf(a) === numOf(b);
  if (a.t !== b.t) return false;
  if (a.t === "str" && b.t === "str") return a.v === b.v;
  if (a.t === "none") return true;
  if ((a.t === "list" || a.t === "tuple") && (b.t === "list" || b.t === "tuple"))
    return a.v.length === b.v.length && a.v.every((x, i) => eq(x, b.v[i] as PyValue));
  return false;
}

function binop(op: string, a: PyValue, b: PyValue): PyValue {
  const m = merge(a, b);
  if (m) return m;
  if (isNum(a) && isNum(b)) {
    const x = numOf(a);
    const y = numOf(b);
    const float = a.t === "float" || b.t === "float";
    const mk = (v: number): PyValue => (float ? { t: "float", v } : int(v));
    switch (op) {
      case "+":
        return mk(x + y);
      case "-":
        return mk(x - y);
      case "*":
        return mk(x * y);
      case "/":
        return y === 0 ? err("ZeroDivisionError: division by zero") : { t: "float", v: x / y };
      case "//":
        return y === 0 ? err("ZeroDivisionError: integer division or modulo by zero") : mk(Math.floor(x / y));
      case "%":
        return y === 0 ? err("ZeroDivisionError: integer division or modulo by zero") : mk(((x % y) + y) % y);
      case "**":
        return mk(x ** y);
      case "|":
        return int(x | y);
      case "&":
        return int(x & y);
      case "^":
        return int(x ^ y);
    }
  }
  if (a.t === "str" && b.t === "str" && op === "+") return str(a.v + b.v);
  if (a.t === "str" && (b.t === "int" || b.t === "bool") && op === "*")
    return str(a.v.repeat(Math.max(0, numOf(b))));
  if (a.t === "str" && op === "%") return percentFormat(a.v, b.t === "tuple" ? b.v : [b]);
  if ((a.t === "list" || a.t === "tuple") && a.t === b.t && op === "+")
    return { t: a.t, v: [...a.v, ...(b as { v: PyValue[] }).v] } as PyValue;
  return err(`TypeError: unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

function compare(op: string, a: PyValue, b: PyValue, ctx: EvalContext): PyValue {
  if (op === "in" || op === "not in") {
    let r: PyValue;
    if (b.t === "module" && b.name === "os.environ") {
      if (a.t !== "str") return merge(a) ?? bool(false);
      ctx.envRead.add(a.v);
      r = bool(a.v in ctx.env || (ctx.unknownEnv?.has(a.v) ?? false));
    } else {
      const m = merge(a, b);
      if (m) return m;
      if (b.t === "str" && a.t === "str") r = bool(b.v.includes(a.v));
      else if (b.t === "list" || b.t === "tuple") r = bool(b.v.some((x) => eq(x, a)));
      else if (b.t === "dict") r = bool(b.v.some(([k]) => eq(k, a)));
      else return err(`TypeError: argument of type '${typeName(b)}' is not iterable`);
    }
    return op === "in" ? r : bool(!(r as { v: boolean }).v);
  }
  const m = merge(a, b);
  if (m) return m;
  switch (op) {
    case "==":
      return bool(eq(a, b));
    case "!=":
      return bool(!eq(a, b));
    case "is":
      return bool(a.t === b.t && (a.t === "none" || eq(a, b)));
    case "is not":
      return bool(!(a.t === b.t && (a.t === "none" || eq(a, b))));
  }
  const both =
    isNum(a) && isNum(b) ? [numOf(a), numOf(b)] : a.t === "str" && b.t === "str" ? [a.v, b.v] : null;
  if (!both)
    return err(`TypeError: '${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  const [x, y] = both as [number | string, number | string];
  return bool(op === "<" ? x < y : op === ">" ? x > y : op === "<=" ? x <= y : x >= y);
}

const MODULES = new Set(["os", "multiprocessing", "json", "socket", "platform", "sys", "math"]);

function envGet(ctx: EvalContext, key: PyValue, dflt: PyValue): PyValue {
  if (key.t !== "str") return merge(key) ?? unknown("a computed variable name");
  ctx.envRead.add(key.v);
  if (ctx.unknownEnv?.has(key.v)) return unknown(`${key.v} (set from a Secret/ConfigMap reference)`);
  if (key.v in ctx.env) return str(ctx.env[key.v] ?? "");
  return dflt;
}

function toInt(x: PyValue, base: PyValue | null): PyValue {
  const m = merge(x, ...(base ? [base] : []));
  if (m) return m;
  if (base) {
    if (x.t !== "str") return err("TypeError: int() can't convert non-string with explicit base");
    return pyIntFromString(x.v, numOf(base));
  }
  if (x.t === "str") return pyIntFromString(x.v);
  if (x.t === "int" || x.t === "bool") return int(numOf(x));
  if (x.t === "float") return int(Math.trunc(x.v));
  if (x.t === "none")
    return err(
      "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
    );
  return err(
    `TypeError: int() argument must be a string, a bytes-like object or a real number, not '${typeName(x)}'`,
  );
}

function callFunc(fn: PyValue, args: PyValue[], kwargs: Map<string, PyValue>, ctx: EvalContext): PyValue {
  if (fn.t === "unknown" || fn.t === "error") return fn;
  if (fn.t !== "func") return err(`TypeError: '${typeName(fn)}' object is not callable`);
  if (fn.def) return callUser(fn.name, fn.def, args, kwargs, ctx);
  const a0 = args[0] ?? kwargs.get("default") ?? null;
  switch (fn.name) {
    case "os.environ.get":
    case "os.getenv":
      return a0 ? envGet(ctx, a0, args[1] ?? kwargs.get("default") ?? NONE) : err("TypeError: missing key");
    case "os.environ.setdefault": {
      if (a0?.t !== "str") return unknown("os.environ.setdefault");
      const d = args[1] ?? str("");
      const v = envGet(ctx, a0, d);
      if (!(a0.v in ctx.env) && d.t === "str") ctx.env[a0.v] = d.v;
      return v;
    }
    case "multiprocessing.cpu_count":
    case "os.cpu_count":
      return ctx.cpuCount === null ? unknown(CPU) : int(ctx.cpuCount);
    case "os.sched_getaffinity":
      return ctx.cpuCount === null
        ? unknown(CPU)
        : { t: "list", v: Array.from({ length: ctx.cpuCount }, (_, i) => int(i)) };
    case "socket.gethostname":
    case "platform.node":
      return ctx.hostname ? str(ctx.hostname) : unknown("the container's hostname (socket.gethostname())");
    case "int":
      return a0 ? toInt(a0, args[1] ?? kwargs.get("base") ?? null) : int(0);
    case "float": {
      if (!a0) return { t: "float", v: 0 };
      const m = merge(a0);
      if (m) return m;
      if (isNum(a0)) return { t: "float", v: numOf(a0) };
      if (a0.t === "str" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(a0.v))
        return { t: "float", v: Number.parseFloat(a0.v) };
      return err(`ValueError: could not convert string to float: ${pyRepr(a0)}`);
    }
    case "str":
      return a0 ? (merge(a0) ?? str(pyStr(a0))) : str("");
    case "bool": {
      if (!a0) return bool(false);
      const t = pyTruthy(a0);
      return t === null ? a0 : bool(t);
    }
    case "abs":
      if (a0 && isNum(a0))
        return a0.t === "float" ? { t: "float", v: Math.abs(a0.v) } : int(Math.abs(numOf(a0)));
      return merge(...args) ?? unknown("abs()");
    case "round":
      return a0 && isNum(a0) ? int(Math.round(numOf(a0))) : (merge(...args) ?? unknown("round()"));
    case "len": {
      if (!a0) return err("TypeError: len() takes exactly one argument (0 given)");
      const m = merge(a0);
      if (m) return m;
      if (a0.t === "str" || a0.t === "list" || a0.t === "tuple" || a0.t === "dict") return int(a0.v.length);
      return err(`TypeError: object of type '${typeName(a0)}' has no len()`);
    }
    case "max":
    case "min": {
      const items = args.length === 1 && a0 && (a0.t === "list" || a0.t === "tuple") ? a0.v : args;
      const m = merge(...items);
      if (m) {
        // max(2, cpu_count()) is at least 2 whatever the unknown is: keep it unknown but evaluable by callers.
        return m;
      }
      if (items.length === 0) return err(`ValueError: ${fn.name}() arg is an empty sequence`);
      let best = items[0] as PyValue;
      for (const x of items.slice(1)) {
        const c = compare(fn.name === "max" ? ">" : "<", x, best, ctx);
        if (c.t === "error") return c;
        if (c.t === "bool" && c.v) best = x;
      }
      return best;
    }
    case "json.loads": {
      if (!a0) return err("TypeError: loads() missing argument");
      const m = merge(a0);
      if (m) return m;
      if (a0.t !== "str") return err("TypeError: the JSON object must be str");
      try {
        return fromJson(JSON.parse(a0.v));
      } catch (e) {
        return err(`json.decoder.JSONDecodeError: ${(e as Error).message}`);
      }
    }
    case "list":
    case "tuple": {
      if (!a0) return { t: fn.name, v: [] } as PyValue;
      const m = merge(a0);
      if (m) return m;
      if (a0.t === "list" || a0.t === "tuple") return { t: fn.name, v: a0.v } as PyValue;
      if (a0.t === "str") return { t: fn.name, v: [...a0.v].map(str) } as PyValue;
      return unknown(`${fn.name}()`);
    }
  }
  if (fn.name.startsWith("str.") && fn.self?.t === "str") {
    const s = fn.self.v;
    const m = merge(...args);
    if (m) return m;
    const argStr = (i: number) => (args[i]?.t === "str" ? (args[i] as { v: string }).v : undefined);
    switch (fn.name.slice(4)) {
      case "lower":
      case "casefold":
        return str(s.toLowerCase());
      case "upper":
        return str(s.toUpperCase());
      case "strip":
        return str(argStr(0) === undefined ? s.trim() : stripChars(s, argStr(0) ?? "", true, true));
      case "lstrip":
        return str(argStr(0) === undefined ? s.trimStart() : stripChars(s, argStr(0) ?? "", true, false));
      case "rstrip":
        return str(argStr(0) === undefined ? s.trimEnd() : stripChars(s, argStr(0) ?? "", false, true));
      case "split": {
        const sep = argStr(0);
        const parts = sep === undefined ? s.trim().split(/\s+/).filter(Boolean) : s.split(sep);
        return { t: "list", v: parts.map(str) };
      }
      case "startswith":
        return bool(s.startsWith(argStr(0) ?? "\u0000"));
      case "endswith":
        return bool(s.endsWith(argStr(0) ?? "\u0000"));
      case "replace":
        return str(s.split(argStr(0) ?? "").join(argStr(1) ?? ""));
      case "isdigit":
      case "isnumeric":
      case "isdecimal":
        return bool(/^\d+$/.test(s));
      case "format":
        return unknown("str.format()");
      case "join": {
        const a = args[0];
        if (a && (a.t === "list" || a.t === "tuple") && a.v.every((x) => x.t === "str"))
          return str(a.v.map((x) => (x as { v: string }).v).join(s));
        return unknown("str.join()");
      }
    }
  }
  if (fn.name.startsWith("dict.") && fn.self?.t === "dict" && fn.name === "dict.get") {
    const k = args[0];
    if (!k) return NONE;
    const hit = fn.self.v.find(([kk]) => eq(kk, k));
    return hit ? hit[1] : (args[1] ?? NONE);
  }
  return unknown(`${fn.name}()`);
}

function stripChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && chars.includes(s[a] ?? "")) a++;
  while (right && b > a && chars.includes(s[b - 1] ?? "")) b--;
  return s.slice(a, b);
}

function fromJson(x: unknown): PyValue {
  if (x === null) return NONE;
  if (typeof x === "string") return str(x);
  if (typeof x === "boolean") return bool(x);
  if (typeof x === "number") return Number.isInteger(x) ? int(x) : { t: "float", v: x };
  if (Array.isArray(x)) return { t: "list", v: x.map(fromJson) };
  if (typeof x === "object")
    return {
      t: "dict",
      v: Object.entries(x as Record<string, unknown>).map(([k, v]) => [str(k), fromJson(v)]),
    };
  return unknown("JSON value");
}

function attr(obj: PyValue, name: string): PyValue {
  if (obj.t === "unknown" || obj.t === "error") return obj;
  if (obj.t === "module") {
    const full = `${obj.name}.${name}`;
    if (full === "os.environ") return { t: "module", name: full };
    if (full === "os.path") return { t: "module", name: full };
    return { t: "func", name: full };
  }
  if (obj.t === "str") return { t: "func", name: `str.${name}`, self: obj };
  if (obj.t === "dict") return { t: "func", name: `dict.${name}`, self: obj };
  return unknown(`${pyRepr(obj)}.${name}`);
}

/** Evaluates an expression node in a context. */
export function evalNode(n: PyNode, ctx: EvalContext): PyValue {
  switch (n.k) {
    case "num":
      return n.float ? { t: "float", v: n.v } : int(n.v);
    case "str":
      return n.f ? evalFString(n.v, ctx) : str(n.v);
    case "const":
      return n.v === null ? NONE : bool(n.v);
    case "name": {
      const v = ctx.names.get(n.id);
      if (v) return v;
      if (MODULES.has(n.id)) return { t: "module", name: n.id };
      if (
        ["int", "float", "str", "bool", "max", "min", "abs", "round", "len", "list", "tuple"].includes(n.id)
      )
        return { t: "func", name: n.id };
      return unknown(`the name ${n.id}`);
    }
    case "attr":
      return attr(evalNode(n.obj, ctx), n.name);
    case "index": {
      const o = evalNode(n.obj, ctx);
      const i = evalNode(n.idx, ctx);
      if (o.t === "module" && o.name === "os.environ") {
        if (i.t !== "str") return merge(i) ?? unknown("a computed variable name");
        const v = envGet(ctx, i, err(`KeyError: '${i.v}'`));
        return v;
      }
      const m = merge(o, i);
      if (m) return m;
      if ((o.t === "list" || o.t === "tuple" || o.t === "str") && isNum(i)) {
        const len = o.v.length;
        const k = numOf(i) < 0 ? len + numOf(i) : numOf(i);
        if (k < 0 || k >= len) return err(`IndexError: ${o.t} index out of range`);
        return o.t === "str" ? str(o.v[k] ?? "") : (o.v[k] as PyValue);
      }
      if (o.t === "dict") {
        const hit = o.v.find(([k]) => eq(k, i));
        return hit ? hit[1] : err(`KeyError: ${pyRepr(i)}`);
      }
      return unknown("a subscript");
    }
    case "call": {
      const fn = evalNode(n.fn, ctx);
      const args = n.args.map((a) => evalNode(a, ctx));
      const kwargs = new Map(n.kwargs.map(([k, v]) => [k, evalNode(v, ctx)] as const));
      return callFunc(fn, args, kwargs, ctx);
    }
    case "unary": {
      const x = evalNode(n.x, ctx);
      const m = merge(x);
      if (m) return m;
      if (!isNum(x)) return err(`TypeError: bad operand type for unary ${n.op}: '${typeName(x)}'`);
      if (n.op === "-") return x.t === "float" ? { t: "float", v: -x.v } : int(-numOf(x));
      if (n.op === "~") return int(~numOf(x));
      return x.t === "float" ? x : int(numOf(x));
    }
    case "bin":
      return binop(n.op, evalNode(n.a, ctx), evalNode(n.b, ctx));
    case "cmp": {
      let left = evalNode(n.xs[0] as PyNode, ctx);
      let result: PyValue = bool(true);
      for (let i = 0; i < n.ops.length; i++) {
        const right = evalNode(n.xs[i + 1] as PyNode, ctx);
        const r = compare(n.ops[i] as string, left, right, ctx);
        if (r.t !== "bool") return r;
        if (!r.v) return r;
        result = r;
        left = right;
      }
      return result;
    }
    case "bool": {
      const a = evalNode(n.a, ctx);
      const ta = pyTruthy(a);
      if (ta === null) {
        if (a.t === "error") return a;
        // `unknown and False` is False either way only when b is falsy; keep unknown otherwise.
        const b = evalNode(n.b, ctx);
        const tb = pyTruthy(b);
        if (n.op === "and" && tb === false) return b;
        if (n.op === "or" && tb === true) return b;
        return merge(a, b) ?? a;
      }
      if (n.op === "and") return ta ? evalNode(n.b, ctx) : a;
      return ta ? a : evalNode(n.b, ctx);
    }
    case "not": {
      const x = evalNode(n.x, ctx);
      const t = pyTruthy(x);
      return t === null ? x : bool(!t);
    }
    case "ifexp": {
      const c = evalNode(n.c, ctx);
      const t = pyTruthy(c);
      if (t === null) return merge(c) ?? c;
      return evalNode(t ? n.a : n.b, ctx);
    }
    case "seq": {
      const xs = n.xs.map((x) => evalNode(x, ctx));
      return { t: n.kind === "tuple" ? "tuple" : "list", v: xs };
    }
    case "dict":
      return {
        t: "dict",
        v: n.items.map(([k, v]) => [evalNode(k, ctx), evalNode(v, ctx)] as [PyValue, PyValue]),
      };
    case "unsupported":
      return unknown(`an expression schedctl does not evaluate (${n.text.slice(0, 40)})`);
  }
}

function evalFString(body: string, ctx: EvalContext): PyValue {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    if (c === "{" && body[i + 1] === "{") {
      out += "{";
      i++;
      continue;
    }
    if (c === "}" && body[i + 1] === "}") {
      out += "}";
      i++;
      continue;
    }
    if (c === "{") {
      let depth = 1;
      let j = i + 1;
      while (j < body.length && depth > 0) {
        if (body[j] === "{") depth++;
        else if (body[j] === "}") depth--;
        if (depth > 0) j++;
      }
      let inner = body.slice(i + 1, j);
      const conv = /![rsa](?::.*)?$|:[^\]'")]*$/.exec(inner);
      if (conv) inner = inner.slice(0, conv.index);
      const v = evalNode(parseExpr(inner), ctx);
      const m = merge(v);
      if (m) return m;
      out += pyStr(v);
      i = j;
      continue;
    }
    out += c;
  }
  return str(out);
}

/** Parses and evaluates one expression. */
export function evalExpr(text: string, ctx: EvalContext): PyValue {
  return evalNode(parseExpr(text), ctx);
}

export function newContext(env: Record<string, string>, opts: Partial<EvalContext> = {}): EvalContext {
  return {
    env: { ...env },
    unknownEnv: opts.unknownEnv,
    cpuCount: opts.cpuCount ?? null,
    names: opts.names ?? new Map(),
    envRead: opts.envRead ?? new Set(),
    hostname: opts.hostname,
  };
}

/** printf-style `str % args` for %s, %r, %d, %i, %f and %%. */
function percentFormat(fmt: string, args: PyValue[]): PyValue {
  let k = 0;
  let bad: PyValue | null = null;
  const out = fmt.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([sdirf%])/g, (_m, _flags: string, conv: string) => {
    if (conv === "%") return "%";
    const v = args[k++];
    if (!v) {
      bad = err("TypeError: not enough arguments for format string");
      return "";
    }
    const m = merge(v);
    if (m) {
      bad = m;
      return "";
    }
    if (conv === "s") return pyStr(v);
    if (conv === "r") return pyRepr(v);
    if (!isNum(v)) {
      bad = err(`TypeError: %${conv} format: a real number is required, not ${typeName(v)}`);
      return "";
    }
    return conv === "f" ? numOf(v).toFixed(6) : String(Math.trunc(numOf(v)));
  });
  return bad ?? str(out);
}

// ---------------------------------------------------------------------------------------------------------
// Statements

/** How a block of statements ended. */
export type Flow =
  | { kind: "normal" }
  | { kind: "return"; value: PyValue }
  | { kind: "break" }
  | { kind: "continue" }
  | { kind: "raise"; exc: string; line: number };

export interface ExecHooks {
  /** Called for every assignment the executor performs at this level. */
  onAssign?: (name: string, value: PyValue, line: number, expr: string) => void;
  /** Inside a function: an undecidable branch makes the whole call unknown. */
  inFunction?: boolean;
}

const EXCEPTION_PARENTS: Record<string, string> = {
  KeyError: "LookupError",
  IndexError: "LookupError",
  LookupError: "Exception",
  ValueError: "Exception",
  "json.decoder.JSONDecodeError": "ValueError",
  JSONDecodeError: "ValueError",
  TypeError: "Exception",
  ZeroDivisionError: "ArithmeticError",
  ArithmeticError: "Exception",
  RuntimeError: "Exception",
  AttributeError: "Exception",
  NameError: "Exception",
  OSError: "Exception",
  Exception: "BaseException",
  SystemExit: "BaseException",
  KeyboardInterrupt: "BaseException",
};

function excMatches(exc: string, clause: string): boolean {
  const cls = exc.split(":")[0]?.trim() ?? "";
  const wanted = clause
    .replace(/^except\s*/, "")
    .replace(/\s+as\s+\w+\s*:?$/, "")
    .replace(/:$/, "")
    .replace(/[()]/g, "")
    .split(",")
    .map((x) => x.trim().split(".").pop() ?? "")
    .filter(Boolean);
  if (wanted.length === 0) return true;
  for (let c: string | undefined = cls.split(".").pop(); c; c = EXCEPTION_PARENTS[c])
    if (wanted.includes(c)) return true;
  return false;
}

const ASSIGN = /^((?:[A-Za-z_]\w*\s*=\s*)+)(?!=)(.+)$/;
const ANN_ASSIGN = /^([A-Za-z_]\w*)\s*:\s*[^=]+=\s*(.+)$/;
const AUG_ASSIGN = /^([A-Za-z_]\w*)\s*(\*\*|\/\/|[-+*/%])=\s*(.+)$/;

function assignedNames(list: PyBlock[]): { name: string; line: number; expr: string }[] {
  const out: { name: string; line: number; expr: string }[] = [];
  for (const b of list) {
    const m = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*(.+)$/.exec(b.head.text);
    if (m?.[1]) out.push({ name: m[1], line: b.head.line, expr: m[2] ?? "" });
    if (!/^(?:async\s+)?def\s|^class\s/.test(b.head.text)) out.push(...assignedNames(b.body));
  }
  return out;
}

function parseParams(text: string): PyFunctionDef["params"] {
  const inner = /\((.*)\)/.exec(text)?.[1] ?? "";
  const out: PyFunctionDef["params"] = [];
  let depth = 0;
  let cur = "";
  const push = () => {
    const p = cur.trim();
    cur = "";
    if (!p || p === "*" || p === "/" || p.startsWith("*")) return;
    const eq = p.indexOf("=");
    const name = (eq < 0 ? p : p.slice(0, eq)).split(":")[0]?.trim() ?? "";
    out.push({ name, dflt: eq < 0 ? null : p.slice(eq + 1).trim() });
  };
  for (const c of inner) {
    if ("([{".includes(c)) depth++;
    if (")]}".includes(c)) depth--;
    if (c === "," && depth === 0) push();
    else cur += c;
  }
  push();
  return out;
}

function callUser(
  name: string,
  def: PyFunctionDef,
  args: PyValue[],
  kwargs: Map<string, PyValue>,
  ctx: EvalContext,
): PyValue {
  const depth = (ctx.depth ?? 0) + 1;
  if (depth > 20) return unknown(`a deep call to ${name}()`);
  const local = new Map(def.scope);
  const callCtx: EvalContext = { ...ctx, names: local, depth };
  def.params.forEach((p, i) => {
    const v =
      args[i] ??
      kwargs.get(p.name) ??
      (p.dflt !== null ? evalExpr(p.dflt, { ...ctx, names: def.scope }) : undefined);
    local.set(p.name, v ?? err(`TypeError: ${name}() missing required argument: '${p.name}'`));
  });
  const flow = execBlocks(def.body, callCtx, { inFunction: true });
  if (flow.kind === "return") return flow.value;
  if (flow.kind === "raise") return err(flow.exc);
  return NONE;
}

function raised(text: string, ctx: EvalContext): string {
  const body = text.replace(/^raise\s*/, "").replace(/\s+from\s+\w+$/, "");
  if (!body) return "RuntimeError: No active exception to reraise";
  const m = /^([\w.]+)\s*(?:\((.*)\))?$/.exec(body);
  if (!m?.[1]) return "Exception";
  if (!m[2]) return m[1];
  const arg = evalExpr(m[2], ctx);
  return `${m[1]}: ${arg.t === "str" ? arg.v : arg.t === "unknown" ? "(message not known statically)" : pyRepr(arg)}`;
}

/**
 * Runs statements: imports, defs, assignments (plain, annotated, augmented, chained), if/elif/else, for over
 * a known sequence, try/except/else/finally, with, return, raise, break, continue. Expression statements are
 * skipped (their side effects are unknown), except `os.environ[...] = value`. An undecidable `if`, `for` or
 * `while` makes the names it assigns unknown (at module level) or the whole call unknown (in a function).
 */
export function execBlocks(list: PyBlock[], ctx: EvalContext, hooks: ExecHooks = {}): Flow {
  const set = (name: string, value: PyValue, line: number, expr: string) => {
    ctx.names.set(name, value);
    hooks.onAssign?.(name, value, line, expr);
  };
  const markUnknown = (bs: PyBlock[], why: string) => {
    for (const a of assignedNames(bs)) set(a.name, unknown(why), a.line, a.expr);
  };
  for (let i = 0; i < list.length; i++) {
    const b = list[i] as PyBlock;
    const t = b.head.text;
    const line = b.head.line;
    if (t.startsWith("@")) continue;
    const imp = /^import\s+(.+)$/.exec(t);
    if (imp?.[1]) {
      for (const part of imp[1].split(",")) {
        const [mod, alias] = part.trim().split(/\s+as\s+/);
        if (!mod) continue;
        ctx.names.set(alias ?? (mod.split(".")[0] as string), {
          t: "module",
          name: alias ? mod : (mod.split(".")[0] as string),
        });
      }
      continue;
    }
    const from = /^from\s+([\w.]+)\s+import\s+\(?([^)]*)\)?$/.exec(t);
    if (from?.[1]) {
      for (const part of (from[2] ?? "").split(",")) {
        const [n, alias] = part.trim().split(/\s+as\s+/);
        if (!n || n === "*") continue;
        const full = `${from[1]}.${n}`;
        ctx.names.set(
          alias ?? n,
          full === "os.environ" ? { t: "module", name: full } : { t: "func", name: full },
        );
      }
      continue;
    }
    const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/.exec(t);
    if (def?.[1]) {
      ctx.names.set(def[1], {
        t: "func",
        name: def[1],
        def: { params: parseParams(t), body: b.body, scope: ctx.names },
      });
      continue;
    }
    if (/^class\s/.test(t) || /^(pass|global|nonlocal|assert|del)\b/.test(t)) continue;
    if (t === "break") return { kind: "break" };
    if (t === "continue") return { kind: "continue" };
    const ret = /^return\b\s*(.*)$/.exec(t);
    if (ret) return { kind: "return", value: ret[1] ? evalExpr(ret[1], ctx) : NONE };
    if (/^raise\b/.test(t)) return { kind: "raise", exc: raised(t, ctx), line };
    const cond = /^if\s+(.*):$/.exec(t);
    if (cond) {
      const chain: { cond: string | null; body: PyBlock[]; line: number }[] = [
        { cond: cond[1] ?? "", body: b.body, line },
      ];
      while (i + 1 < list.length) {
        const nx = list[i + 1] as PyBlock;
        const elif = /^elif\s+(.*):$/.exec(nx.head.text);
        if (elif) chain.push({ cond: elif[1] ?? "", body: nx.body, line: nx.head.line });
        else if (/^else\s*:$/.test(nx.head.text))
          chain.push({ cond: null, body: nx.body, line: nx.head.line });
        else break;
        i++;
      }
      let taken: PyBlock[] | null = null;
      let undecided: string | null = null;
      for (const c of chain) {
        if (c.cond === null) {
          taken = c.body;
          break;
        }
        const v = evalExpr(c.cond, ctx);
        if (v.t === "error") return { kind: "raise", exc: v.exc, line: c.line };
        const truth = pyTruthy(v);
        if (truth === null) {
          undecided = `the condition \`${c.cond}\` (line ${c.line})`;
          break;
        }
        if (truth) {
          taken = c.body;
          break;
        }
      }
      if (undecided) {
        if (hooks.inFunction) return { kind: "return", value: unknown(undecided) };
        for (const c of chain) markUnknown(c.body, undecided);
        continue;
      }
      if (taken) {
        const f = execBlocks(taken, ctx, hooks);
        if (f.kind !== "normal") return f;
      }
      continue;
    }
    if (/^(elif|else|except|finally)\b/.test(t)) continue;
    if (/^try\s*:$/.test(t)) {
      const handlers: PyBlock[] = [];
      let elseBody: PyBlock[] | null = null;
      let finallyBody: PyBlock[] | null = null;
      while (i + 1 < list.length && /^(except|else|finally)\b/.test((list[i + 1] as PyBlock).head.text)) {
        const nx = list[++i] as PyBlock;
        if (/^except\b/.test(nx.head.text)) handlers.push(nx);
        else if (/^else\b/.test(nx.head.text)) elseBody = nx.body;
        else finallyBody = nx.body;
      }
      let f = execBlocks(b.body, ctx, hooks);
      if (f.kind === "raise") {
        const exc = f.exc;
        const h = handlers.find((x) => excMatches(exc, x.head.text));
        if (h) f = execBlocks(h.body, ctx, hooks);
      } else if (f.kind === "normal" && elseBody) f = execBlocks(elseBody, ctx, hooks);
      if (finallyBody) {
        const g = execBlocks(finallyBody, ctx, hooks);
        if (g.kind !== "normal") return g;
      }
      if (f.kind !== "normal") return f;
      continue;
    }
    if (/^(?:async\s+)?with\s/.test(t)) {
      const f = execBlocks(b.body, ctx, hooks);
      if (f.kind !== "normal") return f;
      continue;
    }
    const loop = /^for\s+([A-Za-z_]\w*)\s+in\s+(.+):$/.exec(t);
    if (loop?.[1]) {
      const it = evalExpr(loop[2] ?? "", ctx);
      const items =
        it.t === "list" || it.t === "tuple"
          ? it.v
          : it.t === "str"
            ? [...it.v].map(str)
            : it.t === "dict"
              ? it.v.map(([k]) => k)
              : null;
      if (items === null || items.length > 1000) {
        const why = `a loop over \`${loop[2]}\` (line ${line})`;
        if (hooks.inFunction) return { kind: "return", value: unknown(why) };
        markUnknown(b.body, why);
        continue;
      }
      const stop = false;
      for (const x of items) {
        ctx.names.set(loop[1], x);
        const f = execBlocks(b.body, ctx, hooks);
        if (f.kind === "break") break;
        if (f.kind === "return" || f.kind === "raise") return f;
        if (f.kind === "continue") continue;
        if (stop) break;
      }
      // a following `else:` of the loop is skipped by the elif/else rule above
      continue;
    }
    if (/^(for|while|match)\b/.test(t)) {
      const why = `a loop (line ${line})`;
      if (hooks.inFunction) return { kind: "return", value: unknown(why) };
      markUnknown(b.body, why);
      continue;
    }
    const envSet = /^os\.environ\[\s*(['"])(\w+)\1\s*\]\s*=\s*(.+)$/.exec(t);
    if (envSet?.[2]) {
      const v = evalExpr(envSet[3] ?? "", ctx);
      if (v.t === "str") ctx.env[envSet[2]] = v.v;
      continue;
    }
    const aug = AUG_ASSIGN.exec(t);
    if (aug?.[1]) {
      const v = evalExpr(`${aug[1]} ${aug[2]} (${aug[3]})`, ctx);
      if (v.t === "error") return { kind: "raise", exc: v.exc, line };
      set(aug[1], v, line, `${aug[1]} ${aug[2]}= ${aug[3]}`);
      continue;
    }
    const m = ASSIGN.exec(t);
    const ann = m ? null : ANN_ASSIGN.exec(t);
    if (m?.[1] || ann?.[1]) {
      const targets = m?.[1]
        ? m[1]
            .split("=")
            .map((x) => x.trim())
            .filter(Boolean)
        : [ann?.[1] as string];
      const exprText = (m?.[1] ? m[2] : ann?.[2]) ?? "";
      const v = evalExpr(exprText, ctx);
      if (v.t === "error") return { kind: "raise", exc: v.exc, line };
      for (const target of targets) set(target, v, line, exprText);
      continue;
    }
    // Expression statements: only lookups that raise matter (os.environ["X"]).
    if (/^os\.environ\[/.test(t)) {
      const v = evalExpr(t, ctx);
      if (v.t === "error") return { kind: "raise", exc: v.exc, line };
    }
  }
  return { kind: "normal" };
}
