/**
 * nginx configuration parser: the lexer's statements assembled into a typed tree, the way ngx_conf_parse
 * does it (blocks, `include` with globs resolved against the configuration prefix — the directory of the
 * main file — and the errors nginx reports). Pure: files come through the injected `readFile` and `glob`.
 *
 * An `include` stays in the tree (with the files it resolved to in `includes`) and the included
 * directives follow it inline in the same block, which is how nginx applies them.
 */
import { posix } from "node:path";
import { Lexer, NginxParseError, type Statement, type Word } from "./lexer.js";

export { NginxParseError } from "./lexer.js";

/** Where a directive sits in its source text: used by tools that rewrite a copy (src/nginx/real.ts). */
export interface SourceSpan {
  /** Which `SourceFile` (one per inclusion: a file included twice has two instances). */
  instance: number;
  /** Offset of the directive name. */
  start: number;
  /** Offset just after the `;` or the block's closing `}`. */
  end: number;
  args: Array<[number, number]>;
  /** For a block: offset just after `{`, and offset of the closing `}`. */
  blockStart?: number;
  blockEnd?: number;
}

export interface NginxDirective {
  directive: string;
  args: string[];
  line: number;
  file: string;
  block?: NginxDirective[];
  /** `include` only: the files it pulled in, in the order nginx reads them. */
  includes?: string[];
  span?: SourceSpan;
}

export interface SourceFile {
  instance: number;
  path: string;
  text: string;
  /** The `include` that read it: its file, line, source instance and offset. */
  includedFrom: { file: string; line: number; instance: number; at: number } | null;
}

export interface ParsedConfig {
  /** The main file. */
  file: string;
  /** The directory relative `include` paths resolve against. */
  prefix: string;
  directives: NginxDirective[];
  /** Every file read, one entry per inclusion; instance 0 is the main file. */
  sources: SourceFile[];
}

export interface ParseOptions {
  /** Returns the file's text, or null when it does not exist / cannot be read. */
  readFile?: (path: string) => string | null;
  /** Expands an absolute glob pattern to the matching paths. */
  glob?: (pattern: string) => string[];
  /** Directory relative includes resolve against (nginx's conf prefix); default: the main file's directory. */
  prefix?: string;
  /** Largest accepted file, in characters (default 4 MiB). */
  maxFileChars?: number;
  /** Largest accepted total over all included files (default 32 MiB). */
  maxTotalChars?: number;
  /** Deepest include nesting (default 16). */
  maxIncludeDepth?: number;
}

export const DEFAULT_MAX_FILE_CHARS = 4 * 1024 * 1024;
const DEFAULT_MAX_TOTAL_CHARS = 32 * 1024 * 1024;
const DEFAULT_MAX_INCLUDE_DEPTH = 16;

/** Directives that take a block in stock nginx and its common modules. */
export const BLOCK_DIRECTIVES = new Set([
  "events",
  "http",
  "server",
  "location",
  "upstream",
  "if",
  "limit_except",
  "map",
  "geo",
  "split_clients",
  "types",
  "charset_map",
  "mail",
  "stream",
  "match",
  "perl_set_block",
]);

/** Common directives that never take a block: `{` after them means a missing `;`. */
const SIMPLE_DIRECTIVES = new Set([
  "include",
  "listen",
  "server_name",
  "root",
  "alias",
  "index",
  "return",
  "rewrite",
  "proxy_pass",
  "fastcgi_pass",
  "uwsgi_pass",
  "scgi_pass",
  "grpc_pass",
  "memcached_pass",
  "proxy_set_header",
  "proxy_redirect",
  "add_header",
  "try_files",
  "error_page",
  "internal",
  "access_log",
  "error_log",
  "set",
  "default_type",
  "absolute_redirect",
  "merge_slashes",
  "worker_processes",
  "worker_connections",
  "pid",
  "user",
  "keepalive",
]);

const GLOB_CHARS = /[*?[]/;

function checkText(text: string, file: string, maxChars: number): void {
  if (text.length > maxChars) {
    throw new NginxParseError(
      file,
      0,
      `file too large (${text.length} characters; the limit is ${maxChars}): not an nginx configuration?`,
    );
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    const line = text.slice(0, nul).split("\n").length;
    throw new NginxParseError(file, line, "binary file (NUL byte): not an nginx configuration");
  }
  let bad = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  if (bad > 8 && bad * 100 > text.length) {
    throw new NginxParseError(file, 0, "binary file (not valid UTF-8 text): not an nginx configuration");
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new NginxParseError(
      file,
      1,
      "the file starts with a UTF-8 byte order mark, which nginx reads as part of the first directive name (unknown directive); remove it",
    );
  }
}

interface Ctx {
  opts: ParseOptions;
  prefix: string;
  sources: SourceFile[];
  total: number;
  /** Paths of the files being parsed, outermost first (cycle detection). */
  stack: string[];
}

function resolveIncludes(ctx: Ctx, d: NginxDirective, file: string, line: number): string[] {
  if (d.args.length !== 1) {
    throw new NginxParseError(file, line, 'invalid number of arguments in "include" directive');
  }
  const arg = d.args[0] as string;
  const full = posix.isAbsolute(arg) ? arg : posix.join(ctx.prefix, arg);
  if (GLOB_CHARS.test(full)) {
    if (!ctx.opts.glob) {
      throw new NginxParseError(file, line, `cannot expand include "${arg}": no glob function given`);
    }
    // glob(3) returns sorted names; a pattern that matches nothing is not an error for nginx.
    return [...ctx.opts.glob(full)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return [full];
}

function parseFile(
  ctx: Ctx,
  path: string,
  text: string,
  includedFrom: SourceFile["includedFrom"],
): NginxDirective[] {
  const maxFile = ctx.opts.maxFileChars ?? DEFAULT_MAX_FILE_CHARS;
  checkText(text, path, maxFile);
  ctx.total += text.length;
  const maxTotal = ctx.opts.maxTotalChars ?? DEFAULT_MAX_TOTAL_CHARS;
  if (ctx.total > maxTotal) {
    throw new NginxParseError(
      path,
      0,
      `configuration too large (more than ${maxTotal} characters with its includes)`,
    );
  }
  const instance = ctx.sources.length;
  ctx.sources.push({ instance, path, text, includedFrom });
  ctx.stack.push(path);
  const lexer = new Lexer(text, path);
  const { directives } = parseBlock(ctx, lexer, path, instance, null);
  ctx.stack.pop();
  return directives;
}

function wordSpans(words: Word[]): Array<[number, number]> {
  return words.slice(1).map((w) => [w.start, w.end] as [number, number]);
}

/** Parses statements until the end of the file (open === null) or the `}` closing a block. */
function parseBlock(
  ctx: Ctx,
  lexer: Lexer,
  file: string,
  instance: number,
  open: { name: string; line: number } | null,
): { directives: NginxDirective[]; closeOffset: number } {
  const out: NginxDirective[] = [];
  for (;;) {
    const st: Statement = lexer.next();
    if (st.end === "eof") {
      if (open) {
        throw new NginxParseError(
          file,
          st.endLine,
          `unexpected end of file, expecting "}" (the "${open.name}" block opened at line ${open.line} is not closed)`,
        );
      }
      return { directives: out, closeOffset: st.endOffset };
    }
    if (st.end === "}") {
      if (!open) throw new NginxParseError(file, st.endLine, 'unexpected "}" (no block is open here)');
      return { directives: out, closeOffset: st.endOffset };
    }
    const [nameWord, ...argWords] = st.words as [Word, ...Word[]];
    const name = nameWord.value;
    const d: NginxDirective = {
      directive: name,
      args: argWords.map((w) => w.value),
      line: nameWord.line,
      file,
      span: { instance, start: nameWord.start, end: st.endOffset + 1, args: wordSpans(st.words) },
    };
    if (st.end === "{") {
      if (SIMPLE_DIRECTIVES.has(name)) {
        throw new NginxParseError(file, st.endLine, `directive "${name}" is not terminated by ";"`);
      }
      const { directives: block, closeOffset: close } = parseBlock(ctx, lexer, file, instance, {
        name,
        line: nameWord.line,
      });
      d.block = block;
      if (d.span) {
        d.span.blockStart = st.endOffset + 1;
        d.span.blockEnd = close;
        d.span.end = close + 1;
      }
      out.push(d);
      continue;
    }
    // ";"
    // ("server" is also the simple directive of upstream blocks)
    if (BLOCK_DIRECTIVES.has(name) && !(name === "server" && open?.name === "upstream")) {
      throw new NginxParseError(file, st.endLine, `directive "${name}" has no opening "{"`);
    }
    out.push(d);
    if (name === "include") {
      const paths = resolveIncludes(ctx, d, file, nameWord.line);
      d.includes = paths;
      for (const p of paths) {
        if (ctx.stack.includes(p)) {
          throw new NginxParseError(file, nameWord.line, `include cycle: ${[...ctx.stack, p].join(" -> ")}`);
        }
        if (ctx.stack.length >= (ctx.opts.maxIncludeDepth ?? DEFAULT_MAX_INCLUDE_DEPTH)) {
          throw new NginxParseError(file, nameWord.line, `includes nested too deeply at "${p}"`);
        }
        const text = ctx.opts.readFile ? ctx.opts.readFile(p) : null;
        if (text === null) {
          throw new NginxParseError(file, nameWord.line, `open() "${p}" failed (No such file or directory)`);
        }
        out.push(...parseFile(ctx, p, text, { file, line: nameWord.line, instance, at: nameWord.start }));
      }
    }
  }
}

/** Parses configuration text whose (real or nominal) path is `file`. */
export function parseNginx(text: string, file: string, opts: ParseOptions = {}): ParsedConfig {
  const prefix = opts.prefix ?? posix.dirname(file);
  const ctx: Ctx = { opts, prefix, sources: [], total: 0, stack: [] };
  const directives = parseFile(ctx, file, text, null);
  return { file, prefix, directives, sources: ctx.sources };
}

/** Reads `path` through `opts.readFile` and parses it. */
export function parseNginxFile(path: string, opts: ParseOptions): ParsedConfig {
  const text = opts.readFile ? opts.readFile(path) : null;
  if (text === null) throw new NginxParseError(path, 0, "no such file (or it cannot be read)");
  return parseNginx(text, path, opts);
}

/** Depth-first walk over a tree (includes already inline). */
export function* walkDirectives(
  directives: readonly NginxDirective[],
  parents: NginxDirective[] = [],
): Generator<{ node: NginxDirective; parents: NginxDirective[] }> {
  for (const node of directives) {
    yield { node, parents };
    if (node.block) yield* walkDirectives(node.block, [...parents, node]);
  }
}

/** Formats a word the way it must be written back for nginx to read the same value. */
export function quoteWord(value: string): string {
  if (value !== "" && /^[A-Za-z0-9_/.:\-+=@~^*,!%&|<>?[\]()]+$/.test(value) && !value.startsWith("#")) {
    // Nothing here that the lexer treats specially ($, quotes, braces, ;, #, backslash, spaces).
    return value;
  }
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
