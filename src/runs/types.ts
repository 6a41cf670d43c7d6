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
