import { generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ssoSecretAad } from '@switchboard/oauth-policy';
import { SecretBox } from '@switchboard/secrets';
import type { PendingAuthorization } from './pending-authorization';
import type { SsoProviderClient } from '@switchboard/oidc-client';
import { SSO_ROUND_TRIP_TTL_MS, SsoSignIn } from './sso-sign-in';

const IDP = 'https://login.acme.example';
const PLATFORM = 'https://gw.example';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const secretsKey = randomBytes(32);
const box = new SecretBox({ current: secretsKey });
const pending: PendingAuthorization = { clientId: 'sbc_1', redirectUri: 'https://app.example/cb', state: 's', codeChallenge: 'c', resource: `${PLATFORM}/t/acme/mcp`, tenantId: 'tenant-1', offered: ['echo'] };
const tenant = (issuer = IDP) => ({ id: 'tenant-1', oauth: { sso: { issuer, clientId: 'acme-client', clientSecretSealed: box.encrypt({ clientSecret: 'shh' }, ssoSecretAad('tenant-1')), allowedEmailDomains: ['acme.example'] } } });

/** A provider that answers the code exchange with an ID token carrying the nonce it was last asked for. */
function fakeProvider() {
  const seen: { secret?: string; nonce?: string } = {};
  const provider: SsoProviderClient = {
    discover: async (issuer) => ({ ok: true, value: { issuer, authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token`, jwksUri: `${issuer}/jwks`, tokenEndpointAuth: 'client_secret_basic' } }),
    jwks: async () => ({ ok: true, value: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }] } }),
    exchangeCode: async (exchange) => {
      seen.secret = exchange.clientSecret;
      const now = Math.floor(Date.now() / 1000);
      return { ok: true, value: { idToken: jwt.sign({ iss: IDP, aud: 'acme-client', sub: 'u1', email: 'ada@acme.example', email_verified: true, nonce: seen.nonce, iat: now, exp: now + 60 }, privateKey, { algorithm: 'RS256', keyid: 'k1' }) } };
    },
  };
  return { provider, seen };
}

async function begun(sso: SsoSignIn, seen: { nonce?: string }) {
  const started = await sso.begin(PLATFORM, tenant(), pending);
  if (!started.ok) throw new Error(started.reason);
  const location = new URL(started.location);
  seen.nonce = location.searchParams.get('nonce')!;
  return { state: location.searchParams.get('state')!, binding: started.binding, location };
}

describe('SsoSignIn', () => {
  it('sends the browser to the provider with PKCE S256, a nonce and our callback, and admits the person it vouches for', async () => {
    const { provider, seen } = fakeProvider();
    const sso = new SsoSignIn(provider, box, { current: secretsKey });
    const { state, binding, location } = await begun(sso, seen);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ response_type: 'code', client_id: 'acme-client', redirect_uri: `${PLATFORM}/oauth/sso/callback`, code_challenge_method: 'S256', scope: 'openid email profile' });
    const done = await sso.complete(PLATFORM, { code: 'c', state }, binding, async () => tenant());
    expect(done).toEqual({ ok: true, pending, identity: { subject: `sso:${IDP}#u1`, email: 'ada@acme.example' } });
    expect(seen.secret).toBe('shh');
  });

  it('refuses an altered state, a state without its browser’s cookie, and an expired one', async () => {
    const { provider, seen } = fakeProvider();
    let now = Date.now();
    const sso = new SsoSignIn(provider, box, { current: secretsKey }, { now: () => now });
    const { state, binding } = await begun(sso, seen);
    const altered = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await sso.complete(PLATFORM, { code: 'c', state: altered }, binding, async () => tenant())).toMatchObject({ ok: false });
    expect(await sso.complete(PLATFORM, { code: 'c', state }, 'another-browser', async () => tenant())).toMatchObject({ ok: false, reason: expect.stringMatching(/not started in this browser/) });
    expect(await sso.complete(PLATFORM, { code: 'c', state }, undefined, async () => tenant())).toMatchObject({ ok: false });
    now += SSO_ROUND_TRIP_TTL_MS + 1;
    expect(await sso.complete(PLATFORM, { code: 'c', state }, binding, async () => tenant())).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
  });

  it('refuses when the tenant’s provider changed during the sign-in', async () => {
    const { provider, seen } = fakeProvider();
    const sso = new SsoSignIn(provider, box, { current: secretsKey });
    const { state, binding } = await begun(sso, seen);
    expect(await sso.complete(PLATFORM, { code: 'c', state }, binding, async () => tenant('https://login.other.example'))).toMatchObject({ ok: false, reason: expect.stringMatching(/changed/) });
    expect(await sso.complete(PLATFORM, { code: 'c', state }, binding, async () => ({ id: 'tenant-1', oauth: {} }))).toMatchObject({ ok: false });
  });

  describe('a per-user connect link\'s round trip', () => {
    const connect = { tenantId: 'tenant-1', installationId: 'inst-1', subject: `sso:${IDP}#u1`, nonce: 'n-1' };
    async function begunConnect(sso: SsoSignIn, seen: { nonce?: string }) {
      const started = await sso.beginConnect(PLATFORM, tenant(), connect);
      if (!started.ok) throw new Error(started.reason);
      const location = new URL(started.location);
      seen.nonce = location.searchParams.get('nonce')!;
      return { state: location.searchParams.get('state')!, binding: started.binding, location };
    }

    it('comes back to the same callback and hands back the sealed connect and the person the provider vouched for', async () => {
      const { provider, seen } = fakeProvider();
      const sso = new SsoSignIn(provider, box, { current: secretsKey });
      const { state, binding, location } = await begunConnect(sso, seen);
      expect(location.searchParams.get('redirect_uri')).toBe(`${PLATFORM}/oauth/sso/callback`);
      expect(sso.purposeOf(state, binding)).toBe('connect');
      expect(await sso.completeConnect(PLATFORM, { code: 'c', state }, binding, async () => tenant())).toEqual({ ok: true, connect, identity: { subject: `sso:${IDP}#u1`, email: 'ada@acme.example' } });
    });

    it('attacker: a consent\'s state does not finish a connect, nor a connect\'s state a consent, each with its own browser\'s cookie', async () => {
      const { provider, seen } = fakeProvider();
      const sso = new SsoSignIn(provider, box, { current: secretsKey });
      const forConsent = await begun(sso, seen);
      const forConnect = await begunConnect(sso, seen);
      expect(sso.purposeOf(forConsent.state, forConsent.binding)).toBe('consent');
      expect(await sso.completeConnect(PLATFORM, { code: 'c', state: forConsent.state }, forConsent.binding, async () => tenant())).toMatchObject({ ok: false, reason: expect.stringMatching(/not started in this browser/) });
      expect(await sso.complete(PLATFORM, { code: 'c', state: forConnect.state }, forConnect.binding, async () => tenant())).toMatchObject({ ok: false, reason: expect.stringMatching(/not started in this browser/) });
    });

    it('attacker: an altered connect state, one without its browser\'s cookie, and an expired one have no purpose and do not complete', async () => {
      const { provider, seen } = fakeProvider();
      let now = Date.now();
      const sso = new SsoSignIn(provider, box, { current: secretsKey }, { now: () => now });
      const { state, binding } = await begunConnect(sso, seen);
      const altered = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
      for (const [s, b] of [[altered, binding], [state, 'another-browser'], [state, undefined]] as const) {
        expect(sso.purposeOf(s, b)).toBeUndefined();
        expect(await sso.completeConnect(PLATFORM, { code: 'c', state: s }, b, async () => tenant())).toMatchObject({ ok: false });
      }
      now += SSO_ROUND_TRIP_TTL_MS + 1;
      expect(sso.purposeOf(state, binding)).toBeUndefined();
      expect(await sso.completeConnect(PLATFORM, { code: 'c', state }, binding, async () => tenant())).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    });

    it('does not start a round trip for a link of another tenant', async () => {
      const sso = new SsoSignIn(fakeProvider().provider, box, { current: secretsKey });
      expect(await sso.beginConnect(PLATFORM, tenant(), { ...connect, tenantId: 'tenant-2' })).toMatchObject({ ok: false });
    });
  });

  it('refuses a client secret sealed for another tenant', async () => {
    const { provider, seen } = fakeProvider();
    const sso = new SsoSignIn(provider, box, { current: secretsKey });
    const { state, binding } = await begun(sso, seen);
    const copied = { id: 'tenant-1', oauth: { sso: { ...tenant().oauth.sso, clientSecretSealed: box.encrypt({ clientSecret: 'x' }, ssoSecretAad('tenant-2')) } } };
    expect(await sso.complete(PLATFORM, { code: 'c', state }, binding, async () => copied)).toMatchObject({ ok: false, reason: expect.stringMatching(/client secret/) });
  });
});
