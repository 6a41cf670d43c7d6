/**
 * How the app starts its scheduler and what guards the start (locks.md §2): every `scheduler.start()` call
 * with its context (module level, an app factory, a function called at import, `if __name__ == "__main__"`,
 * a Gunicorn hook, a request handler) and the guards around it: an environment-variable flag, a hostname
 * check or Flask-APScheduler's SCHEDULER_ALLOWED_HOSTS, a file lock (`fcntl.flock`), a bound socket, a Redis
 * lock (redis-py `.lock(`, `SET ... NX`, schedctl's `schedctl_lock`), a database advisory lock, or
 * `worker.age == 1` in a post_fork hook. Judging a guard against workers x instances is model.ts's job.
 * Pure: the gatherer passes the sources' text.
 */
import { emptyGuardAnalysis } from "./empty.js";
import { GUNICORN_HOOKS } from "./gunicorn.js";
import { blocks, logicalLines, type PyBlock, type PyLine } from "./pyexpr.js";

export type { PyBlock };

export interface PySource {
  /** Path relative to the app dir. */
  path: string;
  text: string;
  /** gunicorn config files carry hooks; everything else is app code. */
  role: "app" | "gunicorn-config";
}

export type GuardKind =
  | "env-flag"
  | "hostname"
  | "file-lock"
  | "socket-lock"
  | "redis-lock"
  | "db-lock"
  | "worker-age"
  | "reloader"
  | "condition";

export interface Guard {
  kind: GuardKind;
  file: string;
  line: number;
  /** The code that makes it a guard, as written (one logical line). */
  text: string;
  /** For condition guards: the Python condition under which the start runs. */
  condition: string | null;
  /** Environment variables the condition reads. */
  variables: string[];
  /** file-lock: the lock file path when it is a literal. socket-lock: "host:port". */
  lockPath: string | null;
  /** redis-lock: whether an expiry (timeout=, ex=, px=) is set. */
  ttl: boolean | null;
  /** "around": encloses or precedes the start; "file": elsewhere in the same file. */
  scope: "around" | "file";
  /** schedctl_lock.lead(): the Python expression of its backend ("redis" or "file"), evaluated per instance. */
  backend?: string | null;
}

export type StartContext = "module" | "function" | "main-block" | "hook" | "request" | "first-request";

export interface StartSite {
  file: string;
  line: number;
  /** The statement, as written. */
  text: string;
  receiver: string;
  /** The receiver is a Flask-APScheduler APScheduler (its start() checks FLASK_DEBUG and allowed hosts). */
  flaskApscheduler: boolean;
  context: StartContext;
  /** The outermost enclosing function, if any. */
  function: string | null;
  /** The Gunicorn hook it runs in (context "hook"). */
  hook: string | null;
  /** For context "function": the function is called when the module is imported (directly or through others). */
  calledAtImport: boolean;
  guards: Guard[];
  /** Assignments visible to the start (module level, then the enclosing functions' earlier lines), in order. */
  bindings: { name: string; expr: string; line: number }[];
}

export interface GuardAnalysis {
  filesScanned: number;
  flaskApscheduler: boolean;
  starts: StartSite[];
  /** SCHEDULER_ALLOWED_HOSTS set in the app's config code (expression as written). */
  allowedHosts: { file: string; line: number; expr: string }[];
  /** The app calls app.config.from_prefixed_env(), so FLASK_SCHEDULER_ALLOWED_HOSTS etc. apply. */
  fromPrefixedEnv: boolean;
  /** SCHEDULER_API_ENABLED as set in code. */
  apiEnabled: { file: string; line: number; value: string }[];
  /** Functions called when modules are imported (module-level calls, transitively). */
  calledAtImport: string[];
  /** The module-level code of every file with a start site, to evaluate guard conditions per instance. */
  modules: Record<string, PyBlock[]>;
  /** schedctl's generated lock module (schedctl_lock.py), when the app ships it. */
  lockModule: { path: string; backendExpr: string | null } | null;
}

interface Node {
  block: PyBlock;
  parent: Node | null;
  /** Siblings before this one in the same body. */
  before: PyBlock[];
  decorators: string[];
}

function flatten(list: PyBlock[], parent: Node | null, out: Node[]): void {
  let decorators: string[] = [];
  list.forEach((b, i) => {
    if (b.head.text.startsWith("@")) {
      decorators.push(b.head.text);
      return;
    }
    const n: Node = { block: b, parent, before: list.slice(0, i), decorators };
    decorators = [];
    out.push(n);
    flatten(b.body, n, out);
  });
}

function ancestors(n: Node): Node[] {
  const out: Node[] = [];
  for (let p = n.parent; p; p = p.parent) out.push(p);
  return out;
}

const ENV_READ =
  /\bos\.environ\.get\(\s*(['"])(\w+)\1|\bos\.getenv\(\s*(['"])(\w+)\3|\bos\.environ\[\s*(['"])(\w+)\5\s*\]|(['"])(\w+)\7\s+(?:not\s+)?in\s+os\.environ|\benviron\.get\(\s*(['"])(\w+)\9|\bgetenv\(\s*(['"])(\w+)\11/g;

function envVars(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(ENV_READ)) {
    const v = m[2] ?? m[4] ?? m[6] ?? m[8] ?? m[10] ?? m[12];
    if (v) out.add(v);
  }
  return [...out];
}

interface LockSignal {
  kind: "file-lock" | "socket-lock" | "redis-lock" | "db-lock";
  text: string;
  line: number;
  lockPath: string | null;
  ttl: boolean | null;
}

/** Lock acquisitions in some code. `fileText` tells whether redis is in play in the file. */
function lockSignals(lines: PyLine[], fileText: string): LockSignal[] {
  const out: LockSignal[] = [];
  const redisInFile = /\bredis\b|schedctl_lock/i.test(fileText);
  const literalPath = (t: string): string | null => {
    const m =
      /open\(\s*(?:r|f)?(['"])([^'"]+)\1/.exec(t) ??
      /FileLock\(\s*(['"])([^'"]+)\1/.exec(t) ??
      /(['"])([^'"]*\.(?:lock|pid))\1/.exec(t);
    return m?.[2] ?? null;
  };
  const filePath = (() => {
    const m = /(['"])([^'"\s]*(?:\.lock|\.pid|lock[^'"\s]*))\1/.exec(fileText);
    return m?.[2] ?? null;
  })();
  // Names imported from schedctl's generated lock module count as the lock itself.
  const imported = [
    ...fileText.matchAll(/^\s*from\s+[\w.]*schedctl_lock\s+import\s+(?:\(([\w\s,]+)\)|([\w \t,]+))/gm),
  ].flatMap((m) =>
    (m[1] ?? m[2] ?? "")
      .split(",")
      .map(
        (x) =>
          x
            .trim()
            .split(/\s+as\s+/)
            .pop() ?? "",
      )
      .filter(Boolean),
  );
  const importedCall = imported.length > 0 ? new RegExp(`\\b(${imported.join("|")})\\s*\\(`) : null;
  for (const l of lines) {
    const t = l.text;
    if ((/\bschedctl_lock\b/.test(t) || importedCall?.test(t)) && !/^\s*(from|import)\b/.test(t))
      out.push({ kind: "redis-lock", text: t, line: l.line, lockPath: null, ttl: true });
    else if (
      /\bfcntl\.(flock|lockf)\(|(^|[^.\w])(flock|lockf)\(|\bFileLock\(|\bportalocker\.(lock|Lock)\(|\bO_EXCL\b/.test(
        t,
      )
    )
      out.push({ kind: "file-lock", text: t, line: l.line, lockPath: literalPath(t) ?? filePath, ttl: null });
    else if (/\.bind\(\s*\(/.test(t) && /socket/.test(fileText)) {
      const m = /\.bind\(\s*\(\s*(['"])([^'"]*)\1\s*,\s*(\d+)/.exec(t);
      out.push({
        kind: "socket-lock",
        text: t,
        line: l.line,
        lockPath: m ? `${m[2]}:${m[3]}` : null,
        ttl: null,
      });
    } else if (/pg_try_advisory_lock|pg_advisory_lock|\bGET_LOCK\s*\(/i.test(t))
      out.push({ kind: "db-lock", text: t, line: l.line, lockPath: null, ttl: null });
    else if (
      redisInFile &&
      (/\.lock\(/.test(t) ||
        /\bredis_lock\.Lock\(|\bRedlock\(/.test(t) ||
        /\.set\([^)]*\bnx\s*=\s*True/.test(t) ||
        /\.setnx\(/.test(t) ||
        /['"]SET['"][^)]*['"]NX['"]/i.test(t))
    )
      out.push({
        kind: "redis-lock",
        text: t,
        line: l.line,
        lockPath: null,
        ttl: /\b(timeout|ex|px|expire|lock_timeout|auto_renewal)\s*=|['"](EX|PX)['"]/i.test(t),
      });
  }
  return out;
}

function allLines(list: PyBlock[]): PyLine[] {
  const out: PyLine[] = [];
  const walk = (bs: PyBlock[]) => {
    for (const b of bs) {
      out.push(b.head);
      walk(b.body);
    }
  };
  walk(list);
  return out;
}

const CALL = /\b([A-Za-z_]\w*)\s*\(/g;
const NOT_FUNCS = new Set([
  "if",
  "elif",
  "while",
  "for",
  "print",
  "int",
  "str",
  "bool",
  "float",
  "len",
  "open",
  "isinstance",
  "getattr",
  "setattr",
  "hasattr",
  "super",
  "dict",
  "list",
  "set",
  "tuple",
  "return",
  "not",
  "and",
  "or",
  "in",
]);

function calledNames(text: string): string[] {
  const code = text.replace(/(['"])(?:\\.|(?!\1).)*\1/g, '""');
  return [...code.matchAll(CALL)].map((m) => m[1] as string).filter((n) => !NOT_FUNCS.has(n));
}

const START_RE = /\b((?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*))\.start\s*\(/;

/** Analyses the app's Python sources (and gunicorn config files) for scheduler starts and their guards. */
export function analyzeGuards(input: PySource[]): GuardAnalysis {
  let sources = input;
  const result = emptyGuardAnalysis(input.length);
  // schedctl's own lock module is a library, not app code: its start() runs through lead().
  const isLockModule = (src: PySource) =>
    /(^|\/)schedctl_lock\.py$/.test(src.path) && /\bdef lead\(/.test(src.text);
  for (const src of sources)
    if (isLockModule(src))
      result.lockModule = {
        path: src.path,
        backendExpr: /^BACKEND\s*=\s*(.+)$/m.exec(src.text)?.[1]?.trim() ?? null,
      };
  sources = sources.filter((x) => !isLockModule(x));
  result.filesScanned = sources.length + (result.lockModule ? 1 : 0);
  // Pass 1: per file structure, function bodies, scheduler variable names.
  interface FileInfo {
    src: PySource;
    nodes: Node[];
    top: PyBlock[];
  }
  const files: FileInfo[] = [];
  const functions = new Map<string, { file: string; block: PyBlock }[]>();
  const schedulerNames = new Set<string>();
  const flaskNames = new Set<string>();
  for (const src of sources) {
    const top = blocks(logicalLines(src.text));
    const nodes: Node[] = [];
    flatten(top, null, nodes);
    files.push({ src, nodes, top });
    if (/^\s*(from\s+flask_apscheduler\s+import|import\s+flask_apscheduler)/m.test(src.text))
      result.flaskApscheduler = true;
    if (/\.from_prefixed_env\(/.test(src.text)) result.fromPrefixedEnv = true;
    for (const n of nodes) {
      const t = n.block.head.text;
      const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)/.exec(t);
      if (def?.[1]) {
        const list = functions.get(def[1]) ?? [];
        list.push({ file: src.path, block: n.block });
        functions.set(def[1], list);
      }
      const asg = /^(?:self\.)?([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(\w*(?:APScheduler|Scheduler))\s*\(/.exec(t);
      if (asg?.[1]) {
        schedulerNames.add(asg[1]);
        if (asg[2] === "APScheduler") flaskNames.add(asg[1]);
      }
      const ah = /(?:^|\.|\[['"])SCHEDULER_ALLOWED_HOSTS['"]?\]?\s*(?::[^=]+)?=\s*(.+)$/.exec(t);
      if (ah?.[1] && !/^\s*#/.test(t))
        result.allowedHosts.push({ file: src.path, line: n.block.head.line, expr: ah[1] });
      const upd = /SCHEDULER_ALLOWED_HOSTS\s*=\s*(\[[^\]]*\]|[^,)]+)/.exec(t);
      if (!ah && upd?.[1] && /update\(|dict\(/.test(t))
        result.allowedHosts.push({ file: src.path, line: n.block.head.line, expr: upd[1] });
      const api = /SCHEDULER_API_ENABLED['"]?\]?\s*(?::[^=]+)?=\s*([^,)\n]+)/.exec(t);
      if (api?.[1]) result.apiEnabled.push({ file: src.path, line: n.block.head.line, value: api[1].trim() });
    }
  }
  // Functions called at import: module-level calls, closed over the functions they call.
  const atImport = new Set<string>();
  for (const f of files) {
    for (const b of f.top) {
      const t = b.head.text;
      if (/^(def|async\s+def|class|@|import|from)\b/.test(t)) continue;
      if (/^if\s+__name__\s*==/.test(t)) continue;
      for (const l of [b.head, ...allLines(b.body)]) for (const n of calledNames(l.text)) atImport.add(n);
    }
  }
  for (let changed = true, rounds = 0; changed && rounds < 10; rounds++) {
    changed = false;
    for (const name of [...atImport]) {
      for (const fn of functions.get(name) ?? []) {
        for (const l of allLines(fn.block.body))
          for (const n of calledNames(l.text))
            if (!atImport.has(n)) {
              atImport.add(n);
              changed = true;
            }
      }
    }
  }
  result.calledAtImport = [...atImport].filter((n) => functions.has(n)).sort();

  // Pass 2: start sites.
  for (const f of files) {
    const fileLines = allLines(f.top);
    const moduleBindings = f.top
      .map((b) => /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*(.+)$/.exec(b.head.text) && b.head)
      .filter((x): x is PyLine => Boolean(x))
      .map((l) => {
        const m = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*(.+)$/.exec(l.text) as RegExpExecArray;
        return { name: m[1] as string, expr: m[2] as string, line: l.line };
      });
    const leadNames = [
      ...f.src.text.matchAll(/^\s*from\s+[\w.]*schedctl_lock\s+import\s+(?:\(([\w\s,]+)\)|([\w \t,]+))/gm),
    ]
      .flatMap((mm) => (mm[1] ?? mm[2] ?? "").split(","))
      .map((x) => x.trim())
      .filter((x) => /^lead(\s+as\s+\w+)?$/.test(x))
      .map((x) => x.split(/\s+as\s+/).pop() as string);
    const leadRe = new RegExp(
      `(?:\\bschedctl_lock\\.lead|${leadNames.length ? `(?<![.\\w])(?:${leadNames.join("|")})` : "$^"})\\s*\\(\\s*([\\w.]+)`,
    );
    for (const n of f.nodes) {
      const t = n.block.head.text;
      if (/^(def|class)\b/.test(t)) continue;
      const lead = leadRe.exec(t);
      const m = lead ? null : START_RE.exec(t);
      if (!lead && !m?.[1]) continue;
      const receiver = lead ? (lead[1] ?? "scheduler") : (m?.[1] as string);
      const last = receiver.split(".").pop() ?? "";
      const isScheduler =
        Boolean(lead) ||
        schedulerNames.has(last) ||
        /sched/i.test(last) ||
        /\b\w*Scheduler\([^)]*\)\.start\(/.test(t) ||
        receiver === "app.apscheduler";
      if (!isScheduler) continue;
      const anc = ancestors(n);
      const defs = anc.filter((a) => /^(?:async\s+)?def\s/.test(a.block.head.text));
      const outer = defs[defs.length - 1] ?? null;
      const fname = outer ? (/def\s+([A-Za-z_]\w*)/.exec(outer.block.head.text)?.[1] ?? null) : null;
      let context: StartContext = "module";
      let hook: string | null = null;
      if (anc.some((a) => /^if\s+__name__\s*==\s*['"]__main__['"]\s*:$/.test(a.block.head.text)))
        context = "main-block";
      else if (outer && fname) {
        const decos = outer.decorators.join(" ");
        if (f.src.role === "gunicorn-config" && GUNICORN_HOOKS.has(fname)) {
          context = "hook";
          hook = fname;
        } else if (/\.before_first_request\b/.test(decos)) context = "first-request";
        else if (/\.(route|get|post|put|patch|delete|before_request)\s*\(|\.before_request\b/.test(decos))
          context = "request";
        else context = "function";
      }
      const flaskAps =
        flaskNames.has(last) ||
        receiver === "app.apscheduler" ||
        (result.flaskApscheduler && !/\bScheduler\(/.test(t) && !schedulerNames.has(last));
      // Bindings: module-level, then each enclosing function's statements before the start (outermost first).
      const bindings = [...moduleBindings];
      for (const a of [...defs].reverse()) {
        for (const l of allLines(a.block.body)) {
          if (l.line >= n.block.head.line) break;
          const bm = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*(.+)$/.exec(l.text);
          if (bm?.[1]) bindings.push({ name: bm[1], expr: bm[2] as string, line: l.line });
        }
      }
      const guards = guardsFor(n, f.src, fileLines, functions, bindings);
      if (lead)
        guards.unshift({
          kind: "redis-lock",
          file: f.src.path,
          line: n.block.head.line,
          text: t,
          condition: null,
          variables: ["SCHEDCTL_LOCK_BACKEND"],
          lockPath: null,
          ttl: true,
          scope: "around",
          backend: result.lockModule?.backendExpr ?? null,
        });
      result.modules[f.src.path] = f.top;
      result.starts.push({
        file: f.src.path,
        line: n.block.head.line,
        text: t,
        receiver,
        flaskApscheduler: flaskAps,
        context,
        function: fname,
        hook,
        calledAtImport: context === "function" && fname !== null && atImport.has(fname),
        guards,
        bindings,
      });
    }
  }
  return result;
}

function guardsFor(
  n: Node,
  src: PySource,
  fileLines: PyLine[],
  functions: Map<string, { file: string; block: PyBlock }[]>,
  bindings: { name: string; expr: string; line: number }[],
): Guard[] {
  const guards: Guard[] = [];
  const add = (g: Omit<Guard, "file" | "scope"> & { scope?: Guard["scope"] }) => {
    if (guards.some((x) => x.kind === g.kind && x.line === g.line)) return;
    guards.push({ file: src.path, scope: "around", ...g });
  };
  const bindingVars = (cond: string): string[] => {
    const vars = new Set(envVars(cond));
    for (const b of bindings)
      if (new RegExp(`\\b${b.name}\\b`).test(cond)) for (const v of envVars(b.expr)) vars.add(v);
    return [...vars];
  };
  const inspectFunctionsIn = (text: string, line: number) => {
    for (const name of calledNames(text)) {
      for (const fn of functions.get(name) ?? []) {
        const body = allLines(fn.block.body);
        for (const s of lockSignals(body, src.text))
          add({
            ...s,
            line: s.line,
            text: s.text,
            condition: null,
            variables: [],
            lockPath: s.lockPath,
            ttl: s.ttl,
          });
        void line;
      }
    }
  };
  const classifyCondition = (cond: string, line: number, text: string) => {
    if (/WERKZEUG_RUN_MAIN|is_running_from_reloader/.test(cond)) {
      add({
        kind: "reloader",
        line,
        text,
        condition: cond,
        variables: ["WERKZEUG_RUN_MAIN"],
        lockPath: null,
        ttl: null,
      });
      return;
    }
    if (/\bworker\.age\b|\bserver\.worker_age\b/.test(cond)) {
      add({ kind: "worker-age", line, text, condition: cond, variables: [], lockPath: null, ttl: null });
      return;
    }
    if (/gethostname\(|platform\.node\(|\bHOSTNAME\b/.test(cond)) {
      add({
        kind: "hostname",
        line,
        text,
        condition: cond,
        variables: bindingVars(cond),
        lockPath: null,
        ttl: null,
      });
      return;
    }
    const before = guards.length;
    const vars = bindingVars(cond);
    if (vars.length > 0 || /app\.config(\.get\(|\[)/.test(cond)) {
      add({ kind: "env-flag", line, text, condition: cond, variables: vars, lockPath: null, ttl: null });
    }
    const locks = lockSignals([{ line, indent: 0, text }], src.text);
    for (const s of locks) add({ ...s, condition: null, variables: [] });
    inspectFunctionsIn(cond, line);
    // Anything else (LOCK_BACKEND == "none", scheduler is None ...): evaluated per instance when it can be.
    if (guards.length === before && !/\b__name__\b/.test(cond))
      add({ kind: "condition", line, text, condition: cond, variables: [], lockPath: null, ttl: null });
  };
  // (a) enclosing conditions and with-blocks
  let child: Node = n;
  for (const a of ancestors(n)) {
    const t = a.block.head.text;
    const cond = /^(?:if|elif|while)\s+(.*):$/.exec(t);
    if (cond?.[1]) {
      // `else:` branches: the start runs when the if's condition is false.
      classifyCondition(cond[1], a.block.head.line, t);
    } else if (/^else\s*:$/.test(t)) {
      const prevIf = [...a.before].reverse().find((b) => /^(if|elif)\s/.test(b.head.text));
      const pc = prevIf ? /^(?:if|elif)\s+(.*):$/.exec(prevIf.head.text)?.[1] : null;
      if (pc)
        classifyCondition(`not (${pc})`, prevIf?.head.line ?? a.block.head.line, prevIf?.head.text ?? t);
    } else if (/^(?:async\s+)?with\s/.test(t)) {
      for (const s of lockSignals([a.block.head], src.text)) add({ ...s, condition: null, variables: [] });
      inspectFunctionsIn(t, a.block.head.line);
    }
    if (/^(?:async\s+)?def\s/.test(t)) {
      // stop scanning preceding statements beyond the function, but keep walking for hooks' conditions
    }
    // (b) statements before `child` in the same body: early returns and lock acquisitions
    scanBefore(child);
    child = a;
  }
  scanBefore(child);

  function scanBefore(node: Node): void {
    for (const b of node.before) {
      const t = b.head.text;
      if (/^(?:async\s+)?def\s|^class\s/.test(t)) continue;
      const cond = /^(?:if|elif)\s+(.*):$/.exec(t);
      // `if X: return` before the start (in a function) gates it; a module-level raise/exit is a startup
      // failure, which the config evaluation reports, not a guard.
      if (cond?.[1] && b.body.some((x) => /^return\b/.test(x.head.text))) {
        classifyCondition(`not (${cond[1]})`, b.head.line, t);
        continue;
      }
      const lines = [b.head, ...allLines(b.body)];
      for (const s of lockSignals(lines, src.text)) add({ ...s, condition: null, variables: [] });
      for (const l of lines) inspectFunctionsIn(l.text, l.line);
      // `lock = acquire()` followed by `if lock:` — handled by the condition; `acquire_lock()` alone here.
    }
  }
  // (c) the start line itself may carry the guard: `lock.acquire(blocking=False) and scheduler.start()`
  for (const s of lockSignals([n.block.head], src.text)) add({ ...s, condition: null, variables: [] });
  // (d) nothing around: a lock elsewhere in the file still says what the author meant.
  if (!guards.some((g) => ["file-lock", "socket-lock", "redis-lock", "db-lock"].includes(g.kind))) {
    for (const s of lockSignals(fileLines, src.text))
      add({ ...s, condition: null, variables: [], scope: "file" });
  }
  return guards;
}
