import { limitErrorData, rateLimitHeaders } from './rate-limit-headers';

describe('rateLimitHeaders', () => {
  it('describes a rejected rate limit with RateLimit, RateLimit-Policy and Retry-After', () => {
    const headers = rateLimitHeaders({
      allowed: false,
      reason: 'limit-reached',
      scope: 'tenant',
      limit: 'requestsPerMinute',
      limitValue: 60,
      remaining: 0,
      resetSeconds: 42,
      windowSeconds: 60,
      retryAfterSeconds: 42,
    });
    expect(headers).toEqual({
      'RateLimit-Policy': '"tenant-requestsPerMinute";q=60;w=60',
      RateLimit: '"tenant-requestsPerMinute";r=0;t=42',
      'Retry-After': '42',
    });
  });

  it('gives an admitted request informational headers without Retry-After', () => {
    const headers = rateLimitHeaders({
      allowed: true,
      state: { scope: 'key', limit: 'toolCallsPerMinute', limitValue: 10, remaining: 7, resetSeconds: 30, windowSeconds: 60 },
    });
    expect(headers).toEqual({ 'RateLimit-Policy': '"key-toolCallsPerMinute";q=10;w=60', RateLimit: '"key-toolCallsPerMinute";r=7;t=30' });
  });

  it('gives a full concurrency cap only Retry-After, as it has no window', () => {
    const rejection = {
      allowed: false as const,
      reason: 'limit-reached' as const,
      scope: 'tenant' as const,
      limit: 'concurrentSessions' as const,
      limitValue: 5,
      remaining: 0,
      resetSeconds: 1,
      retryAfterSeconds: 1,
    };
    expect(rateLimitHeaders(rejection)).toEqual({ 'Retry-After': '1' });
    expect(limitErrorData(rejection)).toEqual({ limit: 'concurrentSessions', scope: 'tenant', limitValue: 5, retryAfterSeconds: 1, reason: 'limit-reached' });
  });
});
