/**
 * `--logs FILE|-`: streams APScheduler logs (plain or gzip, recognised by its magic bytes 1f 8b whatever the
 * name, any size, in constant memory) and finds duplicate executions with DuplicateRunDetector.
 *
 * Speed (bench/runs-logs.mjs: a 1 GiB log of 3 workers, every run duplicated, takes 6-8x the time of
 * `grep -c 'Running job'`): a regular file is read with synchronous 64 KiB reads into one reused buffer (the
 * event loop gets a turn every 4 MiB); each chunk is checked for UTF-8 at once (native) and viewed as one
 * character per byte (latin1), so V8's string search counts the newlines and finds `Running job`; those
 * lines go through parseRunView, which parses the copies of one run once and works out who ran a copy only
 * when the detector asks. Pipes, standard input and gzip go through streams.
 *
 * Several files (one per container, say) are read side by side and their runs merged in scheduled-time
 * order, so the detector's sliding window sees the copies of one run together however long each file is.
 *
 * A file's `unparsed` counts lines that are not valid UTF-8, lines over 1 MiB, and `Running job` lines that
 * are cut short or garbled; other lines (access logs, tracebacks...) are only counted in `lines`.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DuplicateRunDetector, parseApLogLine, parseRunView, type RunRecord, RunViewCache } from "./aplog.js";
import type { LogsReport } from "./types.js";

export type { LogsReport } from "./types.js";

export interface AnalyzeLogsOptions {
  /** Sliding window of scheduled times, seconds (default 3600). */
  windowSec?: number;
  /** Scheduled times this close are the same run (default 0: the same instant). */
  toleranceMs?: number;
  /** Hard cap on remembered executions (default 50 000). */
  maxEntries?: number;
  /** Duplicates listed in the report (default 1000); the rest are counted in truncatedDuplicates. */
  maxDuplicates?: number;
  /** What "-" reads (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

type FileEntry = LogsReport["files"][number];

const READ_BYTES = 64 * 1024;
/** Synchronous reads between two turns of the event loop. */
const READS_PER_TURN = 64;
/** Longer lines are counted (as unparsed) but not kept. */
const MAX_LINE_BYTES = 1 << 20;
const NL = 10;
const RUNNING = "Running job";
const EMPTY: Buffer = Buffer.alloc(0);

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}
/** The bytes as one character each (Buffer#latin1Slice, what toString("latin1") calls, without its checks). */
const latin1: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === "function"
    ? (b, start, end) => (b as unknown as Latin1Slicer).latin1Slice(start, end)
    : (b, start, end) => b.toString("latin1", start, end);

/** Where a scanner puts the runs it reads. */
interface RunSink {
  push(run: RunRecord, line: number): void;
}

/** Runs waiting for the detector, with their line numbers (parallel arrays: no object per run). */
class RunQueue implements RunSink {
  runs: RunRecord[] = [];
  lines: number[] = [];
  next = 0;
  push(run: RunRecord, line: number): void {
    this.runs.push(run);
    this.lines.push(line);
  }
  get pending(): boolean {
    return this.next < this.runs.length;
  }
  clear(): void {
    this.runs = [];
    this.lines = [];
    this.next = 0;
  }
}

/** Splits one file's bytes into lines, counts them, parses the `Running job` lines, queues the runs. */
class LineScanner {
  lineNo = 0;
  runs = 0;
  unparsed = 0;
  private carry: Buffer | null = null;
  private overlong = false;
  private readonly cache = new RunViewCache();

  /** The chunk is not kept (the caller may reuse its memory). */
  push(chunk: Buffer, out: RunSink): void {
    let start = 0;
    if (this.carry !== null) {
      const k = chunk.indexOf(NL);
      if (k === -1) {
        this.keep(chunk);
        return;
      }
      this.keep(chunk.subarray(0, k + 1));
      this.flushCarry(out);
      start = k + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last < start) {
      if (start < chunk.length) this.keep(chunk.subarray(start));
      return;
    }
    this.region(chunk, start, last + 1, out);
    if (last + 1 < chunk.length) this.keep(chunk.subarray(last + 1));
  }

  end(out: RunSink): void {
    if (this.carry === null) return;
    this.keep(Buffer.from([NL]));
    this.flushCarry(out);
  }

  /** Appends to the partial line (a copy); past MAX_LINE_BYTES it only notes that. */
  private keep(part: Buffer): void {
    if (this.overlong) return;
    const have = this.carry ?? EMPTY;
    if (have.length + part.length > MAX_LINE_BYTES) {
      this.overlong = true;
      this.carry = EMPTY;
      return;
    }
    this.carry = have.length === 0 ? Buffer.from(part) : Buffer.concat([have, part]);
  }

  private flushCarry(out: RunSink): void {
    const line = this.carry ?? EMPTY;
    this.carry = null;
    if (this.overlong) {
      this.overlong = false;
      this.lineNo++;
      this.unparsed++;
      return;
    }
    this.region(line, 0, line.length, out);
  }

  /** buf[start, end) holds whole lines, each ending in \n. */
  private region(buf: Buffer, start: number, end: number, out: RunSink): void {
    if (!isUtf8(buf.subarray(start, end))) {
      this.slowRegion(buf, start, end, out);
      return;
    }
    // One character per byte: offsets in the view are offsets in buf; V8's string search does the scanning.
    const view = latin1(buf, start, end);
    const decode = (a: number, b: number): string => buf.toString("utf8", start + a, start + b);
    const len = view.length;
    let nl = this.lineNo;
    let pos = 0;
    for (;;) {
      const r = view.indexOf(RUNNING, pos);
      if (r === -1) break;
      // Count the lines before the candidate; the newline search that passes it ends its line.
      let ls = pos;
      let i = view.indexOf("\n", pos);
      while (i < r) {
        nl++;
        ls = i + 1;
        i = view.indexOf("\n", ls);
      }
      nl++;
      this.candidate(view, ls, i, r, nl, out, decode);
      pos = i + 1;
    }
    while (pos < len) {
      pos = view.indexOf("\n", pos) + 1;
      nl++;
    }
    this.lineNo = nl;
  }

  /** A region with bytes that are not UTF-8: line by line; those lines are unparsed. */
  private slowRegion(buf: Buffer, start: number, end: number, out: RunSink): void {
    let pos = start;
    while (pos < end) {
      const i = buf.indexOf(NL, pos);
      this.lineNo++;
      const bytes = buf.subarray(pos, i);
      pos = i + 1;
      if (!isUtf8(bytes)) this.unparsed++;
      else if (bytes.indexOf(RUNNING) !== -1) {
        const view = latin1(bytes, 0, bytes.length);
        this.candidate(view, 0, view.length, view.indexOf(RUNNING), this.lineNo, out, (a, b) =>
          bytes.toString("utf8", a, b),
        );
      }
    }
  }

  /** One line view[ls, le) with `Running job` at r. */
  private candidate(
    view: string,
    ls: number,
    le: number,
    r: number,
    line: number,
    out: RunSink,
    decode: (start: number, end: number) => string,
  ): void {
    // `Running job` is at r: the fast path wants `Running job "`
    const quoted = view.charCodeAt(r + 11) === 32 && view.charCodeAt(r + 12) === 34;
    const fast = quoted ? parseRunView(view, ls, le, r, this.cache, decode) : null;
    if (fast !== null) {
      this.runs++;
      out.push(fast, line);
      return;
    }
    const ev = parseApLogLine(decode(ls, le));
    if (ev.kind === "run" && ev.scheduledAt !== null && ev.scheduledUs !== null) {
      this.runs++;
      out.push(ev as RunRecord, line);
    } else if (ev.kind === "unparsed") this.unparsed++;
  }
}

interface Source {
  entry: FileEntry;
  label: string;
  scanner: LineScanner;
  chunks: AsyncIterator<Buffer>;
  queue: RunQueue;
  done: boolean;
}

/**
 * Reads every path ("-" is standard input) and reports the runs and the duplicated ones. A file that cannot
 * be read gets an `error` in its entry (what was read before a mid-file error still counts); bad content
 * never throws.
 */
export async function analyzeLogs(paths: string[], opts: AnalyzeLogsOptions = {}): Promise<LogsReport> {
  const detector = new DuplicateRunDetector({
    windowSec: opts.windowSec,
    toleranceMs: opts.toleranceMs,
    maxEntries: opts.maxEntries,
    maxDuplicates: opts.maxDuplicates,
  });
  const sources: Source[] = paths.map((path) => ({
    entry: { path, lines: 0, runs: 0, unparsed: 0, error: null },
    label: path === "-" ? "<stdin>" : path,
    scanner: new LineScanner(),
    chunks: readChunks(path, opts.stdin)[Symbol.asyncIterator](),
    queue: new RunQueue(),
    done: false,
  }));

  if (sources.length === 1) {
    // one file: straight into the detector, no queue
    const s = sources[0] as Source;
    const sink: RunSink = { push: (run, line) => detector.addRun(run, s.label, line) };
    try {
      for (;;) {
        const r = await s.chunks.next();
        if (r.done) break;
        s.scanner.push(r.value, sink);
      }
    } catch (e) {
      s.entry.error = describeError(e);
    }
    s.scanner.end(sink);
  } else {
    await Promise.all(sources.map(refill));
    // k-way merge by scheduled time: the copies of one run in different files reach the detector together.
    for (;;) {
      let best: Source | null = null;
      let bestUs = Number.POSITIVE_INFINITY;
      for (const s of sources) {
        const q = s.queue;
        if (!q.pending) continue;
        const us = (q.runs[q.next] as RunRecord).scheduledUs;
        if (best === null || us < bestUs) {
          best = s;
          bestUs = us;
        }
      }
      if (best === null) break;
      const q = best.queue;
      detector.addRun(q.runs[q.next] as RunRecord, best.label, q.lines[q.next]);
      q.next++;
      if (!q.pending) await refill(best);
    }
  }

  for (const s of sources) {
    s.entry.lines = s.scanner.lineNo;
    s.entry.runs = s.scanner.runs;
    s.entry.unparsed = s.scanner.unparsed;
  }
  return {
    files: sources.map((s) => s.entry),
    jobs: detector.jobs,
    runs: detector.stats.runs,
    duplicates: detector.duplicates,
    truncatedDuplicates: detector.truncatedDuplicates,
  };
}

/** Reads chunks until the source has queued runs again, or ends. */
async function refill(s: Source): Promise<void> {
  s.queue.clear();
  while (!s.queue.pending && !s.done) {
    let r: IteratorResult<Buffer>;
    try {
      r = await s.chunks.next();
    } catch (e) {
      s.entry.error = describeError(e);
      s.done = true;
      s.scanner.end(s.queue);
      break;
    }
    if (r.done) {
      s.done = true;
      s.scanner.end(s.queue);
    } else s.scanner.push(r.value, s.queue);
  }
}

/**
 * The bytes of path ("-": stdin), gunzipped when they start with 1f 8b. A regular file that is not gzip is
 * read synchronously into one reused buffer: each chunk is valid only until the next is asked for.
 */
async function* readChunks(path: string, stdin?: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  if (path === "-") {
    yield* maybeGunzip((stdin ?? process.stdin) as AsyncIterable<Buffer | string>);
    return;
  }
  let fh: FileHandle | null = await open(path, "r");
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const head = st.isFile() ? await fh.read(buf, 0, 2, 0) : null;
    if (head === null || (head.bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b)) {
      // gzip, or a pipe/FIFO/device whose reads may block: a stream
      const stream = createReadStream("", { fd: fh, highWaterMark: 1 << 20, start: 0, autoClose: true });
      fh = null;
      yield* maybeGunzip(stream as AsyncIterable<Buffer>);
      return;
    }
    const fd = fh.fd;
    let turns = 0;
    let position = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, READ_BYTES, position);
      if (n === 0) break;
      position += n;
      yield n === READ_BYTES ? buf : buf.subarray(0, n);
      if (++turns % READS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    await fh?.close();
  }
}

/** Chunks of a stream, gunzipped when the first two bytes are the gzip magic. */
async function* maybeGunzip(raw: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  let head: Buffer = EMPTY;
  while (head.length < 2) {
    const r = await it.next();
    if (r.done) break;
    const b = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    head = head.length === 0 ? b : Buffer.concat([head, b]);
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    }
  };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const out = pipeline(Readable.from(rest()), createGunzip({ chunkSize: 256 * 1024 }), () => {});
    try {
      for await (const c of out) yield c as Buffer;
    } catch (e) {
      throw new GzipError(e);
    }
  } else yield* rest();
}

class GzipError extends Error {
  constructor(cause: unknown) {
    super(`gzip: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

function describeError(e: unknown): string {
  if (e instanceof GzipError) return e.message;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
