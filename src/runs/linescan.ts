/**
 * The WebAssembly line scan of `--logs` (src/runs/linescan.wat, compiled into linescan-wasm.ts): its memory
 * layout, and the records it writes for the lines that contain `Running job`. The streaming reader
 * (logs.ts) reads straight into `mem` and turns the records into runs; scanText() is the same scan over a
 * whole text, for tests and tools.
 */
import { LINESCAN_WASM_BASE64 } from "./linescan-wasm.js";

/** Bytes read (or copied from a stream chunk) per scan. */
export const READ_BYTES = 512 * 1024;
/** Lines this long or longer (without the newline) are counted, as unparsed, but not kept. */
export const MAX_LINE_BYTES = 1 << 20;

// The memory: two input zones, so that the next bytes of a file can be read into one while the other is
// scanned. A zone is room for a partial line carried over (at most MAX_LINE_BYTES - 1 bytes, just before the
// data), READ_BYTES of data, the newline a last unterminated line gets, and slack the SIMD reads may touch.
// Then the previous message and job text, then the records (at most one per 12 input bytes, "Running job\n").
const ZONE_BYTES = align16(MAX_LINE_BYTES + READ_BYTES + 1 + 64);
/** The most bytes one scan covers (a carried line and a zone's data). */
export const INPUT_BYTES = MAX_LINE_BYTES + READ_BYTES + 1;
const PREV = 2 * ZONE_BYTES;
const PREV_BYTES = 4096;
const RECORDS = align16(PREV + 2 * PREV_BYTES + 64);
/** A record: 8 x i32 then an f64. */
const RECORD_BYTES = 40;
const MAX_RECORDS = Math.ceil(INPUT_BYTES / 12) + 1;
const MEMORY_BYTES = RECORDS + MAX_RECORDS * RECORD_BYTES + 64;

/** Where the data of input zone 0 or 1 goes (the carried partial line sits just before it). */
export function zoneData(zone: 0 | 1): number {
  return zone * ZONE_BYTES + MAX_LINE_BYTES;
}

/**
 * The i32 fields of a record, in order (their meaning: src/runs/linescan.wat). START, END and AT are offsets
 * in the memory; Q, S0 and S1 offsets from AT.
 */
export const INDEX = 0;
export const START = 1;
export const END = 2;
export const AT = 3;
export const FLAGS = 4;
export const Q = 5;
export const S0 = 6;
export const S1 = 7;

/** Record flags (their meaning: src/runs/linescan.wat). */
export const SAME_MESSAGE = 1;
export const PLAIN_PREFIX = 2;
export const SHAPE = 4;
export const SAME_KEY = 8;
export const TIME = 16;

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

interface LineScanExports {
  memory: WebAssembly.Memory;
  lines: WebAssembly.Global;
  longLines: WebAssembly.Global;
  highBytes: WebAssembly.Global;
  scan(start: number, end: number, out: number, prev: number, prevCap: number, maxLine: number): number;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * Whether this machine runs the scan: WebAssembly SIMD needs SSE4.1 on x86-64 (absent from QEMU's default
 * CPU model, for one); without it the reader parses every line in JavaScript, slower but alike.
 */
export function lineScanAvailable(): boolean {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(LINESCAN_WASM_BASE64, "base64"));
    } catch {
      compiled = null;
    }
  }
  return compiled !== null;
}

/** Memory for the input zones alone (what a reader without the scan needs). */
export const ZONES_BYTES = 2 * ZONE_BYTES;

/** One scan instance with its own memory; the previous message and job text carry from scan to scan. */
export class LineScan {
  /** All of the instance's memory; the input goes in the zones (zoneData). */
  readonly mem: Buffer;
  private readonly wasm: LineScanExports;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;

  /** Throws where lineScanAvailable() is false. */
  constructor() {
    if (!lineScanAvailable() || !compiled) throw new Error("WebAssembly SIMD is not available here");
    this.wasm = new WebAssembly.Instance(compiled).exports as unknown as LineScanExports;
    const have = this.wasm.memory.buffer.byteLength;
    if (have < MEMORY_BYTES) this.wasm.memory.grow(Math.ceil((MEMORY_BYTES - have) / 65536));
    const buffer = this.wasm.memory.buffer;
    this.mem = Buffer.from(buffer, 0, MEMORY_BYTES);
    this.ints = new Int32Array(buffer, RECORDS, (MAX_RECORDS * RECORD_BYTES) / 4);
    this.floats = new Float64Array(buffer, RECORDS, (MAX_RECORDS * RECORD_BYTES) / 8);
  }

  /** Scans mem[start, end) (whole lines, the last ending in \n); returns the number of records. */
  scan(start: number, end: number): number {
    return this.wasm.scan(start, end, RECORDS, PREV, PREV_BYTES, MAX_LINE_BYTES);
  }

  /** Lines in the last scan. */
  get lines(): number {
    return this.wasm.lines.value as number;
  }

  /** False when the last scan's region is all ASCII (true may also mean a byte >= 0x80 just past it). */
  get highBytes(): boolean {
    return this.wasm.highBytes.value !== 0;
  }

  /** Lines of MAX_LINE_BYTES or more in the last scan (they have no record). */
  get longLines(): number {
    return this.wasm.longLines.value as number;
  }

  /** Field f (INDEX ... S1) of record i of the last scan. */
  field(i: number, f: number): number {
    return this.ints[i * (RECORD_BYTES / 4) + f] as number;
  }
  /** The time of record i of the last scan (with TIME). */
  us(i: number): number {
    return this.floats[i * (RECORD_BYTES / 8) + 4] as number;
  }
}

/** A record of scanText, with offsets in the text. */
export interface ScanRecord {
  index: number;
  start: number;
  end: number;
  at: number;
  flags: number;
  q: number;
  s0: number;
  s1: number;
  us: number;
}

/** The records of one scan over text (whole lines, each ending in \n; at most INPUT_BYTES), with lines. */
export function scanText(text: Uint8Array): { lines: number; longLines: number; records: ScanRecord[] } {
  if (text.length > INPUT_BYTES) throw new RangeError(`scanText: more than ${INPUT_BYTES} bytes`);
  const s = new LineScan();
  s.mem.set(text, 0);
  const n = s.scan(0, text.length);
  // (offsets from 0: the text is laid over zone 0 and its carry room, INPUT_BYTES fit)
  const records: ScanRecord[] = [];
  for (let i = 0; i < n; i++) {
    const at = s.field(i, AT);
    records.push({
      index: s.field(i, INDEX),
      start: s.field(i, START),
      end: s.field(i, END),
      at,
      flags: s.field(i, FLAGS),
      q: at + s.field(i, Q),
      s0: at + s.field(i, S0),
      s1: at + s.field(i, S1),
      us: s.us(i),
    });
  }
  return { lines: s.lines, longLines: s.longLines, records };
}
