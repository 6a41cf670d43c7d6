// Generates a realistic APScheduler + Gunicorn log of any size, fast and deterministically: one tick per
// scheduled second, in which every "worker" runs the interval job (Gunicorn-prefixed "Running job" and
// "executed successfully" lines, so each tick is a duplicate when workers > 1), an access line and an app
// line, and, once a minute, a cron job run by the first worker only.
//
// Fast: one block of TICKS ticks is laid out once; every next block is a copy with its timestamps rewritten
// in place (they are fixed-width), so the generator costs a memcpy and a few writes per tick.
//
// As a library: `logBlocks(opts)` yields Buffers of about 1 MiB; `generateLog(bytes, write, opts)` writes at
// least `bytes` and returns the counts. As a command: `node test/helpers/runs-loggen.mjs BYTES [WORKERS]`
// writes the log to stdout and then one JSON line of counts ({bytes, lines, runs, ticks, duplicateTicks})
// to stderr.
import { fileURLToPath } from "node:url";

/** Ticks per block: a multiple of 60, so the once-a-minute line keeps its place. */
const TICKS = 1200;
const pad = (n, w = 2) => String(n).padStart(w, "0");

/** "2026-11-30 10:00:00" for a UTC epoch ms (19 characters). */
function wall(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** "30/Nov/2026:10:00:00 +0000" (26 characters). */
function clf(ms) {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const NOW = 0;
const NEXT = 1;
const CLF = 2;
const NEXT_MINUTE = 3;
const render = [(t) => wall(t), (t) => wall(t + 1000), (t) => clf(t), (t) => wall(t + 60_000)];

/** One block's text for ticks starting at t0, and where each timestamp field sits. */
function layout(t0, workers) {
  const pids = Array.from({ length: workers }, (_, i) => 1000 + i * 7);
  let text = "";
  const fields = []; // flat: offset, kind, tick
  let lines = 0;
  let runs = 0;
  const put = (kind, tick) => {
    fields.push(text.length, kind, tick);
    text += render[kind](t0 + tick * 1000);
  };
  for (let tick = 0; tick < TICKS; tick++) {
    for (const pid of pids) {
      text += "[";
      put(NOW, tick);
      text += ` +0000] [${pid}] [INFO] apscheduler.executors.default: Running job "sync_orders (trigger: interval[0:00:01], next run at: `;
      put(NEXT, tick);
      text += ' UTC)" (scheduled at ';
      put(NOW, tick);
      text += "+00:00)\n";
    }
    for (const pid of pids) {
      text += "[";
      put(NOW, tick);
      text += ` +0000] [${pid}] [INFO] apscheduler.executors.default: Job "sync_orders (trigger: interval[0:00:01], next run at: `;
      put(NEXT, tick);
      text += ' UTC)" executed successfully\n';
    }
    text += "127.0.0.1 - - [";
    put(CLF, tick);
    text += `] "GET /api/orders?page=${tick % 97} HTTP/1.0" 200 ${512 + (tick % 1000)} "-" "python-requests/2.28.1"\n`;
    text += "[";
    put(NOW, tick);
    text += ` +0000] [${pids[0]}] [INFO] app.orders: synced ${tick % 13} orders from the shop in 0.0${tick % 9}s\n`;
    lines += 2 * workers + 2;
    runs += workers;
    if (tick % 60 === 0) {
      text += "[";
      put(NOW, tick);
      text += ` +0000] [${pids[0]}] [INFO] apscheduler.executors.default: Running job "nightly_report (trigger: cron[second='0'], next run at: `;
      put(NEXT_MINUTE, tick);
      text += ' UTC)" (scheduled at ';
      put(NOW, tick);
      text += "+00:00)\n";
      lines++;
      runs++;
    }
  }
  return { template: Buffer.from(text, "latin1"), fields, lines, runs };
}

/**
 * @param {{ startMs?: number, workers?: number }} [opts] startMs is rounded down to a whole minute
 * @returns {Generator<{ buf: Buffer, lines: number, runs: number, ticks: number, duplicateTicks: number }>}
 */
export function* logBlocks(opts = {}) {
  const workers = opts.workers ?? 3;
  let t = Math.floor((opts.startMs ?? Date.UTC(2026, 0, 1)) / 60_000) * 60_000;
  const { template, fields, lines, runs } = layout(t, workers);
  const values = render.map(() => new Array(TICKS));
  for (let first = true; ; first = false) {
    const buf = first ? template : Buffer.from(template);
    if (!first) {
      for (let k = 0; k < render.length; k++) for (let i = 0; i < TICKS; i++) values[k][i] = undefined;
      for (let f = 0; f < fields.length; f += 3) {
        const kind = fields[f + 1];
        const tick = fields[f + 2];
        const v = values[kind][tick] ?? render[kind](t + tick * 1000);
        values[kind][tick] = v;
        buf.latin1Write(v, fields[f]);
      }
    }
    yield { buf, lines, runs, ticks: TICKS, duplicateTicks: workers > 1 ? TICKS : 0 };
    t += TICKS * 1000;
  }
}

/**
 * Writes at least `bytes` bytes (whole blocks) through `write` (which may return a promise, for backpressure).
 * @returns {Promise<{ bytes: number, lines: number, runs: number, ticks: number, duplicateTicks: number }>}
 */
export async function generateLog(bytes, write, opts = {}) {
  const total = { bytes: 0, lines: 0, runs: 0, ticks: 0, duplicateTicks: 0 };
  for (const b of logBlocks(opts)) {
    if (total.bytes >= bytes) break;
    await write(b.buf);
    total.bytes += b.buf.length;
    total.lines += b.lines;
    total.runs += b.runs;
    total.ticks += b.ticks;
    total.duplicateTicks += b.duplicateTicks;
  }
  return total;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = Number(process.argv[2] ?? 2 ** 30);
  const workers = Number(process.argv[3] ?? 3);
  const out = process.stdout;
  out.on("error", () => process.exit(0));
  const write = (buf) => (out.write(buf) ? undefined : new Promise((r) => out.once("drain", r)));
  const total = await generateLog(bytes, write, { workers });
  process.stderr.write(`${JSON.stringify(total)}\n`);
}
