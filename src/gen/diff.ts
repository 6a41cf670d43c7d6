/**
 * Unified diffs (`diff -u` format, 3 lines of context) for `gen --diff`. Line-based LCS; files larger than
 * the table budget are shown as one hunk that replaces everything. Pure.
 */

const MAX_CELLS = 25_000_000;

interface Lines {
  lines: string[];
  /** The text did not end with a newline (the last line gets "\ No newline at end of file"). */
  noEol: boolean;
}

function split(text: string): Lines {
  if (text === "") return { lines: [], noEol: false };
  const noEol = !text.endsWith("\n");
  const lines = (noEol ? text : text.slice(0, -1)).split("\n");
  return { lines, noEol };
}

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

function ops(a: string[], b: string[]): Op[] {
  // Common head and tail first: generated files usually change in a few places.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const out: Op[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: " ", line: a[i] as string, a: i, b: i });
  const n = am.length;
  const m = bm.length;
  if (n * m > MAX_CELLS) {
    for (let i = 0; i < n; i++) out.push({ kind: "-", line: am[i] as string, a: head + i, b: head });
    for (let j = 0; j < m; j++) out.push({ kind: "+", line: bm[j] as string, a: head + n, b: head + j });
  } else {
    // lcs[i][j]: LCS length of am[i..] and bm[j..], one row of m+1 per i.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i * w + j] =
          am[i] === bm[j]
            ? (lcs[(i + 1) * w + j + 1] as number) + 1
            : Math.max(lcs[(i + 1) * w + j] as number, lcs[i * w + j + 1] as number);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        out.push({ kind: " ", line: am[i] as string, a: head + i, b: head + j });
        i++;
        j++;
      } else if (j >= m || (i < n && (lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number))) {
        out.push({ kind: "-", line: am[i] as string, a: head + i, b: head + j });
        i++;
      } else {
        out.push({ kind: "+", line: bm[j] as string, a: head + i, b: head + j });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++) {
    const ai = a.length - tail + k;
    const bi = b.length - tail + k;
    out.push({ kind: " ", line: a[ai] as string, a: ai, b: bi });
  }
  return out;
}

/** "l,s" as diff -u writes a range: start is 1-based, or the line before an empty range; ",1" omitted. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

/** A unified diff of two texts; "" when they are equal. */
export function unifiedDiff(
  oldText: string,
  newText: string,
  oldName: string,
  newName: string,
  context = 3,
): string {
  if (oldText === newText) return "";
  const A = split(oldText);
  const B = split(newText);
  // A missing final newline makes the last line differ from the same line with one.
  const a = A.lines.map((l, i) => (A.noEol && i === A.lines.length - 1 ? `${l}\u0000` : l));
  const b = B.lines.map((l, i) => (B.noEol && i === B.lines.length - 1 ? `${l}\u0000` : l));
  const all = ops(a, b);
  const changed = all.map((o, k) => (o.kind !== " " ? k : -1)).filter((k) => k >= 0);
  const out = [`--- ${oldName}`, `+++ ${newName}`];
  let g = 0;
  while (g < changed.length) {
    let first = changed[g] as number;
    let last = first;
    while (g + 1 < changed.length && (changed[g + 1] as number) - last <= 2 * context + 1)
      last = changed[++g] as number;
    g++;
    first = Math.max(0, first - context);
    last = Math.min(all.length - 1, last + context);
    const hunk = all.slice(first, last + 1);
    const aCount = hunk.filter((o) => o.kind !== "+").length;
    const bCount = hunk.filter((o) => o.kind !== "-").length;
    const h0 = hunk[0] as Op;
    const aStart = aCount === 0 ? h0.a : (hunk.find((o) => o.kind !== "+") as Op).a;
    const bStart = bCount === 0 ? h0.b : (hunk.find((o) => o.kind !== "-") as Op).b;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of hunk) {
      const noEol = o.line.endsWith("\u0000");
      out.push(`${o.kind}${noEol ? o.line.slice(0, -1) : o.line}`);
      if (noEol) out.push("\\ No newline at end of file");
    }
  }
  return `${out.join("\n")}\n`;
}
