import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { startTestApi, type TestApi } from '../testing/api-test-harness';
import { DEFAULT_ADMIN_JWT_AUDIENCE, DEFAULT_ADMIN_JWT_ISSUER, DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS } from '../config/api-config';

const sign = (t: TestApi, claims: object, options: jwt.SignOptions = {}, secret = t.adminSecret) =>
  jwt.sign(claims, secret, { algorithm: 'HS256', issuer: DEFAULT_ADMIN_JWT_ISSUER, audience: DEFAULT_ADMIN_JWT_AUDIENCE, expiresIn: 300, ...options });

describe('admin authentication (HS256)', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi('admin_auth');
  });
  afterAll(async () => {
    await t.close();
  });

  const listTenants = (token?: string) => t.request('GET', '/v1/tenants', { token });

  it('accepts a platform admin token', async () => {
    expect((await listTenants(t.platformToken)).status).toBe(200);
  });

  it('answers 401 with the error body when no token is sent', async () => {
    const res = await listTenants();
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
  });

  it('rejects a token signed with another secret', async () => {
    expect((await listTenants(sign(t, { role: 'admin' }, {}, 'x'.repeat(44)))).status).toBe(401);
  });

  it('rejects an expired token', async () => {
    const expired = sign(t, { role: 'admin' }, { expiresIn: -60 });
    expect((await listTenants(expired)).status).toBe(401);
  });

  it('rejects a token for another audience or from another issuer', async () => {
    expect((await listTenants(sign(t, { role: 'admin' }, { audience: 'switchboard-gateway' }))).status).toBe(401);
    expect((await listTenants(sign(t, { role: 'admin' }, { issuer: 'someone-else' }))).status).toBe(401);
  });

  it('rejects a validly signed token without an admin role or tenant claim', async () => {
    expect((await listTenants(sign(t, { role: 'viewer' }))).status).toBe(401);
    expect((await listTenants(sign(t, {}))).status).toBe(401);
  });

  it('rejects a token that never expires', async () => {
    const forever = jwt.sign({ role: 'admin' }, t.adminSecret, { issuer: DEFAULT_ADMIN_JWT_ISSUER, audience: DEFAULT_ADMIN_JWT_AUDIENCE });
    expect((await listTenants(forever)).status).toBe(401);
  });

  it('rejects a bearer header with anything after the token, or with two tokens', async () => {
    const headers = (value: string) => ({ headers: { authorization: value } });
    expect((await t.request('GET', '/v1/tenants', headers(`Bearer ${t.platformToken} extra-garbage`))).status).toBe(401);
    expect((await t.request('GET', '/v1/tenants', headers(`Bearer ${t.platformToken} ${t.platformToken}`))).status).toBe(401);
    expect((await t.request('GET', '/v1/tenants', headers(`Bearer ${t.platformToken},Basic eA==`))).status).toBe(401);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await t.request('GET', '/v1/tenants', headers(`bearer ${t.platformToken}`))).status).toBe(200);
    expect((await t.request('GET', '/v1/tenants', headers(`BEARER ${t.platformToken}`))).status).toBe(200);
  });

  it('rejects tokens that live longer than ADMIN_TOKEN_MAX_TTL_SECONDS, platform and tenant admin alike', async () => {
    const century = 100 * 365 * 86_400;
    expect((await listTenants(sign(t, { role: 'admin' }, { expiresIn: century }))).status).toBe(401);
    expect((await listTenants(sign(t, { role: 'admin' }, { expiresIn: DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS + 3600 }))).status).toBe(401);
    // Without iat the distance from now counts.
    const noIat = jwt.sign({ role: 'admin', exp: Math.floor(Date.now() / 1000) + century }, t.adminSecret, {
      algorithm: 'HS256',
      issuer: DEFAULT_ADMIN_JWT_ISSUER,
      audience: DEFAULT_ADMIN_JWT_AUDIENCE,
      noTimestamp: true,
    });
    expect((await listTenants(noIat)).status).toBe(401);
    const tenantId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'long-lived', name: 'x' } })).body.id;
    expect((await t.request('GET', `/v1/tenants/${tenantId}`, { token: sign(t, { tenant: tenantId }, { expiresIn: century }) })).status).toBe(401);
    expect((await t.request('GET', `/v1/tenants/${tenantId}`, { token: sign(t, { tenant: tenantId }, { expiresIn: 3600 }) })).status).toBe(200);
    expect((await listTenants(sign(t, { role: 'admin' }, { expiresIn: DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS }))).status).toBe(200);
  });

  it('rejects an unsigned token (alg none)', async () => {
    const unsigned = jwt.sign({ role: 'admin' }, '', { algorithm: 'none', issuer: DEFAULT_ADMIN_JWT_ISSUER, audience: DEFAULT_ADMIN_JWT_AUDIENCE, expiresIn: 300 });
    expect((await listTenants(unsigned)).status).toBe(401);
  });

  it('forbids platform-only routes to a tenant admin with 403, revealing nothing about other tenants', async () => {
    const token = t.tenantAdminToken(randomUUID());
    expect((await listTenants(token)).status).toBe(403);
    expect((await t.request('POST', '/v1/tenants', { token, body: { slug: 'sneaky', name: 'x' } })).status).toBe(403);
    expect((await t.request('GET', '/v1/audit', { token })).status).toBe(403);
  });
});

describe('tenant isolation, from the attacker side', () => {
  let t: TestApi;
  let victim: { id: string; keyId: string };
  let attackerToken: string;

  beforeAll(async () => {
    t = await startTestApi('isolation');
    const a = await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'victim', name: 'Victim' } });
    const b = await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'attacker', name: 'Attacker' } });
    const key = await t.request('POST', '/v1/tenants/victim/api-keys', { token: t.platformToken, body: { name: 'prod' } });
    await t.request('PUT', '/v1/tenants/victim/plugins/weather', { token: t.platformToken, body: { config: { apiKey: 'victim-upstream-key' } } });
    victim = { id: a.body.id, keyId: key.body.key.id };
    attackerToken = t.tenantAdminToken(b.body.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it("lets a tenant admin manage its own tenant", async () => {
    expect((await t.request('GET', '/v1/tenants/attacker', { token: attackerToken })).status).toBe(200);
    expect((await t.request('GET', '/v1/tenants/attacker/api-keys', { token: attackerToken })).status).toBe(200);
  });

  it('does not show another tenant, by id or by slug (404, as if it did not exist)', async () => {
    for (const ref of [victim.id, 'victim']) {
      const res = await t.request('GET', `/v1/tenants/${ref}`, { token: attackerToken });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('TENANT_NOT_FOUND');
    }
    const missing = await t.request('GET', '/v1/tenants/no-such-tenant', { token: attackerToken });
    expect(missing.body).toEqual((await t.request('GET', '/v1/tenants/victim', { token: attackerToken })).body);
  });

  it("does not list, read, revoke or rotate another tenant's API keys", async () => {
    expect((await t.request('GET', `/v1/tenants/${victim.id}/api-keys`, { token: attackerToken })).status).toBe(404);
    expect((await t.request('GET', `/v1/tenants/${victim.id}/api-keys/${victim.keyId}`, { token: attackerToken })).status).toBe(404);
    expect((await t.request('POST', `/v1/tenants/victim/api-keys/${victim.keyId}/revoke`, { token: attackerToken })).status).toBe(404);
    expect((await t.request('POST', `/v1/tenants/victim/api-keys/${victim.keyId}/rotate`, { token: attackerToken })).status).toBe(404);
    expect((await t.request('POST', `/v1/tenants/victim/api-keys`, { token: attackerToken, body: { name: 'mine now' } })).status).toBe(404);
    const still = await t.request('GET', `/v1/tenants/victim/api-keys/${victim.keyId}`, { token: t.platformToken });
    expect(still.body.status).toBe('active');
  });

  it("does not reach another tenant's key through its own tenant path", async () => {
    const res = await t.request('GET', `/v1/tenants/attacker/api-keys/${victim.keyId}`, { token: attackerToken });
    expect(res.status).toBe(404);
    expect((await t.request('POST', `/v1/tenants/attacker/api-keys/${victim.keyId}/revoke`, { token: attackerToken })).status).toBe(404);
  });

  it("does not list, read, change or remove another tenant's plugins", async () => {
    expect((await t.request('GET', '/v1/tenants/victim/plugins', { token: attackerToken })).status).toBe(404);
    expect((await t.request('GET', '/v1/tenants/victim/plugins/weather', { token: attackerToken })).status).toBe(404);
    expect((await t.request('PATCH', '/v1/tenants/victim/plugins/weather', { token: attackerToken, body: { enabled: false } })).status).toBe(404);
    expect((await t.request('DELETE', '/v1/tenants/victim/plugins/weather', { token: attackerToken })).status).toBe(404);
    expect((await t.request('GET', '/v1/tenants/victim/plugins/weather', { token: t.platformToken })).body.enabled).toBe(true);
  });

  it("does not read another tenant's audit log", async () => {
    expect((await t.request('GET', '/v1/tenants/victim/audit', { token: attackerToken })).status).toBe(404);
  });
});

describe('admin authentication through JWKS (RS256 / ES256)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  };
  const issuer = 'https://idp.example.test/';
  const audience = 'switchboard-admin-api';
  let idp: Server;
  let t: TestApi;

  beforeAll(async () => {
    idp = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
    t = await startTestApi('jwks', { ADMIN_JWKS_URL: jwksUrl, ADMIN_JWT_ISSUER: issuer, ADMIN_JWT_AUDIENCE: audience });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => idp.close(resolve));
  });

  const idpToken = (claims: object, options: jwt.SignOptions) =>
    jwt.sign(claims, options.algorithm === 'ES256' ? ec.privateKey : rsa.privateKey, { issuer, audience, expiresIn: 300, ...options });

  it("accepts RS256 and ES256 tokens signed by the identity provider's keys", async () => {
    const rs = idpToken({ role: 'admin', sub: 'alice@example.test' }, { algorithm: 'RS256', keyid: 'rsa-1' });
    const es = idpToken({ role: 'admin' }, { algorithm: 'ES256', keyid: 'ec-1' });
    expect((await t.request('GET', '/v1/tenants', { token: rs })).status).toBe(200);
    expect((await t.request('GET', '/v1/tenants', { token: es })).status).toBe(200);
  });

  it('records the identity provider subject as the actor', async () => {
    const token = idpToken({ role: 'admin', sub: 'alice@example.test' }, { algorithm: 'RS256', keyid: 'rsa-1' });
    await t.request('POST', '/v1/tenants', { token, body: { slug: 'by-alice', name: 'A' } });
    const audit = await t.request('GET', '/v1/audit', { token });
    expect(audit.body.items[0]).toMatchObject({ action: 'tenant.create', actor: 'alice@example.test' });
  });

  it('rejects tokens for another audience, from another issuer, or signed by an unknown key', async () => {
    expect((await t.request('GET', '/v1/tenants', { token: idpToken({ role: 'admin' }, { algorithm: 'RS256', keyid: 'rsa-1', audience: 'other' }) })).status).toBe(401);
    expect((await t.request('GET', '/v1/tenants', { token: idpToken({ role: 'admin' }, { algorithm: 'RS256', keyid: 'rsa-1', issuer: 'https://evil.test/' }) })).status).toBe(401);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = jwt.sign({ role: 'admin' }, stranger.privateKey, { algorithm: 'RS256', keyid: 'rsa-1', issuer, audience, expiresIn: 300 });
    expect((await t.request('GET', '/v1/tenants', { token: forged })).status).toBe(401);
  });

  it('rejects identity provider tokens that live longer than ADMIN_TOKEN_MAX_TTL_SECONDS', async () => {
    const long = idpToken({ role: 'admin' }, { algorithm: 'RS256', keyid: 'rsa-1', expiresIn: 10 * 365 * 86_400 });
    expect((await t.request('GET', '/v1/tenants', { token: long })).status).toBe(401);
  });

  it('rejects an HS256 token, whatever secret it was signed with', async () => {
    const hs = jwt.sign({ role: 'admin' }, 'a'.repeat(44), { algorithm: 'HS256', issuer, audience, expiresIn: 300 });
    expect((await t.request('GET', '/v1/tenants', { token: hs })).status).toBe(401);
  });
});
