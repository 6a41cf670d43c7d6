import type { CheckDefinition } from "./types.js";
import { tzConfigured } from "./tz/configured.js";
import { tzFlaskConstruct } from "./tz/flask-construct.js";
import { tzLibc } from "./tz/libc.js";
import { tzSources } from "./tz/sources.js";
import { tzTzlocal } from "./tz/tzlocal.js";
import { tzZoneinfo } from "./tz/zoneinfo.js";

/** Every doctor check, in report order. A check's id is API: never rename one. Its code lives in checks/<group>/<name>.ts. */
export const CHECKS: readonly CheckDefinition[] = [
  tzSources,
  tzTzlocal,
  tzConfigured,
  tzZoneinfo,
  tzLibc,
  tzFlaskConstruct,
];
