import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hashSecret } from '@switchboard/api-keys';
import { InProcessControlBus, InProcessSessionDirectory, type ControlEvent } from '@switchboard/coordination';
import { openDatabase, type Database } from '@switchboard/db';
import { SharedUsageSink } from '@switchboard/metering';
import { ssoSecretAad } from '@switchboard/oauth-policy';
import { SecretBox } from '@switchboard/secrets';
import { PUBLIC_GATEWAY_URL, startTestApi, type Json, type TestApi } from '../testing/api-test-harness';

describe('OAuth admin API', () => {
  let t: TestApi;
  let db: Database;
  let acme: { id: string };
  let beta: { id: string };
  let acmeAdmin: string;
  let betaAdmin: string;
  const bus = new InProcessControlBus();
  const events: ControlEvent[] = [];

  beforeAll(async () => {
    t = await startTestApi('oauth_api', {}, { embedded: { controlBus: bus, usage: new SharedUsageSink(), sessions: new InProcessSessionDirectory() } });
    db = openDatabase({ url: t.databaseUrl, dataDir: '' });
    bus.subscribe((event) => events.push(event));
    acme = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body;
    beta = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'beta', name: 'Beta' } })).body;
    acmeAdmin = t.tenantAdminToken(acme.id);
    betaAdmin = t.tenantAdminToken(beta.id);
  });
  afterAll(async () => {
    await db.close();
    await t.close();
  });

  const as = (token: string) => (method: string, path: string, body?: unknown) => t.request(method, path, { token, body });
  const admin = (method: string, path: string, body?: unknown) => as(acmeAdmin)(method, path, body);
  const register = (body: object, tenant = 'acme') => admin('POST', `/v1/tenants/${tenant}/oauth/clients`, body);
  const resourceOf = (slug: string) => `${PUBLIC_GATEWAY_URL}/t/${slug}/mcp`;

  /** What the gateway's authorization server writes when a person approves a client (it is built separately). */
  async function grantFor(tenant: { id: string }, slug: string, clientId: string, options: { keyId?: string; subject?: string } = {}) {
    const grant = await db.prisma.oAuthGrant.create({
      data: {
        tenantId: tenant.id,
        clientId,
        keyId: options.keyId ?? null,
        subject: options.subject ?? options.keyId ?? 'sso|person-1',
        email: 'person@example.com',
        scopes: ['mcp'],
        resource: resourceOf(slug),
      },
    });
    await db.prisma.oAuthRefreshToken.create({
      data: { tokenHash: createHash('sha256').update(randomBytes(32)).digest(), grantId: grant.id, scopes: ['mcp'], expiresAt: new Date(Date.now() + 86_400_000) },
    });
    return grant;
  }

  async function metadataDocumentClient(url: string) {
    return db.prisma.oAuthClient.upsert({
      where: { id: url },
      create: { id: url, kind: 'metadata_document', name: 'Shared Client', redirectUris: ['https://client.example/cb'] },
      update: {},
    });
  }

  const refreshTokensOf = (grantId: string) => db.prisma.oAuthRefreshToken.count({ where: { grantId } });
  const grantRow = (grantId: string) => db.prisma.oAuthGrant.findUniqueOrThrow({ where: { id: grantId } });

  describe('settings', () => {
    it('starts with the defaults: dynamic registration on, 10-minute access tokens, any metadata document host', async () => {
      const res = await admin('GET', '/v1/tenants/acme/oauth/settings');
      expect([res.status, res.body]).toEqual([200, { dynamicRegistration: true, accessTokenTtlSeconds: 600, metadataDocumentHosts: [], sso: null }]);
    });

    it('changes only the fields sent, stores them whole, audits the change and tells gateways', async () => {
      const before = events.length;
      const res = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { dynamicRegistration: false, metadataDocumentHosts: ['claude.ai', 'chatgpt.com'] });
      expect(res.body).toEqual({ dynamicRegistration: false, accessTokenTtlSeconds: 600, metadataDocumentHosts: ['claude.ai', 'chatgpt.com'], sso: null });
      const stored = await db.prisma.tenant.findUniqueOrThrow({ where: { id: acme.id } });
      expect(stored.oauth).toEqual({ dynamicRegistration: false, accessTokenTtlSeconds: 600, metadataDocumentHosts: ['claude.ai', 'chatgpt.com'] });
      expect(events.slice(before)).toContainEqual({ type: 'tenant.changed', tenantId: acme.id });
      const audit = await admin('GET', '/v1/tenants/acme/audit?limit=1');
      expect(audit.body.items[0]).toMatchObject({ action: 'oauth-settings.update', targetId: acme.id, details: { changed: ['dynamicRegistration', 'metadataDocumentHosts'] } });
      await admin('PATCH', '/v1/tenants/acme/oauth/settings', { dynamicRegistration: true, metadataDocumentHosts: [] });
    });

    it('keeps what other features store beside the settings', async () => {
      await db.prisma.tenant.update({ where: { id: beta.id }, data: { oauth: { other: { issuer: 'https://idp.example' } } } });
      await as(betaAdmin)('PATCH', '/v1/tenants/beta/oauth/settings', { accessTokenTtlSeconds: 900 });
      const stored = await db.prisma.tenant.findUniqueOrThrow({ where: { id: beta.id } });
      expect(stored.oauth).toEqual({ other: { issuer: 'https://idp.example' }, dynamicRegistration: true, accessTokenTtlSeconds: 900, metadataDocumentHosts: [] });
    });

    describe('single sign-on', () => {
      const sso = { issuer: 'https://login.acme.example', clientId: 'switchboard', clientSecret: 'idp-client-secret-1', allowedEmailDomains: ['acme.example'], requiredGroup: { claim: 'groups', value: 'mcp' } };

      it('stores the provider with its client secret sealed to the tenant, never returns the secret, and audits without it', async () => {
        const before = events.length;
        const res = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { sso });
        expect(res.status).toBe(200);
        const view = { issuer: sso.issuer, clientId: 'switchboard', clientSecretSet: true, allowedEmailDomains: ['acme.example'], requiredGroup: { claim: 'groups', value: 'mcp' } };
        expect(res.body.sso).toEqual(view);
        expect((await admin('GET', '/v1/tenants/acme/oauth/settings')).body.sso).toEqual(view);
        const stored = (await db.prisma.tenant.findUniqueOrThrow({ where: { id: acme.id } })).oauth as { sso: { clientSecretSealed: string } };
        expect(JSON.stringify(stored)).not.toContain('idp-client-secret-1');
        const box = new SecretBox({ current: t.secretsKey });
        expect(box.decrypt(stored.sso.clientSecretSealed, ssoSecretAad(acme.id))).toEqual({ clientSecret: 'idp-client-secret-1' });
        // Copied onto another tenant, the envelope does not open.
        expect(() => box.decrypt(stored.sso.clientSecretSealed, ssoSecretAad(beta.id))).toThrow();
        const audit = await admin('GET', '/v1/tenants/acme/audit?limit=1');
        expect(audit.body.items[0]).toMatchObject({ action: 'oauth-settings.update', details: { changed: ['sso'], sso: { issuer: sso.issuer, clientId: 'switchboard' } } });
        expect(JSON.stringify(audit.body.items[0])).not.toContain('idp-client-secret-1');
        expect(events.slice(before)).toContainEqual({ type: 'tenant.changed', tenantId: acme.id });
      });

      it('keeps the provider when other settings change, and turns SSO off with null', async () => {
        await admin('PATCH', '/v1/tenants/acme/oauth/settings', { sso });
        expect((await admin('PATCH', '/v1/tenants/acme/oauth/settings', { accessTokenTtlSeconds: 600 })).body.sso).toMatchObject({ issuer: sso.issuer });
        const off = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { sso: null });
        expect(off.body.sso).toBeNull();
        expect((await db.prisma.tenant.findUniqueOrThrow({ where: { id: acme.id } })).oauth).not.toHaveProperty('sso');
      });

      it('refuses a plain-http issuer off loopback, a missing secret, bad domains and unknown fields', async () => {
        const res = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { sso: { issuer: 'http://login.acme.example', clientId: 'x', allowedEmailDomains: ['*.acme.example'], extra: 1 } });
        expect(res.status).toBe(400);
        expect(res.body.error.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['sso.allowedEmailDomains.0', 'sso.clientSecret', 'sso.extra', 'sso.issuer']);
        const loopback = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { sso: { issuer: 'http://127.0.0.1:4444', clientId: 'x', clientSecret: 'y' } });
        expect(loopback.status).toBe(200);
        await admin('PATCH', '/v1/tenants/acme/oauth/settings', { sso: null });
      });
    });

    it('refuses out-of-range lifetimes, wildcard or IP hosts and unknown fields, naming each field', async () => {
      const res = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { accessTokenTtlSeconds: 30, metadataDocumentHosts: ['ok.example', '*.evil.example'], refreshTtl: 1 });
      expect(res.status).toBe(400);
      expect(res.body.error.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['accessTokenTtlSeconds', 'metadataDocumentHosts.1', 'refreshTtl']);
      const ip = await admin('PATCH', '/v1/tenants/acme/oauth/settings', { metadataDocumentHosts: ['169.254.169.254'], accessTokenTtlSeconds: 3601 });
      expect(ip.body.error.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['accessTokenTtlSeconds', 'metadataDocumentHosts.0']);
    });

    it("does not show or change another tenant's settings", async () => {
      expect((await as(betaAdmin)('GET', '/v1/tenants/acme/oauth/settings')).status).toBe(404);
      const res = await as(betaAdmin)('PATCH', '/v1/tenants/acme/oauth/settings', { dynamicRegistration: false });
      expect([res.status, res.body.error.code]).toEqual([404, 'TENANT_NOT_FOUND']);
      expect((await admin('GET', '/v1/tenants/acme/oauth/settings')).body.dynamicRegistration).toBe(true);
    });
  });

  describe('clients', () => {
    it('registers a public client without a secret', async () => {
      const res = await register({ name: 'Desk app', redirectUris: ['http://127.0.0.1:33418/callback', 'com.acme.desk:/oauth'] });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        client: expect.objectContaining({ id: expect.stringMatching(/^sbc_/), kind: 'registered', tenantId: acme.id, tokenEndpointAuth: 'none', activeGrants: 0, revokedAt: null }),
        clientSecret: null,
      });
    });

    it('shows a confidential client its secret once and stores only its HMAC under the key pepper', async () => {
      const res = await register({ name: 'Back office', redirectUris: ['https://backoffice.acme.example/cb'], clientUri: 'https://backoffice.acme.example', tokenEndpointAuth: 'client_secret_basic' });
      const { client, clientSecret } = res.body;
      expect(clientSecret).toMatch(/^sbcs_[A-Za-z0-9_-]{43}$/);
      const row = await db.prisma.oAuthClient.findUniqueOrThrow({ where: { id: client.id } });
      expect(Buffer.from(row.secretHash!)).toEqual(hashSecret(clientSecret, Buffer.from(t.keyPepper, 'base64')));
      const list = await admin('GET', '/v1/tenants/acme/oauth/clients');
      const audit = await admin('GET', '/v1/tenants/acme/audit?limit=5');
      for (const later of [list, audit]) {
        const text = JSON.stringify(later.body);
        expect(text).not.toContain(clientSecret.slice(5));
        expect(text).not.toMatch(/secretHash|secret_hash|clientSecret/);
      }
      expect(list.body.items.find((item: Json) => item.id === client.id)).toMatchObject({ name: 'Back office', tokenEndpointAuth: 'client_secret_basic' });
      expect(audit.body.items[0]).toMatchObject({ action: 'oauth-client.register', targetType: 'oauth-client', targetId: client.id });
    });

    it('refuses redirect URIs an attacker could use, and unknown auth methods, naming each field', async () => {
      const res = await register({
        name: 'Evil',
        redirectUris: ['https://ok.example/cb', 'http://evil.example/cb', 'javascript:alert(1)', 'https://ok.example/cb#x'],
        tokenEndpointAuth: 'client_secret_jwt',
      });
      expect(res.status).toBe(400);
      const issues = res.body.error.details.issues as { path: string; message: string }[];
      expect(issues.map((issue) => issue.path).sort()).toEqual(['redirectUris.1', 'redirectUris.2', 'redirectUris.3', 'tokenEndpointAuth']);
      expect(issues.find((issue) => issue.path === 'redirectUris.1')?.message).toMatch(/loopback/);
      const none = await register({ name: 'No URIs', redirectUris: [], clientUri: 'http://plain.example' });
      expect(none.body.error.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['clientUri', 'redirectUris']);
    });

    it("lists this tenant's registered clients and the shared clients with grants on it, never another tenant's", async () => {
      const betaOwn = (await register({ name: 'Beta only', redirectUris: ['https://beta.example/cb'] }, 'beta')).status;
      expect(betaOwn).toBe(404); // acme's admin cannot register for beta
      const betaClient = (await as(betaAdmin)('POST', '/v1/tenants/beta/oauth/clients', { name: 'Beta only', redirectUris: ['https://beta.example/cb'] })).body.client;
      const shared = await metadataDocumentClient('https://client.example/listed.json');
      await grantFor(acme, 'acme', shared.id);
      const list = await admin('GET', '/v1/tenants/acme/oauth/clients');
      const ids = list.body.items.map((item: Json) => item.id);
      expect(ids).toContain(shared.id);
      expect(ids).not.toContain(betaClient.id);
      expect(list.body.items.find((item: Json) => item.id === shared.id)).toMatchObject({ kind: 'metadata_document', tenantId: null, activeGrants: 1 });
      expect((await as(betaAdmin)('GET', '/v1/tenants/acme/oauth/clients')).status).toBe(404);
      expect((await as(betaAdmin)('GET', '/v1/tenants/beta/oauth/clients')).body.items.map((item: Json) => item.id)).toEqual([betaClient.id]);
    });

    it('revokes a registered client with its grants, and a tenant admin cannot revoke another tenant’s client', async () => {
      const { client } = (await register({ name: 'To revoke', redirectUris: ['https://gone.example/cb'] })).body;
      const grant = await grantFor(acme, 'acme', client.id);
      const viaBeta = await as(betaAdmin)('DELETE', `/v1/tenants/beta/oauth/clients/${client.id}`);
      expect([viaBeta.status, viaBeta.body.error.code]).toEqual([404, 'OAUTH_CLIENT_NOT_FOUND']);
      expect((await as(betaAdmin)('DELETE', `/v1/tenants/acme/oauth/clients/${client.id}`)).status).toBe(404);
      expect((await grantRow(grant.id)).revokedAt).toBeNull();

      const before = events.length;
      const res = await admin('DELETE', `/v1/tenants/acme/oauth/clients/${client.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: client.id, revokedAt: expect.any(String), activeGrants: 0 });
      expect(await grantRow(grant.id)).toMatchObject({ revokedReason: 'client_revoked', revokedAt: expect.any(Date) });
      expect(await refreshTokensOf(grant.id)).toBe(0);
      expect(events.slice(before)).toContainEqual({ type: 'oauth-grant.revoked', tenantId: acme.id, grantId: grant.id });
      const audit = await admin('GET', '/v1/tenants/acme/audit?limit=1');
      expect(audit.body.items[0]).toMatchObject({ action: 'oauth-client.revoke', targetId: client.id, details: { clientRevoked: true, revokedGrants: [grant.id] } });
    });

    it('cuts a shared client off from this tenant only: its grants elsewhere and the client itself stay', async () => {
      const shared = await metadataDocumentClient('https://client.example/shared.json');
      const acmeGrant = await grantFor(acme, 'acme', shared.id);
      const betaGrant = await grantFor(beta, 'beta', shared.id);
      const res = await admin('DELETE', `/v1/tenants/acme/oauth/clients/${encodeURIComponent(shared.id)}`);
      expect(res.body).toMatchObject({ id: shared.id, revokedAt: null, activeGrants: 0 });
      expect((await grantRow(acmeGrant.id)).revokedReason).toBe('client_revoked');
      expect((await grantRow(betaGrant.id)).revokedAt).toBeNull();
      expect(await refreshTokensOf(betaGrant.id)).toBe(1);
    });

    it('revokes a shared client whose URL id is longer than an audit target id, recording the full id', async () => {
      const long = await metadataDocumentClient(`https://client.example/${'deep/'.repeat(30)}client.json`);
      await grantFor(acme, 'acme', long.id);
      const res = await admin('DELETE', `/v1/tenants/acme/oauth/clients/${encodeURIComponent(long.id)}`);
      expect([res.status, res.body.activeGrants]).toEqual([200, 0]);
      const audit = await admin('GET', '/v1/tenants/acme/audit?limit=1');
      expect(audit.body.items[0]).toMatchObject({ action: 'oauth-client.revoke', targetId: long.id.slice(0, 64), details: { clientId: long.id } });
      const again = await admin('DELETE', `/v1/tenants/acme/oauth/clients/${encodeURIComponent(long.id)}`);
      expect(again.status).toBe(200);
      expect((await admin('GET', '/v1/tenants/acme/audit?limit=1')).body.items[0].id).toBe(audit.body.items[0].id);
    });

    it('answers 404 for a client that neither belongs to nor has grants on the tenant', async () => {
      const stranger = await metadataDocumentClient('https://client.example/stranger.json');
      const res = await admin('DELETE', `/v1/tenants/acme/oauth/clients/${encodeURIComponent(stranger.id)}`);
      expect([res.status, res.body.error.code]).toEqual([404, 'OAUTH_CLIENT_NOT_FOUND']);
    });
  });

  describe('grants', () => {
    it('lists grants with client, subject, email, scopes, resource and times, without tokens', async () => {
      const shared = await metadataDocumentClient('https://client.example/grants.json');
      const grant = await grantFor(acme, 'acme', shared.id, { subject: 'sso|listed' });
      const res = await admin('GET', '/v1/tenants/acme/oauth/grants?limit=200');
      expect(res.status).toBe(200);
      expect(res.body.items.find((item: Json) => item.id === grant.id)).toEqual({
        id: grant.id,
        tenantId: acme.id,
        clientId: shared.id,
        clientName: 'Shared Client',
        keyId: null,
        subject: 'sso|listed',
        email: 'person@example.com',
        scopes: ['mcp'],
        resource: resourceOf('acme'),
        status: 'active',
        createdAt: grant.createdAt.toISOString(),
        lastUsedAt: null,
        revokedAt: null,
        revokedReason: null,
      });
      expect(JSON.stringify(res.body)).not.toMatch(/tokenHash|token_hash|codeHash/);
    });

    it('revokes a grant: refresh tokens deleted, gateways told, audited; a second revoke changes nothing', async () => {
      const shared = await metadataDocumentClient('https://client.example/revoke.json');
      const grant = await grantFor(acme, 'acme', shared.id);
      const before = events.length;
      const res = await admin('DELETE', `/v1/tenants/acme/oauth/grants/${grant.id}`);
      expect(res.body).toMatchObject({ id: grant.id, status: 'revoked', revokedReason: 'admin', revokedAt: expect.any(String) });
      expect(await refreshTokensOf(grant.id)).toBe(0);
      expect(events.slice(before)).toEqual([{ type: 'oauth-grant.revoked', tenantId: acme.id, grantId: grant.id }]);
      const audit = await admin('GET', '/v1/tenants/acme/audit?limit=1');
      expect(audit.body.items[0]).toMatchObject({ action: 'oauth-grant.revoke', targetType: 'oauth-grant', targetId: grant.id });

      const again = await admin('DELETE', `/v1/tenants/acme/oauth/grants/${grant.id}`);
      expect(again.body.revokedAt).toBe(res.body.revokedAt);
      expect(events.length).toBe(before + 1);
    });

    it("does not let a tenant admin list or revoke another tenant's grants", async () => {
      const shared = await metadataDocumentClient('https://client.example/victim.json');
      const victim = await grantFor(acme, 'acme', shared.id);
      expect((await as(betaAdmin)('GET', '/v1/tenants/acme/oauth/grants')).status).toBe(404);
      const own = await as(betaAdmin)('GET', '/v1/tenants/beta/oauth/grants?limit=200');
      expect(own.body.items.map((item: Json) => item.id)).not.toContain(victim.id);
      const viaOwnTenant = await as(betaAdmin)('DELETE', `/v1/tenants/beta/oauth/grants/${victim.id}`);
      expect([viaOwnTenant.status, viaOwnTenant.body.error.code]).toEqual([404, 'OAUTH_GRANT_NOT_FOUND']);
      expect((await as(betaAdmin)('DELETE', `/v1/tenants/acme/oauth/grants/${victim.id}`)).status).toBe(404);
      expect((await as(betaAdmin)('DELETE', `/v1/tenants/beta/oauth/grants/not-a-uuid`)).status).toBe(404);
      expect((await grantRow(victim.id)).revokedAt).toBeNull();
      expect(await refreshTokensOf(victim.id)).toBe(1);
    });
  });

  describe('API keys and tenants', () => {
    const issueKey = async (name: string) => (await t.request('POST', '/v1/tenants/acme/api-keys', { token: t.platformToken, body: { name } })).body;

    it('ends the grants made with a key when the key is revoked, in the same change, and tells gateways', async () => {
      const key = await issueKey('oauth-signin');
      const shared = await metadataDocumentClient('https://client.example/key.json');
      const grant = await grantFor(acme, 'acme', shared.id, { keyId: key.key.id });
      const other = await grantFor(acme, 'acme', shared.id, { subject: 'sso|unrelated' });
      const before = events.length;
      await admin('POST', `/v1/tenants/acme/api-keys/${key.key.id}/revoke`);
      expect(await grantRow(grant.id)).toMatchObject({ revokedReason: 'key_revoked', revokedAt: expect.any(Date) });
      expect(await refreshTokensOf(grant.id)).toBe(0);
      expect((await grantRow(other.id)).revokedAt).toBeNull();
      expect(events.slice(before)).toEqual([
        { type: 'api-key.revoked', tenantId: acme.id, keyId: key.key.id },
        { type: 'oauth-grant.revoked', tenantId: acme.id, grantId: grant.id },
      ]);
      const audit = await admin('GET', '/v1/tenants/acme/audit?limit=1');
      expect(audit.body.items[0]).toMatchObject({ action: 'api-key.revoke', details: { revokedOAuthGrants: [grant.id] } });
    });

    it('ends the grants made with a key when the key is rotated, even with a grace period', async () => {
      const shared = await metadataDocumentClient('https://client.example/rotate.json');
      for (const gracePeriodSeconds of [0, 300]) {
        const key = await issueKey(`rotate-${gracePeriodSeconds}`);
        const grant = await grantFor(acme, 'acme', shared.id, { keyId: key.key.id });
        const before = events.length;
        const rotated = await admin('POST', `/v1/tenants/acme/api-keys/${key.key.id}/rotate`, { gracePeriodSeconds });
        expect(rotated.status).toBe(201);
        expect((await grantRow(grant.id)).revokedReason).toBe('key_revoked');
        expect(events.slice(before)).toContainEqual({ type: 'oauth-grant.revoked', tenantId: acme.id, grantId: grant.id });
      }
    });

    it('returns "URL only" snippets for OAuth clients with a new key, without the key in them', async () => {
      const { clients, secret, urls } = await issueKey('snippets');
      expect(clients.claudeConnector).toEqual({ name: 'switchboard-acme', url: urls.streamableHttp });
      expect(clients.chatgptConnector).toEqual({ name: 'switchboard-acme', url: urls.streamableHttp });
      expect(clients.cursorOAuth.mcpServers['switchboard-acme']).toEqual({ url: urls.streamableHttp });
      expect(clients.vscodeOAuth.servers['switchboard-acme']).toEqual({ type: 'http', url: urls.streamableHttp });
      for (const name of ['claudeConnector', 'chatgptConnector', 'cursorOAuth', 'vscodeOAuth']) expect(JSON.stringify(clients[name])).not.toContain(secret);
    });

    it('deletes the grants (with their refresh tokens) and registered clients of a deleted tenant', async () => {
      const doomed = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'doomed', name: 'Doomed' } })).body;
      const own = (await t.request('POST', '/v1/tenants/doomed/oauth/clients', { token: t.platformToken, body: { name: 'Own', redirectUris: ['https://own.example/cb'] } })).body.client;
      const shared = await metadataDocumentClient('https://client.example/doomed.json');
      const grant = await grantFor(doomed, 'doomed', shared.id);
      expect((await t.request('DELETE', '/v1/tenants/doomed', { token: t.platformToken })).status).toBe(204);
      expect(await db.prisma.oAuthGrant.findUnique({ where: { id: grant.id } })).toBeNull();
      expect(await refreshTokensOf(grant.id)).toBe(0);
      expect(await db.prisma.oAuthClient.findUnique({ where: { id: own.id } })).toBeNull();
      expect(await db.prisma.oAuthClient.findUnique({ where: { id: shared.id } })).not.toBeNull();
    });

    it('keeps the grants of a suspended tenant on record (the gateway refuses them) and still lets the admin revoke them', async () => {
      const shared = await metadataDocumentClient('https://client.example/suspended.json');
      const grant = await grantFor(acme, 'acme', shared.id);
      await t.request('PATCH', '/v1/tenants/acme', { token: t.platformToken, body: { status: 'suspended' } });
      try {
        expect((await grantRow(grant.id)).revokedAt).toBeNull();
        const res = await admin('DELETE', `/v1/tenants/acme/oauth/grants/${grant.id}`);
        expect(res.body.status).toBe('revoked');
      } finally {
        await t.request('PATCH', '/v1/tenants/acme', { token: t.platformToken, body: { status: 'active' } });
      }
    });

    it('describes every OAuth route in the OpenAPI document, with the request schemas', async () => {
      const { body } = await t.request('GET', '/openapi.json');
      expect(Object.keys(body.paths['/v1/tenants/{tenant}/oauth/clients']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(body.paths['/v1/tenants/{tenant}/oauth/clients/{clientId}'])).toEqual(['delete']);
      expect(Object.keys(body.paths['/v1/tenants/{tenant}/oauth/grants'])).toEqual(['get']);
      expect(Object.keys(body.paths['/v1/tenants/{tenant}/oauth/grants/{grantId}'])).toEqual(['delete']);
      expect(Object.keys(body.paths['/v1/tenants/{tenant}/oauth/settings']).sort()).toEqual(['get', 'patch']);
      expect(JSON.stringify(body.paths['/v1/tenants/{tenant}/oauth/clients'].post)).toContain('tokenEndpointAuth');
    });

    it('answers 404 for an unknown tenant id, not a leak of whether it exists', async () => {
      const res = await t.request('GET', `/v1/tenants/${randomUUID()}/oauth/grants`, { token: t.platformToken });
      expect([res.status, res.body.error.code]).toEqual([404, 'TENANT_NOT_FOUND']);
    });
  });
});
