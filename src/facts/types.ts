import type { DeployFacts } from "../deploy/types.js";
import type { FileLockFacts, RedisServerReport } from "../locks/types.js";
import type { ConfigFinding, NginxServer } from "../nginx/locations.js";
import type { NginxTestResult } from "../nginx/real.js";
import type { HttpReport, LogsReport } from "../runs/types.js";
import type { TargetKind } from "../targets/target.js";
import type { TzLayout } from "../tz/layout.js";
import type { LibcFlavor, LibcReading } from "../tz/libc.js";
import type { Tzif } from "../tz/tzif.js";

/**
 * Everything doctor knows about a target, gathered once (src/facts/gather.ts). Checks are pure functions
 * of this object; nothing in here performs IO.
 */
export interface Facts {
  target: { kind: TargetKind; description: string; live: boolean };
  /** Evaluation instant, epoch seconds (`--at`, default now). */
  now: number;
  /** The app's effective environment: target env, then .env, --env-file, --env (later wins). */
  env: Record<string, string>;
  /** Where each environment variable came from (for evidence). */
  envSources: Record<string, string>;
  os: OsFacts;
  tz: TzFacts;
  python: PythonFacts;
  app: AppFacts;
  live: LiveFacts;
  /** Dockerfiles, compose, Kubernetes, gunicorn config and scheduler guards read from --app-dir (src/deploy/gather.ts). */
  deploy: DeployFacts;
  /** The nginx configuration in front of the app, when one was found or given (src/facts/routes.ts). */
  routes: RoutesFacts;
  /** Problems met while gathering that did not stop it (unreadable files...), shown with -v. */
  notes: string[];
}

/** Facts from live sources: the target's processes, Redis, logs, the scheduler API through the balancer. */
export interface LiveFacts {
  /** Kernel file locks and processes; null when the target has no process view (then `fileLocksSkipped`). */
  fileLocks: FileLockFacts | null;
  fileLocksSkipped: string | null;
  /** Lock files named with --lock-file (paths inside the target). */
  lockFilePaths: string[];
  /** One report per --redis URL; empty when none was given. */
  redis: RedisServerReport[];
  /** --logs analysis; null when no log was given. */
  logs: LogsReport | null;
  /** --url samples; null when no URL was given. */
  http: HttpReport | null;
}

export interface OsFacts {
  /** os-release ID ("debian", "alpine", "ubuntu", ...), null when unknown. */
  id: string | null;
  idLike: string[];
  versionId: string | null;
  codename: string | null;
  prettyName: string | null;
  libc: LibcFlavor;
  /** How libc was determined ("/lib/ld-musl-x86_64.so.1", "os-release ID=alpine", "assumed"). */
  libcEvidence: string;
  packageManager: "apt" | "apk" | "dnf" | "yum" | "microdnf" | null;
}

export interface ZoneFileFact {
  name: string;
  /** The zone file that `ZoneInfo(name)` would load, or null. */
  path: string | null;
  /** realpath relative to the zoneinfo dir (tzlocal >= 4.1's notion of "same zone"); the name when missing. */
  canonical: string;
  tzif: Tzif | null;
  /** Why the file could not be used ("not a TZif file: bad magic"), when it exists but is broken. */
  error: string | null;
}

export type LocaltimeKind = "missing" | "symlink" | "dangling-symlink" | "file" | "other";

export interface LocaltimeFact {
  kind: LocaltimeKind;
  /** readlink(/etc/localtime) as written */
  linkTarget: string | null;
  /** realpath inside the target */
  resolved: string | null;
  /** The zone name the link designates (path below a zoneinfo dir), when it does. */
  zoneFromLink: string | null;
  tzif: Tzif | null;
  error: string | null;
  /** For a copied file: every zone under the target's zoneinfo with identical bytes (sorted). */
  identifiedAs: string[];
  size: number | null;
}

export interface TzSourceFact {
  /** "TZ", "/etc/timezone", "/etc/localtime", "SCHEDULER_TIMEZONE (config.py:12)", ... */
  source: string;
  /** The raw value as found (trimmed for display), null when absent. */
  raw: string | null;
  /** The zone name this source designates (tzlocal's reading), null when none. */
  zone: string | null;
  /** Short remark: "set but empty", "copied file, identical to Asia/Shanghai", "dangling link"... */
  note: string;
  /** Sources tzlocal/libc read vs. the app's own setting. */
  kind: "system" | "app";
}

export interface TzFacts {
  layout: TzLayout;
  tzEnv: string | undefined;
  localtime: LocaltimeFact;
  /** Every source side by side, in the order tzlocal consults them, then the app's. */
  sources: TzSourceFact[];
  zoneinfo: {
    dir: string;
    exists: boolean;
    /** "2025b" from tzdata.zi, when present */
    version: string | null;
    /** Legacy backward names present (US/Eastern, PRC...) — trixie moved them to tzdata-legacy. */
    legacyNames: boolean;
    /** The pip `tzdata` package's zoneinfo dir, when installed (Python's zoneinfo falls back to it). */
    pipTzdata: string | null;
    /** Alias → zone from tzdata.zi `L` lines: the target's own idea of which names are one zone. */
    links: Record<string, string>;
  };
  /** Zone files looked up while gathering, by name. */
  zones: Record<string, ZoneFileFact>;
  libc: LibcReading;
  /** The TZif data libc uses when its reading is a file, for transition comparisons. */
  libcTzif: Tzif | null;
}

export interface PythonPackage {
  name: string;
  version: string;
  /** site-packages dir it was found in */
  location: string;
}

export interface PythonFacts {
  sitePackages: string[];
  /** Normalised name ("tzlocal", "apscheduler", "flask-apscheduler", "pytz", "tzdata", "gunicorn") → package. */
  packages: Record<string, PythonPackage>;
}

export interface ConfigValue {
  value: string;
  /** "config.py:12", "env", ".env:3", "pyproject.toml [tool.schedctl]" */
  source: string;
}

export interface AppFacts {
  dir: string;
  /** SCHEDULER_TIMEZONE from every place it was found, highest precedence first. */
  schedulerTimezone: ConfigValue[];
  /** SCHEDULER_API_PREFIX assignments in the app's sources (Flask-APScheduler's default is /scheduler). */
  schedulerApiPrefix: ConfigValue[];
  /** `APScheduler(...)` constructions (Flask-APScheduler) and whether a scheduler with timezone= is passed. */
  flaskApscheduler: {
    imported: boolean;
    constructs: { source: string; text: string; passesScheduler: boolean }[];
  };
  /** Scheduler constructions without timezone= (BackgroundScheduler() etc.): they call tzlocal. */
  bareSchedulers: { source: string; text: string }[];
  /** Python files read under the app dir. */
  filesScanned: number;
}

export interface RoutesFacts {
  /** The nginx configuration examined, or null when none was found. */
  file: string | null;
  /** Where it was looked for, in order. */
  searched: string[];
  /** A parse error (file:line: message); the check fails on it. */
  parseError: string | null;
  /** The server block that answers (default server), with why it was chosen. */
  server: NginxServer | null;
  serverReason: string | null;
  /** Configuration errors nginx itself would reject (duplicate location, ...). */
  configFindings: ConfigFinding[];
  apiPrefix: string;
  apiPrefixSource: string;
  /** The app's own scheduler routes ("= /jobs/run", "^~ /admin/jobs/") from the schedctl config. */
  extraRoutes: string[];
  /** `nginx -t` on the configuration; null when it was not run (no config). */
  nginxTest: NginxTestResult | null;
}
