import { checkSchedulerRoutes } from "../../nginx/routes-check.js";
import type { CheckDefinition, CheckResult } from "../types.js";

export const routesNginx: CheckDefinition = {
  id: "routes.nginx",
  group: "routes",
  needs: ["routes"],
  title: "nginx sends the scheduler API to the scheduler instance",
  description:
    "Reads the nginx configuration (--nginx FILE, or nginx.conf in the app dir) and follows nginx's own location algorithm for the scheduler paths (<prefix>, <prefix>/jobs/..., the app's own routes) and their neighbours: every scheduler path must reach an upstream whose members are only the scheduler instance, and nothing else may. Names each trap (the 301 auto-redirect before regexes, a bare /scheduler prefix also taking /schedulerX, a regex stealing /scheduler/jobs/x.js, ^~ guarding only its own level) with the exact fix, and runs nginx -t when nginx is installed.",
  run(facts): CheckResult {
    const r = facts.routes;
    if (!r.file) {
      return {
        status: "skip",
        summary: `no nginx configuration found (looked for ${r.searched.map((s) => s.replace(`${facts.app.dir}/`, "")).join(", ")}); give --nginx FILE`,
        details: [],
        evidence: {},
      };
    }
    const evidence: Record<string, unknown> = {
      file: r.file,
      apiPrefix: r.apiPrefix,
      apiPrefixSource: r.apiPrefixSource,
      extraRoutes: r.extraRoutes,
      nginxTest: r.nginxTest
        ? { ok: r.nginxTest.ok, available: r.nginxTest.available, errors: r.nginxTest.errors }
        : null,
    };
    if (r.parseError) {
      return { status: "fail", summary: `${r.parseError}`, details: [], evidence };
    }
    if (!r.server) {
      return {
        status: "fail",
        summary: `${r.file}: no server block in an http context`,
        details: [],
        evidence,
      };
    }
    const result = checkSchedulerRoutes(r.server, { apiPrefix: r.apiPrefix, extraRoutes: r.extraRoutes });
    evidence.server = r.serverReason;
    evidence.probes = result.probes.map((p) => ({
      uri: p.uri,
      match: p.match,
      redirect: p.redirect,
      steps: p.steps,
    }));
    const details: string[] = [];
    const commands: string[] = [];
    let status: "pass" | "warn" | "fail" = "pass";
    for (const f of r.configFindings) {
      status = "fail";
      details.push(`${f.file}:${f.line}: ${f.message}`);
    }
    if (r.nginxTest?.available && !r.nginxTest.ok) {
      status = "fail";
      details.push(
        `nginx -t failed: ${r.nginxTest.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join("; ") || r.nginxTest.output.trim().split("\n")[0]}`,
      );
    }
    for (const f of result.findings) {
      if (f.severity === "fail") status = "fail";
      else if (status === "pass") status = "warn";
      details.push(f.message);
      commands.push(...f.fix);
    }
    const summary =
      status === "pass"
        ? `${r.apiPrefix} and ${r.apiPrefix}/... reach only the scheduler instance (${r.file}${r.nginxTest?.available ? ", nginx -t ok" : ""})`
        : (details[0] ?? "");
    return {
      status,
      summary,
      details: status === "pass" ? details : details.slice(1),
      evidence,
      ...(commands.length > 0 ? { fix: { text: `In ${r.file}:`, commands: [...new Set(commands)] } } : {}),
    };
  },
};
