/**
 * Pure predictor of what `tzlocal.get_localzone()` does on a target (regebro/tzlocal, unix.py + utils.py),
 * for the three lines APScheduler installs: "2.x" (2.1, pytz; 3.0 differences are noted in steps), "4.x"
 * (modelled on the installed Debian python3-tzlocal 4.2 source, which differs from the 4.3 the reference
 * describes, see the notes marked "4.2") and "5.x" (5.3.1 .. HEAD as of the reference; where they differ the
 * newest, 5.4.4+, is modelled: ASCII-only /etc/timezone, a clock line without its closing quote is skipped
 * with a warning instead of raising AttributeError).
 * No IO: everything comes from the TzLayout.
 *
 * Python details that matter and are mirrored here: str.strip / str.splitlines / text-mode universal
 * newlines, `re` \s (Unicode whitespace), zoneinfo key validation, pytz's and pytz_deprecation_shim's "UTC"
 * special cases, and UnicodeDecodeError texts.
 */
import type { TextFileFact, TzLayout } from "./layout.js";

export type TzlocalLine = "2.x" | "4.x" | "5.x";
export const TZLOCAL_LINES: readonly TzlocalLine[] = ["2.x", "4.x", "5.x"];

export interface TzlocalWarning {
  /** "UserWarning" for warnings.warn, null for a record of the "tzlocal" logging logger */
  exception: string | null;
  message: string;
}

export interface TzlocalPrediction {
  line: TzlocalLine;
  outcome: "ok" | "warning" | "error";
  /** The zone key tzlocal returns ("Asia/Shanghai", "local", "UTC"); null on error. */
  zone: string | null;
  /** Python exception/warning class; null for a logging warning or ok. */
  exception: string | null;
  /**
   * The exact text: e.args[0] for exceptions (so a KeyError subclass's text is unquoted), str(e) for
   * OSError/UnicodeDecodeError whose args[0] is not the text; the warning or log text for warnings
   * (the last one when several were emitted); null when ok.
   */
  message: string | null;
  /** Which source decided: "TZ", "/etc/timezone", "/etc/localtime is a symlink to", "default", ... */
  via: string;
  /** Short human explanation of the path taken, in order. */
  steps: string[];
  /** Every warning emitted on the way, in order (also for error outcomes). */
  warnings: TzlocalWarning[];
}

/**
 * What tzlocal's _tz_name_from_env accepts as a name for TZ=/absolute/path: the 554 keys of
 * tzlocal/windows_tz.py `tz_win` in 4.2. Also used for 5.x, whose table has 587 keys (not available here):
 * a name missing from this copy makes the 5.x prediction fall back to the basename, as tzlocal does.
 */
const TZ_WIN_NAMES = new Set(
  [
    "Africa/Abidjan Africa/Accra Africa/Addis_Ababa Africa/Algiers Africa/Asmera Africa/Bamako",
    "Africa/Bangui Africa/Banjul Africa/Bissau Africa/Blantyre Africa/Brazzaville Africa/Bujumbura",
    "Africa/Cairo Africa/Casablanca Africa/Ceuta Africa/Conakry Africa/Dakar Africa/Dar_es_Salaam",
    "Africa/Djibouti Africa/Douala Africa/El_Aaiun Africa/Freetown Africa/Gaborone Africa/Harare",
    "Africa/Johannesburg Africa/Juba Africa/Kampala Africa/Khartoum Africa/Kigali Africa/Kinshasa",
    "Africa/Lagos Africa/Libreville Africa/Lome Africa/Luanda Africa/Lubumbashi Africa/Lusaka",
    "Africa/Malabo Africa/Maputo Africa/Maseru Africa/Mbabane Africa/Mogadishu Africa/Monrovia",
    "Africa/Nairobi Africa/Ndjamena Africa/Niamey Africa/Nouakchott Africa/Ouagadougou Africa/Porto-Novo",
    "Africa/Sao_Tome Africa/Timbuktu Africa/Tripoli Africa/Tunis Africa/Windhoek America/Adak",
    "America/Anchorage America/Anguilla America/Antigua America/Araguaina America/Argentina/La_Rioja",
    "America/Argentina/Rio_Gallegos America/Argentina/Salta America/Argentina/San_Juan",
    "America/Argentina/San_Luis America/Argentina/Tucuman America/Argentina/Ushuaia America/Aruba",
    "America/Asuncion America/Atka America/Bahia America/Bahia_Banderas America/Barbados America/Belem",
    "America/Belize America/Blanc-Sablon America/Boa_Vista America/Bogota America/Boise",
    "America/Buenos_Aires America/Cambridge_Bay America/Campo_Grande America/Cancun America/Caracas",
    "America/Catamarca America/Cayenne America/Cayman America/Chicago America/Chihuahua",
    "America/Coral_Harbour America/Cordoba America/Costa_Rica America/Creston America/Cuiaba",
    "America/Curacao America/Danmarkshavn America/Dawson America/Dawson_Creek America/Denver",
    "America/Detroit America/Dominica America/Edmonton America/Eirunepe America/El_Salvador",
    "America/Ensenada America/Fort_Nelson America/Fortaleza America/Glace_Bay America/Godthab",
    "America/Goose_Bay America/Grand_Turk America/Grenada America/Guadeloupe America/Guatemala",
    "America/Guayaquil America/Guyana America/Halifax America/Havana America/Hermosillo",
    "America/Indiana/Knox America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Tell_City",
    "America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac America/Indianapolis",
    "America/Inuvik America/Iqaluit America/Jamaica America/Jujuy America/Juneau",
    "America/Kentucky/Monticello America/Knox_IN America/Kralendijk America/La_Paz America/Lima",
    "America/Los_Angeles America/Louisville America/Lower_Princes America/Maceio America/Managua",
    "America/Manaus America/Marigot America/Martinique America/Matamoros America/Mazatlan America/Mendoza",
    "America/Menominee America/Merida America/Metlakatla America/Mexico_City America/Miquelon",
    "America/Moncton America/Monterrey America/Montevideo America/Montreal America/Montserrat",
    "America/Nassau America/New_York America/Nipigon America/Nome America/Noronha",
    "America/North_Dakota/Beulah America/North_Dakota/Center America/North_Dakota/New_Salem",
    "America/Ojinaga America/Panama America/Pangnirtung America/Paramaribo America/Phoenix",
    "America/Port-au-Prince America/Port_of_Spain America/Porto_Acre America/Porto_Velho",
    "America/Puerto_Rico America/Punta_Arenas America/Rainy_River America/Rankin_Inlet America/Recife",
    "America/Regina America/Resolute America/Rio_Branco America/Santa_Isabel America/Santarem",
    "America/Santiago America/Santo_Domingo America/Sao_Paulo America/Scoresbysund America/Shiprock",
    "America/Sitka America/St_Barthelemy America/St_Johns America/St_Kitts America/St_Lucia",
    "America/St_Thomas America/St_Vincent America/Swift_Current America/Tegucigalpa America/Thule",
    "America/Thunder_Bay America/Tijuana America/Toronto America/Tortola America/Vancouver America/Virgin",
    "America/Whitehorse America/Winnipeg America/Yakutat America/Yellowknife Antarctica/Casey",
    "Antarctica/Davis Antarctica/DumontDUrville Antarctica/Macquarie Antarctica/Mawson Antarctica/McMurdo",
    "Antarctica/Palmer Antarctica/Rothera Antarctica/South_Pole Antarctica/Syowa Antarctica/Vostok",
    "Arctic/Longyearbyen Asia/Aden Asia/Almaty Asia/Amman Asia/Anadyr Asia/Aqtau Asia/Aqtobe",
    "Asia/Ashgabat Asia/Ashkhabad Asia/Atyrau Asia/Baghdad Asia/Bahrain Asia/Baku Asia/Bangkok",
    "Asia/Barnaul Asia/Beirut Asia/Bishkek Asia/Brunei Asia/Calcutta Asia/Chita Asia/Choibalsan",
    "Asia/Chongqing Asia/Chungking Asia/Colombo Asia/Dacca Asia/Damascus Asia/Dhaka Asia/Dili Asia/Dubai",
    "Asia/Dushanbe Asia/Famagusta Asia/Gaza Asia/Harbin Asia/Hebron Asia/Hong_Kong Asia/Hovd Asia/Irkutsk",
    "Asia/Jakarta Asia/Jayapura Asia/Jerusalem Asia/Kabul Asia/Kamchatka Asia/Karachi Asia/Kashgar",
    "Asia/Katmandu Asia/Khandyga Asia/Krasnoyarsk Asia/Kuala_Lumpur Asia/Kuching Asia/Kuwait Asia/Macao",
    "Asia/Macau Asia/Magadan Asia/Makassar Asia/Manila Asia/Muscat Asia/Nicosia Asia/Novokuznetsk",
    "Asia/Novosibirsk Asia/Omsk Asia/Oral Asia/Phnom_Penh Asia/Pontianak Asia/Pyongyang Asia/Qatar",
    "Asia/Qostanay Asia/Qyzylorda Asia/Rangoon Asia/Riyadh Asia/Saigon Asia/Sakhalin Asia/Samarkand",
    "Asia/Seoul Asia/Shanghai Asia/Singapore Asia/Srednekolymsk Asia/Taipei Asia/Tashkent Asia/Tbilisi",
    "Asia/Tehran Asia/Tel_Aviv Asia/Thimbu Asia/Thimphu Asia/Tokyo Asia/Tomsk Asia/Ujung_Pandang",
    "Asia/Ulaanbaatar Asia/Ulan_Bator Asia/Urumqi Asia/Ust-Nera Asia/Vientiane Asia/Vladivostok",
    "Asia/Yakutsk Asia/Yekaterinburg Asia/Yerevan Atlantic/Azores Atlantic/Bermuda Atlantic/Canary",
    "Atlantic/Cape_Verde Atlantic/Faeroe Atlantic/Jan_Mayen Atlantic/Madeira Atlantic/Reykjavik",
    "Atlantic/South_Georgia Atlantic/St_Helena Atlantic/Stanley Australia/ACT Australia/Adelaide",
    "Australia/Brisbane Australia/Broken_Hill Australia/Canberra Australia/Currie Australia/Darwin",
    "Australia/Eucla Australia/Hobart Australia/LHI Australia/Lindeman Australia/Lord_Howe",
    "Australia/Melbourne Australia/NSW Australia/North Australia/Perth Australia/Queensland",
    "Australia/South Australia/Sydney Australia/Tasmania Australia/Victoria Australia/West",
    "Australia/Yancowinna Brazil/Acre Brazil/DeNoronha Brazil/East Brazil/West CST6CDT Canada/Atlantic",
    "Canada/Central Canada/Eastern Canada/Mountain Canada/Newfoundland Canada/Pacific Canada/Saskatchewan",
    "Canada/Yukon Chile/Continental Chile/EasterIsland Cuba EST5EDT Egypt Eire Etc/GMT Etc/GMT+1",
    "Etc/GMT+10 Etc/GMT+11 Etc/GMT+12 Etc/GMT+2 Etc/GMT+3 Etc/GMT+4 Etc/GMT+5 Etc/GMT+6 Etc/GMT+7",
    "Etc/GMT+8 Etc/GMT+9 Etc/GMT-1 Etc/GMT-10 Etc/GMT-11 Etc/GMT-12 Etc/GMT-13 Etc/GMT-14 Etc/GMT-2",
    "Etc/GMT-3 Etc/GMT-4 Etc/GMT-5 Etc/GMT-6 Etc/GMT-7 Etc/GMT-8 Etc/GMT-9 Etc/UCT Etc/UTC",
    "Europe/Amsterdam Europe/Andorra Europe/Astrakhan Europe/Athens Europe/Belfast Europe/Belgrade",
    "Europe/Berlin Europe/Bratislava Europe/Brussels Europe/Bucharest Europe/Budapest Europe/Busingen",
    "Europe/Chisinau Europe/Copenhagen Europe/Dublin Europe/Gibraltar Europe/Guernsey Europe/Helsinki",
    "Europe/Isle_of_Man Europe/Istanbul Europe/Jersey Europe/Kaliningrad Europe/Kiev Europe/Kirov",
    "Europe/Lisbon Europe/Ljubljana Europe/London Europe/Luxembourg Europe/Madrid Europe/Malta",
    "Europe/Mariehamn Europe/Minsk Europe/Monaco Europe/Moscow Europe/Oslo Europe/Paris Europe/Podgorica",
    "Europe/Prague Europe/Riga Europe/Rome Europe/Samara Europe/San_Marino Europe/Sarajevo Europe/Saratov",
    "Europe/Simferopol Europe/Skopje Europe/Sofia Europe/Stockholm Europe/Tallinn Europe/Tirane",
    "Europe/Tiraspol Europe/Ulyanovsk Europe/Uzhgorod Europe/Vaduz Europe/Vatican Europe/Vienna",
    "Europe/Vilnius Europe/Volgograd Europe/Warsaw Europe/Zagreb Europe/Zaporozhye Europe/Zurich GB",
    "GB-Eire GMT+0 GMT-0 GMT0 Greenwich Hongkong Iceland Indian/Antananarivo Indian/Chagos",
    "Indian/Christmas Indian/Cocos Indian/Comoro Indian/Kerguelen Indian/Mahe Indian/Maldives",
    "Indian/Mauritius Indian/Mayotte Indian/Reunion Iran Israel Jamaica Japan Kwajalein Libya MST7MDT",
    "Mexico/BajaNorte Mexico/BajaSur Mexico/General NZ NZ-CHAT Navajo PRC PST8PDT Pacific/Apia",
    "Pacific/Auckland Pacific/Bougainville Pacific/Chatham Pacific/Easter Pacific/Efate Pacific/Enderbury",
    "Pacific/Fakaofo Pacific/Fiji Pacific/Funafuti Pacific/Galapagos Pacific/Gambier Pacific/Guadalcanal",
    "Pacific/Guam Pacific/Honolulu Pacific/Johnston Pacific/Kiritimati Pacific/Kosrae Pacific/Kwajalein",
    "Pacific/Majuro Pacific/Marquesas Pacific/Midway Pacific/Nauru Pacific/Niue Pacific/Norfolk",
    "Pacific/Noumea Pacific/Pago_Pago Pacific/Palau Pacific/Pitcairn Pacific/Ponape Pacific/Port_Moresby",
    "Pacific/Rarotonga Pacific/Saipan Pacific/Samoa Pacific/Tahiti Pacific/Tarawa Pacific/Tongatapu",
    "Pacific/Truk Pacific/Wake Pacific/Wallis Poland Portugal ROC ROK Singapore Turkey UCT US/Alaska",
    "US/Aleutian US/Arizona US/Central US/Eastern US/Hawaii US/Indiana-Starke US/Michigan US/Mountain",
    "US/Pacific US/Samoa UTC Universal W-SU Zulu",
  ]
    .join(" ")
    .split(" "),
);

// ---------------------------------------------------------------------------------------------------------
// Python behaviour helpers
// ---------------------------------------------------------------------------------------------------------

/** Python `re` \s for str patterns (= str.isspace()). */
const PY_WS =
  "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** `re.compile(r'\s*ZONE\s*=\s*\"')` / `r'\s*TIMEZONE\s*=\s*\"'` used with .match() (anchored at the start). */
const ZONE_RE = new RegExp(`^[${PY_WS}]*ZONE[${PY_WS}]*=[${PY_WS}]*"`);
const TIMEZONE_RE = new RegExp(`^[${PY_WS}]*TIMEZONE[${PY_WS}]*=[${PY_WS}]*"`);
/** str.splitlines() boundaries (besides "\r\n"). */
const LINE_BREAKS = new Set(["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]);

function pyStrip(s: string, chars: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a] as string)) a++;
  while (b > a && chars.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

function pySplitlines(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "\r" && s[i + 1] === "\n") {
      out.push(s.slice(start, i));
      i += 2;
      start = i;
    } else if (LINE_BREAKS.has(c)) {
      out.push(s.slice(start, i));
      i += 1;
      start = i;
    } else i += 1;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** Text-mode open(): universal newlines turn "\r\n" and "\r" into "\n". */
function universalNewlines(s: string): string {
  return s.replace(/\r\n?/g, "\n");
}

/** file.readlines() in text mode: lines keep their "\n". */
function pyReadlines(text: string): string[] {
  return universalNewlines(text).match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function isAsciiOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** os.path.normpath (posix). */
function posixNormpath(p: string): string {
  if (p === "") return ".";
  const lead = p.startsWith("//") && !p.startsWith("///") ? 2 : p.startsWith("/") ? 1 : 0;
  const comps: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c !== ".." || (lead === 0 && comps.length === 0) || comps[comps.length - 1] === "..") comps.push(c);
    else if (comps.length > 0) comps.pop();
  }
  const out = "/".repeat(lead) + comps.join("/");
  return out || ".";
}

/** zoneinfo._tzpath._validate_tzfile_path (CPython 3.9+): the ValueError text, or null when the key is valid. */
export function zoneinfoKeyError(key: string): string | null {
  if (key.startsWith("/")) return `ZoneInfo keys may not be absolute paths, got: ${key}`;
  const normalized = posixNormpath(key);
  if (normalized.length !== key.length) return `ZoneInfo keys must be normalized relative paths, got: ${key}`;
  if (!posixNormpath(`_/${normalized}`).startsWith("_/")) {
    return `ZoneInfo keys must refer to subdirectories of TZPATH, got: ${key}`;
  }
  return null;
}

/** str(UnicodeDecodeError) that CPython's strict UTF-8 decoder raises for `bytes`, or null when they decode. */
export function utf8DecodeErrorText(bytes: Uint8Array): string | null {
  const n = bytes.length;
  const cont = (i: number): boolean => i < n && ((bytes[i] as number) & 0xc0) === 0x80;
  let i = 0;
  while (i < n) {
    const c = bytes[i] as number;
    let bad: { len: number; reason: string } | null = null;
    if (c < 0x80) {
      i += 1;
      continue;
    }
    if (c < 0xc2 || c > 0xf4) bad = { len: 1, reason: "invalid start byte" };
    else if (c < 0xe0) {
      if (n - i < 2) bad = { len: n - i, reason: "unexpected end of data" };
      else if (!cont(i + 1)) bad = { len: 1, reason: "invalid continuation byte" };
      else i += 2;
    } else if (c < 0xf0) {
      const c2 = bytes[i + 1] as number;
      const c2bad = (x: number) => !cont(i + 1) || (c === 0xe0 && x < 0xa0) || (c === 0xed && x >= 0xa0);
      if (n - i < 2) bad = { len: n - i, reason: "unexpected end of data" };
      else if (c2bad(c2)) bad = { len: 1, reason: "invalid continuation byte" };
      else if (n - i < 3) bad = { len: n - i, reason: "unexpected end of data" };
      else if (!cont(i + 2)) bad = { len: 2, reason: "invalid continuation byte" };
      else i += 3;
    } else {
      const c2 = bytes[i + 1] as number;
      const c2bad = (x: number) => !cont(i + 1) || (c === 0xf0 && x < 0x90) || (c === 0xf4 && x >= 0x90);
      if (n - i < 2) bad = { len: n - i, reason: "unexpected end of data" };
      else if (c2bad(c2)) bad = { len: 1, reason: "invalid continuation byte" };
      else if (n - i < 3) bad = { len: n - i, reason: "unexpected end of data" };
      else if (!cont(i + 2)) bad = { len: 2, reason: "invalid continuation byte" };
      else if (n - i < 4) bad = { len: n - i, reason: "unexpected end of data" };
      else if (!cont(i + 3)) bad = { len: 3, reason: "invalid continuation byte" };
      else i += 4;
    }
    if (bad) {
      if (bad.len === 1) {
        const hex = c.toString(16).padStart(2, "0");
        return `'utf-8' codec can't decode byte 0x${hex} in position ${i}: ${bad.reason}`;
      }
      return `'utf-8' codec can't decode bytes in position ${i}-${i + bad.len - 1}: ${bad.reason}`;
    }
  }
  return null;
}

function bytesOf(f: TextFileFact): Buffer {
  return Buffer.from(f.raw ?? "", "latin1");
}

/** bytes.strip() with no argument: ASCII whitespace. */
function bytesStrip(b: Buffer): Buffer {
  const ws = (x: number) => x === 0x20 || (x >= 0x09 && x <= 0x0d);
  let a = 0;
  let e = b.length;
  while (a < e && ws(b[a] as number)) a++;
  while (e > a && ws(b[e - 1] as number)) e--;
  return b.subarray(a, e);
}

type TextRead = { kind: "missing" } | { kind: "undecodable"; error: string } | { kind: "ok"; text: string };

/** open(path, "rt") then read(): missing/unreadable (an OSError), undecodable (UnicodeDecodeError) or text. */
function readText(f: TextFileFact, encoding: "utf-8" | "ascii"): TextRead {
  if (!f.exists || f.raw === null) return { kind: "missing" };
  if (encoding === "ascii" ? f.notAscii : f.notUtf8) {
    return { kind: "undecodable", error: utf8DecodeErrorText(bytesOf(f)) ?? "UnicodeDecodeError" };
  }
  return { kind: "ok", text: universalNewlines(bytesOf(f).toString("utf8")) };
}

// ---------------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------------

/** A tz object: its key/str() and its UTC offset at `now` (null when unknown). */
interface Tz {
  zone: string;
  offset: number | null;
}

/** A Python exception escaping get_localzone(). */
class PyRaise {
  constructor(
    readonly exception: string,
    readonly message: string | null,
    readonly via: string,
  ) {}
}

const SYMLINK_KEY = "/etc/localtime is a symlink to";
const CONFIG_FILES = [
  ["etcTimezone", "/etc/timezone"],
  ["varDbZoneinfo", "/var/db/zoneinfo"],
] as const;
const CLOCK_FILES = [
  ["sysconfigClock", "/etc/sysconfig/clock"],
  ["confdClock", "/etc/conf.d/clock"],
] as const;
const CONFLICT_HEAD = "Multiple conflicting time zone configurations found:\n";
const CONFLICT_TAIL = "Fix the configuration, or set the time zone in a TZ environment variable.\n";
const DEFAULT_UTC_WARNING = "Can not find any timezone configuration, defaulting to UTC.";
const ETC_TIMEZONE_DROPPED =
  "/etc/timezone is deprecated in some distros, and no longer reliable. tzlocal is ignoring it, and you can likely delete it.";
/** 4.2's utils._tz_from_env never fills in the %s (2.1 has the same text, but swallows the error). */
const NON_ZONEINFO_UNFORMATTED =
  "tzlocal() does not support non-zoneinfo timezones like %s. \nPlease use a timezone in the form of Continent/City";
/** Assumption for Termux checks: inside a container `getprop` is not on PATH, so check_output() raises. */
const GETPROP_MISSING = "[Errno 2] No such file or directory: 'getprop'";

function quote(s: string): string {
  return JSON.stringify(s);
}

class Run {
  readonly steps: string[] = [];
  readonly warnings: TzlocalWarning[] = [];

  constructor(
    readonly L: TzLayout,
    readonly line: TzlocalLine,
  ) {}

  step(s: string): void {
    this.steps.push(s);
  }

  warn(exception: string | null, message: string): void {
    this.warnings.push({ exception, message });
    this.step(exception ? `${exception}: ${message}` : `logging warning: ${message}`);
  }

  zoneOffset(name: string): number | null {
    return this.L.zones.offsetAt(name, this.L.now);
  }

  /** pytz.timezone(name) (2.x): 'UTC' in any case is pytz.utc; unknown names raise UnknownTimeZoneError(name). */
  pytzTimezone(name: string, via: string): Tz {
    if (name.toUpperCase() === "UTC") return { zone: "UTC", offset: 0 };
    // pytz: ascii check, then _unmunge_zone ('_plus_' -> '+', '_minus_' -> '-'). Its case-insensitive lookup
    // and its bundled database (pip wheels) are not modelled: names are looked up in the target's zoneinfo.
    const zone = isAsciiOnly(name) ? name.replaceAll("_plus_", "+").replaceAll("_minus_", "-") : name;
    if (isAsciiOnly(name) && zoneinfoKeyError(zone) === null && this.L.zones.exists(zone)) {
      return { zone, offset: this.zoneOffset(zone) };
    }
    throw new PyRaise("UnknownTimeZoneError", zone, via);
  }

  /**
   * pytz_deprecation_shim.timezone(key) (4.x): 3-letter 'utc' in any case is timezone.utc, even without tzdata;
   * else ZoneInfo(key), with KeyError, ValueError and OSError all turned into UnknownTimeZoneError (so in 4.2
   * TZ=/nonexistent is the "non-zoneinfo" ZoneInfoNotFoundError, not 5.x's ValueError).
   */
  pdsTimezone(key: string): Tz | null {
    if (key.length === 3 && key.toLowerCase() === "utc") return { zone: "UTC", offset: 0 };
    if (zoneinfoKeyError(key) !== null || !this.L.zones.exists(key)) return null;
    return { zone: key, offset: this.zoneOffset(key) };
  }

  /** zoneinfo.ZoneInfo(key) (5.x). */
  zoneInfo(key: string, via: string): Tz {
    const bad = zoneinfoKeyError(key);
    if (bad !== null) throw new PyRaise("ValueError", bad, via);
    if (!this.L.zones.exists(key)) {
      throw new PyRaise("ZoneInfoNotFoundError", `No time zone found with key ${key}`, via);
    }
    return { zone: key, offset: this.zoneOffset(key) };
  }

  /** Whether ZoneInfo(key)/pds.timezone(key) accepts the key (used on /etc/localtime suffixes). */
  acceptsKey(key: string): boolean {
    if (this.line === "4.x") return this.pdsTimezone(key) !== null;
    if (this.line === "5.x") return zoneinfoKeyError(key) === null && this.L.zones.exists(key);
    return this.canPytz(key);
  }

  canPytz(key: string): boolean {
    try {
      this.pytzTimezone(key, "");
      return true;
    } catch {
      return false;
    }
  }

  /** Loads a TZif file by path (TZ=/path, /etc/localtime as a file) under `key`; Python's errors otherwise. */
  fromFile(
    path: string,
    file: { isFile: boolean; offsetAt: (t: number) => number | null },
    key: string,
    via: string,
  ): Tz {
    if (!file.isFile) throw new PyRaise("IsADirectoryError", `[Errno 21] Is a directory: '${path}'`, via);
    const offset = file.offsetAt(this.L.now);
    if (offset === null) {
      if (this.line === "2.x") {
        // pytz.tzfile.build_tzinfo: `assert magic == b'TZif', 'Got magic %s' % repr(magic)` (struct.error when
        // shorter than the 44-byte header); the bytes are not in the layout, so the text is not reproduced.
        throw new PyRaise("AssertionError", null, via);
      }
      throw new PyRaise("ValueError", "Invalid TZif file: magic not found", via);
    }
    return { zone: key, offset };
  }

  /** assert_tz_offset: raises ValueError (2.x, 4.x, strict !=) or warns (5.x, |diff| > 60). */
  assertOffset(tz: Tz, via: string): void {
    const system = this.L.systemOffsetAt(this.L.now);
    if (tz.offset === null) {
      this.step(`offset of ${tz.zone} at now is unknown: offset check not evaluated`);
      return;
    }
    const msg = `Timezone offset does not match system offset: ${tz.offset} != ${system}. Please, check your config files.`;
    if (this.line === "5.x") {
      if (Math.abs(tz.offset - system) > 60) this.warn("UserWarning", msg);
      else this.step(`offset check: ${tz.offset} vs system ${system}: within 60 s`);
      return;
    }
    if (tz.offset !== system) {
      this.step(`offset check: ${tz.offset} != system ${system}`);
      throw new PyRaise("ValueError", msg, via);
    }
    this.step(`offset check: ${tz.offset} == system ${system}`);
  }

  /** _tz_name_from_env for an existing absolute TZ path (4.2+): a tz_win name from its realpath, else null. */
  nameFromTzPath(realpath: string): string | null {
    const parts = realpath.split("/");
    const two = parts.slice(-2).join("/");
    if (TZ_WIN_NAMES.has(two)) return two;
    const last = parts[parts.length - 1] ?? "";
    return TZ_WIN_NAMES.has(last) ? last : null;
  }

  // -------------------------------------------------------------------------------------------------------
  // TZ
  // -------------------------------------------------------------------------------------------------------

  /** The TZ step; a result, or null to go on with the files. */
  fromTzEnv(): Tz | null {
    const raw = this.L.tzEnv;
    if (raw === undefined) {
      this.step("TZ unset");
      return null;
    }
    if (raw === "") {
      this.step('TZ="" (set but empty): ignored by tzlocal, which reads the files');
      return null;
    }
    const v = raw.startsWith(":") ? raw.slice(1) : raw;
    if (v !== raw) this.step(`TZ=${quote(raw)}: leading ':' stripped`);
    if (v.startsWith("/")) {
      const f = this.L.fileAt(v);
      if (f.exists) {
        let key = "local";
        if (this.line !== "2.x") {
          // 4.2 (and 5.x per the reference): a tz_win name from realpath(TZ); else TZ's own basename.
          const real = f.realpath ?? v;
          key = this.nameFromTzPath(real) ?? (v.split("/").pop() as string);
          this.step(`TZ is an existing file (realpath ${real}): loaded with key ${quote(key)}`);
        } else this.step("TZ is an existing file: loaded with pytz.tzfile.build_tzinfo('local', f)");
        const tz = this.fromFile(v, f, key, "TZ");
        this.step("TZ decides: no offset check");
        return tz;
      }
    }
    if (this.line === "2.x") {
      try {
        const tz = this.pytzTimezone(v, "TZ");
        this.step(`pytz.timezone(${quote(v)}) works: TZ decides, no offset check`);
        return tz;
      } catch (e) {
        if (!(e instanceof PyRaise)) throw e;
        this.step(
          `pytz.timezone(${quote(v)}) fails: UnknownTimeZoneError silently ignored, falling back to files`,
        );
        if (v.startsWith("/"))
          this.step(`(3.0 instead raises ValueError: ZoneInfo keys may not be absolute paths, got: ${v})`);
        return null;
      }
    }
    if (this.line === "4.x") {
      const tz = this.pdsTimezone(v);
      if (tz) {
        this.step(`pds.timezone(${quote(v)}) works: TZ decides, no offset check`);
        return tz;
      }
      // 4.2: utils._tz_from_env forgets the `% tzenv`, so the text keeps a literal "%s" (the reference quotes
      // 4.3 with the value filled in).
      this.step(`pds.timezone(${quote(v)}) fails (KeyError/ValueError are both caught)`);
      throw new PyRaise("ZoneInfoNotFoundError", NON_ZONEINFO_UNFORMATTED, "TZ");
    }
    const bad = zoneinfoKeyError(v);
    if (bad !== null) {
      this.step(`ZoneInfo(${quote(v)}) raises ValueError, which tzlocal does not catch`);
      throw new PyRaise("ValueError", bad, "TZ");
    }
    if (this.L.zones.exists(v)) {
      this.step(`ZoneInfo(${quote(v)}) works: TZ decides, no offset check`);
      return { zone: v, offset: this.zoneOffset(v) };
    }
    this.step(`ZoneInfo(${quote(v)}) not found`);
    throw new PyRaise(
      "ZoneInfoNotFoundError",
      `tzlocal() does not support non-zoneinfo timezones like ${v}. \nPlease use a timezone in the form of Continent/City`,
      "TZ",
    );
  }

  termux(): void {
    if (!this.L.termux) return;
    if (this.line === "5.x") {
      this.step("/system/bin/getprop exists (Termux): getprop failure is caught, going on");
      return;
    }
    // 2.x and 4.2 do not catch a getprop failure (4.3+ does).
    this.step(
      "/system/bin/getprop exists (Termux): tzlocal runs `getprop persist.sys.timezone`, assumed not on PATH",
    );
    throw new PyRaise("FileNotFoundError", GETPROP_MISSING, "getprop");
  }

  // -------------------------------------------------------------------------------------------------------
  // 2.x / 3.x: first match wins
  // -------------------------------------------------------------------------------------------------------

  run2(): { tz: Tz; via: string } {
    const L = this.L;
    const fromTz = this.fromTzEnv();
    if (fromTz) return { tz: fromTz, via: "TZ" };
    this.termux();

    for (const [field, path] of CONFIG_FILES) {
      const f = L[field];
      if (!f.exists || f.raw === null) continue;
      const data = bytesOf(f);
      if (data.subarray(0, 5).toString("latin1") === "TZif2") {
        this.step(`${path} is a TZif2 file: skipped`);
        continue;
      }
      const stripped = bytesStrip(data);
      const decodeError = utf8DecodeErrorText(stripped);
      if (decodeError !== null) {
        this.step(`${path} is not UTF-8: 2.x does not catch the UnicodeDecodeError (3.x skips the file)`);
        throw new PyRaise("UnicodeDecodeError", decodeError, path);
      }
      if (stripped.length === 0) {
        this.step(`${path} is empty: skipped`);
        continue;
      }
      for (let line of pySplitlines(data.toString("utf8"))) {
        if (line.includes(" ")) line = line.slice(0, line.indexOf(" "));
        if (line.includes("#")) line = line.slice(0, line.indexOf("#"));
        if (!line) continue;
        this.step(`${path}: first name ${quote(line)} wins`);
        if (line.startsWith("/"))
          this.step(`(3.0 instead raises ValueError: ZoneInfo keys may not be absolute paths, got: ${line})`);
        const tz = this.pytzTimezone(line.replaceAll(" ", "_"), path);
        this.assertOffset(tz, path);
        return { tz, via: path };
      }
    }

    for (const [field, path] of CLOCK_FILES) {
      const f = L[field];
      const read = readText(f, "utf-8");
      if (read.kind === "missing") continue;
      if (read.kind === "undecodable") {
        this.step(`${path} is not UTF-8: 2.x does not catch the UnicodeDecodeError`);
        throw new PyRaise("UnicodeDecodeError", read.error, path);
      }
      for (const line of pyReadlines(read.text)) {
        const m = ZONE_RE.exec(line) ?? TIMEZONE_RE.exec(line);
        if (!m) continue;
        const rest = line.slice(m[0].length);
        const end = rest.indexOf('"');
        if (end < 0) {
          this.step(`${path}: ${quote(line)} has no closing quote`);
          throw new PyRaise("AttributeError", "'NoneType' object has no attribute 'start'", path);
        }
        const name = rest.slice(0, end).replaceAll(" ", "_");
        this.step(`${path}: first quoted ZONE=/TIMEZONE= value ${quote(name)} wins`);
        const tz = this.pytzTimezone(name, path);
        this.assertOffset(tz, path);
        return { tz, via: path };
      }
      this.step(`${path}: no double-quoted ZONE= or TIMEZONE= line`);
    }

    const lt = L.localtime;
    if (lt.isSymlink && lt.exists && lt.realpath) {
      for (const suffix of realpathSuffixes(lt.realpath)) {
        if (!this.canPytz(suffix)) continue;
        const tz = this.pytzTimezone(suffix, SYMLINK_KEY);
        this.step(`/etc/localtime -> ${lt.realpath}: longest known suffix ${quote(suffix)}, no offset check`);
        return { tz, via: SYMLINK_KEY };
      }
      this.step(`/etc/localtime -> ${lt.realpath}: no suffix is a known zone`);
    } else if (lt.isSymlink && !lt.exists) this.step("/etc/localtime is a dangling symlink: skipped");

    const local = this.localFile();
    if (local) return local;
    this.warn("UserWarning", DEFAULT_UTC_WARNING);
    return { tz: { zone: "UTC", offset: 0 }, via: "default" };
  }

  /** etc/localtime then usr/local/etc/localtime as TZif files with key "local" (all lines). */
  localFile(): { tz: Tz; via: string } | null {
    for (const f of [this.L.localtime, this.L.usrLocalEtcLocaltime]) {
      if (!f.exists) continue;
      const via = `${f.path} (file)`;
      const tz = this.fromFile(f.path, f, "local", via);
      this.step(`${f.path} exists: loaded as zone "local"`);
      return { tz, via };
    }
    return null;
  }

  // -------------------------------------------------------------------------------------------------------
  // 4.x / 5.x: collect, compare, then build
  // -------------------------------------------------------------------------------------------------------

  collectConfigs(): Map<string, string> {
    const L = this.L;
    const found = new Map<string, string>();
    // 4.2 reads with the locale encoding (UTF-8 assumed); 5.4+ with encoding="ascii".
    const enc = this.line === "5.x" ? "ascii" : "utf-8";
    for (const [field, path] of CONFIG_FILES) {
      const read = readText(L[field], enc);
      if (read.kind === "missing") continue;
      if (read.kind === "undecodable") {
        this.step(`${path} is not ${enc === "ascii" ? "ASCII" : "UTF-8"}: skipped`);
        continue;
      }
      const content = pyStrip(read.text, "/ \t\r\n");
      if (!content) {
        this.step(`${path} is empty: skipped`);
        continue;
      }
      for (let line of pySplitlines(content)) {
        if (line.includes(" ")) line = line.slice(0, line.indexOf(" "));
        if (line.includes("#")) line = line.slice(0, line.indexOf("#"));
        if (!line) continue;
        found.set(path, line.replaceAll(" ", "_"));
      }
      const v = found.get(path);
      if (v !== undefined) this.step(`${path}: ${quote(v)} (last name line)`);
    }

    for (const [field, path] of CLOCK_FILES) {
      const read = readText(L[field], "utf-8");
      if (read.kind === "missing") continue;
      if (read.kind === "undecodable") {
        this.step(`${path} is not UTF-8: skipped`);
        continue;
      }
      for (const line of pyReadlines(read.text)) {
        const m = ZONE_RE.exec(line) ?? TIMEZONE_RE.exec(line);
        if (!m) continue;
        const rest = line.slice(m[0].length);
        const end = rest.indexOf('"');
        if (end < 0) {
          if (this.line === "4.x") {
            this.step(`${path}: ${quote(line)} has no closing quote`);
            throw new PyRaise("AttributeError", "'NoneType' object has no attribute 'start'", path);
          }
          // 5.x is modelled as 5.4.4+ (newest): the line is skipped with a warning. Before 5.4.4 this was
          // the same AttributeError as 4.x. The reference says "warns"; modelled as warnings.warn (UserWarning)
          // with the line as readlines() returns it (trailing "\n" kept).
          this.warn("UserWarning", `Syntax error in ${path}. Ignoring line: ${line}`);
          continue;
        }
        found.set(path, rest.slice(0, end).replaceAll(" ", "_"));
      }
      const v = found.get(path);
      if (v !== undefined) this.step(`${path}: ${quote(v)} (last quoted ZONE=/TIMEZONE= line)`);
      else this.step(`${path}: no double-quoted ZONE= or TIMEZONE= line`);
    }

    const lt = L.localtime;
    if (lt.isSymlink && lt.exists && lt.realpath) {
      let chosen: string | null = null;
      for (const suffix of realpathSuffixes(lt.realpath)) {
        if (!this.acceptsKey(suffix)) continue;
        chosen = suffix;
        // 5.x (4.3+) breaks at the first (longest) valid suffix. 4.2 has no `break`: every valid suffix
        // overwrites the previous one, so the SHORTEST wins (Etc/UTC -> "UTC").
        if (this.line === "5.x") break;
      }
      if (chosen !== null) {
        found.set(SYMLINK_KEY, chosen);
        const which = this.line === "5.x" ? "longest" : "shortest (4.2 has no break)";
        this.step(`/etc/localtime -> ${lt.realpath}: ${which} valid suffix ${quote(chosen)}`);
      } else this.step(`/etc/localtime -> ${lt.realpath}: no suffix is a valid zone key`);
    } else if (lt.isSymlink && !lt.exists) this.step("/etc/localtime is a dangling symlink: skipped");
    return found;
  }

  /** realpath(<zoneinfo>/<name>) relative to zoneinfo (4.1+): links collapse, anything else compares literally. */
  canonical(name: string): string {
    const c = this.L.zones.exists(name) ? this.L.zones.canonical(name) : null;
    if (c !== null) return c;
    return posixNormpath(`/usr/share/zoneinfo/${name}`).split("/").slice(4).join("/");
  }

  uniqueZones(found: Map<string, string>): Set<string> {
    return new Set([...found.values()].map((v) => this.canonical(v)));
  }

  conflictMessage(found: Map<string, string>): string {
    let msg = CONFLICT_HEAD;
    for (const [k, v] of found) msg += `${k}: ${v}\n`;
    return msg + CONFLICT_TAIL;
  }

  localzoneName(): { name: string; via: string } | null {
    this.termux();
    let found = this.collectConfigs();
    if (found.size === 0) {
      this.step("no zone name in any config");
      return null;
    }
    if (found.size > 1) {
      let unique = this.uniqueZones(found);
      if (
        unique.size !== 1 &&
        this.line === "5.x" &&
        [...found.keys()].some((k) => k.includes("etc/timezone"))
      ) {
        this.step(`configs disagree (${[...unique].join(", ")}): 5.3.1+ drops /etc/timezone`);
        this.warn(null, ETC_TIMEZONE_DROPPED);
        found = new Map([...found].filter(([k]) => !k.includes("etc/timezone")));
        unique = this.uniqueZones(found);
      }
      if (unique.size !== 1) {
        this.step(`configs disagree after realpath in zoneinfo: ${[...unique].join(" vs ")}`);
        throw new PyRaise("ZoneInfoNotFoundError", this.conflictMessage(found), "multiple configs");
      }
      this.step(`${found.size} configs name the same zone (${[...unique][0]}): the first one is used`);
    }
    const [via, name] = [...found][0] as [string, string];
    return { name, via };
  }

  run45(): { tz: Tz; via: string } {
    const fromTz = this.fromTzEnv();
    if (fromTz) return { tz: fromTz, via: "TZ" };
    const found = this.localzoneName();
    let result: { tz: Tz; via: string };
    if (found) {
      if (this.line === "4.x") {
        const tz = this.pdsTimezone(found.name);
        if (!tz) throw new PyRaise("UnknownTimeZoneError", found.name, found.via);
        result = { tz, via: found.via };
      } else result = { tz: this.zoneInfo(found.name, found.via), via: found.via };
      this.step(`zone ${quote(result.tz.zone)} from ${found.via}`);
    } else {
      const local = this.localFile();
      if (local) result = local;
      else {
        this.warn("UserWarning", DEFAULT_UTC_WARNING);
        if (this.line === "5.x")
          this.step("5.3+: the first available_timezones() key containing UTC (or timezone.utc)");
        result = { tz: { zone: "UTC", offset: 0 }, via: "default" };
      }
    }
    this.assertOffset(result.tz, result.via);
    return result;
  }
}

/** The suffixes tzlocal tries on realpath(/etc/localtime), longest first (the whole absolute path never). */
function realpathSuffixes(realpath: string): string[] {
  const out: string[] = [];
  let s = realpath;
  let start = s.indexOf("/") + 1;
  while (start !== 0) {
    s = s.slice(start);
    out.push(s);
    start = s.indexOf("/") + 1;
  }
  return out;
}

export function predictTzlocal(layout: TzLayout, line: TzlocalLine): TzlocalPrediction {
  const run = new Run(layout, line);
  try {
    const { tz, via } = line === "2.x" ? run.run2() : run.run45();
    const last = run.warnings[run.warnings.length - 1];
    return {
      line,
      outcome: last ? "warning" : "ok",
      zone: tz.zone,
      exception: last ? last.exception : null,
      message: last ? last.message : null,
      via,
      steps: run.steps,
      warnings: run.warnings,
    };
  } catch (e) {
    if (!(e instanceof PyRaise)) throw e;
    run.step(`raises ${e.exception}`);
    return {
      line,
      outcome: "error",
      zone: null,
      exception: e.exception,
      message: e.message,
      via: e.via,
      steps: run.steps,
      warnings: run.warnings,
    };
  }
}

export function predictAllTzlocal(layout: TzLayout): TzlocalPrediction[] {
  return TZLOCAL_LINES.map((line) => predictTzlocal(layout, line));
}
