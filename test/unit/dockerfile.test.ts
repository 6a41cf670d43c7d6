// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile, compose and shell text with ${VAR} on purpose
/**
 * src/deploy/dockerfile.ts: the Dockerfile reader and the six hadolint rules, case by case from hadolint's own
 * rule specs (test/Hadolint/Rule/DL30xxSpec.hs) and rule sources, plus the facts the deploy checks read
 * (base image and distro, ENV, timezone lines, CMD/ENTRYPOINT).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  dockerfileGunicorn,
  dockerfileInfo,
  guessDistro,
  lintDockerfile,
  parseDockerfile,
} from "../../src/deploy/dockerfile.js";

const codes = (text: string, rule?: string) =>
  lintDockerfile(text)
    .filter((f) => !rule || f.rule === rule)
    .map((f) => `${f.rule}:${f.line}`);
const catches = (rule: string, text: string) =>
  assert.ok(codes(text, rule).length > 0, `${rule} should fire on:\n${text}`);
const catchesNot = (rule: string, text: string) =>
  assert.deepEqual(codes(text, rule), [], `${rule} should not fire on:\n${text}`);
const onbuild = (text: string) => text.replace(/^RUN /gm, "ONBUILD RUN ");

describe("parseDockerfile", () => {
  test("instructions carry their start and end lines; continuations and comment lines inside them", () => {
    const df = parseDockerfile(
      [
        "# syntax=docker/dockerfile:1",
        "FROM python:3.12-slim AS base",
        "RUN apt-get update \\",
        "  # a comment inside",
        "",
        " && echo done",
        'CMD ["gunicorn", "app:app"]',
        "cmd gunicorn app:app",
      ].join("\n"),
    );
    assert.deepEqual(
      df.instructions.map((i) => [i.keyword, i.line, i.endLine]),
      [
        ["FROM", 2, 2],
        ["RUN", 3, 6],
        ["CMD", 7, 7],
        ["CMD", 8, 8],
      ],
    );
    assert.equal(df.instructions[1]?.args, "apt-get update  && echo done");
    assert.deepEqual(df.instructions[2]?.json, ["gunicorn", "app:app"]);
    assert.equal(df.instructions[3]?.json, null, "shell form");
  });

  test("stages: FROM ... AS alias, FROM <alias> points at its parent, global ARGs substitute in FROM", () => {
    const df = parseDockerfile(
      [
        "ARG PY=3.12",
        "ARG DIST",
        "FROM python:${PY}-slim-${DIST:-bookworm} AS build",
        "FROM build AS final",
        "FROM --platform=linux/amd64 alpine:3.20",
      ].join("\n"),
    );
    assert.deepEqual(df.globalArgs, { PY: "3.12", DIST: null });
    assert.deepEqual(
      df.stages.map((s) => [s.image, s.tag, s.alias, s.parent, s.platform]),
      [
        ["python", "3.12-slim-bookworm", "build", null, null],
        ["build", null, "final", 0, null],
        ["alpine", "3.20", null, null, "linux/amd64"],
      ],
    );
  });

  test("the escape directive switches continuations to a backtick", () => {
    const df = parseDockerfile(
      ["# escape=`", "FROM mcr.microsoft.com/windows/servercore", "RUN dir `", "  c:\\"].join("\n"),
    );
    assert.equal(df.escape, "`");
    assert.equal(df.instructions[1]?.args, "dir   c:\\");
  });

  test("RUN flags and exec form; ONBUILD wraps an instruction", () => {
    const df = parseDockerfile(
      [
        "FROM x",
        'RUN --mount=type=cache,target=/var/lib/apt/lists ["sh", "-c", "echo hi"]',
        "ONBUILD RUN apt-get install foo",
      ].join("\n"),
    );
    assert.deepEqual(df.instructions[1]?.flags, ["--mount=type=cache,target=/var/lib/apt/lists"]);
    assert.deepEqual(df.instructions[1]?.json, ["sh", "-c", "echo hi"]);
    assert.equal(df.instructions[2]?.onbuild?.keyword, "RUN");
  });

  test("hadolint pragmas: ignore applies to the next line, global ignore everywhere", () => {
    const df = parseDockerfile(
      [
        "FROM x",
        "# hadolint ignore=DL3008, DL3015 # pinned elsewhere",
        "RUN apt-get install foo",
        "# hadolint global ignore=DL3025",
      ].join("\n"),
    );
    assert.deepEqual(df.ignores, { 3: ["DL3008", "DL3015"] });
    assert.deepEqual(df.globalIgnores, ["DL3025"]);
  });
});

describe("DL3008 pin versions in apt-get install", () => {
  test("unpinned packages are caught, in RUN and ONBUILD RUN", () => {
    catches("DL3008", "RUN apt-get update && apt-get install python");
    catches("DL3008", onbuild("RUN apt-get update && apt-get install python"));
  });
  test("pinned, globbed, .deb and path packages pass", () => {
    catchesNot(
      "DL3008",
      [
        "RUN apt-get update \\",
        " && apt-get -yqq --no-install-recommends install nodejs=0.10 \\",
        " && rm -rf /var/lib/apt/lists/*",
      ].join("\n"),
    );
    catchesNot(
      "DL3008",
      [
        "RUN apt-get update && apt-get install --no-install-recommends -y \\",
        "python-demjson=2.2.2* \\",
        "wget=1.16.1* \\",
        "git=1:2.5.0* \\",
        "ruby=1:2.1.*",
      ].join("\n"),
    );
    catchesNot("DL3008", "RUN apt-get install -y python=1.2.2");
    catchesNot("DL3008", "RUN apt-get install ./wkhtmltox_0.12.5-1.bionic_amd64.deb");
    catchesNot("DL3008", onbuild("RUN apt-get -y --no-install-recommends install nodejs=0.10"));
  });
  test("-t/--target-release and its value are skipped", () => {
    catchesNot(
      "DL3008",
      "RUN apt-get install -y --no-install-recommends -t jessie-backports openjdk-8-jdk=8u131-b11-1~bpo8+1",
    );
    catches("DL3008", "RUN apt-get install -y -t bookworm-backports curl");
    // An inline value (--target-release=x) is not followed by a dropped word: the package after it counts.
    catches("DL3008", "RUN apt-get install -y --target-release=bookworm-backports curl");
    catchesNot("DL3008", "RUN apt-get install -y --target-release=bookworm-backports curl=8.*");
  });
  test("only the command named exactly apt-get counts (hadolint does not look through sudo or apt)", () => {
    catchesNot("DL3008", "RUN sudo apt-get install curl");
    catchesNot("DL3008", "RUN apt install curl");
    catches("DL3008", "RUN DEBIAN_FRONTEND=noninteractive apt-get install -y curl");
  });
  test("a ${VAR} package counts as unpinned unless the word has =", () => {
    catches("DL3008", "RUN apt-get install -y $PKG");
    catchesNot("DL3008", "RUN apt-get install -y tzdata=${TZDATA_VERSION}");
  });
});

describe("DL3009 delete the apt lists", () => {
  test("hadolint's stage semantics: final stage, or a stage reused by a later FROM", () => {
    catches("DL3009", ["FROM scratch", "RUN apt-get update && apt-get install python"].join("\n"));
    catchesNot(
      "DL3009",
      [
        "FROM ubuntu as foo",
        "RUN apt-get update && apt-get install python",
        "FROM scratch",
        "RUN echo hey!",
      ].join("\n"),
    );
    catches(
      "DL3009",
      ["FROM ubuntu as foo", "RUN hey!", "FROM scratch", "RUN apt-get update && apt-get install python"].join(
        "\n",
      ),
    );
    catches(
      "DL3009",
      ["FROM ubuntu as foo", "RUN apt-get update && apt-get install python", "FROM foo", "RUN hey!"].join(
        "\n",
      ),
    );
    catchesNot(
      "DL3009",
      [
        "FROM ubuntu as foo",
        "RUN apt-get update && apt-get install python && rm -rf /var/lib/apt/lists/*",
        "FROM foo",
        "RUN hey!",
      ].join("\n"),
    );
    // COPY --from does not count as reuse.
    catchesNot(
      "DL3009",
      [
        "FROM ubuntu AS build",
        "RUN apt-get update && apt-get install -y gcc",
        "FROM scratch",
        "COPY --from=build /x /x",
      ].join("\n"),
    );
  });
  test("the cleanup must be in the same RUN: rm with -rf or /var/lib/apt/lists/*", () => {
    catchesNot(
      "DL3009",
      "FROM debian\nRUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*",
    );
    catchesNot(
      "DL3009",
      "FROM debian\nRUN apt-get update && apt-get install -y x && rm -r /var/lib/apt/lists/*",
    );
    catches(
      "DL3009",
      "FROM debian\nRUN apt-get update && apt-get install -y x\nRUN rm -rf /var/lib/apt/lists/*",
    );
  });
  test("apt and aptitude update count too", () => {
    catches("DL3009", "FROM debian\nRUN apt update && apt install -y curl");
    catches("DL3009", "FROM debian\nRUN aptitude update && aptitude install -y wget");
  });
  test("BuildKit cache or tmpfs mounts of the lists (or of both apt dirs) count as cleanup", () => {
    catchesNot(
      "DL3009",
      "RUN --mount=type=cache,target=/var/lib/apt/lists \\\n    apt-get update && apt-get install python",
    );
    catchesNot(
      "DL3009",
      "RUN --mount=type=cache,target=/var/lib/apt \\\n    --mount=type=cache,target=/var/cache/apt \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && \\\n    apt-get update && apt-get install python",
    );
    catchesNot(
      "DL3009",
      "RUN --mount=type=tmpfs,target=/var/cache/apt --mount=type=tmpfs,target=/var/lib/apt apt-get update",
    );
    catches(
      "DL3009",
      "RUN --mount=type=cache,target=/var/cache/apt \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && \\\n    apt-get update && apt-get install python",
    );
    catches(
      "DL3009",
      "RUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN --mount=type=cache,target=/var/lib/apt \\\n    apt-get update && apt-get install python",
    );
  });
  test("ONBUILD RUN is always judged as the final image", () => {
    catches(
      "DL3009",
      onbuild(
        [
          "FROM ubuntu as foo",
          "RUN apt-get update && apt-get install python",
          "FROM scratch",
          "RUN echo hey!",
        ].join("\n"),
      ),
    );
  });
  test("reported at the RUN's first line, with hadolint's message", () => {
    const f = lintDockerfile(
      "FROM debian\n\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends curl=8.*\n",
    ).filter((x) => x.rule === "DL3009");
    assert.deepEqual(f, [
      {
        rule: "DL3009",
        line: 3,
        message: "Delete the apt lists (/var/lib/apt/lists) after installing something",
      },
    ]);
  });
});

describe("DL3015 --no-install-recommends", () => {
  test("hadolint's cases", () => {
    catchesNot("DL3015", "RUN apt-get install --no-install-recommends python");
    catches("DL3015", "RUN apt-get install python");
    catches("DL3015", "RUN apt-get -y install python");
    catchesNot("DL3015", "RUN apt-get -o APT::Install-Recommends=false install python");
    catches("DL3015", onbuild("RUN apt-get -y install python"));
  });
});

describe("DL3018 pin versions in apk add", () => {
  test("hadolint's cases", () => {
    catches("DL3018", "RUN apk add flex");
    catchesNot("DL3018", "RUN apk add flex=2.6.4-r1");
    catchesNot("DL3018", "RUN apk add --no-cache git~2.52.0");
    catchesNot("DL3018", "RUN apk add --no-cache flex=2.6.4-r1 \\\n && pip install -r requirements.txt");
    catches("DL3018", "RUN apk add --no-cache \\\nflex=2.6.4-r1 \\\nlibffi \\\npython2=2.7.13-r1");
    catchesNot(
      "DL3018",
      "RUN apk add \\\n--virtual build-dependencies \\\npython-dev=1.1.1 build-base=2.2.2 wget=3.3.3 \\\n&& apk del build-dependencies",
    );
    catchesNot(
      "DL3018",
      "RUN apk add --no-cache \\\n--repository https://nl.alpinelinux.org/alpine/edge/testing \\\nflow=0.78.0-r0",
    );
    catchesNot(
      "DL3018",
      "RUN apk add --no-cache \\\n--repository=https://nl.alpinelinux.org/alpine/edge/testing \\\nflow=0.78.0-r0",
    );
    catchesNot(
      "DL3018",
      "RUN apk add --no-cache \\\n-X https://nl.alpinelinux.org/alpine/edge/testing \\\nflow=0.78.0-r0",
    );
    catchesNot("DL3018", "RUN apk add mypackage-1.1.1.apk");
    catches("DL3018", onbuild("RUN apk add flex"));
  });
  test("pinned means the word has = or ~ (hadolint's source): unquoted >= is a redirection (hadolint#782), quoted >= has an =, quoted > alone is not a pin", () => {
    catches("DL3018", "RUN apk add --no-cache musl-dev>=1.1");
    catchesNot("DL3018", "RUN apk add --no-cache 'musl-dev>=1.1'");
    catches("DL3018", "RUN apk add --no-cache 'musl-dev>1.1'");
  });
});

describe("DL3025 JSON notation for CMD, ENTRYPOINT and (2.15+) HEALTHCHECK", () => {
  test("shell form is caught, exec form passes", () => {
    catches("DL3025", "FROM node as foo\nENTRYPOINT something");
    catchesNot("DL3025", 'FROM scratch as build\nENTRYPOINT ["foo", "bar"]');
    catches("DL3025", "FROM node as foo\nCMD something");
    catchesNot("DL3025", 'FROM scratch as build\nCMD ["foo", "bar"]\nCMD [ "foo", "bar" ]');
  });
  test("HEALTHCHECK CMD in shell form, with or without options first; NONE and exec form pass", () => {
    catches("DL3025", "FROM scratch\nHEALTHCHECK CMD foobar");
    catches("DL3025", "FROM x\nHEALTHCHECK --interval=30s \\\n  CMD curl -f http://localhost/ || exit 1");
    catchesNot("DL3025", 'FROM scratch\nHEALTHCHECK CMD [ "foobar" ]');
    catchesNot("DL3025", 'FROM x\nHEALTHCHECK --interval=30s CMD ["curl", "-f", "http://localhost/"]');
    catchesNot("DL3025", "FROM x\nHEALTHCHECK NONE");
    assert.deepEqual(
      codes("FROM x\nHEALTHCHECK --interval=30s \\\n  CMD curl -f http://localhost/ || exit 1"),
      ["DL3025:2"],
    );
  });
});

describe("DL4006 SHELL -o pipefail before a RUN with a pipe", () => {
  const pipe = "RUN wget -O - https://some.site | wc -l file > /number";
  test("hadolint's cases", () => {
    catches("DL4006", "FROM scratch\nRUN wget -O - https://some.site | wc -l > /number");
    catchesNot("DL4006", "FROM scratch as build\nRUN wget -O - https://some.site && wc -l file > /number");
    for (const shell of [
      '["/bin/bash", "-eo", "pipefail", "-c"]',
      '["/bin/bash", "-e", "-o", "pipefail", "-c"]',
      '["/bin/bash", "-o", "errexit", "-o", "pipefail", "-c"]',
      '["/bin/zsh", "-o", "pipefail", "-c"]',
      '["/usr/bin/bash", "-o", "pipefail", "-c"]',
      '["/usr/local/bin/zsh", "-o", "pipefail", "-c"]',
      '["/bin/ash", "-o", "pipefail", "-c"]',
    ])
      catchesNot("DL4006", `FROM scratch as build\nSHELL ${shell}\n${pipe}`);
    catchesNot(
      "DL4006",
      'FROM scratch as build\nSHELL ["pwsh", "-c"]\nRUN Get-Variable PSVersionTable | Select-Object -ExpandProperty Value',
    );
    catchesNot(
      "DL4006",
      'FROM x\nSHELL [ "powershell.exe" ]\nRUN Get-Variable PSVersionTable | Select-Object -ExpandProperty Value',
    );
    catchesNot("DL4006", 'FROM x\nSHELL [ "cmd.exe", "/c" ]\nRUN a | b');
    catches("DL4006", `FROM scratch as build\nSHELL ["/bin/sh", "-o", "pipefail", "-c"]\n${pipe}`);
  });
  test("SHELL resets at every FROM, and a later SHELL without pipefail turns it off", () => {
    assert.deepEqual(
      codes(
        `FROM scratch as build\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n${pipe}\nFROM scratch as build2\n${pipe}`,
        "DL4006",
      ),
      ["DL4006:5"],
    );
    assert.deepEqual(
      codes(
        `FROM scratch\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n${pipe}\nSHELL ["/bin/sh", "-c"]\n${pipe}`,
        "DL4006",
      ),
      ["DL4006:5"],
    );
  });
  test("what is a pipe: not ||, not inside quotes; yes inside $(...) and in an exec-form RUN's joined words", () => {
    catchesNot("DL4006", "FROM x\nRUN false || true");
    catchesNot("DL4006", 'FROM x\nRUN echo "a | b"');
    catches("DL4006", "FROM x\nRUN echo $(cat /etc/os-release | head -1)");
    catches("DL4006", 'FROM x\nRUN ["sh", "-c", "curl x | sh"]');
    catches("DL4006", "FROM x\nRUN make 2>&1 |& tee log");
  });
});

describe("ignore pragmas", () => {
  test("`# hadolint ignore=` on the line right before the instruction", () => {
    assert.deepEqual(
      codes(
        "FROM debian\n# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
      ),
      [],
    );
    // A blank line in between: the pragma applies to the blank line, not to the RUN.
    assert.deepEqual(
      codes("FROM debian\n# hadolint ignore=DL3008\n\nRUN apt-get install -y --no-install-recommends curl"),
      ["DL3008:4"],
    );
  });
  test("`# hadolint global ignore=` anywhere", () => {
    assert.deepEqual(codes("FROM x\nCMD a b\n# hadolint global ignore=DL3025\nENTRYPOINT c"), []);
  });
});

describe("dockerfileInfo", () => {
  test("ENV forms, substitution from ARG and earlier ENV, the TZ lines, CMD of the final stage", () => {
    const df = parseDockerfile(
      [
        "ARG ZONE=Asia/Shanghai",
        "FROM python:3.12-slim-bookworm AS base",
        "ARG ZONE",
        "ENV TZ=${ZONE} WORKERS_COUNT=2",
        "ENV GUNICORN_CMD_ARGS --max-requests 1000 --preload",
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata \\",
        ' && ln -snf "/usr/share/zoneinfo/$TZ" /etc/localtime && echo "$TZ" > /etc/timezone \\',
        " && rm -rf /var/lib/apt/lists/*",
        "RUN python3 -c \"import zoneinfo, os; zoneinfo.ZoneInfo(os.environ['TZ'])\"",
        "WORKDIR /app",
        'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]',
        "FROM base",
        "ENV FLASK_DEBUG=0",
      ].join("\n"),
    );
    const info = dockerfileInfo(df);
    assert.ok(info);
    assert.equal(info.stage, 1);
    assert.equal(info.base.ref, "python:3.12-slim-bookworm");
    assert.deepEqual(
      [info.distro.id, info.distro.version, info.distro.codename],
      ["debian", "12", "bookworm"],
    );
    assert.deepEqual(Object.fromEntries(Object.entries(info.env).map(([k, v]) => [k, v.value])), {
      TZ: "Asia/Shanghai",
      WORKERS_COUNT: "2",
      GUNICORN_CMD_ARGS: "--max-requests 1000 --preload",
      FLASK_DEBUG: "0",
    });
    assert.deepEqual(info.tz.tzEnv, { value: "Asia/Shanghai", line: 4 });
    assert.deepEqual(info.tz.localtime, [
      { kind: "symlink", source: "/usr/share/zoneinfo/Asia/Shanghai", zone: "Asia/Shanghai", line: 6 },
    ]);
    assert.deepEqual(info.tz.timezoneFile, [{ value: "Asia/Shanghai", line: 6 }]);
    assert.deepEqual(info.tz.tzdataInstall, [{ manager: "apt", line: 6, noninteractive: true }]);
    assert.equal(info.tz.buildCheck, 9);
    assert.deepEqual(info.cmd, {
      line: 11,
      json: ["gunicorn", "-c", "gunicorn.conf.py", "app:app"],
      shell: null,
    });
    assert.equal(info.workdir, "/app");
  });

  test("Alpine: cp of the zone file, then apk del tzdata", () => {
    const info = dockerfileInfo(
      parseDockerfile(
        "FROM alpine:3.20\nRUN apk add --no-cache tzdata && cp /usr/share/zoneinfo/Europe/Berlin /etc/localtime && apk del tzdata\n",
      ),
    );
    assert.ok(info);
    assert.equal(info.distro.id, "alpine");
    assert.deepEqual(info.tz.localtime, [
      { kind: "copy", source: "/usr/share/zoneinfo/Europe/Berlin", zone: "Europe/Berlin", line: 2 },
    ]);
    assert.deepEqual(info.tz.tzdataRemove, [{ manager: "apk", line: 2 }]);
  });

  test("a build target picks the stage; ENTRYPOINT in a later stage resets an inherited CMD", () => {
    const df = parseDockerfile(
      'FROM python:3.12-alpine AS app\nCMD ["gunicorn", "app:app"]\nFROM app AS worker\nENTRYPOINT ["python", "worker.py"]\n',
    );
    assert.deepEqual(dockerfileInfo(df, { target: "app" })?.cmd?.json, ["gunicorn", "app:app"]);
    const worker = dockerfileInfo(df);
    assert.equal(worker?.cmd, null);
    assert.deepEqual(worker?.entrypoint?.json, ["python", "worker.py"]);
  });

  test("the gunicorn invocation of the final stage, through ENTRYPOINT + shell-form CMD", () => {
    const info = dockerfileInfo(
      parseDockerfile(
        'FROM python:3.12-slim\nENV WORKERS=3\nENTRYPOINT ["tini", "--"]\nCMD exec gunicorn -w $WORKERS --preload app:app\n',
      ),
    );
    assert.ok(info);
    assert.deepEqual(dockerfileGunicorn(info)?.args, ["-w", "3", "--preload", "app:app"]);
    assert.equal(
      dockerfileGunicorn(
        dockerfileInfo(parseDockerfile('FROM x\nCMD ["python", "worker.py"]\n')) as NonNullable<
          ReturnType<typeof dockerfileInfo>
        >,
      ),
      null,
    );
  });

  test("distro guesses from image names", () => {
    assert.deepEqual(
      [
        guessDistro("python", "3.13-slim"),
        guessDistro("python", "3.12-slim-trixie"),
        guessDistro("python", "3.12-alpine3.20"),
        guessDistro("ubuntu", "22.04"),
        guessDistro("gcr.io/distroless/python3-debian12", null),
        guessDistro("registry.access.redhat.com/ubi9/python-311", null),
        guessDistro("debian", "bookworm-slim"),
      ].map((d) => `${d.id}:${d.version ?? "-"}`),
      ["debian:13", "debian:13", "alpine:3.20", "ubuntu:22.04", "distroless:12", "rhel:9", "debian:12"],
    );
  });
});
