import { deployCompose } from "./deploy/compose.js";
import { deployDockerfile } from "./deploy/dockerfile.js";
import { deployK8s } from "./deploy/k8s.js";
import { locksFile } from "./locks/file.js";
import { locksRedis } from "./locks/redis.js";
import { locksVerdict } from "./locks/verdict.js";
import { routesNginx } from "./routes/nginx.js";
import { runsHttp } from "./runs/http.js";
import { runsLogs } from "./runs/logs.js";
import type { CheckDefinition } from "./types.js";
import { tzConfigured } from "./tz/configured.js";
import { tzFlaskConstruct } from "./tz/flask-construct.js";
import { tzLibc } from "./tz/libc.js";
import { tzSources } from "./tz/sources.js";
import { tzTzlocal } from "./tz/tzlocal.js";
import { tzZoneinfo } from "./tz/zoneinfo.js";
import { workersConfig } from "./workers/config.js";
import { workersDebug } from "./workers/debug.js";
import { workersGuard } from "./workers/guard.js";
import { workersLive } from "./workers/live.js";
import { workersPreload } from "./workers/preload.js";
import { workersRecycling } from "./workers/recycling.js";

/** Every doctor check, in report order. A check's id is API: never rename one. Its code lives in checks/<group>/<name>.ts. */
export const CHECKS: readonly CheckDefinition[] = [
  tzSources,
  tzTzlocal,
  tzConfigured,
  tzZoneinfo,
  tzLibc,
  tzFlaskConstruct,
  workersConfig,
  workersRecycling,
  workersPreload,
  workersDebug,
  workersGuard,
  workersLive,
  locksFile,
  locksRedis,
  locksVerdict,
  runsLogs,
  runsHttp,
  routesNginx,
  deployDockerfile,
  deployCompose,
  deployK8s,
];
