import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { keyIdOf } from '@switchboard/secrets';
import { AuthorizationServer } from '../src/oauth/authorization-server';
import type { ResolveOptions } from '../src/oauth/client-metadata-document';
import { PendingAuthorizations } from '../src/oauth/pending-authorization';
import { RegistrationLimiter } from '../src/oauth/registration-limiter';
import { SigningKeys } from '../src/oauth/signing-keys';
import { eventually, startHarness, type GatewayHarness } from './gateway-harness';

/**
 * The platform authorization server (docs/oauth.md) over raw HTTP, from the attacker's side:
 * every step a client or a browser sends is forged, replayed or swapped here.
 */

const REDIRECT = 'http://127.0.0.1:7777/callback';
const verifierPair = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

interface ConsentForm {
  status: number;
  html: string;
  cookie: string | undefined;
  sealed: string | undefined;
  headers: Headers;
}

describe('platform OAuth authorization server', () => {
  let h: GatewayHarness;
  let base: string;
  let acme: { id: string; slug: string };
  let globex: { id: string; slug: string };
  let acmeKey: { token: string; id: string };
  let echoOnlyKey: { token: string; id: string };
  let globexKey: { token: string; id: string };
  let publicClient: string;

  beforeAll(async () => {
    // A small registration budget, spent by the last describe.
    h = await startHarness('gw_oauth_server', { OAUTH_REGISTRATIONS_PER_HOUR: '12' });
    base = h.gateway.url;
    acme = await h.createTenant('acme');
    globex = await h.createTenant('globex');
    await h.install(acme.id, 'echo');
    await h.install(acme.id, 'testkit');
    await h.install(globex.id, 'echo');
    acmeKey = await h.issueKey(acme.id);
    echoOnlyKey = await h.issueKey(acme.id, { plugins: ['echo'] });
    globexKey = await h.issueKey(globex.id);
    publicClient = (await register({ redirect_uris: [REDIRECT], client_name: 'Test <b>Client</b>' })).body['client_id'] as string;
  });

  afterAll(async () => {
    await h.close();
  });

  const resourceOf = (slug: string) => `${base}/t/${slug}/mcp`;

  async function register(metadata: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${base}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  function authorizeUrl(params: Record<string, string | undefined>): string {
    const url = new URL('/oauth/authorize', base);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
    return url.toString();
  }

  const defaults = (challenge: string, overrides: Record<string, string | undefined> = {}) => ({
    response_type: 'code',
    client_id: publicClient,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: resourceOf('acme'),
    state: 'st-123',
    ...overrides,
  });

  async function openConsent(params: Record<string, string | undefined>): Promise<ConsentForm> {
    const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
    const html = await response.text();
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    const sealed = /name="request" value="([^"]+)"/.exec(html)?.[1];
    return { status: response.status, html, cookie, sealed, headers: response.headers };
  }

  async function submit(form: { cookie?: string; sealed?: string }, fields: Record<string, string | string[]>): Promise<Response> {
    const body = new URLSearchParams();
    if (form.sealed) body.append('request', form.sealed.replace(/&amp;/g, '&'));
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
    return fetch(`${base}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(form.cookie ? { cookie: form.cookie } : {}) },
      body,
    });
  }

  /** Plays the person: opens the page, pastes the key, approves; returns the code from the redirect. */
  async function signIn(options: { key?: string; plugins?: string[]; overrides?: Record<string, string | undefined> } = {}) {
    const pkce = verifierPair();
    const form = await openConsent(defaults(pkce.challenge, options.overrides));
    expect(form.status).toBe(200);
    const answer = await submit(form, { api_key: options.key ?? acmeKey.token, decision: 'approve', plugin: options.plugins ?? ['echo', 'testkit'] });
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get('location')!);
    return { ...pkce, location, code: location.searchParams.get('code')! };
  }

  async function token(fields: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) body.append(name, value);
    const response = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
  }

  const exchange = (code: string, verifier: string, extra: Record<string, string | undefined> = {}) =>
    token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: publicClient, resource: resourceOf('acme'), ...extra });

  async function jwks(): Promise<Record<string, unknown>[]> {
    return ((await (await fetch(`${base}/oauth/jwks.json`)).json()) as { keys: Record<string, unknown>[] }).keys;
  }

  describe('discovery', () => {
    it('publishes RFC 8414 metadata with one issuer, S256 only and the iss parameter, also at the OpenID alias', async () => {
      const response = await fetch(`${base}/.well-known/oauth-authorization-server`);
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer: base,
        authorization_endpoint: `${base}/oauth/authorize`,
        token_endpoint: `${base}/oauth/token`,
        registration_endpoint: `${base}/oauth/register`,
        revocation_endpoint: `${base}/oauth/revoke`,
        jwks_uri: `${base}/oauth/jwks.json`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
      });
      const alias = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
      expect(alias).toEqual(metadata);
    });

    it('answers CORS preflights of the token and registration endpoints for browser-based clients', async () => {
      for (const path of ['/oauth/token', '/oauth/register']) {
        const response = await fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' } });
        expect(response.status).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
      }
    });

    it('keeps the MCP routes answering non-JSON bodies with 415', async () => {
      const response = await fetch(`${base}/t/acme/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acmeKey.token}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json, text/event-stream' },
        body: 'a=b',
      });
      expect(response.status).toBe(415);
    });
  });

  describe('dynamic client registration', () => {
    it('registers a public client and never returns a secret for it', async () => {
      const { status, body } = await register({ redirect_uris: ['https://app.example/cb'], client_name: 'App' });
      expect(status).toBe(201);
      expect(body).toMatchObject({ client_name: 'App', token_endpoint_auth_method: 'none', redirect_uris: ['https://app.example/cb'] });
      expect(String(body['client_id'])).toMatch(/^sbc_/);
      expect(body['client_secret']).toBeUndefined();
    });

    it('refuses http redirect URIs off loopback, javascript: URIs and private schemes of web apps', async () => {
      for (const uri of ['http://evil.example/cb', 'javascript:alert(1)', 'com.example.app:/cb']) {
        const { status, body } = await register({ redirect_uris: [uri], application_type: 'web' });
        expect(status).toBe(400);
        expect(body['error']).toBe('invalid_redirect_uri');
      }
    });

    it('lets a native app register a reverse-domain private-use redirect URI and sends the code there', async () => {
      const native = 'com.example.app:/oauth/callback';
      const { status, body } = await register({ redirect_uris: [native], application_type: 'native', client_name: 'Native' });
      expect(status).toBe(201);
      const pkce = verifierPair();
      const form = await openConsent(defaults(pkce.challenge, { client_id: body['client_id'] as string, redirect_uri: native }));
      expect(form.headers.get('content-security-policy')).toContain("form-action 'self' com.example.app:;");
      const answer = await submit(form, { api_key: acmeKey.token, decision: 'approve', plugin: 'echo' });
      expect(answer.headers.get('location')).toMatch(/^com\.example\.app:\/oauth\/callback\?code=[A-Za-z0-9_-]{43}&state=st-123&iss=/);
    });

    it('refuses a registration body over its size limit unread', async () => {
      const response = await fetch(`${base}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x', padding: 'y'.repeat(20_000) }),
      });
      expect(response.status).toBe(413);
    });
  });

  describe('authorization request', () => {
    it('shows an error page and never redirects for an unknown client', async () => {
      const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, { client_id: 'sbc_nope' })), { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    });

    it('never redirects to a redirect URI the client did not register (no open redirect)', async () => {
      for (const redirect of ['https://evil.example/callback', 'http://127.0.0.1:7777/callback/../../evil', 'http://127.0.0.1:7777/callbackx', 'http://evil.example:7777/callback']) {
        const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, { redirect_uri: redirect })), { redirect: 'manual' });
        expect(response.status).toBe(400);
        expect(response.headers.get('location')).toBeNull();
        expect(await response.text()).not.toContain('evil');
      }
    });

    it('accepts the registered loopback redirect URI on any port (RFC 8252 §7.3)', async () => {
      const form = await openConsent(defaults(verifierPair().challenge, { redirect_uri: 'http://127.0.0.1:40123/callback' }));
      expect(form.status).toBe(200);
    });

    it('refuses the plain PKCE method and a missing challenge, redirecting with error, state and iss', async () => {
      for (const overrides of [{ code_challenge_method: 'plain' }, { code_challenge: undefined }, { code_challenge_method: undefined }]) {
        const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, overrides)), { redirect: 'manual' });
        expect(response.status).toBe(302);
        const location = new URL(response.headers.get('location')!);
        expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('state')).toBe('st-123');
        expect(location.searchParams.get('iss')).toBe(base);
      }
    });

    it('requires a resource that is a tenant MCP URL of this gateway', async () => {
      for (const resource of [undefined, 'https://evil.example/t/acme/mcp', `${base}/t/nosuch/mcp`, `${base}/admin`, `${base}/t/acme/p/notinstalled/mcp`]) {
        const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, { resource })), { redirect: 'manual' });
        expect(response.status).toBe(302);
        expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
      }
    });

    it('serves the consent page with anti-framing, no-referrer, no-store and a strict CSP, naming the client escaped and unverified', async () => {
      const form = await openConsent(defaults(verifierPair().challenge));
      expect(form.status).toBe(200);
      const csp = form.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      // 'self', and the registered redirect target (Chromium applies form-action to the redirect answering the form).
      expect(csp).toContain("form-action 'self' http://127.0.0.1:7777;");
      expect(form.headers.get('x-frame-options')).toBe('DENY');
      expect(form.headers.get('referrer-policy')).toBe('no-referrer');
      expect(form.headers.get('cache-control')).toBe('no-store');
      expect(form.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
      expect(form.html).toContain('Test &lt;b&gt;Client&lt;/b&gt;');
      expect(form.html).not.toContain('<b>Client</b>');
      expect(form.html).toContain('Unverified');
      expect(form.html).toContain('<label for="api_key">');
      expect(form.html).toContain('type="password"');
      expect(form.html).not.toContain('<script');
    });
  });

  describe('client ID metadata documents', () => {
    it('does not fetch a client_id URL on a private address, and shows an error page instead of redirecting', async () => {
      const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, { client_id: 'https://127.0.0.1/oauth/client.json' })), { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await h.prisma.oAuthClient.count({ where: { id: 'https://127.0.0.1/oauth/client.json' } })).toBe(0);
    });

    it("records a document's client for the tenant of the resource, under that tenant's host allowlist, and marks it unverified", async () => {
      const id = 'https://client.example/oauth/metadata.json';
      const asked: (ResolveOptions | undefined)[] = [];
      const pepper = randomBytes(32);
      const server = new AuthorizationServer(
        h.prisma,
        { resolve: async () => ({ ok: false, reason: 'unknown' }), resolveKeyId: async () => ({ ok: false, reason: 'unknown' }) },
        { current: { id: keyIdOf(pepper), key: pepper }, previous: [] },
        new SigningKeys(h.prisma, h.secretBox),
        new PendingAuthorizations({ current: randomBytes(32) }),
        new RegistrationLimiter(1),
        {
          accessTokenTtlSeconds: 600,
          refreshTokenTtlSeconds: 3600,
          announce: async () => undefined,
          metadataDocuments: {
            resolve: async (clientId, options) => {
              asked.push(options);
              return { ok: true, client: { id: clientId, name: 'Doc Client', clientUri: 'https://client.example', redirectUris: [REDIRECT], metadata: { client_id: clientId } } };
            },
          },
        },
      );
      await h.prisma.tenant.update({ where: { id: acme.id }, data: { oauth: { metadataDocumentHosts: ['client.example'] } } });
      try {
        const outcome = await server.authorize(base, defaults(verifierPair().challenge, { client_id: id }));
        expect(outcome.kind).toBe('consent');
        if (outcome.kind === 'consent') expect(outcome.view).toMatchObject({ clientName: 'Doc Client', unverified: true, redirectHost: '127.0.0.1:7777' });
        expect(asked).toEqual([{ allowedHosts: ['client.example'] }]);
        expect(await h.prisma.oAuthClient.findUnique({ where: { id } })).toMatchObject({ kind: 'metadata_document', tokenEndpointAuth: 'none' });
        // A resource that is not ours: the document is not even fetched.
        expect((await server.authorize(base, defaults(verifierPair().challenge, { client_id: id, resource: 'https://evil.example/t/acme/mcp' }))).kind).toBe('error');
        expect(asked).toHaveLength(1);
      } finally {
        await h.prisma.tenant.update({ where: { id: acme.id }, data: { oauth: {} } });
      }
    });
  });

  describe('consent form', () => {
    it('refuses a form posted without the browser cookie (CSRF), without redirecting', async () => {
      const form = await openConsent(defaults(verifierPair().challenge));
      const answer = await submit({ sealed: form.sealed }, { api_key: acmeKey.token, decision: 'approve', plugin: 'echo' });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
    });

    it("refuses another request's sealed state with this browser's cookie", async () => {
      const mine = await openConsent(defaults(verifierPair().challenge));
      const theirs = await openConsent(defaults(verifierPair().challenge, { state: 'attacker' }));
      const answer = await submit({ cookie: mine.cookie, sealed: theirs.sealed }, { api_key: acmeKey.token, decision: 'approve', plugin: 'echo' });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
    });

    it('refuses a tampered sealed state', async () => {
      const form = await openConsent(defaults(verifierPair().challenge));
      const sealed = form.sealed!;
      const tampered = sealed.slice(0, -6) + (sealed.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
      const answer = await submit({ cookie: form.cookie, sealed: tampered }, { api_key: acmeKey.token, decision: 'approve', plugin: 'echo' });
      expect(answer.status).toBe(400);
    });

    it('does not accept an API key of another tenant, and says nothing about it', async () => {
      const form = await openConsent(defaults(verifierPair().challenge));
      const wrongTenant = await submit(form, { api_key: globexKey.token, decision: 'approve', plugin: 'echo' });
      const garbage = await submit(form, { api_key: 'sbk_not_a_key', decision: 'approve', plugin: 'echo' });
      expect(wrongTenant.status).toBe(200);
      expect(wrongTenant.headers.get('location')).toBeNull();
      const wrongText = (await wrongTenant.text()).replace(/value="[^"]*"/g, '');
      const garbageText = (await garbage.text()).replace(/value="[^"]*"/g, '');
      expect(wrongText).toContain('not a valid API key of acme');
      expect(wrongText).toBe(garbageText);
      expect(await h.prisma.oAuthGrant.count({ where: { keyId: globexKey.id } })).toBe(0);
    });

    it('redirects a denial with access_denied', async () => {
      const form = await openConsent(defaults(verifierPair().challenge));
      const answer = await submit(form, { decision: 'deny' });
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location')!);
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('iss')).toBe(base);
    });

    it('grants a key narrowed to one plugin only that plugin, whatever boxes were ticked', async () => {
      const { code, verifier } = await signIn({ key: echoOnlyKey.token, plugins: ['echo', 'testkit'] });
      const { status, body } = await exchange(code, verifier);
      expect(status).toBe(200);
      expect(body['scope']).toBe('mcp plugin:echo');
    });

    it('lets the person narrow the scopes by unticking a plugin', async () => {
      const { code, verifier } = await signIn({ plugins: ['testkit'] });
      expect((await exchange(code, verifier)).body['scope']).toBe('mcp plugin:testkit');
    });

    it('refuses a client an admin registered for another tenant', async () => {
      await h.prisma.oAuthClient.create({ data: { id: 'sbc_globex_only', kind: 'registered', tenantId: globex.id, name: 'Globex app', redirectUris: [REDIRECT] } });
      const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, { client_id: 'sbc_globex_only' })), { redirect: 'manual' });
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('unauthorized_client');
    });

    it('refuses dynamic clients on a tenant that turned dynamic registration off', async () => {
      await h.prisma.tenant.update({ where: { id: globex.id }, data: { oauth: { dynamicRegistration: false } } });
      const response = await fetch(authorizeUrl(defaults(verifierPair().challenge, { resource: resourceOf('globex') })), { redirect: 'manual' });
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('unauthorized_client');
    });
  });

  describe('token endpoint', () => {
    it('exchanges a code for an ES256 access token bound to the tenant resource, verifiable with the JWKS', async () => {
      const { code, verifier, location } = await signIn();
      expect(location.searchParams.get('state')).toBe('st-123');
      expect(location.searchParams.get('iss')).toBe(base);
      const { status, body, headers } = await exchange(code, verifier);
      expect(status).toBe(200);
      expect(headers.get('cache-control')).toBe('no-store');
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'mcp plugin:echo plugin:testkit' });
      const accessToken = body['access_token'] as string;
      const header = jwt.decode(accessToken, { complete: true })!.header;
      expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
      const jwk = (await jwks()).find((k) => k['kid'] === header.kid)!;
      const claims = jwt.verify(accessToken, createPublicKey({ key: jwk as never, format: 'jwk' }), { algorithms: ['ES256'], issuer: base, audience: resourceOf('acme') }) as Record<string, unknown>;
      expect(claims).toMatchObject({ sub: `key:${acmeKey.id}`, key: acmeKey.id, tenant: acme.id, client_id: publicClient });
      expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(600);
      const consent = await h.prisma.auditEvent.findFirst({ where: { action: 'oauth-grant.consent', targetId: claims['grant'] as string } });
      expect(consent).toMatchObject({ actor: `key:${acmeKey.id}`, tenantId: acme.id });
    });

    it("uses the tenant's own access-token lifetime when it set one", async () => {
      await h.prisma.tenant.update({ where: { id: acme.id }, data: { oauth: { accessTokenTtlSeconds: 120 } } });
      try {
        const { code, verifier } = await signIn();
        expect((await exchange(code, verifier)).body['expires_in']).toBe(120);
      } finally {
        await h.prisma.tenant.update({ where: { id: acme.id }, data: { oauth: {} } });
      }
    });

    it('refuses a missing or wrong PKCE verifier', async () => {
      const { code, verifier } = await signIn();
      expect((await exchange(code, '')).body['error']).toBe('invalid_grant');
      expect((await exchange(code, verifierPair().verifier)).body['error']).toBe('invalid_grant');
      // The real verifier still works: a guess does not burn the code for its owner.
      expect((await exchange(code, verifier)).status).toBe(200);
    });

    it('refuses a code with another redirect_uri, another client, or another resource', async () => {
      const { code, verifier } = await signIn();
      const other = (await register({ redirect_uris: [REDIRECT] })).body['client_id'] as string;
      expect((await exchange(code, verifier, { redirect_uri: 'http://127.0.0.1:7777/other' })).body['error']).toBe('invalid_grant');
      expect((await exchange(code, verifier, { client_id: other })).body['error']).toBe('invalid_grant');
      expect((await exchange(code, verifier, { resource: resourceOf('globex') })).body['error']).toBe('invalid_target');
    });

    it('revokes the grant when a code is replayed: the first exchange’s refresh token dies too', async () => {
      const { code, verifier } = await signIn();
      const first = await exchange(code, verifier);
      expect(first.status).toBe(200);
      const replay = await exchange(code, verifier);
      expect(replay.status).toBe(400);
      expect(replay.body['error']).toBe('invalid_grant');
      const refresh = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient });
      expect(refresh.body['error']).toBe('invalid_grant');
      const grant = await h.prisma.oAuthGrant.findFirstOrThrow({ where: { refreshTokens: { some: {} } }, orderBy: { createdAt: 'desc' } });
      expect(grant.revokedReason).toBe('code_reuse');
    });

    it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
      const { code, verifier } = await signIn();
      const first = await exchange(code, verifier);
      const second = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient });
      expect(second.status).toBe(200);
      expect(second.body['refresh_token']).not.toBe(first.body['refresh_token']);
      const reuse = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient });
      expect(reuse.body['error']).toBe('invalid_grant');
      // The legitimate newest token is dead as well: the family is revoked.
      const newest = await token({ grant_type: 'refresh_token', refresh_token: second.body['refresh_token'] as string, client_id: publicClient });
      expect(newest.body['error']).toBe('invalid_grant');
      const audit = await h.prisma.auditEvent.findFirst({ where: { action: 'oauth-grant.refresh-reuse' } });
      expect(audit?.tenantId).toBe(acme.id);
    });

    it('ends the access tokens of a grant whose refresh token was replayed, on the MCP URL', async () => {
      const { code, verifier } = await signIn();
      const first = await exchange(code, verifier);
      const initialize = () =>
        fetch(resourceOf('acme'), {
          method: 'POST',
          headers: { authorization: `Bearer ${first.body['access_token'] as string}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
        });
      expect((await initialize()).status).toBe(200);
      const refresh = () => token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient });
      expect((await refresh()).status).toBe(200);
      expect((await refresh()).body['error']).toBe('invalid_grant');
      // Within a second, on every node: the revocation is published on the control bus.
      await eventually(async () => (await initialize()).status === 401, 1_000);
    });

    it('lets a refresh narrow the scope but refuses escalation', async () => {
      const { code, verifier } = await signIn({ key: echoOnlyKey.token });
      const first = await exchange(code, verifier);
      const escalate = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient, scope: 'mcp plugin:echo plugin:testkit' });
      expect(escalate.body['error']).toBe('invalid_scope');
      const baseOnly = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient, scope: 'mcp' });
      expect(baseOnly.body['error']).toBe('invalid_scope');
      const same = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient, scope: 'mcp plugin:echo', resource: resourceOf('acme') });
      expect(same.status).toBe(200);
    });

    it('refuses a refresh for another resource', async () => {
      const { code, verifier } = await signIn();
      const first = await exchange(code, verifier);
      const other = await token({ grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: publicClient, resource: resourceOf('globex') });
      expect(other.body['error']).toBe('invalid_target');
    });

    it('answers unknown grant types and unauthenticated clients per RFC 6749 §5.2', async () => {
      expect((await token({ grant_type: 'password', client_id: publicClient })).body['error']).toBe('unsupported_grant_type');
      const anonymous = await token({ grant_type: 'authorization_code', code: 'x' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body['error']).toBe('invalid_client');
    });

    it('authenticates confidential clients with Basic or post, and refuses a wrong secret', async () => {
      const registered = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
      const id = registered.body['client_id'] as string;
      const secret = registered.body['client_secret'] as string;
      expect(secret).toMatch(/^sbcs_/);
      const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(s)}`).toString('base64')}` });
      const wrong = await token({ grant_type: 'refresh_token', refresh_token: 'x' }, basic('sbcs_wrong'));
      expect(wrong.status).toBe(401);
      const none = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: id });
      expect(none.status).toBe(401);
      const right = await token({ grant_type: 'refresh_token', refresh_token: 'x' }, basic(secret));
      expect(right.body['error']).toBe('invalid_grant');
      const post = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: id, client_secret: secret });
      expect(post.body['error']).toBe('invalid_grant');
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revokes the grant of a refresh token, always answers 200, and ignores other clients', async () => {
      const { code, verifier } = await signIn();
      const first = await exchange(code, verifier);
      const refreshToken = first.body['refresh_token'] as string;
      const revoke = (fields: Record<string, string>) =>
        fetch(`${base}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
      const stranger = (await register({ redirect_uris: [REDIRECT] })).body['client_id'] as string;
      expect((await revoke({ token: refreshToken, client_id: stranger })).status).toBe(200);
      expect((await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: publicClient })).status).toBe(200);
      expect((await revoke({ token: 'unknown', client_id: publicClient })).status).toBe(200);
      const { code: code2, verifier: verifier2 } = await signIn();
      const mine = await exchange(code2, verifier2);
      expect((await revoke({ token: mine.body['refresh_token'] as string, client_id: publicClient })).status).toBe(200);
      expect((await token({ grant_type: 'refresh_token', refresh_token: mine.body['refresh_token'] as string, client_id: publicClient })).body['error']).toBe('invalid_grant');
    });

    it('revokes the grant of an access token of ours', async () => {
      const { code, verifier } = await signIn();
      const issued = await exchange(code, verifier);
      const revoked = await fetch(`${base}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: issued.body['access_token'] as string, token_type_hint: 'access_token', client_id: publicClient }),
      });
      expect(revoked.status).toBe(200);
      expect((await token({ grant_type: 'refresh_token', refresh_token: issued.body['refresh_token'] as string, client_id: publicClient })).body['error']).toBe('invalid_grant');
    });
  });

  describe('limits and key management', () => {
    it('refuses a form body over its size limit', async () => {
      const response = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=refresh_token&refresh_token=${'x'.repeat(70_000)}`,
      });
      expect(response.status).toBe(413);
    });

    it('creates one signing key when two nodes need one at the same moment', async () => {
      await h.prisma.oAuthSigningKey.deleteMany();
      const [a, b] = await Promise.all([new SigningKeys(h.prisma, h.secretBox).current(), new SigningKeys(h.prisma, h.secretBox).current()]);
      expect(a.kid).toBe(b.kid);
      expect(await h.prisma.oAuthSigningKey.count()).toBe(1);
      const row = await h.prisma.oAuthSigningKey.findFirstOrThrow();
      expect(row.privateKey).not.toContain('PRIVATE KEY');
      expect((await jwks()).map((k) => k['kid'])).toEqual([a.kid]);
      expect((await jwks())[0]).not.toHaveProperty('d');
    });

    it('rate-limits dynamic registrations per source address', async () => {
      let status = 201;
      for (let i = 0; i < 20 && status === 201; i++) status = (await register({ redirect_uris: [REDIRECT] })).status;
      expect(status).toBe(429);
      const refused = await fetch(`${base}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) });
      expect(((await refused.json()) as Record<string, unknown>)['error']).toBe('slow_down');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3500);
    });
  });
});

describe('platform OAuth authorization server behind PUBLIC_GATEWAY_URL', () => {
  const PUBLIC = 'https://gw.example.com';
  let h: GatewayHarness;
  let client: string;

  beforeAll(async () => {
    h = await startHarness('gw_oauth_public', { PUBLIC_GATEWAY_URL: `${PUBLIC}/` });
    await h.createTenant('acme');
    const registered = await fetch(`${h.gateway.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) });
    client = ((await registered.json()) as { client_id: string }).client_id;
  });

  afterAll(async () => {
    await h.close();
  });

  it("names PUBLIC_GATEWAY_URL's origin as the issuer, whatever Host the request carries", async () => {
    const metadata = (await (await fetch(`${h.gateway.url}/.well-known/oauth-authorization-server`, { headers: { host: 'evil.example' } })).json()) as Record<string, unknown>;
    expect(metadata['issuer']).toBe(PUBLIC);
    expect(metadata['token_endpoint']).toBe(`${PUBLIC}/oauth/token`);
  });

  it('accepts only resources on the public URL, and binds the consent to a __Host- Secure cookie', async () => {
    const url = (resource: string) =>
      `${h.gateway.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client, redirect_uri: REDIRECT, code_challenge: verifierPair().challenge, code_challenge_method: 'S256', resource })}`;
    const local = await fetch(url(`${h.gateway.url}/t/acme/mcp`), { redirect: 'manual' });
    expect(new URL(local.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
    const page = await fetch(url(`${PUBLIC}/t/acme/mcp`), { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(/^__Host-sb_oauth_consent=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=600; Secure$/);
  });
});
