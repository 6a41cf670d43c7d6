/** "1.6 s", "45 s", "12 min", "3 h", "2 d"; "-" for unknown, "none" for a negative TTL (no expiry). */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 0) return "none";
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
