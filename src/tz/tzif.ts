/**
 * A TZif (RFC 9636, tzfile.5) reader for versions 1 to 4. Pure: takes bytes, does no IO.
 *
 * For v2+ the v1 block is skipped exactly (its length only is checked: slim files leave it empty) and the
 * 64-bit block plus the footer TZ string are read. Every count, index and the footer framing is validated;
 * malformed input throws TzifError with a one-line reason and nothing else.
 *
 * Lenient where glibc and Python are (they are what schedctl predicts): reserved header bytes, the v1
 * block's content in v2+ files, leap-second records (skipped, never applied: Python's zoneinfo ignores
 * them too), utoff outside tzfile.5's [-89999, 93599], and bytes after the footer (see `byteLength`).
 */
import {
  type LocalTimeType,
  type PosixTz,
  parsePosixTz,
  posixOffsetAt,
  posixTransitionsBetween,
} from "./posix.js";

export class TzifError extends Error {
  override name = "TzifError";
}

export interface Tzif {
  version: 1 | 2 | 3 | 4;
  /** Epoch seconds, strictly ascending in the file (values beyond +-2^53 lose precision). */
  transitions: number[];
  /** Index into `types`, one per transition. */
  transitionTypes: number[];
  types: LocalTimeType[];
  /** The footer TZ string without its newlines; "" when empty; null for v1. */
  footer: string | null;
  /** The parsed footer; null for v1 and for an empty footer. */
  footerTz: PosixTz | null;
  /** Bytes consumed: through the footer's closing newline (v2+) or the end of the v1 block. */
  byteLength: number;
}

export interface Transition {
  at: number;
  before: LocalTimeType;
  after: LocalTimeType;
}

const HEADER_LEN = 44;
const TWO_32 = 2 ** 32;

/** Magic check only: the first four bytes are "TZif". */
export function isTzif(buf: Uint8Array): boolean {
  return (
    buf instanceof Uint8Array &&
    buf.length >= 4 &&
    buf[0] === 0x54 &&
    buf[1] === 0x5a &&
    buf[2] === 0x69 &&
    buf[3] === 0x66
  );
}

interface Header {
  version: 1 | 2 | 3 | 4;
  isutcnt: number;
  isstdcnt: number;
  leapcnt: number;
  timecnt: number;
  typecnt: number;
  charcnt: number;
}

function readHeader(buf: Uint8Array, view: DataView, off: number, which: string): Header {
  if (off + HEADER_LEN > buf.length) {
    throw new TzifError(
      `truncated ${which}header (need ${HEADER_LEN} bytes at offset ${off}, have ${buf.length - off})`,
    );
  }
  if (buf[off] !== 0x54 || buf[off + 1] !== 0x5a || buf[off + 2] !== 0x69 || buf[off + 3] !== 0x66) {
    throw new TzifError(`bad magic${which ? ` in ${which}header` : ""} (expected "TZif")`);
  }
  const v = buf[off + 4] as number;
  let version: 1 | 2 | 3 | 4;
  if (v === 0) version = 1;
  else if (v === 0x32) version = 2;
  else if (v === 0x33) version = 3;
  else if (v === 0x34) version = 4;
  else throw new TzifError(`unsupported version byte 0x${v.toString(16).padStart(2, "0")}`);
  const n = (k: number) => view.getUint32(off + 20 + 4 * k, false);
  return {
    version,
    isutcnt: n(0),
    isstdcnt: n(1),
    leapcnt: n(2),
    timecnt: n(3),
    typecnt: n(4),
    charcnt: n(5),
  };
}

function blockLength(h: Header, timeSize: number): number {
  return (
    h.timecnt * (timeSize + 1) +
    h.typecnt * 6 +
    h.charcnt +
    h.leapcnt * (timeSize + 4) +
    h.isstdcnt +
    h.isutcnt
  );
}

function checkBlockFits(buf: Uint8Array, h: Header, timeSize: number, off: number, which: string): number {
  const len = blockLength(h, timeSize);
  if (off + len > buf.length) {
    throw new TzifError(
      `truncated ${which} data block (need ${len} bytes at offset ${off}, have ${buf.length - off})`,
    );
  }
  return len;
}

function parseBlock(
  buf: Uint8Array,
  view: DataView,
  h: Header,
  timeSize: 4 | 8,
  start: number,
): { transitions: number[]; transitionTypes: number[]; types: LocalTimeType[]; end: number } {
  if (h.typecnt === 0) throw new TzifError("typecnt is zero");
  if (h.charcnt === 0) throw new TzifError("charcnt is zero");
  if (h.isstdcnt !== 0 && h.isstdcnt !== h.typecnt) {
    throw new TzifError(`isstdcnt ${h.isstdcnt} is neither 0 nor typecnt ${h.typecnt}`);
  }
  if (h.isutcnt !== 0 && h.isutcnt !== h.typecnt) {
    throw new TzifError(`isutcnt ${h.isutcnt} is neither 0 nor typecnt ${h.typecnt}`);
  }
  checkBlockFits(buf, h, timeSize, start, timeSize === 8 ? "64-bit" : "v1");
  let off = start;

  const transitions: number[] = new Array(h.timecnt);
  let prevHi = 0;
  let prevLo = 0;
  for (let i = 0; i < h.timecnt; i++) {
    let hi: number;
    let lo: number;
    if (timeSize === 8) {
      hi = view.getInt32(off, false);
      lo = view.getUint32(off + 4, false);
    } else {
      const v = view.getInt32(off, false);
      hi = v < 0 ? -1 : 0;
      lo = v >>> 0;
    }
    off += timeSize;
    if (i > 0 && (hi < prevHi || (hi === prevHi && lo <= prevLo))) {
      throw new TzifError(`transition times not strictly ascending at index ${i}`);
    }
    prevHi = hi;
    prevLo = lo;
    transitions[i] = hi * TWO_32 + lo;
  }

  const transitionTypes: number[] = new Array(h.timecnt);
  for (let i = 0; i < h.timecnt; i++) {
    const idx = buf[off++] as number;
    if (idx >= h.typecnt) {
      throw new TzifError(`type index ${idx} out of range at transition ${i} (typecnt ${h.typecnt})`);
    }
    transitionTypes[i] = idx;
  }

  const ttinfoStart = off;
  const charsStart = ttinfoStart + h.typecnt * 6;
  const charsEnd = charsStart + h.charcnt;
  const types: LocalTimeType[] = new Array(h.typecnt);
  for (let i = 0; i < h.typecnt; i++) {
    const p = ttinfoStart + i * 6;
    const utoff = view.getInt32(p, false);
    const isdst = buf[p + 4] as number;
    const desig = buf[p + 5] as number;
    if (utoff === -(2 ** 31)) throw new TzifError(`type ${i}: utoff is -2^31`);
    if (isdst > 1) throw new TzifError(`type ${i}: isdst byte ${isdst} is not 0 or 1`);
    if (desig >= h.charcnt) {
      throw new TzifError(`type ${i}: abbreviation index ${desig} out of range (charcnt ${h.charcnt})`);
    }
    let e = charsStart + desig;
    while (e < charsEnd && buf[e] !== 0) e++;
    if (e >= charsEnd) throw new TzifError(`type ${i}: abbreviation at index ${desig} is not NUL-terminated`);
    let abbr = "";
    for (let k = charsStart + desig; k < e; k++) abbr += String.fromCharCode(buf[k] as number);
    types[i] = { utoff, isDst: isdst === 1, abbr };
  }
  off = charsEnd;

  // Leap-second records are skipped (see the module comment); only their length matters.
  off += h.leapcnt * (timeSize + 4);

  for (const [name, cnt] of [
    ["standard/wall", h.isstdcnt],
    ["UT/local", h.isutcnt],
  ] as const) {
    for (let i = 0; i < cnt; i++) {
      const b = buf[off + i] as number;
      if (b > 1) throw new TzifError(`${name} indicator ${i} is ${b}, not 0 or 1`);
    }
    off += cnt;
  }
  return { transitions, transitionTypes, types, end: off };
}

function readFooter(buf: Uint8Array, off: number): { footer: string; end: number } {
  if (off >= buf.length) throw new TzifError("missing footer (truncated after the 64-bit data block)");
  if (buf[off] !== 0x0a)
    throw new TzifError(`footer does not start with a newline (byte 0x${(buf[off] as number).toString(16)})`);
  let e = off + 1;
  while (e < buf.length && buf[e] !== 0x0a) e++;
  if (e >= buf.length) throw new TzifError("footer is not newline-terminated (truncated footer)");
  let footer = "";
  for (let k = off + 1; k < e; k++) {
    const b = buf[k] as number;
    if (b < 0x20 || b > 0x7e) throw new TzifError(`footer contains byte 0x${b.toString(16)} at offset ${k}`);
    footer += String.fromCharCode(b);
  }
  return { footer, end: e + 1 };
}

/** Parses a TZif file; throws TzifError with a one-line reason on any malformed input. */
export function parseTzif(buf: Uint8Array): Tzif {
  if (!(buf instanceof Uint8Array)) throw new TzifError("input is not a Uint8Array");
  try {
    return parseUnchecked(buf);
  } catch (e) {
    if (e instanceof TzifError) throw e;
    // Defensive: no other exception may escape (e.g. a DataView RangeError from a missed bounds check).
    throw new TzifError(
      `malformed TZif (${e instanceof Error ? e.message : String(e)})`.replace(/\s*\n\s*/g, " "),
    );
  }
}

function parseUnchecked(buf: Uint8Array): Tzif {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const h1 = readHeader(buf, view, 0, "");
  if (h1.version === 1) {
    const b = parseBlock(buf, view, h1, 4, HEADER_LEN);
    return { version: 1, ...strip(b), footer: null, footerTz: null, byteLength: b.end };
  }
  const skip = checkBlockFits(buf, h1, 4, HEADER_LEN, "v1");
  const h2Off = HEADER_LEN + skip;
  const h2 = readHeader(buf, view, h2Off, "v2+ ");
  if (h2.version !== h1.version) {
    throw new TzifError(
      `second header version ${h2.version} differs from first header version ${h1.version}`,
    );
  }
  const b = parseBlock(buf, view, h2, 8, h2Off + HEADER_LEN);
  const { footer, end } = readFooter(buf, b.end);
  let footerTz: PosixTz | null = null;
  if (footer !== "") {
    footerTz = parsePosixTz(footer);
    if (footerTz === null) throw new TzifError(`invalid footer TZ string ${JSON.stringify(footer)}`);
  }
  return { version: h1.version, ...strip(b), footer, footerTz, byteLength: end };
}

function strip(b: ReturnType<typeof parseBlock>): Pick<Tzif, "transitions" | "transitionTypes" | "types"> {
  return { transitions: b.transitions, transitionTypes: b.transitionTypes, types: b.types };
}

function copy(t: LocalTimeType): LocalTimeType {
  return { utoff: t.utoff, isDst: t.isDst, abbr: t.abbr };
}

function typeAt(tz: Tzif, i: number): LocalTimeType {
  const t = tz.types[i];
  if (t === undefined) throw new RangeError(`type index ${i} out of range`);
  return t;
}

/** Index of the last transition <= t, or -1. */
function lastAtOrBefore(transitions: number[], t: number): number {
  let lo = 0;
  let hi = transitions.length; // invariant: transitions[< lo] <= t, transitions[>= hi] > t
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((transitions[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The local time type at `t` (epoch seconds): type 0 before the first transition; the type of the last
 * transition <= t; after the last transition (or when there is none) the footer rule if non-empty.
 * At exactly the last transition its own type applies (as in Python's zoneinfo).
 */
export function tzifOffsetAt(tz: Tzif, t: number): LocalTimeType {
  const n = tz.transitions.length;
  if (n === 0) return tz.footerTz ? posixOffsetAt(tz.footerTz, t) : copy(typeAt(tz, 0));
  const i = lastAtOrBefore(tz.transitions, t);
  if (i < 0) return copy(typeAt(tz, 0));
  if (i === n - 1 && tz.footerTz && t > (tz.transitions[n - 1] as number))
    return posixOffsetAt(tz.footerTz, t);
  return copy(typeAt(tz, tz.transitionTypes[i] as number));
}

function differs(a: LocalTimeType, b: LocalTimeType): boolean {
  return a.utoff !== b.utoff || a.isDst !== b.isDst || a.abbr !== b.abbr;
}

/**
 * Changes of local time type with from < at <= to, in order: explicit transitions (no-op ones such as the
 * -2^59 "big bang" record are dropped) then footer-rule transitions after the last explicit one. Exactly
 * the instants where tzifOffsetAt(at - 1) and tzifOffsetAt(at) differ. Footer DST rules need finite bounds
 * (RangeError otherwise).
 */
export function tzifTransitionsBetween(tz: Tzif, from: number, to: number): Transition[] {
  const out: Transition[] = [];
  if (!(to > from)) return out;
  const n = tz.transitions.length;
  if (n === 0) return tz.footerTz ? posixTransitionsBetween(tz.footerTz, from, to) : out;

  for (let i = lastAtOrBefore(tz.transitions, from) + 1; i < n; i++) {
    const at = tz.transitions[i] as number;
    if (at > to) return out;
    const before = typeAt(tz, i === 0 ? 0 : (tz.transitionTypes[i - 1] as number));
    const after = typeAt(tz, tz.transitionTypes[i] as number);
    if (differs(before, after)) out.push({ at, before: copy(before), after: copy(after) });
  }
  if (!tz.footerTz) return out;

  const last = tz.transitions[n - 1] as number;
  const handover = last + 1;
  if (handover > from && handover <= to) {
    const before = typeAt(tz, tz.transitionTypes[n - 1] as number);
    const after = posixOffsetAt(tz.footerTz, handover);
    if (differs(before, after)) out.push({ at: handover, before: copy(before), after });
  }
  if (to > handover) out.push(...posixTransitionsBetween(tz.footerTz, Math.max(from, handover), to));
  return out;
}
