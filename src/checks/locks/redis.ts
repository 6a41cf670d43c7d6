import { formatDuration } from "../../render/duration.js";
import type { CheckDefinition, CheckResult } from "../types.js";
import { lockTable, REDIS_LOCK_KINDS } from "./common.js";

export const locksRedis: CheckDefinition = {
  id: "locks.redis",
  group: "locks",
  needs: ["live"],
  title: "Scheduler locks in Redis",
  description:
    "Scans each --redis server (every master of a cluster) once, read-only, and recognises the lock keys of redis-py, python-redis-lock, pottery, celery-redbeat, rq, rq-scheduler, celery-beatx, BullMQ and schedctl itself: present, TTL set, renewing (two samples), owner decoded. A lock without a TTL never expires when its holder dies; APScheduler job stores carry no lock at all.",
  run(facts): CheckResult {
    const servers = facts.live.redis;
    if (servers.length === 0)
      return { status: "skip", summary: "no --redis URL given", details: [], evidence: {} };
    const down = servers.filter((s) => !s.ok);
    const all = servers.flatMap((s) => s.locks);
    const locks = all.filter((l) => REDIS_LOCK_KINDS.has(l.kind));
    const evidence = {
      servers: servers.map((s) => ({
        url: s.url,
        mode: s.mode,
        ok: s.ok,
        error: s.error,
        nodes: s.nodes,
        keysScanned: s.keysScanned,
        notes: s.notes,
      })),
      table: lockTable(all),
    };
    if (down.length > 0) {
      return {
        status: "error",
        summary: down.map((s) => `${s.url}: ${s.error}`).join("; "),
        details: [],
        evidence,
      };
    }
    const details: string[] = [];
    let status: "pass" | "warn" | "fail" = "pass";
    for (const l of locks) {
      if (l.state === "no-ttl") {
        status = "fail";
        details.push(
          `${l.name} (${l.kind}) has no TTL: if its holder dies it is never released and no scheduler runs again`,
        );
      } else if (l.state === "expiring") {
        if (status === "pass") status = "warn";
        details.push(
          `${l.name} (${l.kind}) was not renewed between two samples and expires in ${formatDuration(l.ttlMs)}: its holder (${l.owner ?? "unknown"}) is dead or stuck, or renews less often than --sample-interval (sample longer to tell)`,
        );
      }
    }
    for (const s of all.filter((l) => l.kind === "apscheduler-jobstore")) {
      if (status === "pass") status = "warn";
      details.push(
        `${s.name}: an APScheduler job store carries no lock; every scheduler sharing it runs each job`,
      );
    }
    const scanned = servers.reduce((n, s) => n + s.keysScanned, 0);
    const held = locks.filter((l) => l.state === "held" || l.state === "unknown");
    if (locks.length === 0) {
      return {
        status: "warn",
        summary: `no scheduler lock found in Redis (${scanned} keys scanned on ${servers.length} server${servers.length > 1 ? "s" : ""})`,
        details,
        evidence,
      };
    }
    return {
      status,
      summary:
        status === "pass"
          ? held
              .map(
                (l) =>
                  `${l.name} (${l.kind}) held by ${l.owner ?? "unknown"}, TTL ${formatDuration(l.ttlMs)}, renewing`,
              )
              .join("; ")
          : (details[0] ?? ""),
      details: status === "pass" ? details : details.slice(1),
      evidence,
      ...(status === "fail"
        ? {
            fix: {
              text: "Give every lock a TTL and renew it while the scheduler runs (redis-py: lock(name, timeout=30) plus lock.extend/reacquire in a thread; or schedctl gen lock). To break a stale lock once:",
              commands: locks
                .filter((l) => l.state === "no-ttl")
                .map((l) => `schedctl locks release ${JSON.stringify(l.name)} --redis <url>`),
            },
          }
        : {}),
    };
  },
};
