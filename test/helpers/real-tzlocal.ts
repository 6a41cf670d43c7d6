/**
 * Runs the REAL tzlocal (Debian's python3-tzlocal, 4.2) against a fixture root, the way the reference's
 * reproductions did: in a private mount namespace (`unshare -m`), a copy of the host's /etc with the
 * fixture's etc files laid over it is bind-mounted on /etc, and the fixture's usr/share/zoneinfo (or an
 * empty directory when the fixture has none) on /usr/share/zoneinfo; then /usr/bin/python3 calls
 * tzlocal.get_localzone() in a fresh process. Needs root; never skips: a missing tool is a failure.
 */
import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TzlocalWarning } from "../../src/tz/tzlocal.js";

export const INSTALL_HINT = "apt-get install -y util-linux python3-tzlocal tzdata";
const PYTHON = "/usr/bin/python3";
const UNSHARE = "/usr/bin/unshare";
const TIMEOUT_MS = 10_000;
/** The etc files tzlocal reads: removed from the copy of the host's /etc unless the fixture has them. */
const TZ_ETC_FILES = ["etc/timezone", "etc/localtime", "etc/sysconfig/clock", "etc/conf.d/clock"];
/** Places tzlocal reads that this harness cannot lay over the host (they are outside /etc). */
const UNSUPPORTED = ["var/db/zoneinfo", "usr/local/etc/localtime", "system/bin/getprop"];

export interface RealTzlocalResult {
  /** str() of the returned tz: its key ("Asia/Shanghai", "local", "UTC"); null when it raised. */
  zone: string | null;
  exception: string | null;
  /** e.args[0] for KeyError subclasses (unquoted), str(e) for every other exception. */
  message: string | null;
  /** In emission order: "UserWarning: <text>" for warnings.warn, "log:WARNING: <text>" for logging records. */
  warnings: string[];
}

/** The same rendering for a predicted warning, to compare with RealTzlocalResult.warnings. */
export function formatWarning(w: TzlocalWarning): string {
  return w.exception === null ? `log:WARNING: ${w.message}` : `${w.exception}: ${w.message}`;
}

const PY_SCRIPT = String.raw`
import json, logging, sys, warnings
events = []
class _Collect(logging.Handler):
    def emit(self, record):
        events.append("log:%s: %s" % (record.levelname, record.getMessage()))
_root = logging.getLogger()
_root.addHandler(_Collect())
_root.setLevel(logging.WARNING)
out = {"zone": None, "exception": None, "message": None, "warnings": events}
with warnings.catch_warnings():
    warnings.simplefilter("always")
    def _show(message, category, filename, lineno, file=None, line=None):
        if category.__name__ not in ("PytzUsageWarning", "DeprecationWarning", "PendingDeprecationWarning"):
            events.append("%s: %s" % (category.__name__, message))
    warnings.showwarning = _show
    try:
        import tzlocal
        tz = tzlocal.get_localzone()
        out["zone"] = str(tz)
    except Exception as e:
        out["exception"] = type(e).__name__
        if isinstance(e, KeyError) and e.args:
            out["message"] = e.args[0] if isinstance(e.args[0], str) else repr(e.args[0])
        else:
            out["message"] = str(e)
sys.stdout.write("\n" + json.dumps(out) + "\n")
`;

const SH_SCRIPT = `
set -eu
fx=$1; tmp=$2; hastz=$3; tzv=$4; py=$5
cp -a /etc "$tmp/etc"
for p in ${TZ_ETC_FILES.join(" ")}; do rm -rf "$tmp/$p"; done
if [ -d "$fx/etc" ]; then cp -a "$fx/etc/." "$tmp/etc/"; fi
mount --bind "$tmp/etc" /etc
if [ -d "$fx/usr/share/zoneinfo" ]; then
  mount --bind "$fx/usr/share/zoneinfo" /usr/share/zoneinfo
else
  mkdir "$tmp/no-zoneinfo"
  mount --bind "$tmp/no-zoneinfo" /usr/share/zoneinfo
fi
if [ "$hastz" = 1 ]; then
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PYTHONDONTWRITEBYTECODE=1 "TZ=$tzv" "$py" -c "$PY_SCRIPT"
else
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PYTHONDONTWRITEBYTECODE=1 "$py" -c "$PY_SCRIPT"
fi
`;

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  error: Error | null;
}

function spawn(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Spawned> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: TIMEOUT_MS, killSignal: "SIGKILL", encoding: "utf8", maxBuffer: 4 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr, error: error ?? null });
      },
    );
  });
}

function fail(what: string): never {
  throw new Error(`real-tzlocal harness: ${what}. Install with: ${INSTALL_HINT}`);
}

let checked: Promise<string> | null = null;

/** Verifies root, unshare, /usr/bin/python3 and tzlocal 4.x; resolves to the tzlocal version. Throws otherwise. */
export function ensureRealTzlocal(): Promise<string> {
  checked ??= (async () => {
    if (process.getuid?.() !== 0) fail("must run as root (unshare -m and mount --bind)");
    if (!existsSync(UNSHARE)) fail(`${UNSHARE} is missing`);
    if (!existsSync(PYTHON)) fail(`${PYTHON} is missing`);
    if (!existsSync("/usr/share/zoneinfo/Etc/UTC")) fail("/usr/share/zoneinfo (tzdata) is missing");
    const v = await spawn(PYTHON, [
      "-c",
      "import tzlocal, importlib.metadata as m; print(m.version('tzlocal'))",
    ]);
    if (v.code !== 0) fail(`${PYTHON} cannot import tzlocal (${v.stderr.trim().split("\n").pop()})`);
    const version = v.stdout.trim();
    if (!version.startsWith("4.")) fail(`expected Debian's tzlocal 4.x, found ${version}`);
    const ns = await spawn(UNSHARE, ["-m", "--propagation", "private", "/bin/true"]);
    if (ns.code !== 0) fail(`unshare -m does not work here (${ns.stderr.trim()})`);
    for (const p of ["/var/db/zoneinfo", "/usr/local/etc/localtime", "/system/bin/getprop"]) {
      if (existsSync(p))
        throw new Error(`real-tzlocal harness: the host has ${p}, which would leak into every case`);
    }
    return version;
  })();
  return checked;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Runs tzlocal.get_localzone() with `fixtureRoot`'s etc files and zoneinfo, and `env.TZ` (absent = unset). */
export async function runRealTzlocal(fixtureRoot: string, env: { TZ?: string }): Promise<RealTzlocalResult> {
  await ensureRealTzlocal();
  for (const p of UNSUPPORTED) {
    if (exists(join(fixtureRoot, p))) throw new Error(`real-tzlocal harness cannot lay /${p} over the host`);
  }
  const tmp = mkdtempSync(join(tmpdir(), "schedctl-etc-"));
  try {
    const hasTz = env.TZ !== undefined;
    const args = ["-m", "--propagation", "private", "/bin/sh", "-c", SH_SCRIPT, "sh"];
    args.push(fixtureRoot, tmp, hasTz ? "1" : "0", env.TZ ?? "", PYTHON);
    const r = await spawn(UNSHARE, args, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", PY_SCRIPT });
    if (r.error && r.code === null)
      throw new Error(`real tzlocal run failed: ${r.error.message}\n${r.stderr}`);
    const last = r.stdout.trim().split("\n").pop() ?? "";
    let parsed: RealTzlocalResult;
    try {
      parsed = JSON.parse(last) as RealTzlocalResult;
    } catch {
      throw new Error(`real tzlocal run printed no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    if (r.code !== 0) throw new Error(`real tzlocal run exited ${r.code}:\n${r.stderr}`);
    return parsed;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
