/** The quota key of a month outlives it a little, so clock differences never reset a month early. */
export const QUOTA_KEY_TTL_SECONDS = 32 * 24 * 60 * 60;

/** "2026-11" for any instant of November 2026, UTC. */
export function utcMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/** Start of the next calendar month (UTC) and the length of the current one. */
export function monthBounds(now: Date): { resetMs: number; monthSeconds: number } {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { resetMs: next - now.getTime(), monthSeconds: (next - start) / 1000 };
}
