/**
 * explainUri on hand-written configurations: every rule of reference §1.1 (URI normalization, longest
 * prefix, exact match ends the search, the 301 auto-redirect before regexes, nested locations, `^~` at its
 * own level only, regexes in file order and case, @named, internal), the configuration errors nginx
 * refuses, server selection, and the PCRE translation. The same behaviours are checked against the real
 * nginx in test/real/nginx-routes.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { extractHttp, type NginxServer, selectServer } from "../../src/nginx/locations.js";
import {
  type Explanation,
  explainUri,
  ngxFilenameCmp,
  normalizeUri,
  printableBytes,
} from "../../src/nginx/match.js";
import { parseNginx } from "../../src/nginx/parse.js";
import { bytesToByteString, pcreTest, translatePcre } from "../../src/nginx/pcre.js";

function server(body: string, pre = "upstream up { server app:8000; }"): NginxServer {
  const http = extractHttp(
    parseNginx(`${pre}\nserver {\n listen 80;\n${body}\n}\n`, "/etc/nginx/nginx.conf"),
  );
  assert.deepEqual(
    http.findings.map((f) => f.message),
    [],
  );
  return http.servers[0] as NginxServer;
}

/** "= /x", "~ re", "/x" (prefix), "301 /x/", "404 /x" (internal), "400", "none" */
function outcome(e: Explanation): string {
  if (e.status === 400) return "400";
  if (e.redirect) return `301 ${e.redirect.location}`;
  if (!e.match) return "none";
  const m = `${e.match.modifier ? `${e.match.modifier} ` : ""}${e.match.pattern}`;
  return e.status === 404 ? `404 ${m}` : m;
}

const pick = (s: NginxServer, uri: string): string => outcome(explainUri(s, uri));

describe("URI normalization (ngx_http_parse_complex_uri)", () => {
  const norm = (u: string, merge = true): string => {
    const r = normalizeUri(u, merge);
    return r.ok ? `${printableBytes(r.path)}${r.args ? ` ?${r.args}` : ""}` : `400: ${r.reason}`;
  };
  test("query removed, %XX decoded (including %2F), dot segments resolved, slashes merged", () => {
    assert.equal(norm("/%61pi/a.json"), "/api/a.json");
    assert.equal(norm("//api//x.json"), "/api/x.json");
    assert.equal(norm("/api/../b.json"), "/b.json");
    assert.equal(norm("/a/./b/."), "/a/b/");
    assert.equal(norm("/a%2Fb"), "/a/b");
    assert.equal(norm("/a/%2F/b"), "/a/b");
    assert.equal(norm("/a/%2e%2e/b"), "/b");
    assert.equal(norm("/a?x=1&y=%zz"), "/a ?x=1&y=%zz");
    assert.equal(norm("/a#frag?x"), "/a");
    assert.equal(norm("/a?x#frag"), "/a ?x");
  });
  test("merge_slashes off keeps doubled slashes", () => {
    assert.equal(norm("//api//x", false), "//api//x");
  });
  test("decoded %3F, %23 and %25 are plain characters, not query/fragment/escape", () => {
    assert.equal(norm("/b%3Fx"), "/b?x");
    assert.equal(norm("/b%23x"), "/b#x");
    // %25 decodes to a literal "%" (shown as %25) and is not decoded again: "/b%41", not "/bA"
    assert.equal(norm("/b%2541"), "/b%2541");
  });
  test("400 like nginx: above the root, %00, bad or cut escapes, spaces and controls", () => {
    assert.match(norm("/.."), /^400: ".." climbs above the root/);
    assert.match(norm("/a/../../b"), /^400/);
    assert.match(norm("/a%00"), /^400: %00/);
    assert.match(norm("/a%zz"), /^400: an invalid %-escape/);
    assert.match(norm("/a%4"), /^400: an incomplete %-escape/);
    assert.match(norm("/a b"), /^400: a space/);
    assert.match(norm("/a\u0001"), /^400: a control character/);
  });
  test("bytes >= 0x80 are matched as bytes", () => {
    assert.equal(norm("/é"), "/%C3%A9");
    assert.equal(norm("/%c3%a9"), "/%C3%A9");
  });
});

describe("location selection (ngx_http_core_find_location)", () => {
  test("the longest prefix wins, whatever the order in the file", () => {
    const s = server("location /a/b/ { } location / { } location /a/ { }");
    assert.equal(pick(s, "/a/b/c"), "/a/b/");
    assert.equal(pick(s, "/a/x"), "/a/");
    assert.equal(pick(s, "/x"), "/");
  });

  test("an exact match ends the search: no nested locations, no regexes", () => {
    const s = server("location = /x { } location /x { } location ~ ^/x$ { }");
    const e = explainUri(s, "/x");
    assert.equal(outcome(e), "= /x");
    assert.match(e.steps.join("\n"), /exact match location = \/x .* the search ends here/);
  });

  test("a prefix equal to the URI does not stop the regexes (only = does)", () => {
    const s = server("location /a/ { } location ~ ^/a/$ { }");
    assert.equal(pick(s, "/a/"), "~ ^/a/$");
  });

  test("regexes are tried in file order; the first match wins", () => {
    const s = server("location / { } location ~ \\.js$ { } location ~ ^/static/ { }");
    assert.equal(pick(s, "/static/app.js"), "~ \\.js$");
    assert.equal(pick(s, "/static/app.css"), "~ ^/static/");
  });

  test("~ is case-sensitive, ~* is caseless", () => {
    const s = server("location ~ \\.JS$ { } location ~* \\.png$ { }");
    assert.equal(pick(s, "/a.js"), "none");
    assert.equal(pick(s, "/a.JS"), "~ \\.JS$");
    assert.equal(pick(s, "/a.PNG"), "~* \\.png$");
  });

  test("prefix comparison is case-sensitive (Linux build)", () => {
    const s = server("location /Api/ { }");
    assert.equal(pick(s, "/api/x"), "none");
  });

  test("^~ stops the regexes of its own level", () => {
    const s = server("location ^~ /scheduler/ { proxy_pass http://up; } location ~* \\.js$ { }");
    assert.equal(pick(s, "/scheduler/jobs/x.js"), "^~ /scheduler/");
    const e = explainUri(s, "/scheduler/jobs/x.js");
    assert.match(e.steps.join("\n"), /has "\^~", so this level's 1 regex location\(s\) are not checked/);
  });

  test("^~ only guards its own level: a nested ^~ lets server-level regexes win", () => {
    const s = server("location /a/ { location ^~ /a/b/ { } } location ~ \\.json$ { }");
    assert.equal(pick(s, "/a/b/x.json"), "~ \\.json$");
    assert.equal(pick(s, "/a/b/x.txt"), "^~ /a/b/");
  });

  test("the ^~ decision uses the longest prefix of the level, not a shorter ^~", () => {
    const s = server("location ^~ /a/ { } location /a/b/ { } location ~ x$ { }");
    assert.equal(pick(s, "/a/b/x"), "~ x$");
    assert.equal(pick(s, "/a/c/x"), "^~ /a/");
  });

  test("nested locations: a nested prefix, a nested exact, a nested regex beats a server-level regex", () => {
    const s = server(
      "location /api/ { location /api/v2/ { } location = /api/ping { } location ~ \\.json$ { } } location ~ \\.json$ { } location ~ ping { }",
    );
    assert.equal(pick(s, "/api/v2/x"), "/api/v2/");
    assert.equal(pick(s, "/api/ping"), "= /api/ping");
    const e = explainUri(s, "/api/x.json");
    assert.equal(outcome(e), "~ \\.json$");
    assert.equal(e.match?.line, 4);
    assert.equal(explainUri(s, "/x.json").match?.line, 4);
    assert.equal(pick(s, "/apiping"), "~ ping");
  });

  test("a regex location's own nested locations are searched after it matches", () => {
    const s = server("location ~ ^/r/ { location ~ \\.js$ { } }");
    assert.equal(pick(s, "/r/a.js"), "~ \\.js$");
    assert.equal(explainUri(s, "/r/a.js").match?.line, 4);
    assert.equal(pick(s, "/r/a.css"), "~ ^/r/");
  });

  test("location /scheduler (no slash) also matches /schedulerX", () => {
    const s = server("location /scheduler { proxy_pass http://up; }");
    assert.equal(pick(s, "/schedulerX"), "/scheduler");
  });

  test("@named locations are never matched by a URI", () => {
    const s = server("location @named { } location ~ named { }");
    assert.equal(pick(s, "/@named"), "~ named");
    assert.equal(pick(server("location @x { }"), "/@x"), "none");
  });

  test("internal: 404 for an external request, inherited by nested locations", () => {
    const s = server("location /i/ { internal; location ~ \\.js$ { } }");
    assert.equal(pick(s, "/i/x"), "404 /i/");
    assert.equal(pick(s, "/i/x.js"), "404 ~ \\.js$");
  });

  test("no location at all: the server's own configuration", () => {
    const e = explainUri(server("location /a/ { }"), "/b");
    assert.equal(outcome(e), "none");
    assert.match(e.steps.at(-1) ?? "", /no location matches/);
  });

  test("400 answers skip location selection", () => {
    const e = explainUri(server("location / { }"), "/../etc/passwd");
    assert.equal(outcome(e), "400");
    assert.equal(e.normalized, null);
  });
});

describe("the 301 auto-redirect (clcf->auto_redirect)", () => {
  test("location /scheduler/ with proxy_pass: /scheduler answers 301 before any regex", () => {
    const s = server("location /scheduler/ { proxy_pass http://up; } location ~ ^/sched { }");
    const e = explainUri(s, "/scheduler");
    assert.equal(outcome(e), "301 /scheduler/");
    assert.deepEqual(e.redirect, { status: 301, location: "/scheduler/" });
    assert.equal(e.match?.pattern, "/scheduler/");
    assert.match(e.steps.join("\n"), /before any regex is tried/);
    assert.match(e.steps.at(-1) ?? "", /absolute_redirect is on/);
  });

  test("the fix: location = /scheduler", () => {
    const s = server(
      "location = /scheduler { proxy_pass http://up; } location /scheduler/ { proxy_pass http://up; }",
    );
    assert.equal(pick(s, "/scheduler"), "= /scheduler");
  });

  test("every *_pass directive sets it; no handler, no redirect", () => {
    for (const d of [
      "proxy_pass http://up",
      "fastcgi_pass 127.0.0.1:9000",
      "uwsgi_pass 127.0.0.1:9000",
      "scgi_pass 127.0.0.1:9000",
      "memcached_pass 127.0.0.1:11211",
      "grpc_pass grpc://127.0.0.1:9000",
    ]) {
      assert.equal(pick(server(`location /x/ { ${d}; }`), "/x"), "301 /x/", d);
    }
    assert.equal(pick(server("location /x/ { return 200; }"), "/x"), "none");
    // inside `if`, the handler belongs to the if-block, not to the location
    assert.equal(pick(server("location /x/ { if ($arg_a) { proxy_pass http://up; } }"), "/x"), "none");
  });

  test("an exact location named URI/ redirects too; the query string is kept", () => {
    const s = server("location = /e/ { proxy_pass http://up; }");
    assert.equal(pick(s, "/e?a=1&b"), "301 /e/?a=1&b");
    assert.equal(pick(s, "/e?"), "301 /e/");
  });

  test("a location named exactly like the URI prevents it", () => {
    const s = server("location /x { } location /x/ { proxy_pass http://up; }");
    assert.equal(pick(s, "/x"), "/x");
  });

  test("in nested locations too", () => {
    const s = server("location /a/ { location /a/b/ { proxy_pass http://up; } }");
    assert.equal(pick(s, "/a/b"), "301 /a/b/");
  });

  test('"/" sorts lowest in nginx\'s tree: /b/ is found next to /b.css/ and /b-x/', () => {
    assert.ok(ngxFilenameCmp("/b/", "/b.css/", 4) < 0);
    assert.ok(ngxFilenameCmp("/b", "/b/", 3) < 0);
    const s = server(
      "location ^~ /b.css/ { } location /b-x/ { } location /b/ { proxy_pass http://up; } location /A/ { }",
    );
    assert.equal(pick(s, "/b"), "301 /b/");
  });

  test("the Location is the escaped location name", () => {
    const s = server('location "/a b/" { proxy_pass http://up; }');
    assert.equal(pick(s, "/a%20b"), "301 /a%20b/");
  });

  test("absolute_redirect off: noted as path-only", () => {
    const s = server("absolute_redirect off; location /x/ { proxy_pass http://up; }");
    assert.match(explainUri(s, "/x").steps.at(-1) ?? "", /absolute_redirect off: the path only/);
  });

  test("internal wins over the redirect", () => {
    assert.equal(pick(server("location /x/ { internal; proxy_pass http://up; }"), "/x"), "404 /x/");
  });
});

describe("configuration errors nginx refuses", () => {
  const errors = (body: string): string[] =>
    extractHttp(parseNginx(`server {\n${body}\n}`, "/n.conf")).findings.map((f) => `${f.line}: ${f.message}`);
  test("duplicate location (/x and ^~ /x collide; = /x and /x do not)", () => {
    assert.deepEqual(errors("location /x { }\nlocation ^~ /x { }"), ['3: duplicate location "/x"']);
    assert.deepEqual(errors("location = /x { }\nlocation /x { }"), []);
    assert.deepEqual(errors("location = /x { }\nlocation =/x { }"), ['3: duplicate location "/x"']);
  });
  test("nesting rules", () => {
    assert.deepEqual(errors("location /x { location /y { } }"), [
      '2: location "/y" is outside location "/x"',
    ]);
    assert.deepEqual(errors("location = /x { location /x/y { } }"), [
      '2: location "/x/y" cannot be inside the exact location "/x"',
    ]);
    assert.deepEqual(errors("location /x { location @y { } }"), [
      '2: named location "@y" can be on the server level only',
    ]);
    assert.deepEqual(errors("location ~ ^/a { location /b { } }"), [
      '2: location "/b" is outside location "^/a"',
    ]);
    assert.deepEqual(errors("location ~ ^/a { location ^/a/b { } location ~ c { } }"), []);
  });
  test("modifiers and arguments", () => {
    assert.deepEqual(errors("location ~~ /x { }"), ['2: invalid location modifier "~~"']);
    assert.deepEqual(errors("location = /x y { }"), [
      '2: invalid number of arguments in "location" directive',
    ]);
  });
  test("proxy_pass with a URI part in a regex location", () => {
    assert.match(errors("location ~ ^/a { proxy_pass http://u/x; }")[0] ?? "", /cannot have URI part/);
    assert.deepEqual(errors("location ~ ^/a { proxy_pass http://u; }"), []);
  });
});

describe("location arguments", () => {
  test("attached modifiers: =/x, ^~/x, ~*re, ~re", () => {
    const s = server("location =/e { } location ^~/n/ { } location ~*\\.JS$ { } location ~^/r { }");
    assert.deepEqual(
      s.locations.map((l) => [l.modifier, l.pattern]),
      [
        ["=", "/e"],
        ["^~", "/n/"],
        ["~*", "\\.JS$"],
        ["~", "^/r"],
      ],
    );
    assert.equal(pick(s, "/n/a.js"), "^~ /n/");
  });
  test("proxy_pass, internal and return are extracted", () => {
    const s = server(
      "location /a/ { proxy_pass http://up/x/; } location /b { return 301 https://x/; internal; }",
    );
    const [a, b] = s.locations;
    assert.equal(a?.hasProxyPass, true);
    assert.equal(a?.proxyPassTarget, "http://up/x/");
    assert.equal(a?.autoRedirect, true);
    assert.equal(b?.isInternal, true);
    assert.deepEqual(b?.returns && [b.returns.code, b.returns.arg], [301, "https://x/"]);
  });
});

describe("server selection", () => {
  const http = extractHttp(
    parseNginx(
      `server { listen 80; server_name a.test; }
       server { listen 80 default_server; server_name b.test *.b.test; }
       server { listen 80; server_name www.c.*; }
       server { listen 8080; server_name ~^api\\d+\\.test$; }`,
      "/n.conf",
    ),
  );
  const name = (h?: string) => selectServer(http, h)?.server.names[0];
  test("default: default_server of the first server's port", () => {
    assert.equal(name(), "b.test");
  });
  test("exact, leading wildcard, trailing wildcard, regex, then the default", () => {
    assert.equal(name("a.test"), "a.test");
    assert.equal(name("A.TEST"), "a.test");
    assert.equal(name("x.b.test"), "b.test");
    assert.equal(name("www.c.org"), "www.c.*");
    assert.equal(name("api7.test"), "~^api\\d+\\.test$");
    assert.equal(name("nope.test"), "b.test");
    assert.match(selectServer(http, "nope.test")?.reason ?? "", /no server_name matches nope\.test/);
  });
  test("a snippet of bare locations reads as one server", () => {
    const h = extractHttp(parseNginx("location /a/ { }\nlocation = /b { }\n", "/snip.conf"));
    assert.equal(h.servers.length, 1);
    assert.equal(h.servers[0]?.locations.length, 2);
  });
});

describe("PCRE → JavaScript", () => {
  const m = (re: string, uri: string, caseless = false): boolean | null => {
    const bytes = new TextEncoder().encode(uri);
    return pcreTest(translatePcre(re, caseless), bytesToByteString(bytes));
  };
  test("exact translations", () => {
    assert.equal(m("^/(?P<n>a)/(?P=n)$", "/a/a"), true);
    assert.equal(m("^/(?<n>a)/\\k<n>$", "/a/b"), false);
    assert.equal(m("\\A/a\\z", "/a"), true);
    assert.equal(m("\\A/a\\z", "/a\n"), false);
    assert.equal(m("^/a$", "/a\n"), true, "$ matches before a final newline");
    assert.equal(m("^/a.", "/a\n"), false, ". does not match a newline");
    assert.equal(m("(?i)^/ABC", "/abc"), true);
    assert.equal(m("(?s)^/a.", "/a\n"), true);
    assert.equal(m("^/[[:alpha:]]+$", "/abC"), true);
    assert.equal(m("^/[[:^digit:]]$", "/1"), false);
    assert.equal(m("^/[]a]$", "/]"), true);
    assert.equal(m("^/\\Qa.b\\E$", "/a.b"), true);
    assert.equal(m("^/\\Qa.b\\E$", "/axb"), false);
    assert.equal(m("^/a{2}$", "/aa"), true);
    assert.equal(m("^/a{,2}$", "/a{,2}"), true, "{,2} is literal in PCRE2 10.42");
    assert.equal(m("^/\\x61\\141\\o{141}$", "/aaa"), true);
    assert.equal(m("(?x) ^/a  # comment\n b $", "/ab"), true);
    assert.equal(m("^/a(?#comment)b", "/ab"), true);
  });
  test("bytes: no folding outside ASCII, a class of a multi-byte literal is a class of bytes", () => {
    assert.equal(m("^/é$", "/é"), true);
    assert.equal(m("^/É", "/é", true), false, "PCRE without UTF folds ASCII only");
    assert.equal(m("^/[é]$", "/é"), false, "[é] is two bytes, one matched");
    assert.equal(m("^/[\\x80-\\xff]{2}$", "/é"), true);
    assert.equal(m("^/\\w$", "/é"), false);
    assert.equal(m("^/\\s", "/\u00a0"), false);
  });
  test("emulated exactly, and flagged", () => {
    const atomic = translatePcre("^/(?>a+)b", false);
    assert.match(atomic.warnings.join(), /atomic group/);
    assert.equal(m("^/(?>a+)ab", "/aaab"), false, "the atomic group gives nothing back");
    assert.equal(m("^/(?:a+)ab", "/aaab"), true);
    assert.match(translatePcre("^/a++", false).warnings.join(), /possessive/);
    assert.equal(m("^/a++a", "/aaa"), false);
    assert.equal(m("^/a*+b", "/aab"), true);
    assert.match(translatePcre("^/a\\Z", false).warnings.join(), /\\Z/);
    assert.equal(m("^/a\\Z", "/a\n"), true);
    assert.match(translatePcre("^/a\\Kb", false).warnings.join(), /\\K/);
    assert.equal(m("^/a\\Kb", "/ab"), true);
  });
  test("refused, never guessed", () => {
    for (const re of [
      "^/(a(?R)?b)",
      "^/(?(1)a|b)",
      "^/\\p{L}",
      "^/a(?i)b",
      "^/(?i:a)",
      "(*UTF8)^/a",
      "^/(?|a|b)",
      "^/(a)(?1)",
    ]) {
      const t = translatePcre(re, false);
      assert.equal(t.regex, null, re);
      assert.equal(t.unsupported, true, re);
      assert.match(t.warnings.at(-1) ?? "", /cannot be evaluated in JavaScript like PCRE/, re);
    }
  });
  test("patterns PCRE rejects are reported as such", () => {
    for (const [re, msg] of [
      ["^/\\x{100}", /too large/],
      ["^/\\i", /unrecognized character/],
      ["(?<=a+)b", /lookbehind assertion is not fixed length/],
      ["^/(a", /missing closing parenthesis/],
      ["^/[a", /missing terminating ]/],
      ["^/[z-a]", /range out of order/],
      ["*a", /does not follow a repeatable item/],
      ["^/\\2(a)(b)", /./],
    ] as const) {
      const t = translatePcre(re, false);
      if (re === "^/\\2(a)(b)") {
        assert.ok(t.regex, "a forward reference compiles in PCRE");
        continue;
      }
      assert.match(t.invalid ?? "", msg, re);
    }
  });
  test("an unevaluable regex makes the explanation uncertain and says so", () => {
    const s = server("location ~ ^/(a(?R)?b) { } location / { }");
    const e = explainUri(s, "/ab");
    assert.equal(e.uncertain, true);
    assert.equal(outcome(e), "/");
    assert.match(e.pcreWarnings.join(), /recursion/);
    assert.match(e.steps.join("\n"), /cannot be evaluated here .* use --real/);
  });
});
