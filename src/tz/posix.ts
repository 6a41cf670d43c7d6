/**
 * POSIX TZ strings (`std offset [dst [offset] [,start[/time],end[/time]]]`) as glibc's `__tzset_parse_tz`
 * reads them, plus the RFC 9636 (TZif v3) extensions: rule times from -167 to 167 hours and all-year DST.
 * Used for TZ environment values (`CST-8`, `UTC+8`, `<+08>-8`, `EST5EDT,M3.2.0,M11.1.0`) and TZif footers.
 * Pure: no IO.
 *
 * Where glibc silently accepts garbage (measured on 2.36: `UTC+25` and `UTC+99` read as 24 hours, `UTC+1:75`
 * as 1:59, trailing text as in `CST-8 ` is ignored) this parser returns null instead: a diagnostic wants to
 * know. Python's zoneinfo rejects the same out-of-range offsets. Rule hours are limited to RFC 9636's 167.
 */

export interface LocalTimeType {
  /** Seconds EAST of UTC (the opposite of the POSIX sign). */
  utoff: number;
  isDst: boolean;
  abbr: string;
}

export type PosixRule =
  /** Day `day` (0 = Sunday) of week `week` (1..4, 5 = last) of month `month` (1..12). */
  | { kind: "M"; month: number; week: number; day: number; time: number }
  /** Julian day 1..365, Feb 29 never counted (J60 is always March 1). */
  | { kind: "J"; day: number; time: number }
  /** Zero-based day of year 0..365, Feb 29 counted in leap years. */
  | { kind: "N"; day: number; time: number };

export interface PosixTz {
  source: string;
  std: LocalTimeType;
  dst: null | {
    type: LocalTimeType;
    /** When DST starts, `time` in seconds of local standard time after local midnight. */
    start: PosixRule;
    /** When DST ends, `time` in seconds of local daylight time after local midnight. */
    end: PosixRule;
    /**
     * True when the string named a DST zone but gave no (or only one) rule. We model the US rules
     * `M3.2.0,M11.1.0`. glibc uses them only when `$TZDIR/posixrules` is missing; when it exists (Debian:
     * a link to America/New_York) glibc 2.36 replays that file's history instead, measured with zdump:
     * `XXX5YYY` follows the pre-2007 US dates and ends DST at 02:00 UTC (21:00 local), not 02:00 local, and
     * other offsets get shifted instants. Treat defaulted rules as approximate.
     */
    rulesDefaulted: boolean;
  };
}

const DEFAULT_RULE_TIME = 2 * 3600;
const MAX_RULE_HOURS = 167;
const SECS_PER_DAY = 86400;
/** posixTransitionsBetween refuses spans longer than this (DST rules repeat yearly, callers want less). */
const MAX_SPAN_YEARS = 20000;

function isAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  peek(k = 0): string | undefined {
    return this.s[this.i + k];
  }
  done(): boolean {
    return this.i >= this.s.length;
  }
  /** A run of decimal digits as a number, or null when there is none. */
  digits(): number | null {
    const start = this.i;
    while (isDigit(this.s[this.i])) this.i++;
    if (this.i === start) return null;
    // Long runs of leading zeros are harmless; absurdly long numbers are rejected by the range checks.
    return Number(this.s.slice(start, this.i));
  }
}

/** glibc parse_tzname: >= 3 ASCII letters, or `<...>` with >= 3 of [A-Za-z0-9+-]; returns the bare name. */
function parseName(c: Cursor): string | null {
  const start = c.i;
  while (isAlpha(c.peek())) c.i++;
  if (c.i - start >= 3) return c.s.slice(start, c.i);
  c.i = start;
  if (c.peek() !== "<") return null;
  c.i++;
  const inner = c.i;
  for (;;) {
    const ch = c.peek();
    if (isAlpha(ch) || isDigit(ch) || ch === "+" || ch === "-") c.i++;
    else break;
  }
  const name = c.s.slice(inner, c.i);
  if (c.peek() !== ">" || name.length < 3) return null;
  c.i++;
  return name;
}

/** `hh[:mm[:ss]]` with hh <= maxHours, mm and ss <= 59; returns seconds or null. */
function parseHms(c: Cursor, maxHours: number): number | null {
  const hh = c.digits();
  if (hh === null || hh > maxHours) return null;
  let mm = 0;
  let ss = 0;
  if (c.peek() === ":") {
    c.i++;
    const m = c.digits();
    if (m === null || m > 59) return null;
    mm = m;
    if (c.peek() === ":") {
      c.i++;
      const s = c.digits();
      if (s === null || s > 59) return null;
      ss = s;
    }
  }
  return hh * 3600 + mm * 60 + ss;
}

/** A POSIX offset (west-positive) converted to seconds east of UTC; null when absent or malformed. */
function parseOffset(c: Cursor): number | null {
  let sign = 1;
  const ch = c.peek();
  if (ch === "+" || ch === "-") {
    if (ch === "-") sign = -1;
    c.i++;
  }
  if (!isDigit(c.peek())) return null;
  const secs = parseHms(c, 24);
  if (secs === null) return null;
  return secs === 0 ? 0 : -sign * secs;
}

function parseRule(c: Cursor): PosixRule | null {
  const ch = c.peek();
  let rule: PosixRule;
  if (ch === "J") {
    c.i++;
    const d = c.digits();
    if (d === null || d < 1 || d > 365) return null;
    rule = { kind: "J", day: d, time: DEFAULT_RULE_TIME };
  } else if (isDigit(ch)) {
    const d = c.digits();
    if (d === null || d > 365) return null;
    rule = { kind: "N", day: d, time: DEFAULT_RULE_TIME };
  } else if (ch === "M") {
    c.i++;
    const month = c.digits();
    if (month === null || month < 1 || month > 12 || c.peek() !== ".") return null;
    c.i++;
    const week = c.digits();
    if (week === null || week < 1 || week > 5 || c.peek() !== ".") return null;
    c.i++;
    const day = c.digits();
    if (day === null || day > 6) return null;
    rule = { kind: "M", month, week, day, time: DEFAULT_RULE_TIME };
  } else {
    return null;
  }
  if (c.peek() === "/") {
    c.i++;
    let sign = 1;
    const s = c.peek();
    if (s === "+" || s === "-") {
      if (s === "-") sign = -1;
      c.i++;
    }
    const secs = parseHms(c, MAX_RULE_HOURS);
    if (secs === null) return null;
    rule.time = secs === 0 ? 0 : sign * secs;
  }
  return rule;
}

/** Returns null when the string is not a valid POSIX TZ string (e.g. "Asia/Shanghai", "", "CST"). */
export function parsePosixTz(s: string): PosixTz | null {
  if (typeof s !== "string") return null;
  const c = new Cursor(s);
  const stdName = parseName(c);
  if (stdName === null) return null;
  const stdOff = parseOffset(c);
  if (stdOff === null) return null;
  const std: LocalTimeType = { utoff: stdOff, isDst: false, abbr: stdName };
  if (c.done()) return { source: s, std, dst: null };

  const dstName = parseName(c);
  if (dstName === null) return null;
  let dstOff = stdOff + 3600;
  const next = c.peek();
  if (next !== undefined && next !== ",") {
    const off = parseOffset(c);
    if (off === null) return null;
    dstOff = off;
  }
  const type: LocalTimeType = { utoff: dstOff, isDst: true, abbr: dstName };
  const usStart: PosixRule = { kind: "M", month: 3, week: 2, day: 0, time: DEFAULT_RULE_TIME };
  const usEnd: PosixRule = { kind: "M", month: 11, week: 1, day: 0, time: DEFAULT_RULE_TIME };

  // glibc: no rules (or a lone trailing comma) means posixrules / US rules; a missing end rule is
  // defaulted to the US end rule by parse_rule.
  if (c.done() || (c.peek() === "," && c.i + 1 === s.length)) {
    return { source: s, std, dst: { type, start: usStart, end: usEnd, rulesDefaulted: true } };
  }
  if (c.peek() !== ",") return null;
  c.i++;
  const start = parseRule(c);
  if (start === null) return null;
  if (c.done() || (c.peek() === "," && c.i + 1 === s.length)) {
    return { source: s, std, dst: { type, start, end: usEnd, rulesDefaulted: true } };
  }
  if (c.peek() !== ",") return null;
  c.i++;
  const end = parseRule(c);
  if (end === null || !c.done()) return null;
  return { source: s, std, dst: { type, start, end, rulesDefaulted: false } };
}

// ---------------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, valid for negative years too; H. Hinnant's algorithms).

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days since 1970-01-01 of the given civil date. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The UTC calendar year containing epoch second `t`. */
function utcYearOf(t: number): number {
  const z = Math.floor(t / SECS_PER_DAY) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2 ? 1 : 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since the epoch of the local date the rule selects in year `y`. */
function ruleDay(rule: PosixRule, y: number): number {
  const jan1 = daysFromCivil(y, 1, 1);
  switch (rule.kind) {
    case "J":
      return jan1 + rule.day - 1 + (rule.day >= 60 && isLeap(y) ? 1 : 0);
    case "N":
      return jan1 + rule.day;
    case "M": {
      const first = daysFromCivil(y, rule.month, 1);
      const dowFirst = (((first + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
      let d = (rule.day - dowFirst + 7) % 7;
      const len = (MONTH_DAYS[rule.month - 1] ?? 31) + (rule.month === 2 && isLeap(y) ? 1 : 0);
      for (let w = 1; w < rule.week && d + 7 < len; w++) d += 7;
      return first + d;
    }
  }
}

interface RuleEvent {
  at: number;
  toDst: boolean;
  year: number;
}

type Dst = NonNullable<PosixTz["dst"]>;

function eventsForYears(std: LocalTimeType, dst: Dst, y0: number, y1: number): RuleEvent[] {
  const out: RuleEvent[] = [];
  for (let y = y0; y <= y1; y++) {
    out.push({ at: ruleDay(dst.start, y) * SECS_PER_DAY + dst.start.time - std.utoff, toDst: true, year: y });
    out.push({
      at: ruleDay(dst.end, y) * SECS_PER_DAY + dst.end.time - dst.type.utoff,
      toDst: false,
      year: y,
    });
  }
  // Equal instants: the later year's rule wins (all-year DST: end of y-1 == start of y keeps DST), and
  // within one year the end is applied after the start (start == end means no DST that year).
  out.sort((a, b) => a.at - b.at || a.year - b.year || (a.toDst === b.toDst ? 0 : a.toDst ? -1 : 1));
  return out;
}

function copy(t: LocalTimeType): LocalTimeType {
  return { utoff: t.utoff, isDst: t.isDst, abbr: t.abbr };
}

function checkFinite(name: string, t: number): void {
  if (!Number.isFinite(t)) throw new RangeError(`${name} must be a finite number of seconds, got ${t}`);
}

/**
 * The local time type in effect at `t` (epoch seconds). Every rule-generated change is treated as an
 * instant on one proleptic timeline, so southern-hemisphere rules, all-year DST (`EST5EDT,0/0,J365/25`) and
 * v3 rule times that cross a year boundary all evaluate exactly; Python's zoneinfo agrees. glibc 2.36
 * differs (measured): it evaluates only the rules of t's UTC year (all-year DST reads as standard time from
 * Jan 1 00:00 UTC until the start instant) and applies no DST at all before 1970.
 */
export function posixOffsetAt(p: PosixTz, t: number): LocalTimeType {
  const dst = p.dst;
  if (dst === null) return copy(p.std);
  checkFinite("t", t);
  const y = utcYearOf(t);
  // Rule instants of year y lie within about 9 days of year y, so year y-2 always has an event <= t.
  let isDst = false;
  for (const e of eventsForYears(p.std, dst, y - 2, y + 1)) {
    if (e.at > t) break;
    isDst = e.toDst;
  }
  return copy(isDst ? dst.type : p.std);
}

/** Transitions with from < at <= to, in order. Throws RangeError for non-finite or > 20000-year spans. */
export function posixTransitionsBetween(
  p: PosixTz,
  from: number,
  to: number,
): { at: number; before: LocalTimeType; after: LocalTimeType }[] {
  const dst = p.dst;
  if (dst === null || !(to > from)) return [];
  checkFinite("from", from);
  checkFinite("to", to);
  const y0 = utcYearOf(from);
  const y1 = utcYearOf(to);
  if (y1 - y0 > MAX_SPAN_YEARS) throw new RangeError(`span of ${y1 - y0} years is too large`);
  const events = eventsForYears(p.std, dst, y0 - 2, y1 + 1);
  const out: { at: number; before: LocalTimeType; after: LocalTimeType }[] = [];
  let state = false;
  let i = 0;
  while (i < events.length) {
    const at = (events[i] as RuleEvent).at;
    const prev: boolean = state;
    // Apply every event at this instant, then compare the net result.
    while (i < events.length && (events[i] as RuleEvent).at === at) {
      state = (events[i] as RuleEvent).toDst;
      i++;
    }
    if (at > to) break;
    if (at > from && state !== prev) {
      out.push({
        at,
        before: copy(prev ? dst.type : p.std),
        after: copy(state ? dst.type : p.std),
      });
    }
  }
  return out;
}
