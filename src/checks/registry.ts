import { locksFile } from "./locks/file.js";
import { locksRedis } from "./locks/redis.js";
import { locksVerdict } from "./locks/verdict.js";
import { runsHttp } from "./runs/http.js";
import { runsLogs } from "./runs/logs.js";
import type { CheckDefinition } from "./types.js";
import { tzConfigured } from "./tz/configured.js";
import { tzFlaskConstruct } from "./tz/flask-construct.js";
import { tzLibc } from "./tz/libc.js";
import { tzSources } from "./tz/sources.js";
import { tzTzlocal } from "./tz/tzlocal.js";
import { tzZoneinfo } from "./tz/zoneinfo.js";
import { workersLive } from "./workers/live.js";

/** Every doctor check, in report order. A check's id is API: never rename one. Its code lives in checks/<group>/<name>.ts. */
export const CHECKS: readonly CheckDefinition[] = [
  tzSources,
  tzTzlocal,
  tzConfigured,
  tzZoneinfo,
  tzLibc,
  tzFlaskConstruct,
  workersLive,
  locksFile,
  locksRedis,
  locksVerdict,
  runsLogs,
  runsHttp,
];
