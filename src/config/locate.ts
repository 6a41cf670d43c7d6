/**
 * Where each key of a (syntactically valid) TOML document is written: its 1-based line. smol-toml gives
 * values only, so this small scanner walks the text with TOML's lexical rules (basic, literal and multi-line
 * strings, comments, arrays, inline tables, dotted and quoted keys) and records, for every key path, the
 * line its key starts on; array items get their own paths ([..., "routes", 2]).
 */

export type KeyPath = (string | number)[];

const pathId = (p: KeyPath): string => JSON.stringify(p);

export class KeyLines {
  private readonly lines = new Map<string, number>();

  set(path: KeyPath, line: number): void {
    const id = pathId(path);
    if (!this.lines.has(id)) this.lines.set(id, line);
  }

  /** The line of `path`, else of its nearest ancestor that has one; null when none has. */
  lineOf(path: KeyPath): number | null {
    for (let n = path.length; n >= 1; n--) {
      const l = this.lines.get(pathId(path.slice(0, n)));
      if (l !== undefined) return l;
    }
    return null;
  }

  has(path: KeyPath): boolean {
    return this.lines.has(pathId(path));
  }
}

class Scanner {
  i = 0;
  line = 1;
  constructor(readonly s: string) {}

  peek(n = 0): string {
    return this.s[this.i + n] ?? "";
  }
  startsWith(t: string): boolean {
    return this.s.startsWith(t, this.i);
  }
  advance(n = 1): void {
    for (let k = 0; k < n && this.i < this.s.length; k++) {
      if (this.s[this.i] === "\n") this.line++;
      this.i++;
    }
  }
  done(): boolean {
    return this.i >= this.s.length;
  }
  /** Spaces and tabs (and, when `newlines`, line breaks and comments). */
  skipSpace(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t") this.advance();
      else if (newlines && (c === "\n" || c === "\r")) this.advance();
      else if (newlines && c === "#") this.skipComment();
      else return;
    }
  }
  skipComment(): void {
    while (!this.done() && this.peek() !== "\n") this.advance();
  }
  skipToEol(): void {
    while (!this.done() && this.peek() !== "\n") {
      if (this.peek() === "#") {
        this.skipComment();
        return;
      }
      this.advance();
    }
  }
  /** A string at the cursor; returns its value (escapes kept raw, enough for keys). */
  string(): string {
    for (const q of ['"""', "'''"]) {
      if (this.startsWith(q)) {
        this.advance(3);
        const start = this.i;
        while (!this.done()) {
          if (q === '"""' && this.peek() === "\\") {
            this.advance(2);
            continue;
          }
          if (this.startsWith(q)) {
            // up to two extra quotes may close the string ("""a""""")
            let end = this.i + 3;
            while (this.s[end] === q[0] && end - this.i < 5) end++;
            const v = this.s.slice(start, end - 3);
            this.advance(end - this.i);
            return v;
          }
          this.advance();
        }
        return this.s.slice(start);
      }
    }
    const q = this.peek();
    this.advance();
    const start = this.i;
    while (!this.done() && this.peek() !== q && this.peek() !== "\n") {
      if (q === '"' && this.peek() === "\\") this.advance();
      this.advance();
    }
    const v = this.s.slice(start, this.i);
    this.advance();
    return v;
  }
  /** A dotted key: bare, "quoted" or 'literal' parts separated by dots. */
  key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpace(false);
      const c = this.peek();
      if (c === '"' || c === "'") parts.push(this.string());
      else {
        const start = this.i;
        while (/[A-Za-z0-9_-]/.test(this.peek())) this.advance();
        if (this.i === start) return parts;
        parts.push(this.s.slice(start, this.i));
      }
      this.skipSpace(false);
      if (this.peek() !== ".") return parts;
      this.advance();
    }
  }
  /** A value at the cursor; records the lines of nested keys and array items under `path`. */
  value(path: KeyPath, out: KeyLines): void {
    const c = this.peek();
    if (c === '"' || c === "'") {
      this.string();
      return;
    }
    if (c === "[") {
      this.advance();
      let index = 0;
      for (;;) {
        this.skipSpace(true);
        if (this.done()) return;
        if (this.peek() === "]") {
          this.advance();
          return;
        }
        if (this.peek() === ",") {
          this.advance();
          continue;
        }
        out.set([...path, index], this.line);
        const before = this.i;
        this.value([...path, index], out);
        index++;
        if (this.i === before) this.advance();
      }
    }
    if (c === "{") {
      this.advance();
      for (;;) {
        this.skipSpace(true); // TOML 1.1 (and smol-toml) allow line breaks in inline tables
        if (this.done()) return;
        if (this.peek() === "}") {
          this.advance();
          return;
        }
        if (this.peek() === ",") {
          this.advance();
          continue;
        }
        const line = this.line;
        const k = this.key();
        if (k.length === 0) {
          this.advance();
          continue;
        }
        for (let n = 1; n <= k.length; n++) out.set([...path, ...k.slice(0, n)], line);
        this.skipSpace(false);
        if (this.peek() === "=") this.advance();
        this.skipSpace(false);
        this.value([...path, ...k], out);
      }
    }
    // number, boolean, date: up to a delimiter
    while (!this.done() && !/[,\]}\n#]/.test(this.peek())) this.advance();
  }
}

/** A `[table]` or `[[array]]` header: its 1-based line and its key path. */
export interface TableHeader {
  line: number;
  path: string[];
  arrayOfTables: boolean;
}

/** Every key path of `text` with its line. `[[array]]` tables are indexed like arrays. */
export function keyLines(text: string): KeyLines {
  return scan(text).lines;
}

/** The table headers of `text`, in order (never confused by a line of a multi-line array or string). */
export function tableHeaders(text: string): TableHeader[] {
  return scan(text).headers;
}

function scan(text: string): { lines: KeyLines; headers: TableHeader[] } {
  const out = new KeyLines();
  const headers: TableHeader[] = [];
  const sc = new Scanner(text);
  let table: KeyPath = [];
  const aotCount = new Map<string, number>();
  while (!sc.done()) {
    sc.skipSpace(true);
    if (sc.done()) break;
    const line = sc.line;
    if (sc.peek() === "[") {
      const aot = sc.peek(1) === "[";
      sc.advance(aot ? 2 : 1);
      const k = sc.key();
      sc.skipToEol();
      headers.push({ line, path: k, arrayOfTables: aot });
      if (aot) {
        const id = JSON.stringify(k);
        const n = aotCount.get(id) ?? 0;
        aotCount.set(id, n + 1);
        table = [...k, n];
      } else table = k;
      for (let n = 1; n <= table.length; n++) out.set(table.slice(0, n), line);
      continue;
    }
    const k = sc.key();
    if (k.length === 0) {
      sc.skipToEol();
      continue;
    }
    for (let n = 1; n <= k.length; n++) out.set([...table, ...k.slice(0, n)], line);
    sc.skipSpace(false);
    if (sc.peek() === "=") sc.advance();
    sc.skipSpace(false);
    sc.value([...table, ...k], out);
    sc.skipToEol();
  }
  return { lines: out, headers };
}
