/**
 * PCRE2 (as nginx compiles location regexes: no UTF, default newline LF, optional CASELESS) translated to
 * a JavaScript RegExp that gives the same yes/no answer, or an explicit refusal.
 *
 * nginx matches bytes: the decoded URI is a byte string and the pattern is the bytes of the config file.
 * Here both are "byte strings": byte b < 0x80 is the character b, byte b >= 0x80 is U+E000+b (a private-use
 * character, so JavaScript's case folding and `\s` never touch it, just as PCRE's C-locale tables do not).
 * Character classes are computed as byte sets and written out explicitly, so `[[:alpha:]]`, `[^\d]`,
 * `[\x80-\xff]`, `[]a]` mean exactly what they mean to PCRE.
 *
 * Exact translations: `.` (no newline), `$` (end or before a final newline), `\A`, `\z`, `\Z`, `\G` (nginx
 * matches from offset 0), `\h`, `\v`, `\N`, `\C`, `\Q…\E`, octal/hex/control escapes, POSIX classes,
 * `(?<name>`, `(?'name'`, `(?P<name>`, `(?P=name)`, `\g{…}`, `\k…`, leading `(?i)`/`(?s)`/`(?m)`/`(?x)`,
 * `(?#…)`; and, emulated exactly (reported as notes): atomic groups `(?>…)`, possessive quantifiers
 * (`a*+` = `(?>a*)`), `\R`, `\K` (it only moves the reported match start).
 * Refused (the regex is not evaluated): recursion, subroutine calls, conditionals, branch reset, callouts,
 * backtracking verbs, `\p`/`\P`/`\X`, inline flags after the start, anything else unknown.
 */

export interface TranslatedRegex {
  pattern: string;
  caseless: boolean;
  /** The JavaScript source (over byte strings), or null when refused. */
  source: string | null;
  flags: string;
  regex: RegExp | null;
  /** Constructs JavaScript has no direct equivalent for. Each says whether it was emulated or refused. */
  warnings: string[];
  /** True when the answer cannot be computed (regex is null). */
  unsupported: boolean;
  /** PCRE itself would reject the pattern at configuration load (nginx -t fails). */
  invalid: string | null;
}

const ESC_ASCII = (b: number): string => `\\x${b.toString(16).padStart(2, "0")}`;

/** The JavaScript character standing for byte b in a byte string. */
export function byteChar(b: number): string {
  return b < 0x80 ? String.fromCharCode(b) : String.fromCharCode(0xe000 + b);
}

/** A byte array as a byte string. */
export function bytesToByteString(bytes: Uint8Array | readonly number[]): string {
  let s = "";
  for (const b of bytes) s += byteChar(b);
  return s;
}

/** A byte string back to bytes. */
export function byteStringToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c >= 0xe000 ? c - 0xe000 : c;
  }
  return out;
}

/** Escapes byte b for use in a JavaScript regex source (outside or inside a class). */
function jsByte(b: number): string {
  if (b >= 0x80) return `\\u${(0xe000 + b).toString(16)}`;
  if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) {
    return String.fromCharCode(b);
  }
  return ESC_ASCII(b);
}

type ByteSet = boolean[];
const emptySet = (): ByteSet => new Array<boolean>(256).fill(false);
const range = (s: ByteSet, a: number, b: number): void => {
  for (let i = a; i <= b; i++) s[i] = true;
};
const DIGIT = (): ByteSet => {
  const s = emptySet();
  range(s, 0x30, 0x39);
  return s;
};
const WORD = (): ByteSet => {
  const s = DIGIT();
  range(s, 0x41, 0x5a);
  range(s, 0x61, 0x7a);
  s[0x5f] = true;
  return s;
};
const SPACE = (): ByteSet => {
  const s = emptySet();
  range(s, 0x09, 0x0d);
  s[0x20] = true;
  return s;
};
const HSPACE = (): ByteSet => {
  const s = emptySet();
  s[0x09] = true;
  s[0x20] = true;
  s[0xa0] = true;
  return s;
};
const VSPACE = (): ByteSet => {
  const s = emptySet();
  range(s, 0x0a, 0x0d);
  s[0x85] = true;
  return s;
};
const negate = (s: ByteSet): ByteSet => s.map((x) => !x);

/** The set of a shorthand escape (\d \w \s \h \v, upper case: the complement), in or out of a class; null for others. */
function shorthandClass(ch: string): ByteSet | null {
  const make = { d: DIGIT, w: WORD, s: SPACE, h: HSPACE, v: VSPACE }[ch.toLowerCase()];
  if (make === undefined) return null;
  return ch === ch.toLowerCase() ? make() : negate(make());
}

/** POSIX classes in the C locale (PCRE's built-in tables). */
function posixClass(name: string): ByteSet | null {
  const s = emptySet();
  switch (name) {
    case "alpha":
      range(s, 0x41, 0x5a);
      range(s, 0x61, 0x7a);
      return s;
    case "digit":
      return DIGIT();
    case "alnum":
      range(s, 0x30, 0x39);
      range(s, 0x41, 0x5a);
      range(s, 0x61, 0x7a);
      return s;
    case "upper":
      range(s, 0x41, 0x5a);
      return s;
    case "lower":
      range(s, 0x61, 0x7a);
      return s;
    case "space":
      return SPACE();
    case "blank":
      s[0x09] = true;
      s[0x20] = true;
      return s;
    case "punct":
      range(s, 0x21, 0x2f);
      range(s, 0x3a, 0x40);
      range(s, 0x5b, 0x60);
      range(s, 0x7b, 0x7e);
      return s;
    case "print":
      range(s, 0x20, 0x7e);
      return s;
    case "graph":
      range(s, 0x21, 0x7e);
      return s;
    case "cntrl":
      range(s, 0x00, 0x1f);
      s[0x7f] = true;
      return s;
    case "xdigit":
      range(s, 0x30, 0x39);
      range(s, 0x41, 0x46);
      range(s, 0x61, 0x66);
      return s;
    case "word":
      return WORD();
    case "ascii":
      range(s, 0x00, 0x7f);
      return s;
    default:
      return null;
  }
}

function setToClass(s: ByteSet): string {
  let out = "";
  let i = 0;
  while (i < 256) {
    if (!s[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < 256 && s[j + 1] && !(j + 1 === 0x80)) j++;
    out += j === i ? jsByte(i) : j === i + 1 ? jsByte(i) + jsByte(j) : `${jsByte(i)}-${jsByte(j)}`;
    i = j + 1;
  }
  return out === "" ? "[]" : `[${out}]`;
}

class Refuse extends Error {}
class Invalid extends Error {}

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
const isHex = (b: number | undefined): boolean =>
  b !== undefined && (isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
const isOct = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x37;
const isNameStart = (b: number | undefined): boolean =>
  b !== undefined && ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f);
const isNameChar = (b: number | undefined): boolean => isNameStart(b) || isDigit(b);

class Translator {
  private i = 0;
  private out = "";
  private groups = 0;
  private helper = 0;
  private readonly names = new Map<string, number>();
  private readonly refs: Array<{ kind: "num"; n: number } | { kind: "name"; name: string }> = [];
  readonly warnings: string[] = [];
  caseless: boolean;
  private dotall = false;
  private multiline = false;
  private extended = false;
  /** Output offset where the last quantifiable atom starts (-1: nothing to repeat). */
  private atomStart = -1;
  private readonly stack: Array<{ outStart: number; lookbehind: boolean }> = [];

  constructor(
    private readonly b: Uint8Array,
    caseless: boolean,
  ) {
    this.caseless = caseless;
  }

  private peek(o = 0): number | undefined {
    return this.b[this.i + o];
  }

  private text(from: number, to: number): string {
    return String.fromCharCode(...this.b.subarray(from, to));
  }

  private note(msg: string): void {
    if (!this.warnings.includes(msg)) this.warnings.push(msg);
  }

  run(): string {
    this.leadingOptions();
    while (this.i < this.b.length) this.step();
    if (this.stack.length > 0) throw new Invalid("missing closing parenthesis");
    for (const r of this.refs) {
      if (r.kind === "num" && (r.n < 1 || r.n > this.groups)) {
        throw new Invalid(`reference to non-existent subpattern ${r.n}`);
      }
      if (r.kind === "name" && !this.names.has(r.name)) {
        throw new Invalid(`reference to non-existent subpattern "${r.name}"`);
      }
    }
    return this.out;
  }

  /** `(?i)`, `(?s)`, `(?m)`, `(?x)` and combinations at the very start apply to the whole pattern. */
  private leadingOptions(): void {
    for (;;) {
      if (this.peek() === 0x28 && this.peek(1) === 0x2a) {
        const end = this.b.indexOf(0x29, this.i);
        const verb = end > 0 ? this.text(this.i, end + 1) : "(*";
        throw new Refuse(`the start-of-pattern option ${verb} changes how PCRE reads the pattern`);
      }
      const m = /^\(\?([imsx]+)\)/.exec(this.text(this.i, Math.min(this.b.length, this.i + 12)));
      if (!m) return;
      for (const f of m[1] as string) {
        if (f === "i") this.caseless = true;
        if (f === "s") this.dotall = true;
        if (f === "m") this.multiline = true;
        if (f === "x") this.extended = true;
      }
      this.i += (m[0] as string).length;
    }
  }

  private emitAtom(src: string): void {
    this.atomStart = this.out.length;
    this.out += src;
  }

  private emitAssertion(src: string): void {
    this.out += src;
    this.atomStart = -1;
  }

  private step(): void {
    const c = this.b[this.i] as number;
    if (this.extended) {
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
        this.i++;
        return;
      }
      if (c === 0x23) {
        while (this.i < this.b.length && this.b[this.i] !== 0x0a) this.i++;
        return;
      }
    }
    switch (c) {
      case 0x5c: // backslash
        this.escape();
        return;
      case 0x2e: // .
        this.i++;
        this.emitAtom(this.dotall ? "[\\s\\S]" : "[^\\n]");
        return;
      case 0x5e: // ^
        this.i++;
        // multiline: at the start, or after a newline that is not the last character (PCRE2; measured)
        this.emitAssertion(this.multiline ? "(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))" : "(?<![\\s\\S])");
        return;
      case 0x24: // $
        this.i++;
        this.emitAssertion(this.multiline ? "(?=\\n|(?![\\s\\S]))" : "(?=\\n?(?![\\s\\S]))");
        return;
      case 0x5b: // [
        this.i++;
        this.emitAtom(this.charClass());
        return;
      case 0x28: // (
        this.openGroup();
        return;
      case 0x29: {
        // )
        this.i++;
        const depth = this.stack.length;
        const g = this.stack.pop();
        if (!g) throw new Invalid("unmatched closing parenthesis");
        const atomic = this.atomics.get(depth);
        if (atomic !== undefined) {
          this.atomics.delete(depth);
          this.out += `))\\k<${atomic}>`;
        } else this.out += ")";
        this.atomStart = g.outStart;
        return;
      }
      case 0x7c: // |
        this.i++;
        this.out += "|";
        this.atomStart = -1;
        return;
      case 0x2a: // *
      case 0x2b: // +
      case 0x3f: // ?
        this.quantifier(String.fromCharCode(c), 1);
        return;
      case 0x7b: {
        // {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.text(this.i, Math.min(this.b.length, this.i + 24)));
        if (m) {
          const min = Number(m[1]);
          const max = m[3] !== undefined && m[3] !== "" ? Number(m[3]) : null;
          if (max !== null && max < min) throw new Invalid("numbers out of order in {} quantifier");
          if (min > 65535 || (max ?? 0) > 65535) throw new Invalid("number too big in {} quantifier");
          this.quantifier(m[0] as string, (m[0] as string).length);
          return;
        }
        this.i++;
        this.emitAtom("\\{");
        return;
      }
      default:
        this.i++;
        this.emitAtom(jsByte(c));
    }
  }

  private quantifier(q: string, len: number): void {
    if (this.atomStart < 0) {
      if (this.out.length > 0) {
        // After an assertion, "|", "(" or another quantifier: PCRE accepts some of these, rejects others.
        throw new Refuse(`quantifier "${q}" that does not follow a repeatable item`);
      }
      throw new Invalid(`quantifier "${q}" does not follow a repeatable item`);
    }
    if (this.stack.some((g) => g.lookbehind) && !/^\{\d+\}$/.test(q)) {
      throw new Invalid("lookbehind assertion is not fixed length");
    }
    this.i += len;
    const next = this.peek();
    if (next === 0x3f) {
      this.i++;
      this.out += `${q}?`;
      this.atomStart = -1;
      return;
    }
    if (next === 0x2b) {
      // Possessive: X*+ is (?>X*), emulated exactly as (?=(?<aN>X*))\k<aN>.
      this.i++;
      const atom = this.out.slice(this.atomStart);
      const name = `a${++this.helper}`;
      this.out = `${this.out.slice(0, this.atomStart)}(?=(?<${name}>${atom}${q}))\\k<${name}>`;
      this.note(
        `possessive quantifier "${q}+": JavaScript has none; evaluated exactly as an atomic group (?=(…))\\k<…>`,
      );
      this.atomStart = -1;
      return;
    }
    this.out += q;
    this.atomStart = -1;
  }

  private openGroup(): void {
    const start = this.i;
    this.i++;
    if (this.peek() === 0x2a) {
      const end = this.b.indexOf(0x29, this.i);
      throw new Refuse(`backtracking verb ${end > 0 ? this.text(start, end + 1) : "(*"}`);
    }
    if (this.peek() !== 0x3f) {
      // capture group
      this.groups++;
      this.stack.push({ outStart: this.out.length, lookbehind: false });
      this.out += `(?<g${this.groups}>`;
      this.atomStart = -1;
      return;
    }
    this.i++; // past ?
    const c = this.peek();
    const rest = this.text(this.i, Math.min(this.b.length, this.i + 40));
    const push = (src: string) => {
      this.stack.push({ outStart: this.out.length, lookbehind: src.startsWith("(?<") });
      this.out += src;
      this.atomStart = -1;
    };
    if (c === 0x3a) {
      this.i++;
      push("(?:");
      return;
    }
    if (c === 0x3d || c === 0x21) {
      this.i++;
      push(c === 0x3d ? "(?=" : "(?!");
      return;
    }
    if (c === 0x3c && (this.peek(1) === 0x3d || this.peek(1) === 0x21)) {
      this.i += 2;
      push(this.peek(-1) === 0x3d ? "(?<=" : "(?<!");
      return;
    }
    if (c === 0x3e) {
      // Atomic group: (?>X) = (?=(?<aN>X))\k<aN>; the closing part is added when the group closes.
      this.i++;
      const name = `a${++this.helper}`;
      this.note("atomic group (?>…): JavaScript has none; evaluated exactly as (?=(…))\\k<…>");
      this.atomicOpen(name);
      return;
    }
    if (c === 0x23) {
      // (?#comment)
      const end = this.b.indexOf(0x29, this.i);
      if (end < 0) throw new Invalid("missing ) after (?# comment");
      this.i = end + 1;
      return;
    }
    const named = /^(?:<|'|P<)([A-Za-z_][A-Za-z0-9_]*)[>']/.exec(rest);
    if (named && !(c === 0x3c && (rest[1] === "=" || rest[1] === "!"))) {
      const name = named[1] as string;
      if (this.names.has(name)) throw new Invalid(`two named subpatterns have the same name "${name}"`);
      this.groups++;
      this.names.set(name, this.groups);
      this.i += (named[0] as string).length;
      this.stack.push({ outStart: this.out.length, lookbehind: false });
      this.out += `(?<g${this.groups}>`;
      this.atomStart = -1;
      return;
    }
    const backref = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
    if (backref) {
      this.i += (backref[0] as string).length;
      this.nameRef(backref[1] as string);
      return;
    }
    if (/^(R|[+-]?\d+|&|P>)/.test(rest))
      throw new Refuse(`recursion or subroutine call (?${rest.slice(0, 3)}…`);
    if (c === 0x28) throw new Refuse("conditional group (?(…)…)");
    if (c === 0x7c) throw new Refuse("branch reset group (?|…)");
    if (c === 0x43) throw new Refuse("callout (?C…)");
    if (/^[-imnsxJU^]*[:)]/.test(rest)) {
      throw new Refuse(
        `inline option (?${rest.slice(0, rest.search(/[:)]/) + 1)} after the start of the pattern (JavaScript flags apply to the whole regex)`,
      );
    }
    throw new Invalid(`unrecognized character after (? : "${rest.slice(0, 1)}"`);
  }

  private readonly atomics = new Map<number, string>();

  private atomicOpen(name: string): void {
    this.stack.push({ outStart: this.out.length, lookbehind: false });
    this.atomics.set(this.stack.length, name);
    this.out += `(?=(?<${name}>`;
    this.atomStart = -1;
  }

  private numRef(n: number): void {
    this.refs.push({ kind: "num", n });
    if (n > this.groups) {
      this.note(`backreference \\${n} to a group that opens later: PCRE and JavaScript may differ`);
    }
    this.emitAtom(`\\k<g${n}>`);
  }

  private nameRef(name: string): void {
    this.refs.push({ kind: "name", name });
    const n = this.names.get(name);
    if (n === undefined) throw new Invalid(`reference to non-existent subpattern "${name}"`);
    this.emitAtom(`\\k<g${n}>`);
  }

  /** One escape outside a class. */
  private escape(): void {
    const e = this.peek(1);
    if (e === undefined) throw new Invalid("\\ at end of pattern");
    const ch = String.fromCharCode(e);
    this.i += 2;
    const shorthand = shorthandClass(ch);
    if (shorthand !== null) {
      this.emitAtom(setToClass(shorthand));
      return;
    }
    switch (ch) {
      case "N":
        if (this.peek() === 0x7b) throw new Refuse("\\N{…} (named character)");
        this.emitAtom("[^\\n]");
        return;
      case "C":
        this.emitAtom("[\\s\\S]");
        return;
      case "R": {
        const name = `a${++this.helper}`;
        this.note(
          "\\R: JavaScript has none; evaluated exactly as the atomic (?>\\r\\n|[\\n\\x0b\\f\\r\\x85])",
        );
        this.emitAtom(`(?=(?<${name}>\\r\\n|[\\n\\x0b\\f\\r\\ue085]))\\k<${name}>`);
        return;
      }
      case "b":
        this.emitAssertion("\\b");
        return;
      case "B":
        this.emitAssertion("\\B");
        return;
      case "A":
      case "G":
        this.emitAssertion("(?<![\\s\\S])");
        return;
      case "z":
        this.emitAssertion("(?![\\s\\S])");
        return;
      case "Z":
        this.note(
          "\\Z: JavaScript has none; evaluated exactly as (?=\\n?(?![\\s\\S])) (end, or before a final newline)",
        );
        this.emitAssertion("(?=\\n?(?![\\s\\S]))");
        return;
      case "K":
        this.note(
          "\\K: JavaScript has none; it only moves the start of the reported match, so it is ignored for the yes/no answer",
        );
        return;
      case "Q": {
        let j = this.i;
        while (j < this.b.length && !(this.b[j] === 0x5c && this.b[j + 1] === 0x45)) j++;
        for (let k = this.i; k < j; k++) this.emitAtom(jsByte(this.b[k] as number));
        this.i = Math.min(this.b.length, j + 2);
        return;
      }
      case "E":
        return;
      case "p":
      case "P":
      case "X":
        throw new Refuse(
          `\\${ch} (Unicode property): PCRE without UTF and JavaScript classify bytes differently`,
        );
      case "g": {
        const rest = this.text(this.i, Math.min(this.b.length, this.i + 40));
        const m = /^(?:\{(-?\d+)\}|(-?\d+)|\{([A-Za-z_][A-Za-z0-9_]*)\})/.exec(rest);
        if (!m) {
          if (/^[<']/.test(rest)) throw new Refuse("subroutine call \\g<…>");
          throw new Invalid("a numbered reference must not be zero");
        }
        this.i += (m[0] as string).length;
        if (m[3]) {
          this.nameRef(m[3]);
          return;
        }
        let n = Number(m[1] ?? m[2]);
        if (n < 0) n = this.groups + 1 + n;
        this.numRef(n);
        return;
      }
      case "k": {
        const rest = this.text(this.i, Math.min(this.b.length, this.i + 40));
        const m =
          /^(?:<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)'|\{([A-Za-z_][A-Za-z0-9_]*)\})/.exec(
            rest,
          );
        if (!m) throw new Invalid("\\k is not followed by a name in <>, '' or {}");
        this.i += (m[0] as string).length;
        this.nameRef((m[1] ?? m[2] ?? m[3]) as string);
        return;
      }
      default:
        break;
    }
    if (isDigit(e)) {
      this.i -= 1;
      if (e === 0x30) {
        // \0 and up to two more octal digits
        let v = 0;
        let n = 0;
        this.i++;
        while (n < 2 && isOct(this.peek())) {
          v = v * 8 + ((this.peek() as number) - 0x30);
          this.i++;
          n++;
        }
        this.emitAtom(jsByte(v));
        return;
      }
      let j = this.i;
      while (isDigit(this.b[j])) j++;
      const num = Number(this.text(this.i, j));
      if (num < 10 || e === 0x38 || e === 0x39 || num <= this.groups) {
        this.i = j;
        this.numRef(num);
        return;
      }
      // octal: up to three digits
      let v = 0;
      let n = 0;
      while (n < 3 && isOct(this.peek())) {
        v = v * 8 + ((this.peek() as number) - 0x30);
        this.i++;
        n++;
      }
      if (v > 0xff) throw new Invalid("octal value is greater than \\377 in 8-bit non-UTF mode");
      this.emitAtom(jsByte(v));
      return;
    }
    const single = this.singleEscape(ch);
    if (single !== null) {
      this.emitAtom(jsByte(single));
      return;
    }
    if (!isNameChar(e)) {
      this.emitAtom(jsByte(e));
      return;
    }
    throw new Invalid(`unrecognized character follows \\: "${ch}"`);
  }

  /** Escapes that stand for one byte (shared by classes). i is just past the escape letter. */
  private singleEscape(ch: string): number | null {
    switch (ch) {
      case "a":
        return 0x07;
      case "e":
        return 0x1b;
      case "f":
        return 0x0c;
      case "n":
        return 0x0a;
      case "r":
        return 0x0d;
      case "t":
        return 0x09;
      case "c": {
        const x = this.peek();
        if (x === undefined || x > 0x7f)
          throw new Invalid("\\c at end of pattern or followed by a non-ASCII byte");
        this.i++;
        const up = x >= 0x61 && x <= 0x7a ? x - 0x20 : x;
        return up ^ 0x40;
      }
      case "x": {
        if (this.peek() === 0x7b) {
          const end = this.b.indexOf(0x7d, this.i);
          const hex = end > 0 ? this.text(this.i + 1, end) : "";
          if (!/^[0-9A-Fa-f]+$/.test(hex)) throw new Invalid("malformed \\x{…}");
          const v = Number.parseInt(hex, 16);
          if (v > 0xff)
            throw new Invalid("character code point value in \\x{} is too large in 8-bit non-UTF mode");
          this.i = end + 1;
          return v;
        }
        let v = 0;
        let n = 0;
        while (n < 2 && isHex(this.peek())) {
          v = v * 16 + Number.parseInt(String.fromCharCode(this.peek() as number), 16);
          this.i++;
          n++;
        }
        return v;
      }
      case "o": {
        if (this.peek() !== 0x7b) throw new Invalid("missing opening brace after \\o");
        const end = this.b.indexOf(0x7d, this.i);
        const oct = end > 0 ? this.text(this.i + 1, end) : "";
        if (!/^[0-7]+$/.test(oct)) throw new Invalid("malformed \\o{…}");
        const v = Number.parseInt(oct, 8);
        if (v > 0xff) throw new Invalid("\\o{} value too large in 8-bit non-UTF mode");
        this.i = end + 1;
        return v;
      }
      default:
        return null;
    }
  }

  /** A class, from just after `[` to just after its `]`, as an explicit JavaScript class. */
  private charClass(): string {
    let neg = false;
    if (this.peek() === 0x5e) {
      neg = true;
      this.i++;
    }
    const set = emptySet();
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new Invalid("missing terminating ] for character class");
      if (c === 0x5d && !first) {
        this.i++;
        break;
      }
      first = false;
      // POSIX class
      if (c === 0x5b && (this.peek(1) === 0x3a || this.peek(1) === 0x2e || this.peek(1) === 0x3d)) {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.text(this.i, Math.min(this.b.length, this.i + 16)));
        if (m) {
          const s = posixClass(m[2] as string);
          if (!s) throw new Invalid(`unknown POSIX class name "${m[2]}"`);
          const ss = m[1] ? negate(s) : s;
          for (let k = 0; k < 256; k++) if (ss[k]) set[k] = true;
          this.i += (m[0] as string).length;
          continue;
        }
        if (this.peek(1) !== 0x3a) throw new Refuse("POSIX collating element [. .] or [= =]");
      }
      let single: number | null = null;
      let multi: ByteSet | null = null;
      if (c === 0x5c) {
        const e = this.peek(1);
        if (e === undefined) throw new Invalid("\\ at end of pattern");
        const ch = String.fromCharCode(e);
        this.i += 2;
        multi = shorthandClass(ch);
        if (multi === null)
          switch (ch) {
            case "b":
              single = 0x08;
              break;
            case "Q": {
              let j = this.i;
              while (j < this.b.length && !(this.b[j] === 0x5c && this.b[j + 1] === 0x45)) j++;
              for (let k = this.i; k < j; k++) set[this.b[k] as number] = true;
              this.i = Math.min(this.b.length, j + 2);
              continue;
            }
            case "E":
              continue;
            case "p":
            case "P":
            case "X":
            case "R":
            case "N":
              throw new Refuse(`\\${ch} inside a character class`);
            default:
              if (isDigit(e)) {
                // inside a class, \digits are octal
                this.i -= 1;
                let v = 0;
                let n = 0;
                while (n < 3 && isOct(this.peek())) {
                  v = v * 8 + ((this.peek() as number) - 0x30);
                  this.i++;
                  n++;
                }
                if (n === 0) throw new Invalid("\\8 or \\9 in a character class");
                single = v & 0xff;
              } else {
                const s = this.singleEscape(ch);
                if (s !== null) single = s;
                else if (!isNameChar(e)) single = e;
                else throw new Invalid(`unrecognized character follows \\ in a class: "${ch}"`);
              }
          }
      } else {
        single = c;
        this.i++;
      }
      if (multi) {
        for (let k = 0; k < 256; k++) if (multi[k]) set[k] = true;
        continue;
      }
      const v = single as number;
      // A range? "-" followed by something other than "]".
      if (this.peek() === 0x2d && this.peek(1) !== undefined && this.peek(1) !== 0x5d) {
        const save = this.i;
        this.i++;
        const hi = this.classEndpoint();
        if (hi === null) {
          // [a-\d]: the "-" is literal
          this.i = save;
          set[v] = true;
          continue;
        }
        if (hi < v) throw new Invalid("range out of order in character class");
        range(set, v, hi);
        continue;
      }
      set[v] = true;
    }
    return setToClass(neg ? negate(set) : set);
  }

  /** The upper end of a range, or null when it is not a single byte (then "-" is literal). */
  private classEndpoint(): number | null {
    const c = this.peek();
    if (c === undefined) throw new Invalid("missing terminating ] for character class");
    if (c === 0x5b && this.peek(1) === 0x3a) return null;
    if (c !== 0x5c) {
      this.i++;
      return c;
    }
    const e = this.peek(1);
    if (e === undefined) throw new Invalid("\\ at end of pattern");
    const ch = String.fromCharCode(e);
    if ("dDwWsShHvVpPQERN".includes(ch)) return null;
    this.i += 2;
    if (ch === "b") return 0x08;
    if (isDigit(e)) {
      this.i -= 1;
      let v = 0;
      let n = 0;
      while (n < 3 && isOct(this.peek())) {
        v = v * 8 + ((this.peek() as number) - 0x30);
        this.i++;
        n++;
      }
      return v & 0xff;
    }
    const s = this.singleEscape(ch);
    if (s !== null) return s;
    if (!isNameChar(e)) return e;
    throw new Invalid(`unrecognized character follows \\ in a class: "${ch}"`);
  }
}

const cache = new Map<string, TranslatedRegex>();

/** Translates a location regex (`caseless` for `~*`). Results are cached. */
export function translatePcre(pattern: string, caseless: boolean): TranslatedRegex {
  const key = `${caseless ? "i" : "-"}${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const bytes = new TextEncoder().encode(pattern);
  const t = new Translator(bytes, caseless);
  let result: TranslatedRegex;
  try {
    const source = t.run();
    const flags = t.caseless ? "i" : "";
    let regex: RegExp | null = null;
    try {
      regex = new RegExp(source, flags);
    } catch (err) {
      throw new Refuse(`the translation does not compile in JavaScript (${(err as Error).message})`);
    }
    result = {
      pattern,
      caseless: t.caseless,
      source,
      flags,
      regex,
      warnings: t.warnings,
      unsupported: false,
      invalid: null,
    };
  } catch (err) {
    if (err instanceof Refuse) {
      result = {
        pattern,
        caseless,
        source: null,
        flags: "",
        regex: null,
        warnings: [...t.warnings, `${err.message}: cannot be evaluated in JavaScript like PCRE`],
        unsupported: true,
        invalid: null,
      };
    } else if (err instanceof Invalid) {
      result = {
        pattern,
        caseless,
        source: null,
        flags: "",
        regex: null,
        warnings: [
          ...t.warnings,
          `PCRE rejects this pattern (${err.message}): nginx refuses to load the configuration`,
        ],
        unsupported: true,
        invalid: err.message,
      };
    } else throw err;
  }
  if (cache.size > 2000) cache.clear();
  cache.set(key, result);
  return result;
}

/** Does the translated regex match the byte string? null when it cannot be evaluated. */
export function pcreTest(t: TranslatedRegex, byteString: string): boolean | null {
  if (!t.regex) return null;
  return t.regex.test(byteString);
}
