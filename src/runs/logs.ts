/**
 * `--logs FILE|-`: streams APScheduler logs (plain or gzip, recognised by its magic bytes 1f 8b whatever the
 * name, any size, in constant memory) and finds duplicate executions with DuplicateRunDetector.
 *
 * Speed (bench/runs-logs.mjs: a 1 GiB log of 3 workers, every run duplicated, within 3x the time of
 * `grep -c 'Running job'`): a regular file is read in 512 KiB reads straight into the memory of a WebAssembly
 * SIMD line scan (linescan.wat, through linescan.ts), into two zones in turn, so that the next read runs on
 * libuv's thread pool (another core) while this thread scans the bytes of the last one.
 * The scan counts the lines and, for each `Running job` line, writes a record: where it is, whether its
 * message repeats the one before (the copies of one run), whether it has the shape parseRunView expects, and
 * its scheduled time when written the usual way. Only what the records cannot answer becomes strings here:
 * a copy the detector does not need to see is only counted, a run whose job text and time the scan read is
 * handed over as a ScannedRun that reads the rest on demand, and anything unusual goes through
 * parseRunView or the full parser (parseApLogLine). Pipes, standard input and gzip are copied in from
 * streams.
 *
 * Several files (one per container, say) are read side by side and their runs merged in scheduled-time
 * order, so the detector's sliding window sees the copies of one run together however long each file is.
 *
 * A file's `unparsed` counts lines that are not valid UTF-8, lines over 1 MiB, and `Running job` lines that
 * are cut short or garbled; other lines (access logs, tracebacks...) are only counted in `lines`.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream, read } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import {
  DuplicateRunDetector,
  parseApLogLine,
  parseRunView,
  prefixRunner,
  type RunRecord,
  RunViewCache,
  repeatRunView,
  runOfView,
  scannedRunView,
} from "./aplog.js";
import {
  AT,
  END,
  FLAGS,
  INDEX,
  LineScan,
  lineScanAvailable,
  MAX_LINE_BYTES,
  PLAIN_PREFIX,
  Q,
  READ_BYTES,
  S0,
  S1,
  SAME_KEY,
  SAME_MESSAGE,
  SHAPE,
  START,
  TIME,
  ZONES_BYTES,
  zoneData,
} from "./linescan.js";
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
  /** false: read every line in JavaScript, as on a machine without WebAssembly SIMD (default true). */
  simd?: boolean;
}

type FileEntry = LogsReport["files"][number];

const NL = 10;
const RUNNING = "Running job";
/** The job text starts this far after `Running job` (`Running job "`). */
const JOB_TEXT = 13;
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
  /** Takes one more copy of the run pushed last without its details, or returns false (then push it). */
  pushCopy(): boolean;
}

/**
 * The run of the record being handed to the detector, read from the scan's memory only as far as asked: the
 * copies of a run past the listed duplicates never are. Valid during that push(); keep() gives a record that
 * stays valid.
 */
class ScannedRun implements RunRecord {
  job = "";
  trigger = "";
  scheduledUs = 0;
  readonly container = null;
  private ls = 0;
  private le = 0;
  private at = 0;
  private s0 = 0;
  private s1 = 0;
  private runner: { pid: number | null; host: string | null } | null = null;

  constructor(private readonly mem: Buffer) {}

  /** Offsets in mem: the line [ls, le), `Running job` at `at`, the scheduled time [s0, s1) (ASCII). */
  set(
    job: string,
    trigger: string,
    us: number,
    ls: number,
    le: number,
    at: number,
    s0: number,
    s1: number,
  ): this {
    this.job = job;
    this.trigger = trigger;
    this.scheduledUs = us;
    this.ls = ls;
    this.le = le;
    this.at = at;
    this.s0 = s0;
    this.s1 = s1;
    this.runner = null;
    return this;
  }

  get scheduledAt(): string {
    return latin1(this.mem, this.s0, this.s1);
  }
  get pid(): number | null {
    return this.who().pid;
  }
  get host(): string | null {
    return this.who().host;
  }
  private who(): { pid: number | null; host: string | null } {
    this.runner ??= this.at > this.ls ? prefixRunner(latin1(this.mem, this.ls, this.at)) : NO_RUNNER;
    return this.runner;
  }

  keep(): RunRecord {
    const view = latin1(this.mem, this.ls, this.le);
    const ls = this.ls;
    return runOfView(
      this.job,
      this.trigger,
      view.slice(this.s0 - ls, this.s1 - ls),
      this.scheduledUs,
      view,
      0,
      this.at - ls,
    );
  }
}
const NO_RUNNER = { pid: null, host: null };

/** Runs waiting for the detector, with their line numbers (parallel arrays: no object per run). */
class RunQueue implements RunSink {
  runs: RunRecord[] = [];
  lines: number[] = [];
  next = 0;
  push(run: RunRecord, line: number): void {
    this.runs.push(run.keep?.() ?? run);
    this.lines.push(line);
  }
  pushCopy(): boolean {
    return false;
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

/**
 * Splits one file's bytes into lines, counts them, and turns the `Running job` lines into runs for the sink.
 * The bytes go into the memory of the WebAssembly line scan (src/runs/linescan.wat), which writes a record
 * for each `Running job` line; most records become runs without a string made of the line. A run handed to
 * the sink may read that memory (ScannedRun): it is valid during push() only, and its keep() gives one that
 * stays. Where the scan cannot run, regions are read line by line (slowRegion), with the same result.
 */
class LineScanner {
  lineNo = 0;
  runs = 0;
  unparsed = 0;
  /** The SIMD scan, or null where it cannot run (then every region is read line by line here). */
  private readonly scan: LineScan | null;
  /** The memory readers put the bytes in (see zoneData): the scan's, or a plain buffer without it. */
  readonly mem: Buffer;
  /** Bytes of a line whose end has not been read yet, just before the data of zone `carryZone`. */
  private carry = 0;
  /** The input zone the next bytes go to (the carried partial line waits in front of it). */
  carryZone: 0 | 1 = 0;
  /** Inside a line of MAX_LINE_BYTES or more: its bytes are dropped until its newline. */
  private skipping = false;
  /** The last `Running job` line was read by a fast path: `cache` holds its job, trigger and time. */
  private lastFast = false;
  private readonly cache = new RunViewCache();
  private readonly scanned: ScannedRun;
  /** decode(a, b): the UTF-8 text of mem[decodeFrom + a, decodeFrom + b) (one function, not one per line). */
  private decodeFrom = 0;
  private readonly decode = (a: number, b: number): string =>
    this.mem.toString("utf8", this.decodeFrom + a, this.decodeFrom + b);

  /** simd false: without the WebAssembly scan even where it runs (as where it does not). */
  constructor(simd = true) {
    this.scan = simd && lineScanAvailable() ? new LineScan() : null;
    this.mem = this.scan?.mem ?? Buffer.alloc(ZONES_BYTES);
    this.scanned = new ScannedRun(this.mem);
  }

  /** The chunk is copied (the caller may reuse its memory). */
  push(chunk: Uint8Array, out: RunSink): void {
    for (let o = 0; o < chunk.length; o += READ_BYTES) {
      const part = chunk.subarray(o, o + READ_BYTES);
      this.mem.set(part, zoneData(this.carryZone));
      this.scanZone(this.carryZone, part.length, out);
    }
  }

  end(out: RunSink): void {
    if (this.skipping) {
      this.skipping = false;
      this.lineNo++;
      this.unparsed++;
    } else if (this.carry > 0) {
      this.mem[zoneData(this.carryZone)] = NL;
      this.scanZone(this.carryZone, 1, out);
    }
  }

  /**
   * Scans the n new bytes at zoneData(k), after the carried partial line (k must be carryZone), and moves
   * what is left of a line in front of the other zone, where the next bytes go.
   */
  scanZone(k: 0 | 1, n: number, out: RunSink): void {
    const data = zoneData(k);
    const total = data + n;
    const bytes = this.mem.subarray(0, total);
    let start = data - this.carry;
    if (this.skipping) {
      const nl = bytes.indexOf(NL, data);
      if (nl === -1) return; // still inside the long line (carry stays 0: its bytes are dropped)
      this.skipping = false;
      this.lineNo++;
      this.unparsed++;
      start = nl + 1;
    }
    const last = bytes.lastIndexOf(NL);
    if (last >= start) {
      this.region(start, last + 1, out);
      start = last + 1;
    }
    const rest = total - start;
    const next = k === 0 ? 1 : 0;
    this.carryZone = next;
    if (rest >= MAX_LINE_BYTES) {
      this.skipping = true;
      this.carry = 0;
      return;
    }
    if (rest > 0) this.mem.copyWithin(zoneData(next) - rest, start, total);
    this.carry = rest;
  }

  /** mem[start, end) holds whole lines, each ending in \n. */
  private region(start: number, end: number, out: RunSink): void {
    const mem = this.mem;
    const scan = this.scan;
    if (scan === null) {
      this.slowRegion(start, end, out);
      return;
    }
    const n = scan.scan(start, end);
    const cache = this.cache;
    if (scan.highBytes && !isUtf8(mem.subarray(start, end))) {
      // the scan's records are dropped; it now compares with lines this reader did not take from it
      this.lastFast = false;
      cache.scanKey = false;
      this.slowRegion(start, end, out);
      return;
    }
    const base = this.lineNo + 1;
    for (let i = 0; i < n; i++) {
      const flags = scan.field(i, FLAGS);
      if (
        (flags & (SAME_MESSAGE | PLAIN_PREFIX)) === (SAME_MESSAGE | PLAIN_PREFIX) &&
        this.lastFast &&
        out.pushCopy()
      ) {
        // the message of the run before, and the detector does not need to know who ran this copy
        this.runs++;
        continue;
      }
      const line = base + scan.field(i, INDEX);
      const ls = scan.field(i, START);
      const le = scan.field(i, END);
      if (
        (flags & (SHAPE | PLAIN_PREFIX | TIME)) === (SHAPE | PLAIN_PREFIX | TIME) &&
        (((flags & SAME_KEY) !== 0 && cache.scanKey) ||
          cache.readJobText(
            mem.toString("utf8", scan.field(i, AT) + JOB_TEXT, scan.field(i, AT) + scan.field(i, Q)),
          ))
      ) {
        // all the scan read: the run is handed over without making strings of the line
        const a = scan.field(i, AT);
        const us = scan.us(i);
        cache.timeOnly(us);
        this.runs++;
        this.lastFast = true;
        out.push(
          this.scanned.set(
            cache.job,
            cache.trigger,
            us,
            ls,
            le,
            a,
            a + scan.field(i, S0),
            a + scan.field(i, S1),
          ),
          line,
        );
        continue;
      }
      const at = scan.field(i, AT) - ls;
      const view = latin1(mem, ls, le);
      this.decodeFrom = ls;
      let run: RunRecord | null = null;
      if ((flags & SAME_MESSAGE) !== 0 && this.lastFast) {
        // the message of the run before: only the prefix (who ran it) is new
        run = repeatRunView(view, 0, at, cache);
      } else if ((flags & (SHAPE | PLAIN_PREFIX)) === (SHAPE | PLAIN_PREFIX)) {
        run = scannedRunView(
          view,
          at,
          at + scan.field(i, Q),
          at + scan.field(i, S0),
          at + scan.field(i, S1),
          (flags & TIME) !== 0 ? scan.us(i) : Number.NaN,
          (flags & SAME_KEY) !== 0,
          cache,
          this.decode,
        );
      }
      if (run !== null) {
        this.runs++;
        this.lastFast = true;
        out.push(run, line);
      } else {
        // the scan now compares job texts with this line's; cache may not hold it
        if ((flags & SHAPE) !== 0) cache.scanKey = false;
        this.lastFast = this.candidate(view, 0, le - ls, at, line, out, this.decode);
      }
    }
    this.lineNo += scan.lines;
    this.unparsed += scan.longLines;
  }

  /** A region with bytes that are not UTF-8: line by line; those lines are unparsed. */
  private slowRegion(start: number, end: number, out: RunSink): void {
    const mem = this.mem;
    let pos = start;
    while (pos < end) {
      const i = mem.indexOf(NL, pos);
      this.lineNo++;
      const bytes = mem.subarray(pos, i);
      pos = i + 1;
      if (bytes.length >= MAX_LINE_BYTES || !isUtf8(bytes)) this.unparsed++;
      else if (bytes.indexOf(RUNNING) !== -1) {
        const view = latin1(bytes, 0, bytes.length);
        this.candidate(view, 0, view.length, view.indexOf(RUNNING), this.lineNo, out, (a, b) =>
          bytes.toString("utf8", a, b),
        );
      }
    }
  }

  /** One line view[ls, le) with `Running job` at r; true when parseRunView read it (and `cache` has it). */
  private candidate(
    view: string,
    ls: number,
    le: number,
    r: number,
    line: number,
    out: RunSink,
    decode: (start: number, end: number) => string,
  ): boolean {
    // `Running job` is at r: the fast path wants `Running job "`
    const quoted = view.charCodeAt(r + 11) === 32 && view.charCodeAt(r + 12) === 34;
    const fast = quoted ? parseRunView(view, ls, le, r, this.cache, decode) : null;
    if (fast !== null) {
      this.runs++;
      out.push(fast, line);
      return true;
    }
    const ev = parseApLogLine(decode(ls, le));
    if (ev.kind === "run" && ev.scheduledAt !== null && ev.scheduledUs !== null) {
      this.runs++;
      out.push(ev as RunRecord, line);
    } else if (ev.kind === "unparsed") this.unparsed++;
    return false;
  }
}

interface Source {
  entry: FileEntry;
  label: string;
  scanner: LineScanner;
  /** Feeds the next bytes into scanner (the runs go to `sink`); done at the end of the input. */
  feed: AsyncIterator<void>;
  queue: RunQueue;
  /** Where the scanner's runs go: the detector itself when there is one file, else the queue. */
  sink: RunSink;
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
  const single = paths.length === 1;
  const sources: Source[] = paths.map((path) => {
    const label = path === "-" ? "<stdin>" : path;
    const scanner = new LineScanner(opts.simd ?? true);
    const queue = new RunQueue();
    // one file: straight into the detector, no queue
    const sink: RunSink = single
      ? { push: (run, line) => detector.addRun(run, label, line), pushCopy: () => detector.addCopyOfLast() }
      : queue;
    return {
      entry: { path, lines: 0, runs: 0, unparsed: 0, error: null },
      label,
      scanner,
      feed: feedScanner(path, scanner, sink, opts.stdin)[Symbol.asyncIterator](),
      queue,
      sink,
      done: false,
    };
  });

  if (single) {
    const s = sources[0] as Source;
    while (!s.done) await step(s);
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

/** Feeds the source's next bytes; at the end (or a read error, kept in its entry) ends its scanner. */
async function step(s: Source): Promise<void> {
  let r: IteratorResult<void>;
  try {
    r = await s.feed.next();
  } catch (e) {
    s.entry.error = describeError(e);
    r = { done: true, value: undefined };
  }
  if (r.done) {
    s.done = true;
    s.scanner.end(s.sink);
  }
}

/** Reads until the source has queued runs again, or ends. */
async function refill(s: Source): Promise<void> {
  s.queue.clear();
  while (!s.queue.pending && !s.done) await step(s);
}

/**
 * Feeds the bytes of path ("-": stdin), gunzipped when they start with 1f 8b, into the scanner, one read per
 * step. A regular file that is not gzip is read synchronously straight into the scanner's memory; the event
 * loop gets a turn every READS_PER_TURN reads.
 */
async function* feedScanner(
  path: string,
  scanner: LineScanner,
  sink: RunSink,
  stdin?: NodeJS.ReadableStream,
): AsyncGenerator<void> {
  if (path === "-") {
    for await (const chunk of maybeGunzip((stdin ?? process.stdin) as AsyncIterable<Buffer | string>)) {
      scanner.push(chunk, sink);
      yield;
    }
    return;
  }
  let fh: FileHandle | null = await open(path, "r");
  let reading: Promise<number> | null = null;
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    const head = st.isFile() ? await fh.read(Buffer.alloc(2), 0, 2, 0) : null;
    if (head === null || (head.bytesRead === 2 && head.buffer[0] === 0x1f && head.buffer[1] === 0x8b)) {
      // gzip, or a pipe/FIFO/device whose reads may block: a stream
      const stream = createReadStream("", { fd: fh, highWaterMark: 1 << 20, start: 0, autoClose: true });
      fh = null;
      for await (const chunk of maybeGunzip(stream as AsyncIterable<Buffer>)) {
        scanner.push(chunk, sink);
        yield;
      }
      return;
    }
    // Double buffering: the next read fills one zone (on libuv's thread pool) while the other is scanned.
    // (fs.read with a callback: FileHandle#read costs more per call.)
    const fd = fh.fd;
    const mem = scanner.mem;
    const readZone = (zone: 0 | 1, position: number): Promise<number> =>
      new Promise((resolve, reject) =>
        read(fd, mem, zoneData(zone), READ_BYTES, position, (err, n) => (err ? reject(err) : resolve(n))),
      );
    let k: 0 | 1 = scanner.carryZone;
    let position = 0;
    reading = readZone(k, position);
    for (;;) {
      const n = await reading;
      if (n === 0) break;
      position += n;
      const other = k === 0 ? 1 : 0;
      reading = readZone(other, position);
      scanner.scanZone(k, n, sink);
      k = other;
      yield;
    }
  } finally {
    await reading?.catch(() => {}); // a read still in flight when the scan stopped
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
