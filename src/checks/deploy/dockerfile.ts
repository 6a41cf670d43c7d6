import { type DockerfileInfo, HADOLINT_SEVERITY } from "../../deploy/dockerfile.js";
import { shlexSplit } from "../../deploy/shell.js";
import type { DockerfileFact } from "../../deploy/types.js";
import type { OsFacts } from "../../facts/types.js";
import type { CheckResult } from "../types.js";
import { BUILD_TIME_CHECK, dockerfileTzLines } from "../tz/common.js";
import { type DeployCheckDefinition, type FactsWithDeploy, skip } from "./common.js";

/** Names the tz project keeps only for backward compatibility; Debian 13 ships them in tzdata-legacy. */
const LEGACY = new Set(
  "PRC ROC ROK W-SU GB GB-Eire NZ NZ-CHAT Navajo Cuba Egypt Eire Hongkong Iceland Iran Israel Jamaica Japan Kwajalein Libya Poland Portugal Singapore Turkey UCT Universal Zulu Greenwich GMT0 GMT+0 GMT-0 EST MST HST EST5EDT CST6CDT MST7MDT PST8PDT CET EET MET WET".split(
    " ",
  ),
);
const LEGACY_PREFIX = /^(US|Canada|Mexico|Brazil|Chile)\//;
const SINGLE_NAMES = new Set(["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Factory", ...LEGACY]);

interface Finding {
  level: "fail" | "warn" | "info";
  line: number;
  text: string;
  fix?: { text: string; commands: string[] };
}

function zoneShape(tz: string): "zone" | "posix" | "abbreviation" | "empty" {
  if (tz === "") return "empty";
  const t = tz.replace(/^:/, "");
  if (SINGLE_NAMES.has(t) || /^[A-Za-z][A-Za-z_+-]*(\/[A-Za-z0-9_+-]+)+$/.test(t)) return "zone";
  if (/^(<[^>]+>|[A-Za-z]{3,})[+-]?\d/.test(t)) return "posix";
  return "abbreviation";
}

function osLike(info: DockerfileInfo): OsFacts {
  const pm = info.packageManagers.includes("apk")
    ? "apk"
    : info.packageManagers.includes("apt")
      ? "apt"
      : info.distro.id === "alpine"
        ? "apk"
        : info.distro.id === "debian" || info.distro.id === "ubuntu"
          ? "apt"
          : info.distro.id === "rhel"
            ? "dnf"
            : null;
  return {
    id: info.distro.id === "unknown" || info.distro.id === "distroless" ? null : info.distro.id,
    idLike: [],
    versionId: info.distro.version,
    codename: info.distro.codename,
    prettyName: null,
    libc: info.distro.id === "alpine" ? "musl" : "glibc",
    libcEvidence: info.distro.why,
    packageManager: pm,
  } as OsFacts;
}

function tzFindings(df: DockerfileFact, info: DockerfileInfo, facts: FactsWithDeploy): Finding[] {
  const out: Finding[] = [];
  const tz = info.tz;
  const tzEnv = tz.tzEnv;
  const links = tz.localtime;
  const intended =
    (tzEnv && zoneShape(tzEnv.value) === "zone" ? tzEnv.value : null) ??
    links.find((l) => l.zone)?.zone ??
    facts.app?.schedulerTimezone?.[0]?.value ??
    "Etc/UTC";
  const recipe = dockerfileTzLines(osLike(info), intended);
  const recipeFix = {
    text: `Set the zone once and derive the rest from it (${info.distro.why}):`,
    commands: [...recipe, BUILD_TIME_CHECK],
  };
  const trixie = info.distro.id === "debian" && Number(info.distro.version ?? "0") >= 13;
  const legacyInstalled = df.parsed.instructions.some(
    (i) => i.keyword === "RUN" && /tzdata-legacy/.test(i.args),
  );
  if (tzEnv) {
    const shape = zoneShape(tzEnv.value);
    if (shape === "empty")
      out.push({
        level: "warn",
        line: tzEnv.line,
        text: 'ENV TZ= is empty: glibc then uses UTC while tzlocal ignores TZ="" and reads /etc/timezone and /etc/localtime, so the two can disagree',
        fix: recipeFix,
      });
    else if (shape === "abbreviation")
      out.push({
        level: "fail",
        line: tzEnv.line,
        text: `TZ=${tzEnv.value} is not a zone name: glibc silently falls back to UTC, and tzlocal 4.x/5.x raise ZoneInfoNotFoundError`,
        fix: recipeFix,
      });
    else if (shape === "posix")
      out.push({
        level: "warn",
        line: tzEnv.line,
        text: `TZ=${tzEnv.value} is a POSIX rule, not a zone name: libc applies it, tzlocal cannot name it and APScheduler needs a zone; use an IANA name`,
        fix: recipeFix,
      });
    else if (
      (LEGACY.has(tzEnv.value) || LEGACY_PREFIX.test(tzEnv.value)) &&
      !["UTC", "Etc/UTC"].includes(tzEnv.value)
    ) {
      if (trixie && !legacyInstalled)
        out.push({
          level: "fail",
          line: tzEnv.line,
          text: `TZ=${tzEnv.value} is a legacy alias, and ${info.base.ref} is Debian 13 (trixie), whose tzdata moved such names to tzdata-legacy: ZoneInfo("${tzEnv.value}") raises ZoneInfoNotFoundError`,
          fix: {
            text: "Use the canonical name (or install tzdata-legacy):",
            commands: dockerfileTzLines(osLike(info), "Area/City").slice(0, 1),
          },
        });
      else
        out.push({
          level: "warn",
          line: tzEnv.line,
          text: `TZ=${tzEnv.value} is a legacy alias (tzdata "backward"); Debian 13 moved these to tzdata-legacy: use the canonical name`,
        });
    }
  }
  // The sources must name one zone.
  const named: { what: string; zone: string; line: number }[] = [];
  if (tzEnv && zoneShape(tzEnv.value) === "zone")
    named.push({ what: "ENV TZ", zone: tzEnv.value, line: tzEnv.line });
  for (const l of links)
    if (l.zone)
      named.push({
        what: `/etc/localtime ${l.kind === "symlink" ? "→" : "copied from"} ${l.source}`,
        zone: l.zone,
        line: l.line,
      });
  for (const t of tz.timezoneFile)
    if (t.value && t.value !== "(piped)") named.push({ what: "/etc/timezone", zone: t.value, line: t.line });
  const distinct = [...new Set(named.map((n) => n.zone))];
  if (distinct.length > 1) {
    const [a, b] = [named[0], named.find((n) => n.zone !== named[0]?.zone)];
    out.push({
      level: "fail",
      line: b?.line ?? 1,
      text: `${a?.what} says ${a?.zone} but ${b?.what} says ${b?.zone}: tzlocal raises "Multiple conflicting time zone configurations found" (4.x) or picks one (5.x), and libc follows yet another`,
      fix: recipeFix,
    });
  }
  const cfg = facts.app?.schedulerTimezone?.[0];
  if (
    cfg &&
    distinct.length === 1 &&
    distinct[0] !== cfg.value &&
    !(["UTC", "Etc/UTC"].includes(cfg.value) && ["UTC", "Etc/UTC"].includes(distinct[0] ?? ""))
  )
    out.push({
      level: "warn",
      line: named[0]?.line ?? 1,
      text: `the image runs in ${distinct[0]} but SCHEDULER_TIMEZONE=${cfg.value} (${cfg.source}): triggers built without timezone= and the logs use the container's zone`,
      fix: {
        text: "Run the container in the scheduler's zone:",
        commands: dockerfileTzLines(osLike(info), cfg.value),
      },
    });
  // apk del tzdata after copying/linking.
  for (const r of tz.tzdataRemove) {
    const copied = links.find((l) => l.kind === "copy" && l.line <= r.line);
    const linked = links.find((l) => l.kind === "symlink" && l.line <= r.line);
    out.push({
      level: "fail",
      line: r.line,
      text: copied
        ? `${r.manager === "apk" ? "apk del" : "apt-get remove"} tzdata after copying the zone file: libc keeps working from the copy, but tzlocal reads /etc/timezone (or TZ) and raises ZoneInfoNotFoundError: 'No time zone found with key ${copied.zone ?? intended}'`
        : linked
          ? `${r.manager === "apk" ? "apk del" : "apt-get remove"} tzdata after linking /etc/localtime into it: the link dangles, libc falls back to UTC and tzlocal finds no zone`
          : `${r.manager === "apk" ? "apk del" : "apt-get remove"} tzdata: TZ and zone names stop resolving (ZoneInfoNotFoundError)`,
      fix: { text: "Keep tzdata installed:", commands: recipe },
    });
  }
  // tzdata missing where the base has none.
  const baseHasTzdata = /^python$|\/python$/.test(info.base.image) || info.distro.id === "distroless";
  if (
    tzEnv &&
    zoneShape(tzEnv.value) === "zone" &&
    tz.tzdataInstall.length === 0 &&
    !baseHasTzdata &&
    (info.distro.id === "alpine" || info.distro.id === "ubuntu")
  )
    out.push({
      level: "fail",
      line: tzEnv.line,
      text: `TZ=${tzEnv.value} but ${info.base.ref} has no tzdata and nothing installs it: libc silently uses UTC and tzlocal says "tzlocal() does not support non-zoneinfo timezones like ${tzEnv.value}"`,
      fix: recipeFix,
    });
  // Ubuntu's tzdata asks a question without DEBIAN_FRONTEND=noninteractive.
  for (const t of tz.tzdataInstall)
    if (t.manager === "apt" && !t.noninteractive && info.distro.id === "ubuntu")
      out.push({
        level: "warn",
        line: t.line,
        text: 'apt-get install tzdata without DEBIAN_FRONTEND=noninteractive: on Ubuntu the build stops at the "Geographic area:" prompt',
        fix: recipeFix,
      });
  if ((tzEnv || links.length > 0) && tz.buildCheck === null && out.every((f) => f.level === "info"))
    out.push({
      level: "info",
      line: tzEnv?.line ?? links[0]?.line ?? 1,
      text: "no build-time check: add one so a bad zone fails the build, not the first worker",
      fix: { text: "", commands: [BUILD_TIME_CHECK] },
    });
  return out;
}

function jsonForm(keyword: string, shellText: string): string {
  const hasShell = /[|&;<>()$`\\*?]|\b(exec|cd|export)\b/.test(shellText);
  const words = shlexSplit(shellText);
  const argv = !hasShell && !words.error ? words.words : ["/bin/sh", "-c", shellText];
  return `${keyword} [${argv.map((a) => JSON.stringify(a)).join(", ")}]`;
}

function lintFix(
  rule: string,
  line: number,
  df: DockerfileFact,
  info: DockerfileInfo | null,
): { text: string; commands: string[] } {
  const instr = df.parsed.instructions.find((i) => i.line === line);
  const args = instr?.args ?? "";
  switch (rule) {
    case "DL3025": {
      if (instr?.keyword === "HEALTHCHECK") {
        const m = /^([\s\S]*?)CMD\s+([\s\S]*)$/i.exec(args);
        const opts = `${instr.flags.join(" ")} ${m?.[1] ?? ""}`.trim();
        return {
          text: `Exec form for HEALTHCHECK (line ${line}):`,
          commands: [`HEALTHCHECK ${opts ? `${opts} ` : ""}${jsonForm("CMD", m?.[2] ?? "")}`],
        };
      }
      return {
        text: `Exec form, so gunicorn is PID 1 and receives SIGTERM (line ${line}):`,
        commands: [jsonForm(instr?.keyword ?? "CMD", args)],
      };
    }
    case "DL4006": {
      const sh = info?.distro.id === "alpine" ? "/bin/ash" : "/bin/bash";
      return {
        text: `Fail the RUN when any command of the pipe fails: before line ${line}, add`,
        commands: [`SHELL ["${sh}", "-o", "pipefail", "-c"]`],
      };
    }
    case "DL3009":
      return {
        text: `Clean the apt lists in the same RUN (line ${line}):`,
        commands: [
          `${instr?.raw.replace(/\s+$/, "") ?? "RUN ..."} \\`,
          " && rm -rf /var/lib/apt/lists/*",
        ].map((l, k) => (k === 0 ? `RUN ${l.replace(/^RUN\s+/, "")}` : l)),
      };
    case "DL3015":
      return {
        text: `Add --no-install-recommends (line ${line}):`,
        commands: [`RUN ${args.replace(/apt-get\s+install\b/g, "apt-get install --no-install-recommends")}`],
      };
    case "DL3008":
      return {
        text: `Pin the apt packages (line ${line}); apt accepts a version glob such as tzdata=2025*. List the candidates with:`,
        commands: [
          `docker run --rm ${info?.base.ref ?? "<base-image>"} sh -c 'apt-get update -qq && apt-cache policy <package>'`,
        ],
      };
    case "DL3018":
      return {
        text: `Pin the apk packages (line ${line}) with <package>=<version> or <package>~<version>. List the candidates with:`,
        commands: [`docker run --rm ${info?.base.ref ?? "<base-image>"} apk policy <package>`],
      };
    default:
      return { text: "", commands: [] };
  }
}

export const deployDockerfile: DeployCheckDefinition = {
  id: "deploy.dockerfile",
  group: "deploy",
  needs: ["deploy"],
  title: "Dockerfile: timezone lines and hadolint rules",
  description:
    "Reads every Dockerfile in the app dir: the timezone setup of the stage that runs (ENV TZ a real zone name, /etc/localtime linked to the same zone, /etc/timezone agreeing, tzdata installed and kept — no `apk del tzdata` after copying —, Debian 13's tzdata-legacy for legacy names, DEBIAN_FRONTEND on Ubuntu, a build-time check), and hadolint's DL3008, DL3009, DL3015, DL3018, DL3025 (CMD, ENTRYPOINT, HEALTHCHECK) and DL4006 with hadolint's semantics and `# hadolint ignore=` pragmas.",
  run(facts): CheckResult {
    const dfs = facts.deploy.dockerfiles;
    if (dfs.length === 0) return skip(`no Dockerfile in ${facts.deploy.appDir}`);
    const findings: (Finding & { file: string; rule?: string })[] = [];
    const rows: string[][] = [];
    const perFile: Record<string, unknown>[] = [];
    for (const df of dfs) {
      const info = df.info;
      if (info) for (const f of tzFindings(df, info, facts)) findings.push({ ...f, file: df.path });
      for (const l of df.lint) {
        const sev = HADOLINT_SEVERITY[l.rule] ?? "warning";
        findings.push({
          level: sev === "warning" || sev === "error" ? "warn" : "info",
          line: l.line,
          text: `${l.rule} ${sev}: ${l.message}`,
          file: df.path,
          rule: l.rule,
          fix: lintFix(l.rule, l.line, df, info),
        });
        rows.push([`${df.path}:${l.line}`, l.rule, sev, l.message.slice(0, 70)]);
      }
      perFile.push({
        path: df.path,
        base: info?.base.ref ?? null,
        distro: info?.distro ?? null,
        stage: info?.stageName ?? info?.stage ?? null,
        tz: info?.tz ?? null,
        env: info
          ? Object.fromEntries(
              Object.entries(info.env).filter(([k]) =>
                /^(TZ|WORKERS_COUNT|WEB_CONCURRENCY|GUNICORN_CMD_ARGS|FLASK_DEBUG|FLASK_ENV|SCHEDULER_\w+|RUN_SCHEDULER)$/.test(
                  k,
                ),
              ),
            )
          : {},
        cmd: info?.cmd ?? null,
        entrypoint: info?.entrypoint ?? null,
        lint: df.lint,
      });
    }
    const evidence = {
      table: { columns: ["where", "rule", "severity", "message"], rows },
      dockerfiles: perFile,
    };
    const rank = { fail: 2, warn: 1, info: 0 } as const;
    findings.sort((a, b) => rank[b.level] - rank[a.level] || a.file.localeCompare(b.file) || a.line - b.line);
    const details = findings.map(
      (f) => `${f.file}:${f.line}: ${f.level === "info" ? "(info) " : ""}${f.text}`,
    );
    const top = findings[0];
    if (!top || top.level === "info") {
      const d = dfs[0] as DockerfileFact;
      const tz = d.info?.tz;
      return {
        status: "pass",
        summary: `${dfs.map((x) => x.path).join(", ")}: ${tz?.tzEnv ? `TZ=${tz.tzEnv.value}${tz.localtime[0] ? ` with /etc/localtime linked to ${tz.localtime[0].zone ?? tz.localtime[0].source}` : ""}` : tz?.localtime[0] ? `/etc/localtime → ${tz.localtime[0].zone}` : "no timezone set (the container runs in UTC)"}; no hadolint warnings (DL3008 DL3009 DL3015 DL3018 DL3025 DL4006)${findings.length ? `, ${findings.length} info` : ""}`,
        details,
        evidence,
      };
    }
    const warns = findings.filter((f) => f.level !== "info");
    return {
      status: top.level,
      summary: `${top.file}:${top.line}: ${top.text}${warns.length > 1 ? ` (+${warns.length - 1} more)` : ""}`,
      details,
      evidence,
      fix: top.fix ? { text: top.fix.text, commands: top.fix.commands } : undefined,
    };
  },
};
