/** Facts from the app's logs (`--logs`) and its scheduler API (`--url`), gathered by src/runs/. */

export interface LogsReport {
  files: { path: string; lines: number; runs: number; unparsed: number; error: string | null }[];
  /** Distinct jobs seen executing. */
  jobs: number;
  /** Executions seen. */
  runs: number;
  /** (job, scheduled time) pairs executed more than once. */
  duplicates: {
    job: string;
    trigger: string;
    scheduledAt: string;
    count: number;
    sources: string[];
    runners: string[];
  }[];
  /** Duplicates beyond the ones listed. */
  truncatedDuplicates: number;
}

export interface HttpReport {
  /** The URL with any password redacted. */
  url: string;
  samples: number;
  answers: {
    status: number | null;
    currentHost: string | null;
    running: boolean | null;
    error: string | null;
    ms: number;
  }[];
  hosts: { host: string; answers: number; running: number }[];
  errors: number;
}

/** One scheduled run of a job that was executed more than once. */
export interface DuplicateRun {
  job: string;
  trigger: string;
  /** The scheduled time as the first of these lines logged it. */
  scheduledAt: string;
  count: number;
  /** Up to maxSamples `file:line (runner)` of the executions. */
  sources: string[];
  /** Distinct runners (`web-1 pid 12`), up to maxSamples; empty when the lines do not say. */
  runners: string[];
}
