/**
 * Which location nginx picks for a URI, step by step, as nginx 1.22+ decides it:
 * - the request target is checked and normalized like ngx_http_parse_complex_uri (query set aside,
 *   %XX decoded — including %2F, which then acts as "/" —, "." and ".." resolved, slashes merged unless
 *   merge_slashes off, %00 / bad escapes / climbing above "/" → 400);
 * - per nesting level, ngx_http_core_find_location: the static tree of `=`/prefix/`^~` locations is built
 *   exactly like ngx_http_init_static_location_trees (sorted, exact+prefix of one name joined, prefix
 *   lists, balanced ternary tree) and walked like ngx_http_core_find_static_location (longest prefix,
 *   exact match ends the search, the 301 auto-redirect to `URI/` before any regex); a prefix hit recurses
 *   into its nested locations; then, unless the prefix is `^~`, this level's regexes in file order
 *   (`~` case-sensitive, `~*` caseless) — the first that matches wins and is itself searched for nested
 *   locations; `@named` locations never match; an `internal` winner is a 404 for an external request.
 * Regexes are PCRE: see ./pcre.ts for what is evaluated exactly and what is refused.
 * Pure.
 */
import { formatLocation, type LocationModifier, type NginxLocation, type NginxServer } from "./locations.js";
import { byteChar, byteStringToBytes, pcreTest, translatePcre } from "./pcre.js";

export interface LocationRef {
  modifier: LocationModifier;
  pattern: string;
  file: string;
  line: number;
}

export interface Explanation {
  uri: string;
  /** The URI nginx matches against (printable: bytes outside printable ASCII as %XX); null on a 400. */
  normalized: string | null;
  match: LocationRef | null;
  redirect: { status: number; location: string } | null;
  /** Each step in nginx's order, human-readable. */
  steps: string[];
  pcreWarnings: string[];
  /** An answer nginx gives before any handler runs: 301 auto-redirect, 404 internal, 400 bad URI. */
  status: number | null;
  /** The winning location (its id is stable for the configuration); null when none. */
  location: NginxLocation | null;
  /** True when a regex could not be evaluated, so the answer may not be nginx's. */
  uncertain: boolean;
}

// ---------------------------------------------------------------------------------------------------
// URI normalization (ngx_http_parse_request_line's URI checks + ngx_http_parse_complex_uri, Linux build)

/* "usual" characters: neither special for the URI parser nor forbidden (bytes >= 0x80 included). */
const USUAL = [
  0x00000000, 0x7fff37d6, 0xffffffff, 0x7fffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
];
const isUsual = (ch: number): boolean => ((USUAL[ch >> 5] as number) & (1 << (ch & 0x1f))) !== 0;

export type NormalizedUri =
  | { ok: true; path: Uint8Array; args: string; rawPath: string }
  | { ok: false; reason: string };

/** The bytes a client sends for this URI: ASCII as is, other characters as their UTF-8 bytes. */
export function uriBytes(uri: string): Uint8Array {
  return new TextEncoder().encode(uri);
}

/** Normalizes a request target (starting with "/") exactly like nginx; returns a 400 reason when nginx would. */
export function normalizeUri(uri: string, mergeSlashes = true): NormalizedUri {
  const raw = uriBytes(uri);
  if (raw[0] !== 0x2f) return { ok: false, reason: 'the request target does not start with "/"' };
  for (const b of raw) {
    if (b <= 0x20 || b === 0x7f) {
      return {
        ok: false,
        reason: `a ${b === 0x20 ? "space" : "control character"} in the request target (nginx ≥ 1.21.1 refuses it; write %${b.toString(16).toUpperCase().padStart(2, "0")})`,
      };
    }
  }
  const u: number[] = [];
  const USUAL_S = 0;
  const SLASH = 1;
  const DOT = 2;
  const DOT_DOT = 3;
  const QUOTED = 4;
  const QUOTED_SECOND = 5;
  let state = USUAL_S;
  let quotedState = USUAL_S;
  let decoded = 0;
  let argsStart: number | null = null;
  let p = 0;
  const len = raw.length;
  let ch = raw[p++] as number;
  const bad = (reason: string): NormalizedUri => ({ ok: false, reason });
  const climb = (): boolean => {
    // u -= 4 (the "/.." just written plus one), then back to the previous "/"
    let i = u.length - 4;
    for (;;) {
      if (i < 0) return false;
      if (u[i] === 0x2f) {
        u.length = i + 1;
        return true;
      }
      i--;
    }
  };
  let done = false;
  let gotoArgs = false;
  while (p <= len && !done && !gotoArgs) {
    switch (state) {
      case USUAL_S:
        if (isUsual(ch)) {
          u.push(ch);
          ch = raw[p++] as number;
          break;
        }
        switch (ch) {
          case 0x2f:
            state = SLASH;
            u.push(ch);
            break;
          case 0x25:
            quotedState = state;
            state = QUOTED;
            break;
          case 0x3f:
            argsStart = p;
            gotoArgs = true;
            break;
          case 0x23:
            done = true;
            break;
          default:
            u.push(ch);
        }
        if (!done && !gotoArgs) ch = raw[p++] as number;
        break;
      case SLASH:
        if (isUsual(ch)) {
          state = USUAL_S;
          u.push(ch);
          ch = raw[p++] as number;
          break;
        }
        switch (ch) {
          case 0x2f:
            if (!mergeSlashes) u.push(ch);
            break;
          case 0x2e:
            state = DOT;
            u.push(ch);
            break;
          case 0x25:
            quotedState = state;
            state = QUOTED;
            break;
          case 0x3f:
            argsStart = p;
            gotoArgs = true;
            break;
          case 0x23:
            done = true;
            break;
          default:
            state = USUAL_S;
            u.push(ch);
        }
        if (!done && !gotoArgs) ch = raw[p++] as number;
        break;
      case DOT:
        if (isUsual(ch)) {
          state = USUAL_S;
          u.push(ch);
          ch = raw[p++] as number;
          break;
        }
        switch (ch) {
          case 0x2f:
            state = SLASH;
            u.length--;
            break;
          case 0x2e:
            state = DOT_DOT;
            u.push(ch);
            break;
          case 0x25:
            quotedState = state;
            state = QUOTED;
            break;
          case 0x3f:
            u.length--;
            argsStart = p;
            gotoArgs = true;
            break;
          case 0x23:
            u.length--;
            done = true;
            break;
          default:
            state = USUAL_S;
            u.push(ch);
        }
        if (!done && !gotoArgs) ch = raw[p++] as number;
        break;
      case DOT_DOT:
        if (isUsual(ch)) {
          state = USUAL_S;
          u.push(ch);
          ch = raw[p++] as number;
          break;
        }
        switch (ch) {
          case 0x2f:
          case 0x3f:
          case 0x23:
            if (!climb()) return bad('".." climbs above the root "/"');
            if (ch === 0x3f) {
              argsStart = p;
              gotoArgs = true;
              break;
            }
            if (ch === 0x23) {
              done = true;
              break;
            }
            state = SLASH;
            break;
          case 0x25:
            quotedState = state;
            state = QUOTED;
            break;
          default:
            state = USUAL_S;
            u.push(ch);
        }
        if (!done && !gotoArgs) ch = raw[p++] as number;
        break;
      case QUOTED: {
        if (ch >= 0x30 && ch <= 0x39) {
          decoded = ch - 0x30;
          state = QUOTED_SECOND;
          ch = raw[p++] as number;
          break;
        }
        const c = ch | 0x20;
        if (c >= 0x61 && c <= 0x66) {
          decoded = c - 0x61 + 10;
          state = QUOTED_SECOND;
          ch = raw[p++] as number;
          break;
        }
        return bad("an invalid %-escape in the path");
      }
      case QUOTED_SECOND: {
        if (ch >= 0x30 && ch <= 0x39) {
          ch = ((decoded << 4) + (ch - 0x30)) & 0xff;
          if (ch === 0x25 || ch === 0x23) {
            state = USUAL_S;
            u.push(ch);
            ch = raw[p++] as number;
            break;
          }
          if (ch === 0) return bad("%00 (a NUL byte) in the path");
          state = quotedState;
          break;
        }
        const c = ch | 0x20;
        if (c >= 0x61 && c <= 0x66) {
          ch = ((decoded << 4) + (c - 0x61) + 10) & 0xff;
          if (ch === 0x3f) {
            state = USUAL_S;
            u.push(ch);
            ch = raw[p++] as number;
            break;
          }
          state = quotedState;
          break;
        }
        return bad("an invalid %-escape in the path");
      }
    }
  }
  let args = "";
  if (gotoArgs && argsStart !== null) {
    const rest = raw.subarray(argsStart);
    const hash = rest.indexOf(0x23);
    args = new TextDecoder().decode(hash >= 0 ? rest.subarray(0, hash) : rest);
  } else if (!done) {
    if (state === QUOTED || state === QUOTED_SECOND)
      return bad("an incomplete %-escape at the end of the path");
    if (state === DOT) u.length--;
    else if (state === DOT_DOT) {
      if (!climb()) return bad('".." climbs above the root "/"');
    }
  }
  const q = uri.search(/[?#]/);
  return { ok: true, path: Uint8Array.from(u), args, rawPath: q >= 0 ? uri.slice(0, q) : uri };
}

/** Bytes → printable text: printable ASCII as is, everything else as %XX. */
export function printableBytes(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    s +=
      b > 0x20 && b < 0x7f && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return s;
}

/** ngx_escape_uri(NGX_ESCAPE_URI): controls, space, "#", "%", "?", DEL and bytes >= 0x80 as %XX. */
export function escapeUriForLocation(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const esc = b <= 0x20 || b === 0x23 || b === 0x25 || b === 0x3f || b >= 0x7f;
    out += esc ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Static location trees (ngx_http_init_static_location_trees)

interface LQ {
  name: string; // byte string
  exact: NginxLocation | null;
  inclusive: NginxLocation | null;
  list: LQ[];
}

interface TreeNode {
  name: string; // byte string, without the parent's prefix
  exact: NginxLocation | null;
  inclusive: NginxLocation | null;
  autoRedirect: boolean;
  left: TreeNode | null;
  right: TreeNode | null;
  tree: TreeNode | null;
}

interface Level {
  tree: TreeNode | null;
  statics: NginxLocation[];
  regexes: NginxLocation[];
}

const byteString = (s: string): string => {
  let out = "";
  for (const b of new TextEncoder().encode(s)) out += byteChar(b);
  return out;
};

const byteAt = (s: string, i: number): number => {
  if (i >= s.length) return 0; // the NUL terminator
  const c = s.charCodeAt(i);
  return c >= 0xe000 ? c - 0xe000 : c;
};

/**
 * ngx_filename_cmp (Linux build) over byte strings: byte-wise, case-sensitive, but "/" sorts below every
 * other byte (except the terminating NUL). Both the sort of static locations and the tree walk use it.
 */
export function ngxFilenameCmp(a: string, b: string, n: number): number {
  for (let i = 0; i < n; i++) {
    let c1 = byteAt(a, i);
    let c2 = byteAt(b, i);
    if (c1 === c2) {
      if (c1 !== 0) continue;
      return 0;
    }
    if (c1 === 0 || c2 === 0) return c1 - c2;
    c1 = c1 === 0x2f ? 0 : c1;
    c2 = c2 === 0x2f ? 0 : c2;
    return c1 - c2;
  }
  return 0;
}

function createList(items: LQ[]): LQ[] {
  const out: LQ[] = [];
  let i = 0;
  while (i < items.length) {
    const q = items[i] as LQ;
    if (!q.inclusive) {
      out.push(q);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < items.length) {
      const x = items[j] as LQ;
      if (q.name.length > x.name.length || !x.name.startsWith(q.name)) break;
      j++;
    }
    q.list = createList(items.slice(i + 1, j));
    out.push(q);
    i = j;
  }
  return out;
}

function createTree(items: LQ[], prefix: number): TreeNode | null {
  if (items.length === 0) return null;
  const mid = Math.floor(items.length / 2); // ngx_queue_middle
  const q = items[mid] as LQ;
  return {
    name: q.name.slice(prefix),
    exact: q.exact,
    inclusive: q.inclusive,
    autoRedirect: Boolean(q.exact?.autoRedirect || q.inclusive?.autoRedirect),
    left: createTree(items.slice(0, mid), prefix),
    right: createTree(items.slice(mid + 1), prefix),
    tree: q.list.length > 0 ? createTree(q.list, q.name.length) : null,
  };
}

function buildLevel(locations: readonly NginxLocation[]): Level {
  const statics = locations.filter((l) => l.modifier === "" || l.modifier === "^~" || l.modifier === "=");
  const regexes = locations.filter((l) => l.modifier === "~" || l.modifier === "~*");
  // ngx_http_cmp_locations on the static part: ngx_filename_cmp order ("/" lowest, shorter first),
  // "=" before the prefix location of the same name.
  const sorted = statics
    .map((l) => ({ l, name: byteString(l.pattern) }))
    .sort((a, b) => {
      const rc = ngxFilenameCmp(a.name, b.name, Math.min(a.name.length, b.name.length) + 1);
      if (rc === 0 && a.l.modifier !== "=" && b.l.modifier === "=") return 1;
      if (rc === 0 && a.l.modifier === "=" && b.l.modifier !== "=") return -1;
      return rc;
    });
  // ngx_http_join_exact_locations (a duplicate is a configuration error: keep the first)
  const joined: LQ[] = [];
  for (const { l, name } of sorted) {
    const prev = joined[joined.length - 1];
    if (prev && prev.name === name) {
      if (l.modifier === "=" && !prev.exact) prev.exact = l;
      else if (l.modifier !== "=" && !prev.inclusive) prev.inclusive = l;
      continue;
    }
    joined.push({
      name,
      exact: l.modifier === "=" ? l : null,
      inclusive: l.modifier === "=" ? null : l,
      list: [],
    });
  }
  return { tree: createTree(createList(joined), 0), statics, regexes };
}

const levelCache = new WeakMap<NginxServer, Map<number, Level>>();

function levelOf(server: NginxServer, parent: NginxLocation | null): Level {
  let m = levelCache.get(server);
  if (!m) {
    m = new Map();
    levelCache.set(server, m);
  }
  const key = parent ? parent.id : -1;
  let lv = m.get(key);
  if (!lv) {
    lv = buildLevel(parent ? parent.children : server.locations);
    m.set(key, lv);
  }
  return lv;
}

type Rc = "OK" | "DONE" | "AGAIN" | "DECLINED";

interface SearchState {
  server: NginxServer;
  uri: string; // byte string
  cur: NginxLocation | null;
  steps: string[];
  warnings: string[];
  uncertain: boolean;
}

/** ngx_http_core_find_static_location. */
function findStatic(node: TreeNode | null, uri: string, st: SearchState): Rc {
  let len = uri.length;
  let off = 0;
  let rv: Rc = "DECLINED";
  for (;;) {
    if (!node) return rv;
    const nlen = node.name.length;
    const n = Math.min(len, nlen);
    const rc = ngxFilenameCmp(uri.slice(off, off + n), node.name, n);
    if (rc !== 0) {
      node = rc < 0 ? node.left : node.right;
      continue;
    }
    if (len > nlen) {
      if (node.inclusive) {
        st.cur = node.inclusive;
        rv = "AGAIN";
        node = node.tree;
        off += n;
        len -= n;
        continue;
      }
      node = node.right;
      continue;
    }
    if (len === nlen) {
      if (node.exact) {
        st.cur = node.exact;
        return "OK";
      }
      st.cur = node.inclusive;
      return "AGAIN";
    }
    if (len + 1 === nlen && node.autoRedirect) {
      st.cur = node.exact ?? node.inclusive;
      rv = "DONE";
    }
    node = node.left;
  }
}

const where = (l: NginxLocation): string => `${formatLocation(l)} (${l.file}:${l.line})`;

function describeLevel(parent: NginxLocation | null): string {
  return parent ? `inside ${where(parent)}` : "at server level";
}

/** ngx_http_core_find_location, narrating each step. */
function findLocation(st: SearchState): Rc {
  const parent = st.cur;
  const level = levelOf(st.server, parent);
  const here = describeLevel(parent);
  const uri = st.uri;

  if (level.statics.length === 0) {
    st.steps.push(`${here}: no exact or prefix location`);
  }
  const before = st.cur;
  const rc0 = level.statics.length > 0 ? findStatic(level.tree, uri, st) : "DECLINED";
  if (level.statics.length > 0) {
    const prefixes = level.statics.filter(
      (l) => l.modifier !== "=" && uri.startsWith(byteString(l.pattern)) && l !== st.cur,
    );
    const others =
      prefixes.length > 0 ? `; shorter prefixes also matching: ${prefixes.map(where).join(", ")}` : "";
    if (rc0 === "OK") {
      const l = st.cur as NginxLocation;
      st.steps.push(
        `${here}: exact match ${where(l)} — the search ends here (no nested locations, no regexes are checked)`,
      );
    } else if (rc0 === "DONE") {
      const l = st.cur as NginxLocation;
      st.steps.push(
        `${here}: no location is named "${printableBytes(byteStringToBytes(uri))}", but ${where(l)} is named with a trailing "/" and has ${l.pass?.directive ?? "a *_pass"}: nginx answers 301 → ${escapeUriForLocation(l.pattern)} before any regex is tried (a matching regex does not prevent it)`,
      );
    } else if (rc0 === "AGAIN") {
      const l = st.cur as NginxLocation;
      st.steps.push(`${here}: longest matching prefix is ${where(l)}${others}`);
    } else {
      st.steps.push(`${here}: no exact or prefix location matches`);
      st.cur = before;
    }
  }
  let rc: Rc = rc0;
  let noregex = false;
  const prefixHere = rc0 === "AGAIN" ? st.cur : null;
  if (rc === "AGAIN") {
    const p = st.cur as NginxLocation;
    noregex = p.modifier === "^~";
    if (p.children.length > 0) {
      st.steps.push(`looking at the locations nested in ${where(p)}`);
      rc = findLocation(st);
    } else {
      rc = "DECLINED";
    }
  }
  if (rc === "OK" || rc === "DONE") return rc;

  if (noregex && prefixHere) {
    st.steps.push(
      level.regexes.length > 0
        ? `${here}: the longest prefix ${where(prefixHere)} has "^~", so this level's ${level.regexes.length} regex location(s) are not checked${parent ? `; it does not reach the regexes outside ${where(parent)}` : ""}`
        : `${here}: the longest prefix ${where(prefixHere)} has "^~", which skips only this level's regexes (there are none here)${parent ? `, not those outside ${where(parent)}` : ""}`,
    );
    return rc;
  }
  if (prefixHere && prefixHere.children.length > 0) {
    st.steps.push(
      `back ${here}: the longest prefix ${where(prefixHere)} has no "^~", so this level's regexes are checked`,
    );
  }
  if (level.regexes.length === 0) {
    if (level.statics.length > 0) st.steps.push(`${here}: no regex location to check`);
    return rc;
  }
  for (const re of level.regexes) {
    const t = translatePcre(re.pattern, re.modifier === "~*");
    for (const w of t.warnings) {
      const msg = `${where(re)}: ${w}`;
      if (!st.warnings.includes(msg)) st.warnings.push(msg);
    }
    const m = pcreTest(t, uri);
    if (m === null) {
      st.uncertain = true;
      st.steps.push(
        `${here}: regex ${where(re)} cannot be evaluated here (${t.invalid ? "PCRE rejects it" : "unsupported PCRE construct"}); treated as not matching — use --real for nginx's answer`,
      );
      continue;
    }
    if (!m) {
      st.steps.push(`${here}: regex ${where(re)} does not match`);
      continue;
    }
    st.steps.push(`${here}: regex ${where(re)} matches — the first matching regex wins (file order)`);
    st.cur = re;
    if (re.children.length > 0) {
      st.steps.push(`looking at the locations nested in ${where(re)}`);
      findLocation(st);
    }
    return "OK";
  }
  if (prefixHere) {
    st.steps.push(`${here}: no regex matches, so the prefix match stands`);
  }
  return rc;
}

const ref = (l: NginxLocation): LocationRef => ({
  modifier: l.modifier,
  pattern: l.pattern,
  file: l.file,
  line: l.line,
});

/** Explains which location of `server` nginx uses for `uri` (an external request). */
export function explainUri(server: NginxServer, uri: string): Explanation {
  const steps: string[] = [];
  const base = { uri, pcreWarnings: [] as string[], uncertain: false };
  for (const r of server.serverRewrites) {
    steps.push(
      `note: "${r.directive}" at server level (${r.file}:${r.line}) runs before location selection and can answer or rewrite the request; it is not modelled here`,
    );
  }
  const norm = normalizeUri(uri, server.mergeSlashes);
  if (!norm.ok) {
    steps.push(`nginx answers 400 Bad Request: ${norm.reason}`);
    return {
      ...base,
      normalized: null,
      match: null,
      redirect: null,
      steps,
      status: 400,
      location: null,
    };
  }
  const normalized = printableBytes(norm.path);
  const changes: string[] = [];
  if (norm.args !== "" || uri.includes("?")) changes.push("query string set aside");
  if (uri.includes("#")) changes.push('"#…" dropped');
  if (/%[0-9A-Fa-f]{2}/.test(norm.rawPath)) changes.push("%XX decoded");
  if (/\/\.\.?(\/|$|%)|%2[eE]/.test(norm.rawPath)) changes.push('"." and ".." resolved');
  if (server.mergeSlashes && /\/\//.test(norm.rawPath))
    changes.push("adjacent slashes merged (merge_slashes on)");
  steps.push(
    normalized === uri
      ? `URI as nginx matches it: ${normalized}`
      : `normalize ${uri} → ${normalized}${changes.length > 0 ? ` (${changes.join("; ")})` : ""}`,
  );
  let bs = "";
  for (const b of norm.path) bs += byteChar(b);
  const st: SearchState = { server, uri: bs, cur: null, steps, warnings: [], uncertain: false };
  const rc = findLocation(st);
  const loc = st.cur;
  const out: Explanation = {
    ...base,
    normalized,
    match: loc ? ref(loc) : null,
    redirect: null,
    steps,
    status: null,
    location: loc,
    pcreWarnings: st.warnings,
    uncertain: st.uncertain,
  };
  if (loc?.isInternal) {
    // ngx_http_core_find_config_phase checks "internal" before it answers the auto-redirect.
    out.status = 404;
    steps.push(`result: ${where(loc)} is "internal": an external request gets 404 Not Found`);
    return out;
  }
  if (rc === "DONE" && loc) {
    const location = escapeUriForLocation(loc.pattern) + (norm.args !== "" ? `?${norm.args}` : "");
    out.redirect = { status: 301, location };
    out.status = 301;
    steps.push(
      loc.absoluteRedirect
        ? `result: 301 Moved Permanently, Location: ${location} — absolute_redirect is on (the default), so the header carries nginx's own scheme, host and port (http://HOST:PORT${location}), wrong behind a published Docker port; "absolute_redirect off;" sends just the path`
        : `result: 301 Moved Permanently, Location: ${location} (absolute_redirect off: the path only)`,
    );
    return out;
  }
  if (!loc) {
    steps.push(
      "result: no location matches — nginx uses the server's own configuration (no root/return there usually means 404)",
    );
    return out;
  }
  const handler = loc.pass
    ? `${loc.pass.directive} ${loc.pass.target}`
    : loc.returns
      ? `return ${loc.returns.code ?? ""}${loc.returns.arg ? ` ${loc.returns.arg}` : ""}`
      : "no *_pass or return: nginx serves files from its root";
  steps.push(`result: ${where(loc)} — ${handler}`);
  return out;
}
