/**
 * Plain-text helpers shared by the renderers: stripping terminal escapes out of untrusted strings and
 * laying out an aligned table. No colour is ever added here.
 */

// After ansi-regex 6: CSI sequences (ESC [ … final byte, or the 8-bit CSI) and OSC sequences
// (ESC ] … terminated by BEL, ESC \ or ST), e.g. hyperlinks.
const ST = "(?:\\u0007|\\u001B\\u005C|\\u009C)";
const ANSI_PATTERN = [
  `[\\u001B\\u009B][[\\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]+)*|[a-zA-Z\\d]+(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]*)*)?${ST})`,
  "(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PR-TZcf-nq-uy=><~]))",
].join("|");
const ANSI = new RegExp(ANSI_PATTERN, "g");

// C0 controls except \t \n \r, DEL and C1 controls: invisible, and can still drive a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** Removes ANSI/VT escape sequences (colours, cursor movement, OSC hyperlinks). */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

/**
 * Makes an untrusted string safe to print: strips ANSI sequences, then every remaining control
 * character except tab, newline and carriage return.
 */
export function cleanText(s: string): string {
  return stripAnsi(s).replace(CONTROL, "");
}

/** Length in code points, so an astral character (emoji) counts once, as it is drawn once. */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function cell(s: string | undefined): string {
  // A cell is one line: newlines and tabs would break the alignment.
  return cleanText(s ?? "").replace(/\r\n|[\r\n\t]/g, " ");
}

/**
 * An aligned plain-text table: a header row, a rule of dashes, then the rows, columns separated by two
 * spaces and padded by string length (code points). Short rows are padded with empty cells; trailing
 * spaces are trimmed. Returns the lines joined by "\n", without a trailing newline.
 */
export function formatTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const ncols = Math.max(columns.length, ...rows.map((r) => r.length));
  const head = Array.from({ length: ncols }, (_, i) => cell(columns[i]));
  const body = rows.map((r) => Array.from({ length: ncols }, (_, i) => cell(r[i])));
  const widths = head.map((h, i) => Math.max(1, width(h), ...body.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c + " ".repeat((widths[i] ?? 0) - width(c)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w));
  return [line(head), line(rule), ...body.map(line)].join("\n");
}
