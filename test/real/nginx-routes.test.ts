/**
 * explainUri (the pure model of nginx's location selection) against the REAL nginx (Debian's 1.22.1):
 * a fast-check property over generated configurations (random mixes of `=`, `^~`, `~`, `~*`, prefix,
 * `@named`, nested locations, proxy_pass with and without a trailing-slash location so the 301 fires,
 * `internal`, merge_slashes/absolute_redirect off, regexes from a safe subset) and generated URIs (every
 * location's name and its neighbours, encoded, dotted, doubled slashes, queries), batched: one nginx start
 * per configuration. Then the documented traps (reference §1.1) as fixed cases, the PCRE constructs the
 * translator emulates, and nginxTest. Needs nginx; never skips: a missing nginx is a failure.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { extractHttp, type NginxServer, selectServer } from "../../src/nginx/locations.js";
import { explainUri } from "../../src/nginx/match.js";
import { parseNginx } from "../../src/nginx/parse.js";
import {
  compareWithReal,
  explainWithRealNginx,
  findNginxBinary,
  NGINX_INSTALL_HINT,
  nginxTest,
} from "../../src/nginx/real.js";

const NGINX = findNginxBinary();
const STATS = new Map<string, number>();

function requireNginx(): void {
  assert.ok(NGINX, `nginx is not installed; this test needs the real binary: ${NGINX_INSTALL_HINT}`);
}

function staticServer(text: string, name?: string): NginxServer {
  const http = extractHttp(parseNginx(text, "/cfg/nginx.conf"));
  assert.deepEqual(
    http.findings.filter((f) => f.severity === "error"),
    [],
    "the configuration must be valid for nginx",
  );
  const sel = selectServer(http, name);
  assert.ok(sel);
  return sel.server;
}

/** Static vs real for every URI; returns the disagreements. */
async function disagreements(text: string, uris: string[]): Promise<string[]> {
  const server = staticServer(text);
  const real = await explainWithRealNginx({ text, file: "/cfg/nginx.conf" }, uris, { parse: {} });
  const out: string[] = [];
  for (const a of real.answers) {
    const k =
      a.status === 400
        ? "400"
        : a.redirect
          ? "301"
          : a.internalId !== null
            ? "internal"
            : a.locationId !== null
              ? a.match?.modifier || "prefix"
              : `none${a.httpStatus}`;
    STATS.set(k, (STATS.get(k) ?? 0) + 1);
  }
  real.answers.forEach((a, i) => {
    const e = explainUri(server, uris[i] as string);
    assert.equal(
      e.uncertain,
      false,
      `${uris[i]}: a regex could not be evaluated: ${e.pcreWarnings.join("; ")}`,
    );
    const d = compareWithReal(e, a);
    if (d) out.push(`${uris[i]}: ${d}`);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// generators

interface GenLoc {
  mod: "=" | "^~" | "~" | "~*" | "" | "@";
  pattern: string;
  pass: "" | "up" | "up/";
  internal: boolean;
  children: GenLoc[];
}

const SEGS = [
  "a",
  "b",
  "ab",
  "api",
  "s",
  "sched",
  "jobs",
  "A",
  "x.js",
  "b.css",
  "1",
  "b-x",
  "é",
  "a%20b",
  "a b",
];
const REGEXES = [
  "^/a",
  "^/a/",
  "^/ab",
  "\\.js$",
  "\\.(js|css)$",
  "^/api/.*\\.js$",
  "/b/",
  "^/(a|b)/",
  "[0-9]$",
  "^/A",
  "x\\.js",
  "^/sched",
  "^/s/jobs/[^/]+$",
  "^/a/?$",
  "jobs",
  "^/api/(?<rest>.*)$",
  "^/a{2}",
  "b$",
  "^/é",
  "É",
  "(?i)^/B",
  "^/a(?=/)",
  "^/(?:a|b)+/?$",
  "\\d{2,}",
  "^/[[:alpha:]]+$",
  "^/a\\Z",
  "^/(a)/\\1",
  "^/a/.+?x",
  "[^/]\\.css$",
  "\\bjobs\\b",
  "^/a++b",
  "^/(?>a+)b",
  "^/a$",
  "^/\\x61",
  "^/[\\x80-\\xff]",
  "^/a\\z",
  "%20",
  " ",
];

const segArb = fc.constantFrom(...SEGS);
const prefixArb = fc
  .tuple(fc.array(segArb, { minLength: 0, maxLength: 3 }), fc.boolean())
  .map(([segs, slash]) => {
    const p = `/${segs.join("/")}`;
    return slash && !p.endsWith("/") ? `${p}/` : p;
  });

function locArb(depth: number, parent: string | null): fc.Arbitrary<GenLoc> {
  const modArb = fc.constantFrom<GenLoc["mod"]>(
    "",
    "",
    "^~",
    "=",
    "~",
    "~*",
    ...(depth === 0 ? (["@"] as const) : []),
  );
  return fc
    .tuple(
      modArb,
      prefixArb,
      fc.constantFrom(...REGEXES),
      fc.constantFrom<GenLoc["pass"]>("", "up", "up", "up/"),
      fc.integer({ min: 0, max: 9 }),
      fc.constantFrom("", "x", "a/", "b", "/j"),
    )
    .chain(([mod, prefix, regex, pass, internalDie, ext]) => {
      let pattern: string;
      if (mod === "~" || mod === "~*") pattern = regex;
      else if (mod === "@") pattern = "@n";
      else if (parent !== null) pattern = `${parent}${ext}`;
      else pattern = prefix;
      const isRegex = mod === "~" || mod === "~*";
      // proxy_pass with a URI part is refused in regex and named locations
      const p: GenLoc["pass"] = (isRegex || mod === "@") && pass === "up/" ? "up" : pass;
      const canNest = depth < 2 && mod !== "=" && mod !== "@";
      const childParent = isRegex ? null : pattern;
      const kids =
        canNest && !isRegex
          ? fc.array(locArb(depth + 1, childParent), { maxLength: depth === 0 ? 3 : 2 })
          : canNest
            ? fc.array(locArb(depth + 1, "\u0000regex"), { maxLength: 1 })
            : fc.constant([] as GenLoc[]);
      return kids.map((children) => ({
        mod,
        pattern,
        pass: p,
        internal: internalDie === 0,
        children,
      }));
    });
}

/** Removes locations nginx would refuse (duplicates; prefixes nested under regexes). */
function sanitize(locs: GenLoc[], parentIsRegex: boolean): GenLoc[] {
  const seen = new Set<string>();
  const out: GenLoc[] = [];
  for (const l of locs) {
    if (l.pattern.includes("\u0000")) continue;
    if (parentIsRegex && l.mod !== "~" && l.mod !== "~*") continue;
    if (l.mod === "@" && seen.has("@")) continue;
    const key =
      l.mod === "=" ? `=${l.pattern}` : l.mod === "" || l.mod === "^~" ? `p${l.pattern}` : `${Math.random()}`;
    if (l.mod === "@") seen.add("@");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...l, children: sanitize(l.children, l.mod === "~" || l.mod === "~*") });
  }
  return out;
}

function render(locs: GenLoc[], indent: string): string {
  return locs
    .map((l) => {
      const pat = /[{};\s]/.test(l.pattern) ? `"${l.pattern}"` : l.pattern;
      const head = l.mod === "" || l.mod === "@" ? `location ${pat}` : `location ${l.mod} ${pat}`;
      const body = [
        l.pass ? `proxy_pass http://${l.pass};` : "",
        l.internal ? "internal;" : "",
        render(l.children, `${indent}  `),
      ]
        .filter((x) => x !== "")
        .join(" ");
      return `${indent}${head} { ${body} }`;
    })
    .join("\n");
}

interface GenConfig {
  locs: GenLoc[];
  mergeSlashes: boolean;
  absoluteRedirect: boolean;
}

const configArb: fc.Arbitrary<GenConfig> = fc.record({
  locs: fc.array(locArb(0, null), { minLength: 1, maxLength: 7 }).map((l) => sanitize(l, false)),
  mergeSlashes: fc.integer({ min: 0, max: 5 }).map((n) => n !== 0),
  absoluteRedirect: fc.boolean(),
});

function configText(c: GenConfig): string {
  return [
    "upstream up { server app.internal:8000; }",
    "server {",
    "  listen 80;",
    "  server_name example.test;",
    c.mergeSlashes ? "" : "  merge_slashes off;",
    c.absoluteRedirect ? "" : "  absolute_redirect off;",
    render(c.locs, "  "),
    "}",
  ]
    .filter((l) => l !== "")
    .join("\n");
}

function flat(locs: GenLoc[]): GenLoc[] {
  return locs.flatMap((l) => [l, ...flat(l.children)]);
}

/** URIs around every location name plus a few random ones, deterministic per config. */
function urisFor(c: GenConfig, extra: string[]): string[] {
  const set = new Set<string>(["/", "/a", "/a/", "/A/B", "/api/x.js", "/sched", "/s/jobs/1"]);
  for (const l of flat(c.locs)) {
    if (l.mod === "~" || l.mod === "~*" || l.mod === "@") continue;
    const p = l.pattern;
    set.add(p);
    if (p.endsWith("/")) set.add(p.slice(0, -1) || "/");
    else set.add(`${p}/`);
    set.add(`${p}x`);
    set.add(`${p}/x.js`.replace("//", "/"));
    set.add(`${p}?q=1`);
    set.add(p.toUpperCase());
    set.add(p.replace(/\//g, "//"));
    set.add(p.replace(/a/, "%61"));
    set.add(`${p}/../b.css`.replace("//", "/"));
  }
  for (const x of extra) set.add(x);
  return [...set].map((u) => u.replace(/ /g, "%20")).filter((u) => u.startsWith("/"));
}

const extraUriArb = fc.array(
  fc
    .tuple(
      fc.array(
        fc.constantFrom(
          ...SEGS.filter((x) => x !== "a b"),
          "",
          ".",
          "..",
          "%2F",
          "%2e",
          "x.JS",
          "%C3%A9",
          "%c3%89",
          "aab",
          "a%0A",
          "%20",
          "a+b",
        ),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      fc.constantFrom("", "?", "?a=b", "/", "#f", "%0A"),
    )
    .map(([segs, tail]) => `/${segs.join("/")}${tail}`),
  { minLength: 3, maxLength: 8 },
);

describe("explainUri agrees with the real nginx", { timeout: 120_000 }, () => {
  test("property: generated configurations and URIs (fixed seed)", { timeout: 120_000 }, async () => {
    requireNginx();
    let configs = 0;
    let checks = 0;
    await fc.assert(
      fc.asyncProperty(configArb, extraUriArb, async (c, extra) => {
        const text = configText(c);
        const uris = urisFor(c, extra);
        const bad = await disagreements(text, uris);
        configs++;
        checks += uris.length;
        if (bad.length > 0)
          throw new Error(`${bad.length} disagreement(s) with nginx on\n${text}\n${bad.join("\n")}`);
      }),
      {
        seed: Number(process.env.NGINX_PROP_SEED ?? 20261130),
        numRuns: Number(process.env.NGINX_PROP_RUNS ?? 120),
        endOnFailure: true,
        includeErrorInReport: true,
      },
    );
    process.stderr.write(
      `nginx property: ${configs} configs, ${checks} URIs ${JSON.stringify([...STATS])}\n`,
    );
    assert.ok(configs >= 120 && checks >= 2000, `only ${configs} configs / ${checks} URIs checked`);
  });
});

// ---------------------------------------------------------------------------------------------------
// fixed cases

const FIXTURES = new URL("../fixtures/nginx/", import.meta.url).pathname;

interface Fixed {
  name: string;
  body: string;
  /** uri → expected outcome ("301 /x/", "~ re", "= /x", "/x", "404 /x", "400", "none") */
  expect: Record<string, string>;
  pre?: string;
}

function outcomeOf(e: {
  status: number | null;
  redirect: { location: string } | null;
  match: { modifier: string; pattern: string } | null;
}): string {
  if (e.status === 400) return "400";
  if (e.redirect) return `301 ${e.redirect.location}`;
  if (!e.match) return "none";
  const m = `${e.match.modifier ? `${e.match.modifier} ` : ""}${e.match.pattern}`;
  return e.status === 404 ? `404 ${m}` : m;
}

const TRAPS: Fixed[] = [
  {
    name: "§1.1 the 301 auto-redirect comes before a matching regex",
    body: "location /scheduler/ { proxy_pass http://up; } location ~ ^/sched { }",
    expect: {
      "/scheduler": "301 /scheduler/",
      "/scheduler?a=1": "301 /scheduler/?a=1",
      "/sched": "~ ^/sched",
    },
  },
  {
    name: "§1.1 the documented fix: location = /scheduler",
    body: "location = /scheduler { proxy_pass http://up; } location /scheduler/ { proxy_pass http://up; } location ~ ^/sched { }",
    expect: { "/scheduler": "= /scheduler", "/scheduler/jobs": "~ ^/sched" },
  },
  {
    name: "§1.1 location /scheduler (no slash) also matches /schedulerX",
    body: "location /scheduler { proxy_pass http://up; } location / { }",
    expect: { "/schedulerX": "/scheduler", "/scheduler": "/scheduler", "/schedule": "/" },
  },
  {
    name: "§1.1 a regex steals /scheduler/jobs/x.js from a plain prefix; ^~ stops it",
    body: "location /scheduler/ { proxy_pass http://up; } location ^~ /s2/ { proxy_pass http://up; } location ~* \\.js$ { }",
    expect: {
      "/scheduler/jobs/x.js": "~* \\.js$",
      "/s2/jobs/x.js": "^~ /s2/",
      "/scheduler/jobs/x": "/scheduler/",
    },
  },
  {
    name: "§1.1 ^~ only guards its own level",
    body: "location /a/ { location ^~ /a/b/ { } } location ~ \\.json$ { }",
    expect: { "/a/b/x.json": "~ \\.json$", "/a/b/x": "^~ /a/b/" },
  },
  {
    name: "§1.1 nested regexes beat server-level regexes",
    body: "location /api/ { location ~ \\.json$ { internal; } } location ~ \\.json$ { }",
    expect: { "/api/x.json": "404 ~ \\.json$", "/x.json": "~ \\.json$" },
  },
  {
    name: "§1.1 @named is never matched; internal is 404",
    body: "location @named { } location /i/ { internal; } location /n/ { }",
    expect: { "/@named": "none", "/i/x": "404 /i/", "/n/x": "/n/" },
  },
  {
    name: "§1.1 normalization: %XX, doubled slashes, dot segments",
    body: "location /api/ { } location = /b.json { }",
    expect: {
      "/%61pi/a.json": "/api/",
      "//api//x.json": "/api/",
      "/api/../b.json": "= /b.json",
      "/api/%2e%2e/b.json": "= /b.json",
      "/api%2Fx": "/api/",
      "/..": "400",
      "/a%00": "400",
      "/a%zz": "400",
    },
  },
  {
    name: "merge_slashes off",
    body: "merge_slashes off; location /api/ { } location ~ ^//api { }",
    expect: { "//api/x": "~ ^//api", "/api/x": "/api/" },
  },
  {
    name: "exact match ends the search; an equal prefix does not",
    body: "location = /x { } location /y { } location ~ ^/[xy]$ { }",
    expect: { "/x": "= /x", "/y": "~ ^/[xy]$" },
  },
  {
    name: '"/" sorts lowest in the static tree',
    body: "location ^~ /b.css/ { } location /b-x/ { } location /b/ { proxy_pass http://up; } location = /b/1 { }",
    expect: { "/b": "301 /b/", "/b.css": "none", "/b/1": "= /b/1" },
  },
  {
    name: "attached modifiers (^~/x is noregex) and every *_pass redirects",
    body: "location ^~/n/ { } location ~ x$ { } location /f/ { fastcgi_pass 127.0.0.1:9000; } location /u/ { uwsgi_pass 127.0.0.1:9001; } location /g/ { grpc_pass grpc://127.0.0.1:9002; } location /m/ { set $memcached_key $uri; memcached_pass 127.0.0.1:11211; } location /c/ { scgi_pass 127.0.0.1:9003; }",
    expect: {
      "/n/x": "^~ /n/",
      "/f": "301 /f/",
      "/u": "301 /u/",
      "/g": "301 /g/",
      "/m": "301 /m/",
      "/c": "301 /c/",
    },
  },
  {
    name: "internal is checked before the redirect; inherited by nested locations",
    body: "location /x/ { internal; proxy_pass http://up; location /x/y/ { proxy_pass http://up; } }",
    expect: { "/x": "404 /x/", "/x/y": "404 /x/y/", "/x/y/z": "404 /x/y/" },
  },
];

describe("fixed cases: the documented traps against the real nginx", { timeout: 60_000 }, () => {
  for (const c of TRAPS) {
    test(c.name, async () => {
      requireNginx();
      const text = `${c.pre ?? "upstream up { server app.internal:8000; }"}\nserver {\n listen 80;\n server_name t.test;\n ${c.body}\n}\n`;
      const uris = Object.keys(c.expect);
      const server = staticServer(text);
      const real = await explainWithRealNginx({ text, file: "/cfg/nginx.conf" }, uris, { parse: {} });
      for (const [i, uri] of uris.entries()) {
        const a = real.answers[i];
        assert.ok(a);
        assert.equal(outcomeOf(a), c.expect[uri], `real nginx, ${uri}`);
        assert.equal(outcomeOf(explainUri(server, uri)), c.expect[uri], `static, ${uri}`);
      }
    });
  }

  test("absolute_redirect on: the Location carries nginx's own port; off: the path", async () => {
    requireNginx();
    const on =
      "upstream up { server 127.0.0.1:9; } server { listen 80; location /s/ { proxy_pass http://up; } }";
    const a = (await explainWithRealNginx({ text: on }, ["/s?x=1"], { parse: {} })).answers[0];
    assert.match(a?.locationHeader ?? "", /^http:\/\/localhost:\d+\/s\/\?x=1$/);
    const off = on.replace("listen 80;", "listen 80; absolute_redirect off;");
    const b = (await explainWithRealNginx({ text: off }, ["/s?x=1"], { parse: {} })).answers[0];
    assert.equal(b?.locationHeader, "/s/?x=1");
  });
});

describe("PCRE regexes: the translation against nginx's PCRE2", { timeout: 60_000 }, () => {
  const REGEX_CASES: Array<[string, boolean, string[]]> = [
    ["^/(?>a+)ab", false, ["/aaab", "/ab"]],
    ["^/a++a", false, ["/aaa", "/a"]],
    ["^/a*+b", false, ["/aab", "/b"]],
    ["^/a\\Z", false, ["/a", "/a%0A", "/a%0A%0A", "/ab"]],
    ["^/a$", false, ["/a", "/a%0A", "/a%0Ab"]],
    ["^/a.", false, ["/a%0A", "/ab"]],
    ["(?s)^/a.", false, ["/a%0A"]],
    ["(?m)^/a$", false, ["/a%0Ab", "/b%0A/a", "/a%0A", "/b%0A"]],
    ["(?m)^b", false, ["/a%0Ab", "/b%0A", "/a%0A"]],
    ["(?m)\\n^", false, ["/a%0A", "/a%0Ab"]],
    ["(?i)^/ABC", false, ["/abc", "/ABC", "/abd"]],
    ["^/É", true, ["/é", "/É", "/%C3%89"]],
    ["^/é$", false, ["/é", "/%C3%A9", "/e"]],
    ["^/[é]$", false, ["/é", "/%C3"]],
    ["^/[\\x80-\\xff]{2}$", false, ["/é", "/ab"]],
    ["^/\\w+$", false, ["/abc_1", "/é"]],
    ["^/[[:alpha:]]+$", false, ["/abC", "/ab1"]],
    ["^/[]a]+$", false, ["/]a]", "/b"]],
    ["^/\\Qa.b\\E$", false, ["/a.b", "/axb"]],
    ["^/a{,2}$", false, ["/a%7B,2%7D", "/aa"]],
    ["^/(?P<n>a|b)/(?P=n)$", false, ["/a/a", "/a/b"]],
    ["^/(a)/\\1$", true, ["/a/A", "/a/b"]],
    ["^/a(?=/)", false, ["/a/", "/ab"]],
    ["(?<=/a)b", false, ["/ab", "/cb"]],
    ["^/x(?#comment)y", false, ["/xy"]],
    ["(?x) ^/a  b # comment", false, ["/ab", "/a%20b"]],
    ["^/\\x61\\141\\o{141}$", false, ["/aaa"]],
    ["^/a\\Kb", false, ["/ab"]],
    ["^/[^/]+\\.css$", true, ["/x.CSS", "/a/x.css"]],
    ["\\bjobs\\b", false, ["/a/jobs/1", "/ajobs"]],
    ["^/a\\R", false, ["/a%0D%0A", "/a%0A", "/ab"]],
    ["^/\\h\\v", false, ["/%20%0A", "/%C2%A0%0A", "/ab"]],
    ["^/\\D\\W\\S$", false, ["/a-b", "/1-b", "/a%20b", "/a-%20"]],
    ["^/\\H\\V$", false, ["/ab", "/%20b", "/a%0A"]],
    ["^/[\\d\\W]+$", false, ["/1-2", "/1a", "/%20"]],
    ["^/[\\S\\h]+$", false, ["/a%20b", "/a%0Ab"]],
    ["^/[^\\w\\v]+$", false, ["/--", "/a", "/-%0A"]],
  ];
  test("each regex alone in a server, several URIs", async () => {
    requireNginx();
    const results = await Promise.all(
      REGEX_CASES.map(async ([re, caseless, uris]) => {
        const text = `server { listen 80; location ${caseless ? "~*" : "~"} "${re.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}" { } }`;
        return { re, bad: await disagreements(text, uris) };
      }),
    );
    assert.deepEqual(
      results.filter((r) => r.bad.length > 0),
      [],
    );
  });
});

describe("real nginx on a file with includes (Debian layout, a snippet included twice)", {
  timeout: 60_000,
}, () => {
  test("explainWithRealNginx follows the includes and agrees with explainUri", async () => {
    requireNginx();
    const { fsParseOptions } = await import("../../src/nginx/fs.js");
    const { parseNginxFile } = await import("../../src/nginx/parse.js");
    const path = `${FIXTURES}debian/nginx.conf`;
    const uris = ["/scheduler", "/scheduler/", "/scheduler/jobs/x.js", "/static/app.js", "/", "/schedulerX"];
    const real = await explainWithRealNginx({ path }, uris, { server: "app.example.com" });
    const http = extractHttp(parseNginxFile(path, fsParseOptions()));
    const server = selectServer(http, "app.example.com")?.server as NginxServer;
    assert.deepEqual(
      real.answers.map((a) => outcomeOf(a)),
      ["= /scheduler", "^~ /scheduler/", "^~ /scheduler/", "~* \\.(js|css|png)$", "/", "/"],
    );
    for (const [i, uri] of uris.entries()) {
      assert.equal(compareWithReal(explainUri(server, uri), real.answers[i] as never), null, uri);
    }
    assert.equal(real.answers[0]?.match?.file, `${FIXTURES}debian/sites-enabled/app`);
  });
});

describe("nginxTest", { timeout: 60_000 }, () => {
  test("an http snippet passes with service host names (mapped to 127.0.0.1, no DNS)", async () => {
    requireNginx();
    const r = await nginxTest(
      "upstream scheduler { server scheduler:8000; }\nserver {\n  listen 80;\n  location = /scheduler { proxy_pass http://scheduler; }\n  location ^~ /scheduler/ { proxy_pass http://web:8000; }\n}\n",
    );
    assert.equal(r.available, true);
    assert.equal(r.ok, true, r.output);
    assert.deepEqual(r.errors, []);
    assert.match(r.output, /test is successful/);
  });

  test("errors keep the snippet's own file and line", async () => {
    requireNginx();
    const r = await nginxTest(
      "server {\n  listen 80;\n\n  location / {\n    proxy_pass http://u/x;\n    bogus_directive on;\n  }\n}\n",
      {
        file: "site.conf",
      },
    );
    assert.equal(r.ok, false);
    assert.deepEqual(r.errors, [
      { file: "site.conf", line: 6, message: 'unknown directive "bogus_directive"' },
    ]);
    assert.doesNotMatch(r.output, /schedctl-nginx/);
  });

  test("configuration errors nginx finds that the parser leaves to it", async () => {
    requireNginx();
    const r = await nginxTest("server {\n  location ~ ^/a {\n    proxy_pass http://u/x;\n  }\n}\n");
    assert.equal(r.ok, false);
    assert.equal(r.errors[0]?.line, 3);
    assert.match(r.errors[0]?.message ?? "", /cannot have URI part in location given by regular expression/);
  });

  test("syntax the parser refuses is still reported by nginx itself", async () => {
    requireNginx();
    const r = await nginxTest("server {\n  location / {\n}\n");
    assert.equal(r.ok, false);
    assert.match(r.errors[0]?.message ?? "", /unexpected end of file/);
  });

  test("a full configuration with includes, root paths and privileged ports", async () => {
    requireNginx();
    const { readFileSync } = await import("node:fs");
    const path = `${FIXTURES}debian/nginx.conf`;
    const r = await nginxTest(readFileSync(path, "utf8"), { file: path });
    assert.equal(r.ok, true, r.output);
  });

  test("a server-context snippet (bare locations)", async () => {
    requireNginx();
    assert.equal((await nginxTest("location = /scheduler { proxy_pass http://scheduler:8000; }\n")).ok, true);
  });

  test("no nginx: available false with the install hint", async () => {
    const r = await nginxTest("server { }", { nginxBin: "/nonexistent/nginx" });
    assert.deepEqual([r.ok, r.available, r.errors], [false, false, []]);
    assert.match(r.output, /apt-get install -y nginx/);
  });
});

describe("real nginx on production-style configurations", { timeout: 60_000 }, () => {
  test("TLS, server-level return/if, error_page, logs, cache path: instrumented copy loads and agrees", async () => {
    requireNginx();
    const path = `${FIXTURES}production.conf`;
    const uris = ["/scheduler", "/scheduler/jobs/a.js", "/app.css", "/", "/404.html", "/x"];
    const real = await explainWithRealNginx({ path }, uris, { server: "prod.example.com:443" });
    const { fsParseOptions } = await import("../../src/nginx/fs.js");
    const { parseNginxFile } = await import("../../src/nginx/parse.js");
    const server = selectServer(extractHttp(parseNginxFile(path, fsParseOptions())), "prod.example.com:443")
      ?.server as NginxServer;
    const expected = ["= /scheduler", "^~ /scheduler/", "~* \\.(?:css|js)$", "/", "404 = /404.html", "/"];
    assert.deepEqual(
      real.answers.map((a) => outcomeOf(a)),
      expected,
    );
    assert.deepEqual(
      uris.map((u) => outcomeOf(explainUri(server, u))),
      expected,
    );
    assert.equal(real.server.line, server.line);
  });

  test("routes explain --real: JSON adds real: true, and a disagreement when the static answer differs", async () => {
    requireNginx();
    const { routesExplain } = await import("../../src/commands/routes.js");
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "schedctl-routes-real-"));
    try {
      const f = join(dir, "nginx.conf");
      // a recursive regex the translator refuses: explained as "not matching", nginx matches it
      writeFileSync(f, 'server {\n  listen 80;\n  location ~ "^/(a(?1)?b)$" { }\n  location / { }\n}\n');
      let stdout = "";
      let stderr = "";
      const io = {
        stdout: (s: string) => {
          stdout += s;
        },
        stderr: (s: string) => {
          stderr += s;
        },
      };
      const code = await routesExplain(["/aabb", "/x"], { nginx: f, real: true, format: "json" }, io);
      assert.equal(code, 0);
      const doc = JSON.parse(stdout);
      const [first, second] = doc.results;
      assert.equal(first.real, true);
      assert.deepEqual(first.match, { modifier: "~", pattern: "^/(a(?1)?b)$", file: f, line: 3 });
      assert.match(first.disagreement, /static: \/ .*; real nginx: ~ \^\/\(a\(\?1\)\?b\)\$/);
      assert.deepEqual(Object.keys(second), ["uri", "match", "redirect", "steps", "real"]);
      assert.match(stderr, /\/aabb: the explanation disagrees with the real nginx/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("routes explain --real without nginx: exit 3 with the install hint", async () => {
    const { routesExplain } = await import("../../src/commands/routes.js");
    const { RunError } = await import("../../src/errors.js");
    const saved = process.env.SCHEDCTL_NGINX;
    process.env.SCHEDCTL_NGINX = "/nonexistent/nginx";
    try {
      await assert.rejects(
        routesExplain(
          ["/"],
          { nginx: `${FIXTURES}traps.conf`, real: true },
          { stdout: () => {}, stderr: () => {} },
        ),
        (e: unknown) =>
          e instanceof RunError && e.exitCode === 3 && /apt-get install -y nginx/.test(e.message),
      );
    } finally {
      if (saved === undefined) delete process.env.SCHEDCTL_NGINX;
      else process.env.SCHEDCTL_NGINX = saved;
    }
  });
});

describe("nginxTest on production-style configurations", { timeout: 60_000 }, () => {
  test("missing certificates are replaced by a throwaway pair, and said so", async () => {
    requireNginx();
    const { readFileSync } = await import("node:fs");
    const path = `${FIXTURES}production.conf`;
    const r = await nginxTest(readFileSync(path, "utf8"), { file: path });
    assert.equal(r.ok, true, r.output);
    assert.match(
      r.output,
      /production\.conf:22: ssl_certificate \/etc\/ssl\/certs\/prod\.example\.com\.pem does not exist here/,
    );
  });
});

describe("explainWithRealNginx when nginx refuses the configuration", { timeout: 30_000 }, () => {
  test("RealNginxError with nginx's message at the user's file and line", async () => {
    requireNginx();
    const { RealNginxError } = await import("../../src/nginx/real.js");
    const text = "server {\n  listen 80;\n  location ~ ^/a {\n    proxy_pass http://u/x;\n  }\n}\n";
    await assert.rejects(
      explainWithRealNginx({ text, file: "/srv/site.conf" }, ["/a"], { parse: {} }),
      (e: unknown) =>
        e instanceof RealNginxError &&
        /cannot have URI part/.test(e.message) &&
        e.errors[0]?.file === "/srv/site.conf" &&
        e.errors[0]?.line === 4,
    );
  });
});
