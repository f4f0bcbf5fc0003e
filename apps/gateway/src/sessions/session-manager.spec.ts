import { randomUUID } from 'node:crypto';
import type { ApiKeyResolver, Principal } from '@switchboard/api-keys';
import { createLogger } from '@switchboard/logger';
import type { ToolCalls } from './tool-calls';
import { RequestTracker } from './request-tracker';
import { buildSessionCatalog } from '../catalog/session-catalog';
import type { TenantPluginsService } from '../tenants/tenant-plugins';
import { RequestStateCodec } from '../auth/request-state';
import { SessionManager } from './session-manager';
import { LocalSessionRegistry } from './session-registry';

const KEEP_ALIVE_MS = 1_000;
const START = Date.parse('2026-01-01T00:00:00Z');

function principal(expiresAt: number | undefined): Principal {
  return {
    kind: 'api-key',
    tenantId: randomUUID(),
    tenantSlug: 'acme',
    keyId: randomUUID(),
    plugins: [],
    keyLimits: {},
    tenantLimits: {},
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

function manager() {
  const clock = { at: START, now: () => clock.at };
  const registry = new LocalSessionRegistry();
  const tenantPlugins = { catalogFor: async () => buildSessionCatalog([], true) } as unknown as TenantPluginsService;
  const sessions = new SessionManager(registry, tenantPlugins, {} as ApiKeyResolver, createLogger({ name: 'spec', level: 'silent' }), {
    keepAliveMs: KEEP_ALIVE_MS,
    idleTimeoutMs: 24 * 3_600_000,
    maxPerNode: 100,
    defaultTimeoutMs: 1_000,
    requestStates: new RequestStateCodec({ current: Buffer.alloc(32, 1) }),
    nodeId: 'node-a',
    toolCalls: {} as ToolCalls,
    requests: new RequestTracker({ maxInProgressPerTenant: 100, maxBufferedBytes: 1_000_000, onSlowReaderClosed: () => undefined }),
    clock,
  });
  /** A Streamable HTTP session as if its initialize had been accepted. */
  const open = async (expiresAt: number | undefined) => {
    const session = await sessions.createStreamable({ principal: principal(expiresAt), tenantSlug: 'acme', plugin: undefined });
    registry.add(session);
    return session;
  };
  return { sessions, registry, clock, open };
}

describe('the session sweeper and credential expiry', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('closes a session once its credential expired, and only then', async () => {
    const { sessions, registry, clock, open } = manager();
    const expiring = await open(START + 10_000);
    const lasting = await open(undefined);
    jest.useFakeTimers();
    sessions.startSweeper();

    clock.at = START + 9_999;
    jest.advanceTimersByTime(KEEP_ALIVE_MS);
    expect(expiring.signal.aborted).toBe(false);

    clock.at = START + 10_000;
    jest.advanceTimersByTime(KEEP_ALIVE_MS);
    expect(expiring.signal.aborted).toBe(true);
    expect(registry.get(expiring.id)).toBeUndefined();
    expect(lasting.signal.aborted).toBe(false);
    expect(registry.get(lasting.id)).toBe(lasting);

    jest.useRealTimers();
    await sessions.shutdown(0);
    expect(registry.size).toBe(0);
  });

  it('carries the credential’s expiry into the session’s binding', async () => {
    const { sessions, open } = manager();
    expect((await open(START + 5)).binding.expiresAt).toBe(START + 5);
    expect((await open(undefined)).binding.expiresAt).toBeUndefined();
    await sessions.shutdown(0);
  });
});

describe('requests during shutdown', () => {
  const request = { jsonrpc: '2.0' as const, id: 7, method: 'tools/call', params: { name: 'x' } };
  const notification = { jsonrpc: '2.0' as const, method: 'notifications/cancelled', params: { requestId: 3 } };
  const response = { jsonrpc: '2.0' as const, id: 0, result: {} };

  it('accepts every message while the node is serving', () => {
    const { sessions } = manager();
    expect(sessions.refusalForMessages([request, notification, response])).toBeUndefined();
  });

  it('refuses a request to an open session while draining, but lets notifications and responses in', async () => {
    const { sessions } = manager();
    await sessions.shutdown(0);
    expect(sessions.refusalForMessages([request])).toEqual({ code: 'shutting_down', headers: { 'retry-after': '1' } });
    expect(sessions.refusalForMessages([notification, request])).toMatchObject({ code: 'shutting_down' });
    expect(sessions.refusalForMessages([notification, response])).toBeUndefined();
  });
});
