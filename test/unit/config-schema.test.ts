import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import Ajv2020 from "ajv/dist/2020.js";
import fc from "fast-check";
import { parse } from "smol-toml";
import { parseConfigText } from "../../src/config/load.js";
import { CONFIG_SPEC, structuralIssues, validateConfig } from "../../src/config/validate.js";
import { FILE_LOCK_TOML, FULL_TOML, NO_LOCK_TOML } from "../helpers/gen-fixtures.js";

const schema = JSON.parse(readFileSync(new URL("../../schema/config.schema.json", import.meta.url), "utf8"));
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

type Spec = (typeof CONFIG_SPEC)["fields"][string];

describe("config schema (schema/config.schema.json) and the runtime validator agree", () => {
  test("every pattern, range and key of the validator is in the schema, and nothing else", () => {
    const walk = (spec: Spec, node: Record<string, unknown>, where: string) => {
      switch (spec.type) {
        case "string":
          assert.equal(node.pattern, spec.pattern, `${where}: pattern`);
          assert.equal(node.type, "string", where);
          break;
        case "integer":
          assert.deepEqual([node.type, node.minimum, node.maximum], ["integer", spec.min, spec.max], where);
          break;
        case "enum":
          assert.deepEqual(node.enum, [...spec.values], where);
          break;
        case "routes":
          assert.equal((node.items as { pattern: string }).pattern.length > 0, true, where);
          break;
        case "workers":
          assert.ok(Array.isArray(node.anyOf), where);
          break;
        case "table": {
          assert.equal(node.additionalProperties, false, where);
          const props = node.properties as Record<string, Record<string, unknown>>;
          assert.deepEqual(Object.keys(props).sort(), Object.keys(spec.fields).sort(), `${where}: keys`);
          assert.deepEqual(
            node.required ?? [],
            spec.required ? [...spec.required] : [],
            `${where}: required`,
          );
          for (const [k, sub] of Object.entries(spec.fields))
            walk(sub, props[k] as Record<string, unknown>, `${where}.${k}`);
        }
      }
    };
    walk(CONFIG_SPEC, schema, "$");
  });

  test("the example configs are valid for both", () => {
    for (const [text, kind] of [
      [FULL_TOML, "pyproject"],
      [FILE_LOCK_TOML, "toml"],
      [NO_LOCK_TOML, "toml"],
    ] as const) {
      const doc = parse(text) as Record<string, unknown>;
      const table = kind === "pyproject" ? (doc.tool as Record<string, unknown>).schedctl : doc;
      assert.equal(validate(table), true, ajv.errorsText(validate.errors));
      assert.deepEqual(structuralIssues(table), []);
      assert.ok(parseConfigText(text, "x.toml", kind));
    }
  });

  test("property: on generated configs (valid, broken and hostile) ajv and structuralIssues give the same verdict", () => {
    const nasty = fc.constantFrom(
      ";",
      "{",
      "}",
      '"',
      "'",
      "\\",
      "\n",
      " ",
      "\t",
      "$",
      "#",
      "/",
      ".",
      "-",
      "a",
      "Z",
      "0",
      ":",
      "~",
      "*",
      "^",
      "=",
      "é",
      "\u0000",
      "[",
      "]",
      "(",
      ")",
      "@",
    );
    const nastyString = fc.string({ unit: nasty, maxLength: 12 });
    // Two modes: clean configs (every value picked from valid examples; shows both accept them) and hostile
    // ones (values mutated with nginx/YAML/Python syntax, wrong types, out-of-range numbers, unknown keys).
    const build = (hostile: boolean) => {
      const mutate = (valid: string[]) =>
        hostile
          ? fc.oneof(
              { weight: 3, arbitrary: fc.constantFrom(...valid) },
              {
                weight: 2,
                arbitrary: fc
                  .tuple(fc.constantFrom(...valid), nastyString, fc.nat(20))
                  .map(([v, s, at]) => v.slice(0, at) + s + v.slice(at)),
              },
              { weight: 1, arbitrary: nastyString },
              {
                weight: 1,
                arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({})),
              },
            )
          : fc.constantFrom(...valid);
      const int = (lo: number, hi: number) =>
        hostile
          ? fc.oneof(
              { weight: 3, arbitrary: fc.integer({ min: lo, max: hi }) },
              { weight: 1, arbitrary: fc.integer({ min: lo - 5, max: hi + 5 }) },
              {
                weight: 1,
                arbitrary: fc.oneof(fc.double({ noNaN: true }), fc.constantFrom("30s", "8000", true, null)),
              },
            )
          : fc.integer({ min: lo, max: hi });
      const routes = fc.array(
        mutate(
          [
            "= /jobs",
            "^~ /admin/jobs/",
            "/tasks",
            "~ ^/api/v[0-9]{1,2}/cron$",
            "~* \\.job$",
            "~ ^/a\\d+$",
          ].concat(hostile ? ["= /x;", "~ a b", "/x{2}"] : []),
        ),
        { maxLength: 4 },
      );
      const table = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) =>
        hostile
          ? fc.oneof(
              { weight: 8, arbitrary: fc.record(fields, { requiredKeys: [] }) },
              { weight: 1, arbitrary: fc.constantFrom("x", 3, [] as unknown[]) },
            )
          : fc.record(fields, { requiredKeys: [] });
      const lockValid = fc.oneof(
        fc.record(
          {
            backend: fc.constant("redis"),
            url: mutate(["redis://redis:6379/0", "rediss://user@cache.example:6380/1", "redis://[::1]:6379"]),
            key: mutate(["schedctl:lock:shop"]),
            ttl: int(2, 3600),
          },
          { requiredKeys: ["backend"] },
        ),
        fc.record(
          { backend: fc.constant("file"), path: mutate(["/tmp/schedctl-shop.lock", "/var/lock/x"]) },
          { requiredKeys: ["backend"] },
        ),
        fc.constant({ backend: "none" }),
      );
      const lock = hostile
        ? table({
            backend: fc.constantFrom("redis", "file", "none", "etcd", 1),
            url: mutate([
              "redis://redis:6379/0",
              "rediss://user@cache.example:6380/1",
              "redis://[::1]:6379",
              "redis://:pw@redis:6379",
            ]),
            key: mutate(["schedctl:lock:shop", "schedctl:lock:shop:prod"]),
            ttl: int(2, 3600),
            path: mutate(["/tmp/schedctl-shop.lock", "/var/lock/x"]),
          })
        : lockValid;
      return fc.record(
        {
          app: mutate(["shop", "billing-worker", "a"]),
          wsgi: mutate(["app:app", "app:create_app()", "pkg.wsgi:application"]),
          port: int(1, 65535),
          python: mutate(["3.11", "3.12", "3.9"]),
          timezone: mutate(["Europe/Berlin", "Etc/UTC", "America/Argentina/Buenos_Aires"]),
          "base-image": mutate([
            "python:3.12-slim",
            "python:3.12-alpine3.20",
            "ubuntu:24.04",
            "gcr.io/distroless/python3-debian12",
          ]),
          image: mutate(["shop:latest", "registry.example:5000/team/shop:1.2"]),
          requirements: mutate(["requirements.txt", "requirements/prod.txt"]),
          "health-path": mutate(["/", "/healthz", "/a/b/"]),
          scheduler: table({
            "api-prefix": mutate(["/scheduler", "/api/scheduler"]),
            routes,
            object: mutate(["app.ext:scheduler"]),
          }),
          instances: table({
            "web-replicas": int(1, 1000),
            "web-workers": hostile
              ? fc.oneof(int(1, 256), fc.constantFrom("auto", "AUTO", "4"))
              : fc.oneof(int(1, 256), fc.constant("auto")),
            "web-host": mutate(["web", "api-1"]),
            "scheduler-host": mutate(["scheduler", "jobs"]),
            "scheduler-port": int(1, 65535),
          }),
          lock,
          timeouts: table({ request: int(1, 3600), graceful: int(1, 3600) }),
          nginx: table({
            listen: int(1, 65535),
            "server-name": mutate(["_", "shop.example.com", "*.example.com"]),
          }),
        },
        { requiredKeys: hostile ? [] : ["app", "wsgi"] },
      );
    };
    const withUnknown = fc
      .tuple(
        fc.oneof(build(false), build(true)),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom("worker", "tz", "Port") },
        ),
      )
      .map(([c, k]) => (k ? { ...c, [k]: 1 } : c));
    let valid = 0;
    fc.assert(
      fc.property(withUnknown, (raw) => {
        const ours = structuralIssues(raw).length === 0;
        const theirs = validate(raw) === true;
        if (ours) valid++;
        assert.equal(
          ours,
          theirs,
          `validator says ${ours ? "valid" : JSON.stringify(structuralIssues(raw))}, ajv says ${theirs ? "valid" : ajv.errorsText(validate.errors)}`,
        );
      }),
      { numRuns: 1200, seed: 20260601 },
    );
    assert.ok(valid > 200, `enough valid samples (${valid})`);
  });

  test("whatever passes the structural checks normalizes without throwing", () => {
    const raw = { app: "a", wsgi: "m:app", lock: { backend: "redis" }, instances: { "web-workers": "auto" } };
    assert.equal(validate(raw), true);
    const r = validateConfig(raw);
    assert.ok(r.config);
  });
});
