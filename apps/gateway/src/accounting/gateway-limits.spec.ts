import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Limiter, LimitDecision, LimitPrincipal, LimitRejection } from '@switchboard/limits';
import { JSON_RPC_LIMIT_EXCEEDED, refusalFor } from '../protocol/jsonrpc-errors';
import type { McpSession } from '../sessions/mcp-session';
import { GatewayLimits } from './gateway-limits';
import type { GatewayTelemetry } from './gateway-telemetry';

const PRINCIPAL: LimitPrincipal = { tenantId: 'tenant-acme', keyId: 'key-1', tenantLimits: {}, keyLimits: {} };

const REQUESTS_REACHED: LimitRejection = {
  allowed: false,
  reason: 'limit-reached',
  scope: 'tenant',
  limit: 'requestsPerMinute',
  limitValue: 60,
  remaining: 0,
  resetSeconds: 42,
  windowSeconds: 60,
  retryAfterSeconds: 42,
};

/** Redis could not be asked and the limiter fails closed. */
const STORE_AWAY: LimitRejection = { ...REQUESTS_REACHED, reason: 'store-unavailable', scope: 'key', resetSeconds: 1, retryAfterSeconds: 1 };

/** A concurrency cap: no window, so no RateLimit fields, only Retry-After. */
const SESSIONS_FULL: LimitRejection = {
  allowed: false,
  reason: 'limit-reached',
  scope: 'key',
  limit: 'concurrentSessions',
  limitValue: 2,
  remaining: 0,
  resetSeconds: 1,
  retryAfterSeconds: 1,
};

const TOOL_CALLS_REACHED: LimitRejection = {
  allowed: false,
  reason: 'limit-reached',
  scope: 'key',
  limit: 'toolCallsPerMinute',
  limitValue: 10,
  remaining: 0,
  resetSeconds: 17,
  windowSeconds: 60,
  retryAfterSeconds: 17,
};

/** A limiter that answers `decision` to every check and records what it was asked, and telemetry that records what it was told. */
function limits(decision: LimitDecision) {
  const asked: unknown[][] = [];
  const limiter = {
    consumeRequest: async (...args: unknown[]) => (asked.push(['consumeRequest', ...args]), decision),
    acquireSession: async (...args: unknown[]) => (asked.push(['acquireSession', ...args]), decision),
    admitToolCall: async (...args: unknown[]) => (asked.push(['admitToolCall', ...args]), decision),
  } as unknown as Limiter;
  const events: string[] = [];
  const telemetry = {
    limitRejected: (scope: string, limit: string) => void events.push(`rejected ${scope} ${limit}`),
    sessionOpened: (transport: string) => void events.push(`opened ${transport}`),
    sessionClosed: (transport: string) => void events.push(`closed ${transport}`),
  } as unknown as GatewayTelemetry;
  return { gatewayLimits: new GatewayLimits(limiter, telemetry), asked, events };
}

/** A release that counts its calls. */
function countingRelease() {
  const release = Object.assign(async () => void release.calls++, { calls: 0 });
  return release;
}

function session(lifetime: AbortController): McpSession {
  return { transportKind: 'streamable-http', signal: lifetime.signal } as unknown as McpSession;
}

describe('GatewayLimits', () => {
  describe('admitRequest', () => {
    it('counts every JSON-RPC message of a POST and admits it with the RateLimit headers of the tightest limit', async () => {
      const { gatewayLimits, asked, events } = limits({
        allowed: true,
        state: { scope: 'key', limit: 'requestsPerMinute', limitValue: 60, remaining: 57, resetSeconds: 30, windowSeconds: 60 },
      });
      expect(await gatewayLimits.admitRequest(PRINCIPAL, 3)).toEqual({
        ok: true,
        headers: { 'RateLimit-Policy': '"key-requestsPerMinute";q=60;w=60', RateLimit: '"key-requestsPerMinute";r=57;t=30' },
      });
      expect(asked).toEqual([['consumeRequest', PRINCIPAL, 3]]);
      expect(events).toEqual([]);
    });

    it('counts a stream open as one request, and adds no headers when no limit reported a state', async () => {
      const { gatewayLimits, asked } = limits({ allowed: true });
      expect(await gatewayLimits.admitRequest(PRINCIPAL)).toEqual({ ok: true, headers: undefined });
      expect(asked).toEqual([['consumeRequest', PRINCIPAL, 1]]);
    });

    it('refuses a request over its rate limit with 429, the RateLimit headers and Retry-After, and counts the rejection', async () => {
      const { gatewayLimits, events } = limits(REQUESTS_REACHED);
      const admission = await gatewayLimits.admitRequest(PRINCIPAL, 2);
      expect(admission).toEqual({
        ok: false,
        refusal: {
          code: 'rate_limited',
          message: 'Too Many Requests: the tenant limit requestsPerMinute (60) is reached; retry after 42 s',
          headers: { 'RateLimit-Policy': '"tenant-requestsPerMinute";q=60;w=60', RateLimit: '"tenant-requestsPerMinute";r=0;t=42', 'Retry-After': '42' },
        },
      });
      expect(admission.ok ? undefined : refusalFor(admission.refusal.code).status).toBe(429);
      expect(events).toEqual(['rejected tenant requestsPerMinute']);
    });

    it('answers 503, not 429, when the limits store is away and the limiter fails closed', async () => {
      const { gatewayLimits, events } = limits(STORE_AWAY);
      const admission = await gatewayLimits.admitRequest(PRINCIPAL);
      expect(admission).toMatchObject({ ok: false, refusal: { code: 'unavailable', message: 'Service Unavailable: limits cannot be checked', headers: { 'Retry-After': '1' } } });
      expect(admission.ok ? undefined : refusalFor(admission.refusal.code).status).toBe(503);
      expect(events).toEqual(['rejected key requestsPerMinute']);
    });
  });

  describe('acquireSession', () => {
    it("hands back the limiter's release for the session's slot", async () => {
      const release = countingRelease();
      const { gatewayLimits, asked } = limits({ allowed: true, release });
      const acquired = await gatewayLimits.acquireSession(PRINCIPAL, 'lease-1');
      expect(acquired).toEqual({ ok: true, release });
      expect(asked).toEqual([['acquireSession', PRINCIPAL, 'lease-1']]);
    });

    it('hands back a release that does nothing when no cap applies', async () => {
      const { gatewayLimits } = limits({ allowed: true });
      const acquired = await gatewayLimits.acquireSession(PRINCIPAL, 'lease-1');
      if (!acquired.ok) throw new Error('expected the session to be admitted');
      await expect(acquired.release()).resolves.toBeUndefined();
    });

    it('refuses a session over the concurrent-sessions cap with 429 and only Retry-After (a cap has no window)', async () => {
      const { gatewayLimits, events } = limits(SESSIONS_FULL);
      expect(await gatewayLimits.acquireSession(PRINCIPAL, 'lease-1')).toEqual({
        ok: false,
        refusal: { code: 'rate_limited', message: 'Too Many Requests: the key limit concurrentSessions (2) is reached; retry after 1 s', headers: { 'Retry-After': '1' } },
      });
      expect(events).toEqual(['rejected key concurrentSessions']);
    });
  });

  describe('acquireToolCall', () => {
    it("hands back the limiter's release for the call's in-flight slot", async () => {
      const release = countingRelease();
      const { gatewayLimits, asked, events } = limits({ allowed: true, release });
      expect(await gatewayLimits.acquireToolCall(PRINCIPAL)).toBe(release);
      expect(asked).toEqual([['admitToolCall', PRINCIPAL]]);
      expect(events).toEqual([]);
    });

    it('throws the JSON-RPC limit error -32029, whose data names the limit and when to retry', async () => {
      const { gatewayLimits, events } = limits(TOOL_CALLS_REACHED);
      const error = await gatewayLimits.acquireToolCall(PRINCIPAL).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(McpError);
      expect(error).toMatchObject({
        code: JSON_RPC_LIMIT_EXCEEDED,
        message: expect.stringContaining('the key limit toolCallsPerMinute (10) is reached; retry after 17 s'),
        data: { limit: 'toolCallsPerMinute', scope: 'key', limitValue: 10, retryAfterSeconds: 17, reason: 'limit-reached' },
      });
      expect(JSON_RPC_LIMIT_EXCEEDED).toBe(-32029);
      expect(events).toEqual(['rejected key toolCallsPerMinute']);
    });

    it('throws the same error with reason store-unavailable when the limits cannot be checked', async () => {
      const { gatewayLimits } = limits({ ...STORE_AWAY, limit: 'toolCallsPerMinute' });
      await expect(gatewayLimits.acquireToolCall(PRINCIPAL)).rejects.toMatchObject({
        code: JSON_RPC_LIMIT_EXCEEDED,
        message: expect.stringContaining('Limits cannot be checked right now'),
        data: { limit: 'toolCallsPerMinute', reason: 'store-unavailable' },
      });
    });
  });

  describe('sessionStarted', () => {
    it('counts the session open and keeps its slot until the session ends, then gives it back once', () => {
      const { gatewayLimits, events } = limits({ allowed: true });
      const release = countingRelease();
      const lifetime = new AbortController();
      gatewayLimits.sessionStarted(session(lifetime), release);
      expect(events).toEqual(['opened streamable-http']);
      expect(release.calls).toBe(0);

      lifetime.abort(new Error('client disconnected'));
      lifetime.abort(new Error('and again'));
      expect(events).toEqual(['opened streamable-http', 'closed streamable-http']);
      expect(release.calls).toBe(1);
    });

    it('gives the slot back at once for a session that ended before it was counted', () => {
      const { gatewayLimits, events } = limits({ allowed: true });
      const release = countingRelease();
      const lifetime = new AbortController();
      lifetime.abort();
      gatewayLimits.sessionStarted(session(lifetime), release);
      expect(events).toEqual(['opened streamable-http', 'closed streamable-http']);
      expect(release.calls).toBe(1);
    });
  });
});
