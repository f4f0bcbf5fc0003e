import type { McpSession, SessionTraffic } from './mcp-session';

/**
 * Counts the node's client requests awaiting their answer (sessions report them, see
 * `McpSession.watch`), so a graceful shutdown can wait until every client has its answer.
 */
export class InFlightCalls implements SessionTraffic {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  requestStarted(_session?: McpSession): void {
    this.count += 1;
  }

  requestEnded(_session?: McpSession): void {
    this.count -= 1;
    if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  messageSent(): void {}

  /** Resolves when no call is in flight, or after `timeoutMs`, whichever is first. */
  drained(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => (clearTimeout(timer), resolve()));
    });
  }
}
