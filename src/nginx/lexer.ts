/**
 * nginx's configuration tokenizer, ported from `ngx_conf_read_token` (src/core/ngx_conf_file.c) so that
 * a file splits into the same words, with the same errors, as nginx itself splits it:
 * - words are separated by space, tab, CR and LF; `;` ends a directive, `{` opens a block, `}` closes one;
 * - `#` starts a comment only where a word could start (`a#b` is one word) and runs to the end of line;
 * - "double" and 'single' quotes group a word; a backslash escapes the next character anywhere, and in
 *   the word's value `\"`, `\'`, `\\` become the character, `\t` `\r` `\n` the control character, and any
 *   other `\x` stays as the two characters (so `~ "^/a\.b"` keeps its regex escape);
 * - `$var` and `${var}`: a `{` right after `$` belongs to the word, it does not open a block;
 * - a closing quote must be followed by a space, `;`, `{` (or `)` as in `if (...)`).
 * Pure: no IO. Positions are UTF-16 offsets into the text; lines are 1-based.
 */

export interface Word {
  /** The value nginx sees: quotes removed, escapes applied. */
  value: string;
  /** Offset of the first character of the word in the text (the opening quote for a quoted word). */
  start: number;
  /** Offset just after the word (after the closing quote). */
  end: number;
  line: number;
  quoted: boolean;
}

export type StatementEnd = ";" | "{" | "}" | "eof";

/** One call of ngx_conf_read_token: the words of a directive and what ended it. */
export interface Statement {
  words: Word[];
  end: StatementEnd;
  /** Offset of the terminating character (text length at end of file). */
  endOffset: number;
  /** Line of the terminating character. */
  endLine: number;
}

export class NginxParseError extends Error {
  readonly file: string;
  readonly line: number;
  readonly detail: string;
  constructor(file: string, line: number, detail: string) {
    super(line > 0 ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
    this.name = "NginxParseError";
    this.file = file;
    this.line = line;
    this.detail = detail;
  }
}

const isSpace = (ch: string): boolean => ch === " " || ch === "\t" || ch === "\r" || ch === "\n";

/** The escape processing nginx applies to every word (quoted or not). */
export function unescapeWord(raw: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "\\" && i + 1 < raw.length) {
      const n = raw[i + 1];
      if (n === '"' || n === "'" || n === "\\") {
        out += n;
        i++;
        continue;
      }
      if (n === "t" || n === "r" || n === "n") {
        out += n === "t" ? "\t" : n === "r" ? "\r" : "\n";
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

export class Lexer {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  private fail(detail: string, line = this.line): never {
    throw new NginxParseError(this.file, line, detail);
  }

  /** Reads the next directive (its words and its terminator), exactly like ngx_conf_read_token. */
  next(): Statement {
    const text = this.text;
    const words: Word[] = [];
    let lastSpace = true;
    let needSpace = false;
    let sharpComment = false;
    let variable = false;
    let quoted = false;
    let sQuoted = false;
    let dQuoted = false;
    let start = this.pos;
    let startLine = this.line;
    let wordStart = this.pos;

    for (;;) {
      if (this.pos >= text.length) {
        if (words.length > 0 || !lastSpace) {
          if (sQuoted || dQuoted) {
            this.fail(
              `unterminated ${dQuoted ? "double" : "single"} quote (opened at line ${startLine}): unexpected end of file`,
            );
          }
          this.fail('unexpected end of file, expecting ";" or "}" (a directive without ";"?)');
        }
        return { words, end: "eof", endOffset: text.length, endLine: this.line };
      }
      const ch = text[this.pos] as string;
      this.pos++;
      if (ch === "\n") {
        this.line++;
        if (sharpComment) sharpComment = false;
      }
      if (sharpComment) continue;
      if (quoted) {
        quoted = false;
        continue;
      }
      if (needSpace) {
        if (isSpace(ch)) {
          lastSpace = true;
          needSpace = false;
          continue;
        }
        if (ch === ";") return { words, end: ";", endOffset: this.pos - 1, endLine: this.line };
        if (ch === "{") return { words, end: "{", endOffset: this.pos - 1, endLine: this.line };
        if (ch === ")") {
          lastSpace = true;
          needSpace = false;
        } else {
          this.fail(`unexpected "${ch}" after a closing quote (a quoted word must be followed by a space)`);
        }
      }

      if (lastSpace) {
        start = this.pos - 1;
        wordStart = start;
        startLine = this.line;
        if (isSpace(ch)) continue;
        switch (ch) {
          case ";":
          case "{":
            if (words.length === 0) this.fail(`unexpected "${ch}"`);
            return { words, end: ch, endOffset: this.pos - 1, endLine: this.line };
          case "}":
            if (words.length !== 0) {
              this.fail('unexpected "}" (the directive before it has no ";")');
            }
            return { words, end: "}", endOffset: this.pos - 1, endLine: this.line };
          case "#":
            sharpComment = true;
            continue;
          case "\\":
            quoted = true;
            lastSpace = false;
            continue;
          case '"':
            start++;
            dQuoted = true;
            lastSpace = false;
            continue;
          case "'":
            start++;
            sQuoted = true;
            lastSpace = false;
            continue;
          case "$":
            variable = true;
            lastSpace = false;
            continue;
          default:
            lastSpace = false;
        }
      } else {
        if (ch === "{" && variable) continue;
        variable = false;
        if (ch === "\\") {
          quoted = true;
          continue;
        }
        if (ch === "$") {
          variable = true;
          continue;
        }
        let found = false;
        let isQuoted = false;
        if (dQuoted) {
          if (ch === '"') {
            dQuoted = false;
            needSpace = true;
            found = true;
            isQuoted = true;
          }
        } else if (sQuoted) {
          if (ch === "'") {
            sQuoted = false;
            needSpace = true;
            found = true;
            isQuoted = true;
          }
        } else if (isSpace(ch) || ch === ";" || ch === "{") {
          lastSpace = true;
          found = true;
        }
        if (found) {
          const raw = text.slice(start, this.pos - 1);
          words.push({
            value: unescapeWord(raw),
            start: wordStart,
            end: isQuoted ? this.pos : this.pos - 1,
            line: startLine,
            quoted: isQuoted,
          });
          if (ch === ";") return { words, end: ";", endOffset: this.pos - 1, endLine: this.line };
          if (ch === "{") return { words, end: "{", endOffset: this.pos - 1, endLine: this.line };
        }
      }
    }
  }
}

/** Every statement of a text, for tests and tools that want the flat token stream. */
export function tokenize(text: string, file = "<text>"): Statement[] {
  const lx = new Lexer(text, file);
  const out: Statement[] = [];
  for (;;) {
    const s = lx.next();
    out.push(s);
    if (s.end === "eof") return out;
  }
}
