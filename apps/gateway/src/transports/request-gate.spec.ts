import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Principal } from '@switchboard/api-keys';
import { createLogger } from '@switchboard/logger';
import type { GatewayTelemetry } from '../accounting/gateway-telemetry';
import type { ExpectedResource } from '../auth/access-token-verifier';
import type { AuthOutcome, BearerAuthenticator } from '../auth/bearer-authenticator';
import { refusalFor } from '../protocol/jsonrpc-errors';
import { OriginPolicy } from './origin-policy';
import { RequestGate, type Admission, type EndpointAddress } from './request-gate';

const ALLOWED_ORIGIN = 'https://app.example';
const PUBLIC_URL = 'https://gateway.example';
const ACME: EndpointAddress = { tenantSlug: 'acme', plugin: undefined, path: '/t/acme/mcp' };
const ACME_NOTES: EndpointAddress = { tenantSlug: 'acme', plugin: 'notes', path: '/t/acme/p/notes/mcp' };

function principal(overrides: Partial<Principal> = {}): Principal {
  return { kind: 'api-key', tenantId: 'tenant-acme', tenantSlug: 'acme', keyId: 'key-1', plugins: [], keyLimits: {}, tenantLimits: {}, ...overrides };
}

function request(headers: IncomingHttpHeaders = {}): IncomingMessage {
  return { headers: { host: 'gateway.internal:8080', ...headers } } as IncomingMessage;
}

/**
 * A gate over fakes: the authenticator answers `outcome` (or throws it when it is an Error), and
 * the telemetry and last-use tracker record what they were told.
 */
function gate(outcome: AuthOutcome | Error, { publicUrl }: { publicUrl: string | undefined } = { publicUrl: PUBLIC_URL }) {
  const asked: IncomingHttpHeaders[] = [];
  const resources: (ExpectedResource | undefined)[] = [];
  const authenticator = {
    authenticate: async (headers: IncomingHttpHeaders, resource?: ExpectedResource): Promise<AuthOutcome> => {
      asked.push(headers);
      resources.push(resource);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  } as unknown as BearerAuthenticator;
  const authFailures: string[] = [];
  const telemetry = { authFailed: (reason: string) => void authFailures.push(reason) } as unknown as GatewayTelemetry;
  const touched: string[] = [];
  const lastUsed = { touch: (keyId: string) => void touched.push(keyId) };
  const requestGate = new RequestGate(new OriginPolicy([ALLOWED_ORIGIN]), authenticator, publicUrl, createLogger({ name: 'spec', level: 'silent' }), {
    telemetry,
    lastUsed,
  });
  return { requestGate, asked, resources, authFailures, touched };
}

/** The HTTP status a refused admission is answered with. */
function statusOf(admission: Admission): number | undefined {
  return admission.ok ? undefined : refusalFor(admission.refusal.code).status;
}

describe('RequestGate', () => {
  describe('the Origin check', () => {
    it('refuses a browser request from an origin outside the allowlist before any credential is looked at', async () => {
      const { requestGate, asked, touched } = gate({ ok: true, principal: principal() });
      const admission = await requestGate.admit(request({ origin: 'https://evil.example', authorization: 'Bearer k' }), ACME);
      expect(admission).toEqual({ ok: false, refusal: { code: 'origin_forbidden' } });
      expect(statusOf(admission)).toBe(403);
      expect(asked).toEqual([]);
      expect(touched).toEqual([]);
    });

    it('admits a request from an allowed origin and one without Origin (MCP clients send none)', async () => {
      const { requestGate } = gate({ ok: true, principal: principal() });
      expect(await requestGate.admit(request({ origin: ALLOWED_ORIGIN }), ACME)).toEqual({ ok: true, principal: principal() });
      expect(await requestGate.admit(request(), ACME)).toEqual({ ok: true, principal: principal() });
    });
  });

  describe('credentials', () => {
    it('refuses two Authorization headers as malformed without looking either up', async () => {
      const { requestGate, asked } = gate({ ok: true, principal: principal() });
      const req = request({ authorization: 'Bearer first' });
      Object.assign(req, { headersDistinct: { authorization: ['Bearer first', 'Bearer second'] } });
      const admission = await requestGate.admit(req, ACME);
      expect(statusOf(admission)).toBe(401);
      expect(JSON.stringify(admission)).toContain('invalid_token');
      expect(asked).toEqual([]);
    });

    it('answers a request without a credential 401 with a challenge naming the resource metadata URL and no error code', async () => {
      const { requestGate, authFailures } = gate({ ok: false, reason: 'missing' });
      const admission = await requestGate.admit(request(), ACME);
      expect(admission).toEqual({
        ok: false,
        refusal: {
          code: 'unauthorized',
          headers: { 'www-authenticate': `Bearer realm="switchboard", scope="mcp", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/t/acme/mcp"` },
        },
      });
      expect(statusOf(admission)).toBe(401);
      expect(authFailures).toEqual(['missing']);
    });

    it.each(['malformed', 'unknown', 'revoked', 'expired'] as const)('answers 401 invalid_token when the credential is %s, naming the metadata URL of the endpoint asked', async (reason) => {
      const { requestGate, authFailures, touched } = gate({ ok: false, reason });
      const admission = await requestGate.admit(request({ authorization: 'Bearer nope' }), ACME_NOTES);
      expect(statusOf(admission)).toBe(401);
      const challenge = admission.ok ? undefined : admission.refusal.headers?.['www-authenticate'];
      expect(challenge).toMatch(/^Bearer realm="switchboard", error="invalid_token", error_description="[^"]+", /);
      expect(challenge).toContain(`resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/t/acme/p/notes/mcp"`);
      expect(challenge).toContain('scope="mcp plugin:notes"');
      expect(authFailures).toEqual([reason]);
      expect(touched).toEqual([]);
    });

    it('names the metadata URL on the host the client used when no public URL is configured', async () => {
      const { requestGate } = gate({ ok: false, reason: 'missing' }, { publicUrl: undefined });
      const admission = await requestGate.admit(request({ host: 'localhost:3001' }), ACME);
      expect(admission.ok ? undefined : admission.refusal.headers?.['www-authenticate']).toContain(
        'resource_metadata="http://localhost:3001/.well-known/oauth-protected-resource/t/acme/mcp"',
      );
    });

    it('answers 503 with Retry-After when the key store cannot be asked, and no detail of the failure leaves', async () => {
      const { requestGate, authFailures, touched } = gate(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'));
      const admission = await requestGate.admit(request({ authorization: 'Bearer k' }), ACME);
      expect(admission).toEqual({
        ok: false,
        refusal: { code: 'unavailable', message: 'Service Unavailable: authentication is unavailable', headers: { 'retry-after': '1' } },
      });
      expect(statusOf(admission)).toBe(503);
      expect(authFailures).toEqual(['unavailable']);
      expect(touched).toEqual([]);
    });

    it('answers a key of a suspended tenant 403, not 401: the credential is valid, its tenant may not work', async () => {
      const { requestGate, authFailures } = gate({ ok: false, reason: 'tenant_suspended' });
      const admission = await requestGate.admit(request({ authorization: 'Bearer k' }), ACME);
      expect(admission).toEqual({ ok: false, refusal: { code: 'forbidden', message: 'Forbidden: the tenant is suspended' } });
      expect(statusOf(admission)).toBe(403);
      expect(authFailures).toEqual(['tenant_suspended']);
    });
  });

  describe('OAuth access tokens', () => {
    const oauth = (overrides: Partial<Principal> = {}) => principal({ kind: 'oauth', subject: 'key:key-1', grantId: 'grant-1', ...overrides });

    it('asks the authenticator for a token of the platform issuer whose audience is exactly the endpoint called', async () => {
      const { requestGate, resources } = gate({ ok: true, principal: principal() });
      await requestGate.admit(request({ authorization: 'Bearer t' }), ACME_NOTES);
      await requestGate.admit(request({ authorization: 'Bearer t' }), { tenantSlug: 'acme', plugin: undefined, path: '/t/acme/sse' });
      expect(resources).toEqual([
        { issuer: PUBLIC_URL, audience: `${PUBLIC_URL}/t/acme/p/notes/mcp` },
        { issuer: PUBLIC_URL, audience: `${PUBLIC_URL}/t/acme/sse` },
      ]);
    });

    it('takes the issuer as the origin of the public URL, and the Host the client used when none is configured', async () => {
      const withPath = gate({ ok: true, principal: principal() }, { publicUrl: 'https://gateway.example/base' });
      await withPath.requestGate.admit(request({ authorization: 'Bearer t' }), ACME);
      expect(withPath.resources).toEqual([{ issuer: 'https://gateway.example', audience: 'https://gateway.example/base/t/acme/mcp' }]);
      const bare = gate({ ok: true, principal: principal() }, { publicUrl: undefined });
      await bare.requestGate.admit(request({ host: 'localhost:3001', authorization: 'Bearer t' }), ACME);
      expect(bare.resources).toEqual([{ issuer: 'http://localhost:3001', audience: 'http://localhost:3001/t/acme/mcp' }]);
    });

    it('answers 403 insufficient_scope naming the scopes needed when the key allows a plugin the token was not granted (step-up)', async () => {
      const { requestGate, authFailures, touched } = gate({ ok: true, principal: oauth({ plugins: ['echo'], keyPlugins: [] }) });
      const admission = await requestGate.admit(request({ authorization: 'Bearer t' }), ACME_NOTES);
      expect(statusOf(admission)).toBe(403);
      expect(admission.ok ? undefined : admission.refusal.headers?.['www-authenticate']).toBe(
        `Bearer realm="switchboard", error="insufficient_scope", error_description="This token is not granted plugin notes", scope="mcp plugin:notes", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/t/acme/p/notes/mcp"`,
      );
      expect(authFailures).toEqual(['plugin_forbidden']);
      expect(touched).toEqual([]);
    });

    it('answers a plain 403 without a step-up challenge when the key itself may not use the plugin (a new consent could not help)', async () => {
      const { requestGate } = gate({ ok: true, principal: oauth({ plugins: ['echo'], keyPlugins: ['echo'] }) });
      const admission = await requestGate.admit(request({ authorization: 'Bearer t' }), ACME_NOTES);
      expect(admission).toEqual({ ok: false, refusal: { code: 'forbidden', message: 'Forbidden: this key may not use plugin notes' } });
    });

    it('admits a token granted the plugin of a plugin endpoint', async () => {
      const { requestGate } = gate({ ok: true, principal: oauth({ plugins: ['notes'], keyPlugins: [] }) });
      expect(await requestGate.admit(request({ authorization: 'Bearer t' }), ACME_NOTES)).toMatchObject({ ok: true });
    });
  });

  describe("the principal's rights", () => {
    it("answers another tenant's key 404 like an unknown tenant, not 403, so which tenants exist stays hidden", async () => {
      const { requestGate, authFailures, touched } = gate({ ok: true, principal: principal({ tenantSlug: 'globex', tenantId: 'tenant-globex' }) });
      const admission = await requestGate.admit(request({ authorization: 'Bearer k' }), ACME);
      expect(admission).toEqual({ ok: false, refusal: { code: 'not_found' } });
      expect(statusOf(admission)).toBe(404);
      expect(authFailures).toEqual(['wrong_tenant']);
      expect(touched).toEqual([]);
    });

    it('answers 403 to a key restricted to other plugins on a plugin endpoint', async () => {
      const { requestGate, authFailures, touched } = gate({ ok: true, principal: principal({ plugins: ['echo'] }) });
      const admission = await requestGate.admit(request({ authorization: 'Bearer k' }), ACME_NOTES);
      expect(admission).toEqual({ ok: false, refusal: { code: 'forbidden', message: 'Forbidden: this key may not use plugin notes' } });
      expect(statusOf(admission)).toBe(403);
      expect(authFailures).toEqual(['plugin_forbidden']);
      expect(touched).toEqual([]);
    });

    it.each([
      ['a key allowed that plugin', ['notes', 'echo'], ACME_NOTES],
      ['a key without a plugin allowlist', [], ACME_NOTES],
      ['a restricted key on the tenant endpoint (its catalog shows only its plugins)', ['echo'], ACME],
    ])('admits %s', async (_label, plugins, address) => {
      const { requestGate, authFailures } = gate({ ok: true, principal: principal({ plugins }) });
      expect(await requestGate.admit(request({ authorization: 'Bearer k' }), address)).toEqual({ ok: true, principal: principal({ plugins }) });
      expect(authFailures).toEqual([]);
    });
  });

  it("admits a valid key of the endpoint's tenant with its principal and marks the key used", async () => {
    const { requestGate, asked, authFailures, touched } = gate({ ok: true, principal: principal() });
    const headers = { authorization: 'Bearer k' };
    expect(await requestGate.admit(request(headers), ACME)).toEqual({ ok: true, principal: principal() });
    expect(asked).toEqual([expect.objectContaining(headers)]);
    expect(touched).toEqual(['key-1']);
    expect(authFailures).toEqual([]);
  });
});
