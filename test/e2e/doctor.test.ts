import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { makeRoot } from "../helpers/rootfs.js";
import { assertValidReport } from "../helpers/schema.js";

interface Check {
  id: string;
  status: string;
  summary: string;
  details: string[];
  evidence: Record<string, unknown>;
  fix: { text: string; commands: string[] } | null;
}
interface Report {
  exitCode: number;
  target: { kind: string };
  summary: Record<string, number>;
  checks: Check[];
}

const AT = "2026-12-01T12:00:00Z";
const emptyApp = mkdtempSync(join(tmpdir(), "schedctl-app-"));

function doctorJson(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; report: Report; stderr: string } {
  const r = runCli(["doctor", "--format", "json", "--at", AT, "--app-dir", emptyApp, ...args], { env });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  assertValidReport(report);
  assert.equal(report.exitCode, r.code, "the JSON exitCode is the process exit code");
  return { code: r.code, report, stderr: r.stderr };
}

function check(report: Report, id: string): Check {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no ${id} in report`);
  return c;
}

const conflicting = () =>
  makeRoot({
    files: { "/etc/timezone": "Asia/Shanghai\n" },
    links: { "/etc/localtime": "/usr/share/zoneinfo/Etc/UTC" },
  });

describe("doctor on a root whose /etc/timezone and /etc/localtime disagree", () => {
  test("exits 1, tz.sources fails, tz.tzlocal predicts the 4.x and 2.x crashes", () => {
    const { code, report } = doctorJson(["--root", conflicting()]);
    assert.equal(code, 1);
    assert.equal(report.target.kind, "root");
    assert.equal(check(report, "tz.sources").status, "fail");
    const tzl = check(report, "tz.tzlocal");
    assert.equal(tzl.status, "fail");
    const p = tzl.evidence.predictions as Record<
      string,
      { outcome: string; exception: string | null; message: string | null; zone: string | null }
    >;
    assert.equal(p["4.x"]?.outcome, "error");
    assert.equal(p["4.x"]?.exception, "ZoneInfoNotFoundError");
    assert.match(p["4.x"]?.message ?? "", /^Multiple conflicting time zone configurations found:\n/);
    assert.equal(p["2.x"]?.outcome, "error");
    assert.equal(p["2.x"]?.exception, "ValueError");
    assert.match(p["2.x"]?.message ?? "", /Timezone offset does not match system offset: 28800 != 0/);
    assert.equal(p["5.x"]?.outcome, "warning");
    assert.equal(p["5.x"]?.zone, "Etc/UTC");
  });

  test("the text report shows the sources side by side and the exact fix lines", () => {
    const r = runCli([
      "doctor",
      "--root",
      conflicting(),
      "--at",
      AT,
      "--app-dir",
      emptyApp,
      "--only",
      "tz.sources",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\/etc\/timezone\s+Asia\/Shanghai\s+Asia\/Shanghai\s+UTC\+08:00/);
    assert.match(r.stdout, /\/etc\/localtime\s+\/usr\/share\/zoneinfo\/Etc\/UTC\s+Etc\/UTC\s+UTC/);
    assert.match(r.stdout, /ENV TZ=/);
    assert.match(r.stdout, /ln -snf "\/usr\/share\/zoneinfo\/\$TZ" \/etc\/localtime/);
    assert.ok(!r.stdout.includes("\u001b["), "no colour when not a TTY");
    assert.equal(r.stderr, "");
  });
});

describe("exit codes", () => {
  test("0 on a consistent root", () => {
    const root = makeRoot({
      files: { "/etc/timezone": "Asia/Shanghai\n", "/etc/os-release": 'ID=debian\nVERSION_ID="12"\n' },
      links: { "/etc/localtime": "/usr/share/zoneinfo/Asia/Shanghai" },
    });
    const { code, report } = doctorJson(["--root", root]);
    assert.equal(code, 0, JSON.stringify(report.checks.map((c) => [c.id, c.status, c.summary])));
    assert.equal(report.summary.fail, 0);
    // an unpacked image has no processes: the checks that read them say so
    for (const id of ["locks.file", "workers.live"]) {
      const c = report.checks.find((x) => x.id === id);
      assert.deepEqual([c?.status, c?.summary], ["skip", `root ${root} has no live processes`], id);
    }
  });

  test("--fail-on warn turns warnings into exit 1", () => {
    // A copied /etc/localtime is a warning (tzlocal names it "local").
    const root = makeRoot({ files: { "/etc/localtime": readFileSync("/usr/share/zoneinfo/Asia/Shanghai") } });
    assert.equal(doctorJson(["--root", root]).code, 0);
    const strict = doctorJson(["--root", root, "--fail-on", "warn"]);
    assert.equal(strict.code, 1);
    assert.ok((strict.report.summary.warn ?? 0) > 0);
  });

  for (const [name, args] of [
    ["unknown option", ["doctor", "--frobnicate"]],
    ["bad --format", ["doctor", "--format", "yaml"]],
    ["bad --at", ["doctor", "--at", "next tuesday"]],
    ["unknown check id", ["doctor", "--only", "tz.nope"]],
    ["missing --root", ["doctor", "--root", "/nonexistent/rootfs"]],
    ["malformed --env", ["doctor", "--env", "NOEQUALS"]],
    ["missing --env-file", ["doctor", "--env-file", "/nonexistent/.env"]],
    ["unknown command", ["frobnicate"]],
    ["bad container name", ["doctor", "--container", "a;b"]],
  ] as const) {
    test(`2 on ${name}, one line on stderr naming the input, nothing on stdout`, () => {
      const r = runCli([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      const first = r.stderr.trim().split("\n")[0] ?? "";
      assert.ok(first.length > 0 && first.length < 300, r.stderr);
    });
  }

  test("3 when the container cannot be reached", () => {
    const r = runCli(["doctor", "--container", "does-not-exist", "--app-dir", emptyApp], {
      env: { SCHEDCTL_DOCKER: "/nonexistent/docker" },
    });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /docker exec does-not-exist: \/nonexistent\/docker not found/);
    assert.equal(r.stdout, "");
  });

  test("--help and --version exit 0", () => {
    assert.equal(runCli(["--help"]).code, 0);
    const v = runCli(["--version"]);
    assert.equal(v.code, 0);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    assert.equal(v.stdout.trim(), pkg.version);
  });
});

describe("check selection", () => {
  test("--list names every check id", () => {
    const r = runCli(["doctor", "--list", "--format", "json"]);
    assert.equal(r.code, 0);
    const ids = (JSON.parse(r.stdout) as { checks: { id: string }[] }).checks.map((c) => c.id);
    assert.deepEqual(ids, [
      "tz.sources",
      "tz.tzlocal",
      "tz.configured",
      "tz.zoneinfo",
      "tz.libc",
      "tz.flask-construct",
      "workers.config",
      "workers.recycling",
      "workers.preload",
      "workers.debug",
      "workers.guard",
      "workers.live",
      "locks.file",
      "locks.redis",
      "locks.verdict",
      "runs.logs",
      "runs.http",
      "routes.nginx",
      "deploy.dockerfile",
      "deploy.compose",
      "deploy.k8s",
    ]);
  });

  test("--only and --skip take ids and groups", () => {
    const root = conflicting();
    assert.deepEqual(
      doctorJson(["--root", root, "--only", "tz.sources,tz.libc"]).report.checks.map((c) => c.id),
      ["tz.sources", "tz.libc"],
    );
    const rest = doctorJson(["--root", root, "--skip", "tz"]).report.checks;
    assert.ok(rest.length > 0 && rest.every((c) => !c.id.startsWith("tz.")));
  });
});

describe("--format github", () => {
  test("escapes data and properties, and appends a Markdown table to $GITHUB_STEP_SUMMARY", () => {
    const summaryFile = join(mkdtempSync(join(tmpdir(), "schedctl-gh-")), "summary.md");
    writeFileSync(summaryFile, "previous step\n");
    const r = runCli(
      [
        "doctor",
        "--format",
        "github",
        "--root",
        conflicting(),
        "--at",
        AT,
        "--app-dir",
        emptyApp,
        "--env",
        "SCHEDULER_TIMEZONE=Bad%Zone,x:y",
      ],
      { env: { GITHUB_STEP_SUMMARY: summaryFile } },
    );
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split("\n");
    assert.ok(lines.length >= 3);
    for (const line of lines) assert.match(line, /^::(error|warning|notice)( [^:]*)?::/, line);
    const configured = lines.find((l) => l.includes("tz.configured"));
    assert.ok(configured, r.stdout);
    assert.match(configured, /Bad%25Zone,x:y/, "data: % escaped, , and : kept");
    const multi = lines.find((l) => l.includes("tz.tzlocal"));
    assert.match(multi ?? "", /%0A/, "newlines in messages are escaped");
    const md = readFileSync(summaryFile, "utf8");
    assert.ok(md.startsWith("previous step\n"), "appended, not overwritten");
    assert.match(md, /\| *Status *\| *Check *\| *Summary *\|/);
  });
});

describe("--format junit", () => {
  test("is well-formed XML with one uniquely named testcase per check", () => {
    const r = runCli([
      "doctor",
      "--format",
      "junit",
      "--root",
      conflicting(),
      "--at",
      AT,
      "--app-dir",
      emptyApp,
    ]);
    assert.equal(r.code, 1);
    // Parsed back by a real XML parser (Python's expat-based ElementTree).
    const py = spawnSync(
      "/usr/bin/python3",
      [
        "-c",
        "import sys, json, xml.etree.ElementTree as ET; r = ET.fromstring(sys.stdin.read()); print(json.dumps({'root': r.tag, 'failures': r.get('failures'), 'cases': [[c.get('classname'), c.get('name'), [x.tag for x in c]] for c in r.iter('testcase')]}))",
      ],
      { input: r.stdout, encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(py.status, 0, `XML did not parse: ${py.stderr}`);
    const parsed = JSON.parse(py.stdout) as {
      root: string;
      failures: string;
      cases: [string, string, string[]][];
    };
    assert.equal(parsed.root, "testsuites");
    const listed = JSON.parse(runCli(["doctor", "--list", "--format", "json"]).stdout) as {
      checks: unknown[];
    };
    assert.equal(parsed.cases.length, listed.checks.length);
    assert.equal(new Set(parsed.cases.map(([c, n]) => `${c}/${n}`)).size, listed.checks.length);
    const sources = parsed.cases.find(([, n]) => n === "tz.sources");
    assert.deepEqual(sources?.[2], ["failure"]);
    assert.equal(parsed.failures, "2");
  });
});

describe("--at makes DST cases reproducible", () => {
  test("SCHEDULER_TIMEZONE=Europe/London on a UTC system: same now, diverges at the March change", () => {
    const root = makeRoot({ links: { "/etc/localtime": "/usr/share/zoneinfo/Etc/UTC" } });
    const winter = doctorJson([
      "--root",
      root,
      "--only",
      "tz.configured",
      "--env",
      "SCHEDULER_TIMEZONE=Europe/London",
    ]);
    const c = check(winter.report, "tz.configured");
    assert.equal(c.status, "warn");
    assert.equal(c.evidence.firstDivergence, "2027-03-28T01:00:00Z");
    const summer = runCli([
      "doctor",
      "--format",
      "json",
      "--root",
      root,
      "--only",
      "tz.configured",
      "--app-dir",
      emptyApp,
      "--env",
      "SCHEDULER_TIMEZONE=Europe/London",
      "--at",
      "2027-07-01T00:00:00Z",
    ]);
    const s = check(JSON.parse(summer.stdout) as Report, "tz.configured");
    assert.equal(s.status, "fail");
    assert.match(s.summary, /UTC\+01:00 but the system is UTC/);
  });
});
