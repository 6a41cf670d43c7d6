/**
 * The nginx lexer and parser: nginx's own word-splitting rules (ngx_conf_read_token), blocks, includes
 * with globs through injected readFile/glob, and the errors nginx reports, as NginxParseError
 * "file:line: message".
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NginxParseError, tokenize, unescapeWord } from "../../src/nginx/lexer.js";
import {
  type NginxDirective,
  type ParseOptions,
  parseNginx,
  quoteWord,
  walkDirectives,
} from "../../src/nginx/parse.js";

const words = (text: string): string[][] =>
  tokenize(text)
    .filter((s) => s.end !== "eof" || s.words.length > 0)
    .map((s) => [...s.words.map((w) => w.value), s.end]);

const parse = (text: string, opts: ParseOptions = {}): NginxDirective[] =>
  parseNginx(text, "/etc/nginx/nginx.conf", opts).directives;

function parseError(text: string, opts: ParseOptions = {}): NginxParseError {
  try {
    parseNginx(text, "/etc/nginx/nginx.conf", opts);
  } catch (err) {
    assert.ok(err instanceof NginxParseError, `expected NginxParseError, got ${err}`);
    return err;
  }
  assert.fail("expected a parse error");
}

describe("lexer: nginx word rules", () => {
  test("; { } end directives; whitespace separates words", () => {
    assert.deepEqual(words("a b;\nc {\n}\n"), [["a", "b", ";"], ["c", "{"], ["}"]]);
    assert.deepEqual(words("a\tb\r\n  c;"), [["a", "b", "c", ";"]]);
  });

  test("# starts a comment only where a word starts", () => {
    assert.deepEqual(words("a b#c; # comment ; {\nd;"), [
      ["a", "b#c", ";"],
      ["d", ";"],
    ]);
    assert.deepEqual(words("#only a comment"), []);
  });

  test("quotes group words; escapes inside quotes", () => {
    assert.deepEqual(words(`return 200 "a b;c{d}";`), [["return", "200", "a b;c{d}", ";"]]);
    assert.throws(() => words(`x 'it''s';`), /unexpected "'" after a closing quote/);
    assert.deepEqual(words(`x "a\\"b" 'c\\'d' "e\\\\f";`), [["x", 'a"b', "c'd", "e\\f", ";"]]);
    assert.deepEqual(words(`x "t\\tn\\nr\\r";`), [["x", "t\tn\nr\r", ";"]]);
  });

  test("other backslash escapes keep the backslash (regexes survive)", () => {
    assert.deepEqual(words(`location ~ "^/a\\.b$" {`), [["location", "~", "^/a\\.b$", "{"]]);
    assert.deepEqual(words(`location ~ ^/a\\.b$ {`), [["location", "~", "^/a\\.b$", "{"]]);
    assert.equal(unescapeWord("a\\.b\\d"), "a\\.b\\d");
  });

  test("a backslash escapes a terminator outside quotes", () => {
    assert.deepEqual(words("a b\\;c;"), [["a", "b\\;c", ";"]]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: nginx variables, not JavaScript templates
  test("$var and ${var}: the brace after $ belongs to the word", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: nginx variables
    assert.deepEqual(words("set $a ${b}c;"), [["set", "$a", "${b}c", ";"]]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: nginx variables
    assert.deepEqual(words("location ~ ^/a${x} {"), [["location", "~", "^/a${x}", "{"]]);
  });

  test("an unquoted { inside a word ends it: regexes with braces must be quoted", () => {
    // nginx: `location ~ ^/a{2}$ {` → unknown directive "2}$"
    assert.deepEqual(words("location ~ ^/a{2}$ { }").slice(0, 2), [
      ["location", "~", "^/a", "{"],
      ["2}$", "{"],
    ]);
  });

  test("} inside a word is part of the word", () => {
    assert.deepEqual(words("return 200 ok};"), [["return", "200", "ok}", ";"]]);
  });

  test("a closing quote must be followed by space, ; or {", () => {
    const e = parseError(`return 200 "a"b;`);
    assert.equal(e.line, 1);
    assert.match(e.message, /^\/etc\/nginx\/nginx\.conf:1: unexpected "b" after a closing quote/);
  });

  test("word positions and lines", () => {
    const [s] = tokenize('a\n  "b c" d;');
    assert.deepEqual(
      s?.words.map((w) => [w.value, w.line, w.start, w.end, w.quoted]),
      [
        ["a", 1, 0, 1, false],
        ["b c", 2, 4, 9, true],
        ["d", 2, 10, 11, false],
      ],
    );
  });
});

describe("parser: blocks and errors", () => {
  test("typed tree with lines, files and nested blocks", () => {
    const tree = parse("http {\n  server {\n    listen 80;\n    location / { return 200; }\n  }\n}\n");
    assert.equal(tree.length, 1);
    const http = tree[0] as NginxDirective;
    assert.equal(http.directive, "http");
    const server = http.block?.[0] as NginxDirective;
    assert.deepEqual(
      server.block?.map((d) => [d.directive, d.args, d.line, d.file]),
      [
        ["listen", ["80"], 3, "/etc/nginx/nginx.conf"],
        ["location", ["/"], 4, "/etc/nginx/nginx.conf"],
      ],
    );
    assert.deepEqual(server.block?.[1]?.block?.[0]?.args, ["200"]);
  });

  test("spans locate directives and block bodies in the source", () => {
    const text = "server { location /a { proxy_pass http://u; } }";
    const loc = parse(text)[0]?.block?.[0] as NginxDirective;
    assert.equal(text.slice(loc.span?.start, loc.span?.end), "location /a { proxy_pass http://u; }");
    assert.equal(text.slice(loc.span?.blockStart, loc.span?.blockEnd), " proxy_pass http://u; ");
    assert.deepEqual(loc.span?.args, [[18, 20]]);
  });

  test("unbalanced braces: a block that is never closed", () => {
    const e = parseError("http {\n  server {\n    listen 80;\n  }\n");
    assert.equal(e.line, 5);
    assert.match(e.message, /unexpected end of file, expecting "}" \(the "http" block opened at line 1/);
  });

  test('unexpected "}"', () => {
    const e = parseError("server {\n}\n}\n");
    assert.equal(e.line, 3);
    assert.match(e.message, /:3: unexpected "}"/);
  });

  test("a directive without ; before }", () => {
    const e = parseError("server {\n  listen 80\n}\n");
    assert.equal(e.line, 3);
    assert.match(e.message, /unexpected "}" \(the directive before it has no ";"\)/);
  });

  test("a directive without ; at the end of the file", () => {
    const e = parseError("worker_processes 1");
    assert.match(e.message, /:1: unexpected end of file, expecting ";" or "}"/);
  });

  test("a simple directive followed by { / a block directive followed by ;", () => {
    assert.match(
      parseError("server { return 200 ok\n location / { } }").message,
      /directive "return" is not terminated by ";"/,
    );
    assert.match(
      parseError("server { location /;\n }").message,
      /:1: directive "location" has no opening "{"/,
    );
    // `server` is a simple directive inside upstream
    assert.equal(parse("upstream u { server a:1; server b:2 backup; }")[0]?.block?.length, 2);
  });

  test("unterminated quote", () => {
    const e = parseError('server {\n  return 200 "oops;\n}\n');
    assert.match(e.message, /unterminated double quote \(opened at line 2\)/);
    assert.match(parseError("x 'a;").message, /unterminated single quote/);
  });

  test('unexpected ";" or "{" without a directive name', () => {
    assert.match(parseError("server { ; }").message, /unexpected ";"/);
    assert.match(parseError("{ }").message, /unexpected "{"/);
  });

  test("binary and huge files are refused clearly", () => {
    const bin = parseError("http {\n\u0000\u0001\u0002 }");
    assert.match(bin.message, /:2: binary file \(NUL byte\)/);
    const huge = parseError(`# ${"x".repeat(100)}\n`, { maxFileChars: 50 });
    assert.match(huge.message, /file too large \(103 characters; the limit is 50\)/);
    assert.match(parseError("\ufeffhttp { }").message, /byte order mark/);
  });
});

describe("parser: include", () => {
  const files: Record<string, string> = {
    "/etc/nginx/nginx.conf": "http {\n  include mime.types;\n  include conf.d/*.conf;\n}\n",
    "/etc/nginx/mime.types": "types { text/html html; }\n",
    "/etc/nginx/conf.d/b.conf": "server {\n  listen 81;\n}\n",
    "/etc/nginx/conf.d/a.conf": "upstream up {\n  server app:8000;\n}\n",
    "/etc/nginx/loop.conf": "include loop.conf;\n",
  };
  const opts: ParseOptions = {
    readFile: (p) => files[p] ?? null,
    glob: (pattern) => {
      const re = new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`);
      // unsorted on purpose: the parser sorts like glob(3)
      return Object.keys(files)
        .filter((f) => re.test(f))
        .reverse();
    },
  };

  test("relative to the configuration prefix, globs sorted, included directives inline", () => {
    const parsed = parseNginx(files["/etc/nginx/nginx.conf"] as string, "/etc/nginx/nginx.conf", opts);
    const http = parsed.directives[0] as NginxDirective;
    assert.deepEqual(
      http.block?.map((d) => [d.directive, d.file, d.line]),
      [
        ["include", "/etc/nginx/nginx.conf", 2],
        ["types", "/etc/nginx/mime.types", 1],
        ["include", "/etc/nginx/nginx.conf", 3],
        ["upstream", "/etc/nginx/conf.d/a.conf", 1],
        ["server", "/etc/nginx/conf.d/b.conf", 1],
      ],
    );
    assert.deepEqual(http.block?.[2]?.includes, ["/etc/nginx/conf.d/a.conf", "/etc/nginx/conf.d/b.conf"]);
    assert.deepEqual(
      parsed.sources.map((s) => [s.instance, s.path, s.includedFrom?.line ?? null]),
      [
        [0, "/etc/nginx/nginx.conf", null],
        [1, "/etc/nginx/mime.types", 2],
        [2, "/etc/nginx/conf.d/a.conf", 3],
        [3, "/etc/nginx/conf.d/b.conf", 3],
      ],
    );
    const upstreamServer = [...walkDirectives(parsed.directives)].find(
      (x) => x.node.directive === "server" && x.parents.at(-1)?.directive === "upstream",
    );
    assert.equal(upstreamServer?.node.line, 2);
  });

  test("a glob that matches nothing is fine; a missing file is an error at the include line", () => {
    assert.equal(parse("include /none/*.conf;", opts).length, 1);
    const e = parseError("\ninclude missing.conf;", opts);
    assert.equal(e.line, 2);
    assert.match(e.message, /open\(\) "\/etc\/nginx\/missing\.conf" failed/);
  });

  test("errors inside an included file name that file", () => {
    const e = parseError("include bad.conf;", {
      readFile: (p) => (p === "/etc/nginx/bad.conf" ? "a {\n" : null),
    });
    assert.equal(e.file, "/etc/nginx/bad.conf");
    assert.match(e.message, /^\/etc\/nginx\/bad\.conf:2: unexpected end of file/);
  });

  test("include cycles are reported, not followed forever", () => {
    assert.match(
      parseError("include loop.conf;", opts).message,
      /include cycle: .*loop\.conf -> \/etc\/nginx\/loop\.conf/,
    );
  });

  test("include takes exactly one argument", () => {
    assert.match(
      parseError("include a b;", opts).message,
      /invalid number of arguments in "include" directive/,
    );
  });
});

describe("quoteWord writes words back so nginx reads the same value", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an nginx variable
  for (const v of ["plain", "^/a\\.b$", 'say "hi"', "a b", "x;y", "${x}", "", "#x", "a\\\\b", "^/a{2}$"]) {
    test(JSON.stringify(v), () => {
      assert.deepEqual(words(`d ${quoteWord(v)};`), [["d", v, ";"]]);
    });
  }
});
