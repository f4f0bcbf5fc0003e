import { DEFAULT_PLATFORM_LIMITS } from './effective-limits';
import type { LimitDecision, LimitPrincipal } from './limit-decision';
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

describe('Limiter in memory: a refused admission consumes nothing', () => {
  const defaults = { ...DEFAULT_PLATFORM_LIMITS, monthlyToolCalls: null };
  const admitAll = (limiter: Limiter, p: LimitPrincipal, count: number) => Promise.all(Array.from({ length: count }, () => limiter.admitToolCall(p)));
  const releaseAll = (decisions: LimitDecision[]) => Promise.all(decisions.map((d) => (d.allowed ? d.release!() : undefined)));
  const allowedCount = (decisions: LimitDecision[]) => decisions.filter((d) => d.allowed).length;

  it('does not spend the per-minute window on tool calls refused by the in-flight cap', async () => {
    const limiter = new Limiter({ defaults: { ...defaults, toolCallsPerMinute: 60, concurrentToolCalls: 5 } });
    const held = await admitAll(limiter, principal, 200);
    expect(allowedCount(held)).toBe(5);
    expect(held.find((d) => !d.allowed)).toMatchObject({ limit: 'concurrentToolCalls', scope: 'tenant' });
    await releaseAll(held);
    const next = await limiter.admitToolCall(principal);
    expect(next).toMatchObject({ allowed: true, state: { limit: 'toolCallsPerMinute', remaining: 60 - 5 - 1 } });
    await limiter.close();
  });

  it('does not spend the monthly quota on tool calls refused by the in-flight cap', async () => {
    const limiter = new Limiter({ defaults: { ...defaults, toolCallsPerMinute: null, concurrentToolCalls: 5, monthlyToolCalls: 100 } });
    await releaseAll(await admitAll(limiter, principal, 50));
    expect(await limiter.admitToolCall(principal)).toMatchObject({ allowed: true, state: { limit: 'monthlyToolCalls', remaining: 100 - 5 - 1 } });
    await limiter.close();
  });

  it('does not take an in-flight slot for a call its window refuses', async () => {
    const limiter = new Limiter({ defaults: { ...defaults, toolCallsPerMinute: 2, concurrentToolCalls: 5 } });
    const held = await admitAll(limiter, principal, 4);
    expect(allowedCount(held)).toBe(2);
    expect(held.find((d) => !d.allowed)).toMatchObject({ limit: 'toolCallsPerMinute' });
    // The in-flight set holds the two admitted calls only: three of five slots are free.
    const slots = await Promise.all(Array.from({ length: 5 }, () => limiter.acquireToolCall(principal)));
    expect(allowedCount(slots)).toBe(3);
    await limiter.close();
  });

  it('does not spend the per-minute windows on tool calls the monthly quota refuses', async () => {
    const limiter = new Limiter({ defaults });
    const capped = { ...principal, tenantLimits: { toolCallsPerMinute: 10, monthlyToolCalls: 2, concurrentToolCalls: null } };
    expect(allowedCount(await admitAll(limiter, capped, 5))).toBe(2);
    // The same tenant without a quota: its window has counted the two admitted calls only.
    const uncapped = { ...principal, tenantLimits: { toolCallsPerMinute: 10, monthlyToolCalls: null, concurrentToolCalls: null } };
    expect(await limiter.admitToolCall(uncapped)).toMatchObject({ allowed: true, state: { limit: 'toolCallsPerMinute', remaining: 10 - 2 - 1 } });
    await limiter.close();
  });

  it("does not spend a key's window on requests its tenant's window refuses", async () => {
    const limiter = new Limiter({ defaults });
    const other = { tenantId: 't-shared', keyId: 'k-other', tenantLimits: { requestsPerMinute: 5 } };
    const tight = { tenantId: 't-shared', keyId: 'k-tight', tenantLimits: { requestsPerMinute: 5 }, keyLimits: { requestsPerMinute: 3 } };
    for (let i = 0; i < 5; i++) expect((await limiter.consumeRequest(other)).allowed).toBe(true);
    expect(await limiter.consumeRequest(tight)).toMatchObject({ allowed: false, scope: 'tenant' });
    expect(await limiter.consumeRequest(tight)).toMatchObject({ allowed: false, scope: 'tenant' });
    // With room at the tenant again, the key still has its whole budget of 3.
    const roomy = { ...tight, tenantLimits: { requestsPerMinute: 100 } };
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consumeRequest(roomy));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]).toMatchObject({ scope: 'key', limitValue: 3 });
    await limiter.close();
  });
});

describe('Limiter in memory: a batch of requests', () => {
  const defaults = { ...DEFAULT_PLATFORM_LIMITS, requestsPerMinute: 10 };

  it('consumes one unit per message when the whole batch fits', async () => {
    const limiter = new Limiter({ defaults });
    expect(await limiter.consumeRequest(principal, 4)).toMatchObject({ allowed: true, state: { limit: 'requestsPerMinute', remaining: 6 } });
    expect(await limiter.consumeRequest(principal, 6)).toMatchObject({ allowed: true, state: { remaining: 0 } });
    expect(await limiter.consumeRequest(principal)).toMatchObject({ allowed: false, remaining: 0 });
    await limiter.close();
  });

  it('refuses a batch bigger than what is left and consumes nothing', async () => {
    const limiter = new Limiter({ defaults });
    await limiter.consumeRequest(principal, 7);
    const refused = await limiter.consumeRequest(principal, 4);
    expect(refused).toMatchObject({ allowed: false, reason: 'limit-reached', scope: 'tenant', limit: 'requestsPerMinute', limitValue: 10, remaining: 3 });
    if (refused.allowed) throw new Error('expected a rejection');
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await limiter.consumeRequest(principal, 3)).toMatchObject({ allowed: true, state: { remaining: 0 } });
    await limiter.close();
  });

  it("refuses a batch that fits the key's window but not its tenant's, consuming neither", async () => {
    const limiter = new Limiter({ defaults });
    const other = { tenantId: 't-batch', keyId: 'k-other', tenantLimits: { requestsPerMinute: 10 } };
    const tight = { tenantId: 't-batch', keyId: 'k-tight', tenantLimits: { requestsPerMinute: 10 }, keyLimits: { requestsPerMinute: 5 } };
    await limiter.consumeRequest(other, 7);
    expect(await limiter.consumeRequest(tight, 4)).toMatchObject({ allowed: false, scope: 'tenant', remaining: 3 });
    expect(await limiter.consumeRequest(tight, 3)).toMatchObject({ allowed: true, state: { scope: 'tenant', remaining: 0 } });
    // The key used 3 of its 5: a batch of 2 fits it once the tenant has room.
    const roomy = { ...tight, tenantLimits: { requestsPerMinute: 100 } };
    expect(await limiter.consumeRequest(roomy, 3)).toMatchObject({ allowed: false, scope: 'key', remaining: 2 });
    expect(await limiter.consumeRequest(roomy, 2)).toMatchObject({ allowed: true, state: { scope: 'key', remaining: 0 } });
    await limiter.close();
  });

  it('refuses a batch bigger than the limit itself', async () => {
    const limiter = new Limiter({ defaults });
    expect(await limiter.consumeRequest(principal, 11)).toMatchObject({ allowed: false, remaining: 10, retryAfterSeconds: 60 });
    expect(await limiter.consumeRequest(principal, 10)).toMatchObject({ allowed: true });
    await limiter.close();
  });

  it('rejects a count that is not a positive integer', async () => {
    const limiter = new Limiter({ defaults });
    await expect(limiter.consumeRequest(principal, 0)).rejects.toThrow(RangeError);
    await expect(limiter.consumeRequest(principal, 1.5)).rejects.toThrow(RangeError);
    await limiter.close();
  });
});
