/** The validated, defaulted schedctl config every generator reads. Plain data, no IO. */

export type RouteModifier = "=" | "^~" | "" | "~" | "~*";

/** One nginx location sent to the scheduler instance. */
export interface Route {
  /** As written in the config ("^~ /jobs/"). */
  raw: string;
  modifier: RouteModifier;
  /** The path or the regex. */
  value: string;
}

export type ImageFlavor = "debian" | "alpine" | "ubuntu" | "distroless";

/** What schedctl knows about a supported base image. */
export interface BaseImage {
  ref: string;
  flavor: ImageFlavor;
  /** The distro's os-release ID and VERSION_ID (what src/checks/tz/common.ts reasons with). */
  osId: "debian" | "alpine" | "ubuntu";
  osVersion: string;
  /** The CPython minor version the image runs. */
  python: string;
  /** The interpreter a healthcheck or build-time check runs ("python", or "/usr/bin/python3" on distroless). */
  pythonBin: string;
  /** Distroless only: the python:X-slim image the dependencies are built in. */
  buildImage: string | null;
  /** Debian 13 (trixie) and later no longer use /etc/timezone. */
  usesEtcTimezone: boolean;
  /** Whether the image ships tzdata (python images and distroless do; ubuntu does not). */
  hasTzdata: boolean;
}

export type LockConfig =
  | { backend: "none" }
  | { backend: "redis"; url: string; key: string; ttl: number }
  | { backend: "file"; path: string };

export interface SchedctlConfig {
  app: string;
  wsgi: string;
  port: number;
  python: string;
  timezone: string;
  baseImage: BaseImage;
  image: string;
  requirements: string;
  healthPath: string;
  scheduler: {
    apiPrefix: string;
    routes: Route[];
    /** "module:attr" of the scheduler object; null: the Flask app's `apscheduler` attribute. */
    object: string | null;
  };
  instances: {
    webReplicas: number;
    webWorkers: number | "auto";
    webHost: string;
    schedulerHost: string;
    schedulerPort: number;
  };
  lock: LockConfig;
  timeouts: {
    /** Longest request (gunicorn `timeout`); nginx waits a little longer. */
    request: number;
    /** Gunicorn `graceful_timeout`; compose and Kubernetes give the container a little longer. */
    graceful: number;
  };
  nginx: { listen: number; serverName: string };
  /** Where the config came from, for headers of generated files ("pyproject.toml [tool.schedctl]"). */
  source: string;
}

/** One problem found in the raw config: its key path inside the schedctl table, and what is wrong. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}
