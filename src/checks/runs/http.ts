import type { CheckDefinition, CheckResult } from "../types.js";

export const runsHttp: CheckDefinition = {
  id: "runs.http",
  group: "runs",
  needs: ["live"],
  title: "Scheduler API through the load balancer",
  description:
    "Calls the Flask-APScheduler info endpoint (--url, e.g. https://app.example/scheduler) --samples times through the load balancer on fresh connections and counts the distinct current_host values and how many answer running: true. More than one running host means duplicate schedulers; several hosts answering means the scheduler routes are not pinned to the scheduler instance.",
  run(facts): CheckResult {
    const http = facts.live.http;
    if (!http) return { status: "skip", summary: "no --url given", details: [], evidence: {} };
    const evidence = {
      url: http.url,
      samples: http.samples,
      hosts: http.hosts,
      errors: http.errors,
      answers: http.answers,
    };
    if (http.errors === http.samples) {
      const first = http.answers.find((a) => a.error)?.error ?? "no answer";
      return {
        status: "error",
        summary: `${http.url}: all ${http.samples} requests failed (${first})`,
        details: [],
        evidence,
      };
    }
    const running = http.hosts.filter((h) => h.running > 0);
    const details = http.hosts.map(
      (h) => `${h.host}: ${h.answers} answer${h.answers > 1 ? "s" : ""}, running: true in ${h.running}`,
    );
    if (http.errors > 0) details.push(`${http.errors} of ${http.samples} requests failed`);
    const pin = {
      text: "Route the scheduler's endpoints to the scheduler instance only (nginx):",
      commands: [
        "location = /scheduler { proxy_pass http://scheduler; }",
        "location ^~ /scheduler/ { proxy_pass http://scheduler; }",
      ],
    };
    if (running.length > 1) {
      return {
        status: "fail",
        summary: `${running.length} hosts say running: true (${running.map((h) => h.host).join(", ")}): each runs every job`,
        details,
        evidence,
        fix: pin,
      };
    }
    if (http.hosts.length > 1) {
      return {
        status: "fail",
        summary: `${http.hosts.length} hosts answer ${http.url}: the scheduler API is not pinned to one instance, so calls land on schedulers that do not run`,
        details,
        evidence,
        fix: pin,
      };
    }
    if (running.length === 0) {
      return {
        status: "warn",
        summary: `${http.hosts[0]?.host ?? "the host"} answers but says running: false`,
        details,
        evidence,
      };
    }
    return {
      status: http.errors > 0 ? "warn" : "pass",
      summary: `one host (${running[0]?.host}) answers and runs the scheduler`,
      details,
      evidence,
    };
  },
};
