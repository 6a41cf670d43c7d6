import { openSync, readSync } from "node:fs";
import v8 from "node:v8";

if (process.env.NOLIFT) v8.setFlagsFromString("--no-liftoff");
const { LineScan, READ_BYTES } = await import("./src/runs/linescan.ts");
const mode = process.argv[2];
const rb = Number(process.argv[3] ?? READ_BYTES);
const s = new LineScan();
const mem = s.mem;
const fd = openSync(process.env.F ?? "/work/main/bench/.data/runs-268435456.log", "r");
let pos = 0,
  carry = 0,
  lines = 0,
  n = 0;
const t = performance.now();
for (;;) {
  const k = readSync(fd, mem, carry, rb, pos);
  if (k === 0) break;
  pos += k;
  const total = carry + k;
  const last = mem.subarray(0, total).lastIndexOf(10);
  if (mode !== "read") {
    n += s.scan(0, last + 1);
    lines += s.lines;
  }
  carry = total - last - 1;
  mem.copyWithin(0, last + 1, total);
}
console.log(mode, rb, lines, n, (performance.now() - t).toFixed(0), "ms");
