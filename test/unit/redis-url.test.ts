/**
 * src/locks/redis-url.ts: every accepted form, the errors (UsageError, one line, redacted), and a property
 * test that no output of the module (redactUrl, the parsed target however it is printed, error messages,
 * scrubSecrets) ever contains the password, wherever in the URL it sits and however it is encoded.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { UsageError } from "../../src/errors.js";
import {
  formatEndpoint,
  parseRedisUrl,
  type RedisTarget,
  redactUrl,
  scrubSecrets,
} from "../../src/locks/redis-url.js";

describe("parseRedisUrl: accepted forms", () => {
  test("redis:// with user, password and db", () => {
    const t = parseRedisUrl("redis://app:s3cr%40t@cache.internal:6380/2");
    assert.equal(t.mode, "standalone");
    assert.equal(t.tls, false);
    assert.deepEqual(t.endpoints, [{ host: "cache.internal", port: 6380 }]);
    assert.equal(t.db, 2);
    assert.equal(t.username, "app");
    assert.equal(t.password?.reveal(), "s3cr@t");
    assert.equal(t.redacted, "redis://app:***@cache.internal:6380/2");
  });
  test("defaults: port 6379, db 0, no credentials", () => {
    const t = parseRedisUrl("redis://localhost");
    assert.deepEqual(t.endpoints, [{ host: "localhost", port: 6379 }]);
    assert.equal(t.db, 0);
    assert.equal(t.password, null);
    assert.equal(t.username, null);
    assert.equal(parseRedisUrl("redis://localhost/").db, 0);
  });
  test("rediss:// is TLS; ssl_cert_reqs=none skips verification", () => {
    const t = parseRedisUrl("rediss://:pw@redis.example.com:6380?ssl_cert_reqs=none");
    assert.equal(t.tls, true);
    assert.equal(t.tlsInsecure, true);
    assert.equal(t.password?.reveal(), "pw");
    assert.equal(parseRedisUrl("rediss://h").tlsInsecure, false);
  });
  test("a userinfo without ':' is a password", () => {
    const t = parseRedisUrl("redis://hunter22@h:1");
    assert.equal(t.password?.reveal(), "hunter22");
    assert.equal(t.username, null);
    assert.equal(t.redacted, "redis://***@h:1");
  });
  test("unencoded '@', '/', '?' and '#' in a password: the userinfo ends at the last '@'", () => {
    const t = parseRedisUrl("redis://u:p@ss/w?rd#x@h:7000/1");
    assert.equal(t.password?.reveal(), "p@ss/w?rd#x");
    assert.deepEqual(t.endpoints, [{ host: "h", port: 7000 }]);
    assert.equal(t.db, 1);
    assert.equal(t.redacted, "redis://u:***@h:7000/1");
  });
  test("IPv6 hosts", () => {
    const t = parseRedisUrl("redis://[::1]:6390");
    assert.deepEqual(t.endpoints, [{ host: "::1", port: 6390 }]);
    assert.equal(formatEndpoint(t.endpoints[0] as { host: string; port: number }), "[::1]:6390");
  });
  test("redis+sentinel:// with several sentinels, master name and db", () => {
    const t = parseRedisUrl("redis+sentinel://pw@s1:26379,s2:26380,s3/mymaster/3");
    assert.equal(t.mode, "sentinel");
    assert.deepEqual(t.endpoints, [
      { host: "s1", port: 26379 },
      { host: "s2", port: 26380 },
      { host: "s3", port: 26379 },
    ]);
    assert.equal(t.masterName, "mymaster");
    assert.equal(t.db, 3);
    assert.equal(t.password?.reveal(), "pw");
    assert.equal(t.redacted, "redis+sentinel://***@s1:26379,s2:26380,s3/mymaster/3");
  });
  test("sentinel password as a query parameter, redacted", () => {
    const t = parseRedisUrl("redis+sentinel://s1/m?sentinelPassword=topsecret");
    assert.equal(t.sentinelPassword?.reveal(), "topsecret");
    assert.equal(t.redacted, "redis+sentinel://s1/m?sentinelPassword=***");
  });
  test("redis+cluster:// and redis://...?cluster=1", () => {
    const a = parseRedisUrl("redis+cluster://n1:7000,n2:7001,n3:7002");
    assert.equal(a.mode, "cluster");
    assert.equal(a.endpoints.length, 3);
    const b = parseRedisUrl("redis://n1:7000?cluster=1");
    assert.equal(b.mode, "cluster");
    assert.equal(parseRedisUrl("rediss+cluster://n1:7000").tls, true);
  });
  test("unknown query parameters are listed, password-like ones redacted", () => {
    const t = parseRedisUrl("redis://h?ssl_cert_reqs=required&timeout=3&authToken=x");
    assert.deepEqual(t.ignoredParams, ["timeout", "authToken=***"]);
    assert.equal(t.redacted, "redis://h?ssl_cert_reqs=required&timeout=3&authToken=***");
  });
});

describe("parseRedisUrl: errors are one UsageError line naming the redacted URL", () => {
  const bad: Array<[string, RegExp]> = [
    ["", /empty/],
    ["localhost:6379", /not a URL/],
    ["http://h:1", /unsupported scheme "http:\/\/"/],
    ["redis://", /no host/],
    ["redis://:pw@", /no host/],
    ["redis://h:abc", /port "abc" is not a number/],
    ["redis://h:70000", /port 70000 is out of range/],
    ["redis://h:0", /out of range/],
    ["redis://h/x", /"x" is not a database number/],
    ["redis://h/1/2", /unexpected path/],
    ["redis://a:1,b:2", /several hosts/],
    ["redis+sentinel://s1:26379", /no master name/],
    ["redis+cluster://a:1/3", /only database 0/],
    ["redis://h#frag", /no #fragment/],
    ["redis://h?cluster=maybe", /not a yes\/no value/],
    ["redis://ho st", /spaces or control characters/],
    ["redis://[::1", /unterminated IPv6/],
    ["redis://h,", /empty host/],
    ["redis://h?password=ab@cd", /%40/],
  ];
  for (const [url, re] of bad) {
    test(JSON.stringify(url), () => {
      assert.throws(
        () => parseRedisUrl(url),
        (e: unknown) => {
          assert.ok(e instanceof UsageError, `UsageError, got ${e}`);
          assert.equal(e.exitCode, 2);
          assert.match(e.message, re);
          assert.match(e.message, /^Redis URL "/);
          assert.ok(!e.message.includes("\n"), "one line");
          return true;
        },
      );
    });
  }
  test("the error names the URL with its password redacted", () => {
    assert.throws(
      () => parseRedisUrl("redis://admin:Sup3rS3cret@h:notaport"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.includes("redis://admin:***@h:notaport") &&
        !e.message.includes("Sup3rS3cret"),
    );
  });
});

describe("redactUrl", () => {
  const cases: Array<[string, string]> = [
    ["redis://h:1", "redis://h:1"],
    ["redis://user:pw@h:1/0", "redis://user:***@h:1/0"],
    ["redis://:pw@h", "redis://:***@h"],
    ["redis://pw@h", "redis://***@h"],
    ["rediss://u:a@b@c@h", "rediss://u:***@h"],
    ["redis://h?password=pw&db=1", "redis://h?password=***&db=1"],
    ["redis://h?db=1&password=pw", "redis://h?db=1&password=***"],
    ["redis://h?password=ab@cd&db=1", "redis://***@***&db=1"],
    ["user:pw@h", "user:***@h"],
    ["garbage with pw@ in it", "***@ in it"],
  ];
  for (const [url, want] of cases) test(`${url} -> ${want}`, () => assert.equal(redactUrl(url), want));
});

describe("the password never comes out (property)", () => {
  const SPECIAL = [..."@:/?#&%=[]*~ +aZ09.,;\\\"'\u00e9\u4e2d\u0000\n"];
  const password = fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 16 }),
    fc.string({ unit: fc.constantFrom(...SPECIAL), minLength: 1, maxLength: 16 }),
    fc.stringMatching(/^[A-Za-z0-9]{6,24}$/),
  );
  const host = fc.oneof(
    fc.constantFrom("localhost", "127.0.0.1", "[::1]", "redis.internal", "h", "ho st", ""),
    fc.stringMatching(/^[a-z0-9.-]{1,10}$/),
  );
  const port = fc.oneof(
    fc.constant(""),
    fc.integer({ min: 0, max: 70000 }).map((p) => `:${p}`),
    fc.constant(":x"),
  );
  const skeleton = fc.record({
    scheme: fc.constantFrom("redis", "rediss", "redis+sentinel", "redis+cluster", "http", ""),
    user: fc.option(fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/), { nil: null }),
    hosts: fc.array(fc.tuple(host, port), { minLength: 1, maxLength: 3 }),
    path: fc.constantFrom("", "/", "/0", "/3", "/mymaster", "/mymaster/2", "/x/y/z"),
    query: fc.subarray(["cluster=1", "db=2", "foo=bar", "ssl_cert_reqs=none"]),
    place: fc.constantFrom(
      "userinfo",
      "userinfo-encoded",
      "passonly",
      "query-encoded",
      "query-raw",
      "sentinel-encoded",
    ),
  });
  type Skeleton = typeof skeleton extends fc.Arbitrary<infer T> ? T : never;

  const enc = (p: string): string | null => {
    try {
      return encodeURIComponent(p);
    } catch {
      return null;
    }
  };

  function build(s: Skeleton, pw: string): string | null {
    const hosts = s.hosts.map(([h, p]) => `${h}${p}`).join(",");
    const q = [...s.query];
    let userinfo = "";
    const e = enc(pw);
    switch (s.place) {
      case "userinfo":
        userinfo = `${s.user ?? ""}:${pw}@`;
        break;
      case "userinfo-encoded":
        if (e === null) return null;
        userinfo = `${s.user ?? ""}:${e}@`;
        break;
      case "passonly":
        if (pw.includes(":")) return null; // "a:b@" is user a, password b
        userinfo = `${pw}@`;
        break;
      case "query-encoded":
        if (e === null) return null;
        q.push(`password=${e}`);
        break;
      case "query-raw":
        if (/[&@]/.test(pw)) return null; // unencoded, these end the parameter (or the userinfo)
        q.push(`password=${pw}`);
        break;
      case "sentinel-encoded":
        if (e === null) return null;
        q.push(`sentinelPassword=${e}`);
        break;
    }
    const prefix = s.scheme === "" ? "" : `${s.scheme}://`;
    return `${prefix}${userinfo}${hosts}${s.path}${q.length > 0 ? `?${q.join("&")}` : ""}`;
  }

  /** Every printed form of everything the module returns for this URL. */
  function outputs(url: string): string[] {
    const out = [redactUrl(url)];
    let target: RedisTarget | null = null;
    try {
      target = parseRedisUrl(url);
      out.push(
        JSON.stringify(target),
        String(target.password),
        `${target.password}`,
        inspect(target, { depth: null, showHidden: true }),
        target.redacted,
      );
    } catch (e) {
      assert.ok(e instanceof UsageError, `only UsageError, got ${e}`);
      out.push(e.message, String(e), inspect(e));
    }
    return out;
  }

  const PASSWORD_PARAMS_RE = /[?&][^=&#?]*(?:pass|secret|token|auth)[^=&#?]*=/i;

  test("outputs do not depend on the password at all", () => {
    fc.assert(
      fc.property(skeleton, password, password, (s, p, q) => {
        // a password that itself looks like "...?password=" moves where the userinfo seems to end
        fc.pre(!PASSWORD_PARAMS_RE.test(p) && !PASSWORD_PARAMS_RE.test(q));
        const a = build(s, p);
        const b = build(s, q);
        fc.pre(a !== null && b !== null);
        const oa = outputs(a as string);
        const ob = outputs(b as string);
        assert.equal(oa[0], ob[0], "redactUrl");
        // parse may fail for one and not the other (e.g. a space in a raw password): compare like with like
        fc.pre(oa.length === ob.length);
        const strip = (xs: string[]) => xs.map((x) => x.replace(/at .*\n?/g, ""));
        assert.deepEqual(strip(oa), strip(ob));
      }),
      { numRuns: 600 },
    );
  });

  test("no output contains the password (raw or percent-encoded), for any password", () => {
    fc.assert(
      fc.property(skeleton, password, (s, p) => {
        const url = build(s, p);
        fc.pre(url !== null);
        // the same URL with an unrelated password: text that is there anyway does not count as a leak
        const other = build(s, "Q7z")?.replace(/Q7z/g, "") ?? "";
        const baseline = outputs(build(s, "Q7z") as string).join("\n") + other;
        const forms = [p, enc(p)].filter((f): f is string => f !== null && f.length > 0);
        fc.pre(forms.every((f) => !baseline.includes(f)));
        for (const o of outputs(url as string))
          for (const f of forms)
            assert.ok(!o.includes(f), `${JSON.stringify(o)} contains ${JSON.stringify(f)}`);
      }),
      { numRuns: 800 },
    );
  });

  test("scrubSecrets removes the password from any text", () => {
    fc.assert(
      fc.property(password, fc.string(), fc.string(), (p, before, after) => {
        const e = enc(p);
        fc.pre(e !== null);
        const target = parseRedisUrl(`redis://:${e}@h:1`);
        const out = scrubSecrets(`${before}${p}${after} (${e})`, target);
        assert.ok(!out.includes(p));
      }),
      { numRuns: 400 },
    );
  });
});
