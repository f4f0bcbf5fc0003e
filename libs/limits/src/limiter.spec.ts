import { DEFAULT_PLATFORM_LIMITS } from './effective-limits';
import { Limiter } from './limiter';

// Embedded mode: no Redis, in-memory state, same behaviour.
const principal = { tenantId: 't1', keyId: 'k1' };

describe('Limiter in memory (embedded mode)', () => {
  const limiter = new Limiter({
    defaults: { ...DEFAULT_PLATFORM_LIMITS, requestsPerMinute: 3, concurrentSessions: 1, monthlyToolCalls: 2, toolCallsPerMinute: null },
    now: () => new Date('2026-11-30T23:59:00Z'),
  });
  afterAll(() => limiter.close());

  it('admits requests up to the limit and then refuses with the time to wait', async () => {
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consumeRequest(principal));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    const refused = decisions[3];
    if (refused.allowed) throw new Error('expected a rejection');
    expect(refused).toMatchObject({ scope: 'tenant', limit: 'requestsPerMinute', limitValue: 3, remaining: 0, reason: 'limit-reached' });
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('caps open sessions and frees the slot on release', async () => {
    const first = await limiter.acquireSession(principal, 's1');
    expect(first.allowed).toBe(true);
    expect((await limiter.acquireSession(principal, 's2')).allowed).toBe(false);
    if (first.allowed) await first.release!();
    expect((await limiter.acquireSession(principal, 's2')).allowed).toBe(true);
  });

  it('enforces the monthly quota until the month ends', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await limiter.consumeToolCall(principal));
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ limit: 'monthlyToolCalls', scope: 'tenant', resetSeconds: 60, windowSeconds: 30 * 24 * 3600 });
  });

  it('checks a tool call in one step: window, quota, then an in-flight slot', async () => {
    const embedded = new Limiter({ defaults: { ...DEFAULT_PLATFORM_LIMITS, concurrentToolCalls: 1, monthlyToolCalls: null } });
    const first = await embedded.admitToolCall(principal);
    expect(first.allowed).toBe(true);
    expect(await embedded.admitToolCall(principal)).toMatchObject({ allowed: false, limit: 'concurrentToolCalls', scope: 'tenant' });
    if (first.allowed) await first.release!();
    expect((await embedded.admitToolCall(principal)).allowed).toBe(true);
    await embedded.close();
  });
});
