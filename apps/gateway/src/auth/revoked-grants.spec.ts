import { InProcessControlBus } from '@switchboard/coordination';
import { RevokedGrants, type RevokedGrantSource } from './revoked-grants';

const WINDOW_MS = 600_000;

function source(rows: { id: string; revokedAt: Date }[] = []) {
  const asked: Date[] = [];
  const revokedGrantSource: RevokedGrantSource = {
    revokedSince: async (since) => {
      asked.push(since);
      return rows.filter((row) => row.revokedAt >= since);
    },
  };
  return { revokedGrantSource, asked, rows };
}

describe('RevokedGrants', () => {
  const clock = { t: 1_800_000_000_000, now() { return this.t; } };

  it('refuses a grant from its revocation event on, and forgets it once every token it issued has expired', async () => {
    const grants = new RevokedGrants(source().revokedGrantSource, { windowMs: WINDOW_MS, clock });
    const bus = new InProcessControlBus();
    const stop = await grants.start(bus, () => undefined);
    await bus.publish({ type: 'oauth-grant.revoked', tenantId: 't', grantId: 'g1' });
    expect(grants.isRevoked('g1')).toBe(true);
    expect(grants.isRevoked('g2')).toBe(false);
    clock.t += WINDOW_MS;
    expect(grants.isRevoked('g1')).toBe(false);
    expect(grants.size).toBe(0);
    stop();
    await bus.close();
  });

  it('on start, refuses grants revoked within the last token lifetime while the node was down', async () => {
    const now = clock.t;
    const { revokedGrantSource, asked } = source([
      { id: 'recent', revokedAt: new Date(now - 60_000) },
      { id: 'old', revokedAt: new Date(now - WINDOW_MS - 1) },
    ]);
    const grants = new RevokedGrants(revokedGrantSource, { windowMs: WINDOW_MS, clock });
    const bus = new InProcessControlBus();
    const stop = await grants.start(bus, () => undefined);
    expect(asked).toEqual([new Date(now - WINDOW_MS)]);
    expect(grants.isRevoked('recent')).toBe(true);
    expect(grants.isRevoked('old')).toBe(false);
    stop();
    await bus.close();
  });

  it('catches a revocation whose event was lost at the next poll', async () => {
    const { revokedGrantSource, rows } = source();
    const grants = new RevokedGrants(revokedGrantSource, { windowMs: WINDOW_MS, clock });
    await grants.load();
    rows.push({ id: 'lost', revokedAt: new Date(clock.t) });
    clock.t += 15_000;
    await grants.load();
    expect(grants.isRevoked('lost')).toBe(true);
  });

  it('keeps memory bounded to one window of revocations under a flood', () => {
    const grants = new RevokedGrants(source().revokedGrantSource, { windowMs: WINDOW_MS, clock });
    for (let i = 0; i < 10_000; i++) {
      grants.revoke(`g${i}`);
      clock.t += 1_000;
    }
    expect(grants.size).toBeLessThanOrEqual(WINDOW_MS / 1_000);
  });
});
