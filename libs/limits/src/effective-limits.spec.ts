import { DEFAULT_PLATFORM_LIMITS, keyLimitApplies, limitDefaultsEnvSchema, limitDefaultsFromEnv, resolveEffectiveLimits } from './effective-limits';

const defaults = { ...DEFAULT_PLATFORM_LIMITS, requestsPerMinute: 100, monthlyToolCalls: 1000 };

describe('resolveEffectiveLimits', () => {
  it('gives a key its own override, else its tenant override, else the platform default', () => {
    const limits = resolveEffectiveLimits(defaults, { requestsPerMinute: 50, toolCallsPerMinute: 20 }, { requestsPerMinute: 10 });
    expect(limits.key.requestsPerMinute).toBe(10);
    expect(limits.tenant.requestsPerMinute).toBe(50);
    expect(limits.key.toolCallsPerMinute).toBe(20);
    expect(limits.key.concurrentSessions).toBe(DEFAULT_PLATFORM_LIMITS.concurrentSessions);
  });

  it('treats null as unlimited at that level, and absent as inherit', () => {
    const limits = resolveEffectiveLimits(defaults, { requestsPerMinute: null }, {});
    expect(limits.tenant.requestsPerMinute).toBeNull();
    expect(limits.key.requestsPerMinute).toBeNull();
    expect(resolveEffectiveLimits(defaults, {}, { requestsPerMinute: null }).key.requestsPerMinute).toBeNull();
  });

  it('ignores a monthly quota set on a key: the quota is per tenant', () => {
    expect(resolveEffectiveLimits(defaults, {}, { monthlyToolCalls: 5 }).key.monthlyToolCalls).toBe(1000);
  });

  it('checks a key limit only when it is tighter than the tenant limit', () => {
    expect(keyLimitApplies(resolveEffectiveLimits(defaults, {}, { requestsPerMinute: 10 }), 'requestsPerMinute')).toBe(true);
    expect(keyLimitApplies(resolveEffectiveLimits(defaults, {}, {}), 'requestsPerMinute')).toBe(false);
    expect(keyLimitApplies(resolveEffectiveLimits(defaults, {}, { requestsPerMinute: 500 }), 'requestsPerMinute')).toBe(false);
    expect(keyLimitApplies(resolveEffectiveLimits(defaults, { requestsPerMinute: null }, { requestsPerMinute: 500 }), 'requestsPerMinute')).toBe(true);
  });
});

describe('limitDefaultsEnvSchema', () => {
  it('reads numbers and "unlimited", and falls back to the built-in defaults', () => {
    const env = limitDefaultsEnvSchema.parse({ LIMIT_REQUESTS_PER_MINUTE: '120', LIMIT_CONCURRENT_SESSIONS: 'unlimited' });
    expect(limitDefaultsFromEnv(env)).toEqual({ ...DEFAULT_PLATFORM_LIMITS, requestsPerMinute: 120, concurrentSessions: null });
  });

  it('refuses zero and non-numbers', () => {
    expect(limitDefaultsEnvSchema.safeParse({ LIMIT_REQUESTS_PER_MINUTE: '0' }).success).toBe(false);
    expect(limitDefaultsEnvSchema.safeParse({ LIMIT_REQUESTS_PER_MINUTE: 'lots' }).success).toBe(false);
  });
});
