import type { LockHolder, LockRecord } from "../locks/types.js";
import { formatDuration } from "./duration.js";
import { formatTable } from "./table.js";

const COLUMNS = ["backend", "name", "kind", "state", "owner", "held for", "ttl", "holders"];

function holderLabel(h: LockHolder): string {
  return `${h.pid} ${h.role === "other" || h.role === "python" ? (h.command.split(" ")[0] ?? "") : h.role}`;
}

/** The lock table of `schedctl locks list` and of the locks checks' evidence. */
export function lockTable(locks: LockRecord[]): { columns: string[]; rows: string[][] } {
  return {
    columns: COLUMNS,
    rows: locks.map((l) => [
      l.backend,
      l.name,
      l.kind,
      l.state,
      l.owner ?? "-",
      formatDuration(l.heldForMs),
      l.backend === "redis" ? formatDuration(l.ttlMs) : "-",
      l.holders.length === 0
        ? "-"
        : l.holders.slice(0, 4).map(holderLabel).join(", ") +
          (l.holders.length > 4 ? ` +${l.holders.length - 4}` : ""),
    ]),
  };
}

export function renderLocksText(locks: LockRecord[]): string {
  if (locks.length === 0) return "no scheduler lock found\n";
  const t = lockTable(locks);
  return `${formatTable(t.columns, t.rows)}\n`;
}
