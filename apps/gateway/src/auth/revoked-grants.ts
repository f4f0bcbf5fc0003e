import { systemClock, type Clock } from '@switchboard/api-keys';
import type { ControlBus, ControlEvent } from '@switchboard/coordination';
import type { PrismaClient } from '@switchboard/db';

/**
 * The OAuth grants revoked recently, so every node refuses their access tokens within a second
 * without a database read per request. A grant is remembered for `windowMs` after its revocation
 * (the longest access-token lifetime): after that, every token it issued has expired anyway, so
 * memory stays bounded by the revocations of one window. Revocations arrive as
 * `oauth-grant.revoked` control events; a node loads those of the last window from OAuthGrant on
 * start, and polls for new ones every `pollIntervalMs` in case an event was lost (Redis away).
 */

/** A revocation whose event was lost (bus down) still reaches every node within this long. */
export const DEFAULT_REVOKED_GRANTS_POLL_MS = 15_000;
/** The poll looks this far behind its last run: a revocation committed during the previous query is not missed. */
const POLL_OVERLAP_MS = 5_000;

/** Where revocations are recorded: OAuthGrant.revokedAt, or a fake in specs. */
export interface RevokedGrantSource {
  revokedSince(since: Date): Promise<{ id: string; revokedAt: Date }[]>;
}

export function prismaRevokedGrantSource(prisma: PrismaClient): RevokedGrantSource {
  return {
    revokedSince: (since) =>
      prisma.oAuthGrant
        .findMany({ where: { revokedAt: { gte: since } }, select: { id: true, revokedAt: true } })
        .then((rows) => rows.flatMap((row) => (row.revokedAt ? [{ id: row.id, revokedAt: row.revokedAt }] : []))),
  };
}

export interface RevokedGrantsOptions {
  windowMs: number;
  pollIntervalMs?: number;
  clock?: Clock;
}

export class RevokedGrants {
  /** Grant id → when it may be forgotten (epoch ms); Maps iterate in insertion order. */
  private readonly until = new Map<string, number>();
  private readonly clock: Clock;
  private polledAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: RevokedGrantSource,
    private readonly options: RevokedGrantsOptions,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  isRevoked(grantId: string): boolean {
    const until = this.until.get(grantId);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.until.delete(grantId);
    return false;
  }

  revoke(grantId: string, at: number = this.clock.now()): void {
    this.prune();
    const until = at + this.options.windowMs;
    if (until <= this.clock.now()) return;
    this.until.delete(grantId);
    this.until.set(grantId, until);
  }

  /** How many grants are remembered now (metrics, specs). */
  get size(): number {
    this.prune();
    return this.until.size;
  }

  /** Reads the revocations of the last window (start), or since the last poll. */
  async load(): Promise<void> {
    const now = this.clock.now();
    const since = this.polledAt === undefined ? now - this.options.windowMs : this.polledAt - POLL_OVERLAP_MS;
    const rows = await this.source.revokedSince(new Date(since));
    for (const row of rows) this.revoke(row.id, row.revokedAt.getTime());
    this.polledAt = now;
  }

  /**
   * Follows `oauth-grant.revoked`, then loads the last window (subscribed first, so a revocation
   * between the query and the subscription is not missed) and starts the poll. Returns the stop function.
   */
  async start(bus: ControlBus, onPollError: (error: unknown) => void): Promise<() => void> {
    const unsubscribe = bus.subscribe((event: ControlEvent) => {
      if (event.type === 'oauth-grant.revoked') this.revoke(event.grantId);
    });
    await this.load();
    this.timer = setInterval(() => void this.load().catch(onPollError), this.options.pollIntervalMs ?? DEFAULT_REVOKED_GRANTS_POLL_MS);
    this.timer.unref();
    return () => {
      unsubscribe();
      clearInterval(this.timer);
    };
  }

  private prune(): void {
    const now = this.clock.now();
    // Entries are appended about in revocation order, so the oldest come first; a straggler is
    // dropped by isRevoked when asked.
    for (const [grantId, until] of this.until) {
      if (until > now) break;
      this.until.delete(grantId);
    }
  }
}
