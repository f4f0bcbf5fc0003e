/** Most source addresses tracked at once; past it the oldest windows are dropped. */
const MAX_TRACKED_ADDRESSES = 10_000;
export const REGISTRATION_WINDOW_MS = 3_600_000;

/**
 * A fixed window of dynamic client registrations per source address, on this node. Registration
 * is rare and cheap to refuse, so a per-node count is enough to stop one address filling the
 * client table; a cluster of N nodes admits at most N times the limit.
 */
export class RegistrationLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly clock: { now(): number } = Date,
  ) {}

  /** Counts one registration; refused (with the time left in the window) when the address has used it. */
  admit(address: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.clock.now();
    let window = this.windows.get(address);
    if (!window || now - window.start >= REGISTRATION_WINDOW_MS) {
      this.windows.delete(address);
      window = { start: now, count: 0 };
      this.windows.set(address, window);
      if (this.windows.size > MAX_TRACKED_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
    }
    if (window.count >= this.perWindow) return { ok: false, retryAfterMs: window.start + REGISTRATION_WINDOW_MS - now };
    window.count++;
    return { ok: true };
  }
}
