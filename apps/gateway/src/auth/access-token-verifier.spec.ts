import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { ApiKeyResolver, Principal, ResolveResult } from '@switchboard/api-keys';
import { bindingOf } from './credential-binding';
import { AccessTokenVerifier, type PublishedSigningKey, type SigningKeySource } from './access-token-verifier';
import { BearerAuthenticator } from './bearer-authenticator';
import { publicJwkOf, signAccessToken, type AccessTokenClaims } from './oauth-access-token';
import { RevokedGrants } from './revoked-grants';
import type { TenantTokenVerifier } from './tenant-token-verifier';

const ISSUER = 'https://gateway.example';
const ACME = `${ISSUER}/t/acme/mcp`;
const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;

function keyPair(kid: string) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, key: privateKey };
}

const clock = { t: NOW_MS, now() { return this.t; } };

/** A key table that counts its reads, with rows the test may change. */
function table(keys: { kid: string; key: KeyObject }[], retiredAt: Date | null = null) {
  const state = { reads: 0, rows: keys.map((k): PublishedSigningKey => ({ kid: k.kid, publicJwk: publicJwkOf(k), retiredAt })), fail: false };
  const source: SigningKeySource = {
    publicKeys: async () => {
      state.reads++;
      if (state.fail) throw new Error('database unavailable');
      return state.rows;
    },
  };
  return { state, source };
}

function claims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return {
    iss: ISSUER,
    aud: ACME,
    sub: 'key:key-1',
    client_id: 'sbc_client',
    scope: 'mcp plugin:echo',
    tenant: 'tenant-acme',
    grant: 'grant-1',
    key: 'key-1',
    iat: NOW - 10,
    exp: NOW + 590,
    jti: 'jti-1',
    ...overrides,
  };
}

/** A token with any header and payload, signed by `sign` over the signing input. */
function forged(header: Record<string, unknown>, payload: object, sign: (input: string) => string): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign(input)}`;
}

describe('AccessTokenVerifier', () => {
  const signing = keyPair('kid-1');
  const expected = { issuer: ISSUER, audience: ACME };

  beforeEach(() => {
    clock.t = NOW_MS;
  });

  it('accepts a token of a published key, for this resource, in its lifetime', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    expect(await verifier.verify(signAccessToken(claims(), signing), expected)).toEqual({ ok: true, claims: claims() });
  });

  it('refuses a token signed by a key the platform never published', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const stranger = keyPair('kid-1');
    expect(await verifier.verify(signAccessToken(claims(), stranger), expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const [header, , signature] = signAccessToken(claims(), signing).split('.');
    const payload = Buffer.from(JSON.stringify(claims({ scope: 'mcp plugin:admin' }))).toString('base64url');
    expect(await verifier.verify(`${header}.${payload}.${signature}`, expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses alg none', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const token = forged({ alg: 'none', typ: 'at+jwt', kid: 'kid-1' }, claims(), () => '');
    expect(await verifier.verify(token, expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses HS256 signed with the published public key as the secret', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const secret = Buffer.from(JSON.stringify(publicJwkOf(signing)));
    const pem = createPublicKey(signing.key).export({ format: 'pem', type: 'spki' });
    for (const key of [secret, Buffer.from(pem)]) {
      const token = forged({ alg: 'HS256', typ: 'at+jwt', kid: 'kid-1' }, claims(), (input) => createHmac('sha256', key).update(input).digest('base64url'));
      expect(await verifier.verify(token, expected)).toEqual({ ok: false, reason: 'unknown' });
    }
  });

  it('refuses a token of ours without typ at+jwt (RFC 9068 §4)', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const token = jwt.sign(claims(), signing.key, { algorithm: 'ES256', keyid: 'kid-1' });
    expect(await verifier.verify(token, expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses an expired token as expired', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const token = signAccessToken(claims({ iat: NOW - 700, exp: NOW - 100 }), signing);
    expect(await verifier.verify(token, expected)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token of another issuer', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const token = signAccessToken(claims({ iss: 'https://evil.example' }), signing);
    expect(await verifier.verify(token, expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it.each([
    ['another tenant', `${ISSUER}/t/globex/mcp`],
    ['a plugin URL of the same tenant', `${ISSUER}/t/acme/p/echo/mcp`],
    ['the legacy SSE URL of the same tenant', `${ISSUER}/t/acme/sse`],
    ['the same path on another origin', 'https://evil.example/t/acme/mcp'],
    ['the URL with a trailing slash', `${ACME}/`],
  ])('refuses a token whose audience is %s', async (_label, audience) => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    expect(await verifier.verify(signAccessToken(claims({ aud: audience }), signing), expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a token that claims a lifetime longer than any the platform issues, or was issued in the future', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock, maxLifetimeSeconds: 600 });
    expect(await verifier.verify(signAccessToken(claims({ iat: NOW - 10, exp: NOW + 86_400 }), signing), expected)).toEqual({ ok: false, reason: 'unknown' });
    expect(await verifier.verify(signAccessToken(claims({ iat: NOW + 60, exp: NOW + 120 }), signing), expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a token with claims missing', async () => {
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    const { grant: _grant, ...withoutGrant } = claims();
    const token = jwt.sign(withoutGrant, signing.key, { algorithm: 'ES256', header: { alg: 'ES256', typ: 'at+jwt', kid: 'kid-1' } });
    expect(await verifier.verify(token, expected)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reads the key table once for many requests, and verifies without it afterwards', async () => {
    const { state, source } = table([signing]);
    const verifier = new AccessTokenVerifier(source, { clock });
    const token = signAccessToken(claims(), signing);
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token, expected)));
    expect(state.reads).toBe(1);
  });

  it('finds a key the authorization server rotated to, on the first token that names it', async () => {
    const { state, source } = table([signing]);
    const verifier = new AccessTokenVerifier(source, { clock });
    await verifier.verify(signAccessToken(claims(), signing), expected);
    const next = keyPair('kid-2');
    state.rows.push({ kid: next.kid, publicJwk: publicJwkOf(next), retiredAt: null });
    clock.t += 6_000;
    expect(await verifier.verify(signAccessToken(claims(), next), expected)).toMatchObject({ ok: true });
  });

  it('reads the key table at most once per refresh interval however many unknown kids arrive', async () => {
    const { state, source } = table([signing]);
    const verifier = new AccessTokenVerifier(source, { clock, refreshIntervalMs: 5_000 });
    for (let i = 0; i < 100; i++) {
      const random = keyPair(`random-${i}`);
      expect(await verifier.verify(signAccessToken(claims(), random), expected)).toEqual({ ok: false, reason: 'unknown' });
      clock.t += 10;
    }
    expect(state.reads).toBe(1);
    clock.t += 5_000;
    await verifier.verify(signAccessToken(claims(), keyPair('random-x')), expected);
    expect(state.reads).toBe(2);
  });

  it('stops accepting a key deleted from the table once the key set is reloaded', async () => {
    const { state, source } = table([signing]);
    const verifier = new AccessTokenVerifier(source, { clock, maxKeySetAgeMs: 60_000 });
    const token = signAccessToken(claims(), signing);
    expect(await verifier.verify(token, expected)).toMatchObject({ ok: true });
    state.rows = [];
    clock.t += 60_000;
    expect(await verifier.verify(signAccessToken(claims({ iat: NOW + 50, exp: NOW + 600 }), signing), expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('keeps verifying with a known key while the database is away, and ignores keys retired longer than a token lives', async () => {
    const { state, source } = table([signing]);
    const verifier = new AccessTokenVerifier(source, { clock, maxKeySetAgeMs: 60_000 });
    await verifier.verify(signAccessToken(claims(), signing), expected);
    state.fail = true;
    clock.t += 61_000;
    expect(await verifier.verify(signAccessToken(claims({ iat: NOW + 60, exp: NOW + 600 }), signing), expected)).toMatchObject({ ok: true });
    await expect(verifier.verify(signAccessToken(claims(), keyPair('kid-new')), expected)).resolves.toEqual({ ok: false, reason: 'unknown' });

    const old = table([signing], new Date(NOW_MS - 2 * 86_400_000));
    const strict = new AccessTokenVerifier(old.source, { clock: { now: () => NOW_MS } });
    expect(await strict.verify(signAccessToken(claims(), signing), expected)).toEqual({ ok: false, reason: 'unknown' });
  });
});

describe('BearerAuthenticator with OAuth access tokens', () => {
  const signing = keyPair('kid-1');
  const expected = { issuer: ISSUER, audience: ACME };
  const keyPrincipal: Principal = { kind: 'api-key', tenantId: 'tenant-acme', tenantSlug: 'acme', keyId: 'key-1', plugins: [], keyLimits: {}, tenantLimits: {}, expiresAt: NOW_MS + 3_600_000 };

  /** The resolver answers for key-1 of tenant-acme with `keyPlugins`, or `state` when the key changed. */
  function authenticator(options: { keyPlugins?: string[]; keyState?: ResolveResult } = {}) {
    const asked: unknown[] = [];
    const keys = {
      resolve: async () => ({ ok: false, reason: 'unknown' }),
      resolveKeyId: async (keyId: string): Promise<ResolveResult> => {
        asked.push(keyId);
        if (options.keyState) return options.keyState;
        if (keyId !== 'key-1') return { ok: false, reason: 'unknown' };
        return { ok: true, principal: { ...keyPrincipal, plugins: options.keyPlugins ?? [] } };
      },
    } as unknown as ApiKeyResolver;
    const tenantTokens = {
      verify: async (token: string) => {
        asked.push(`tenant-token:${token}`);
        return null;
      },
    } as unknown as TenantTokenVerifier;
    const revokedGrants = new RevokedGrants({ revokedSince: async () => [] }, { windowMs: 86_400_000, clock });
    const verifier = new AccessTokenVerifier(table([signing]).source, { clock });
    return { auth: new BearerAuthenticator(keys, tenantTokens, { verifier, revokedGrants }), revokedGrants, asked };
  }
  const header = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeEach(() => {
    clock.t = NOW_MS;
  });

  it('builds the principal from the key: plugins narrowed to the scopes, expiry the earlier of token and key, the grant named', async () => {
    const { auth } = authenticator({ keyPlugins: ['echo', 'notes'] });
    const outcome = await auth.authenticate(header(signAccessToken(claims(), signing)), expected);
    expect(outcome).toEqual({
      ok: true,
      principal: {
        ...keyPrincipal,
        kind: 'oauth',
        subject: 'key:key-1',
        grantId: 'grant-1',
        plugins: ['echo'],
        keyPlugins: ['echo', 'notes'],
        expiresAt: (NOW + 590) * 1000,
        keyExpiresAt: keyPrincipal.expiresAt,
      },
    });
  });

  it('binds a session to the grant and lets it live as long as the key, each request bringing its own live token', async () => {
    const { auth } = authenticator();
    const outcome = await auth.authenticate(header(signAccessToken(claims(), signing)), expected);
    if (!outcome.ok) throw new Error('refused');
    expect(bindingOf(outcome.principal)).toMatchObject({ grantId: 'grant-1', subject: 'key:key-1', expiresAt: keyPrincipal.expiresAt });
  });

  it('never widens a key: a scope for a plugin the key lacks is dropped, and none left is refused', async () => {
    const { auth } = authenticator({ keyPlugins: ['notes'] });
    expect(await auth.authenticate(header(signAccessToken(claims({ scope: 'mcp plugin:echo plugin:notes' }), signing)), expected)).toMatchObject({ ok: true, principal: { plugins: ['notes'] } });
    expect(await auth.authenticate(header(signAccessToken(claims({ scope: 'mcp plugin:echo' }), signing)), expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a token of a revoked grant, and other grants of the same key still work', async () => {
    const { auth, revokedGrants } = authenticator();
    revokedGrants.revoke('grant-1');
    expect(await auth.authenticate(header(signAccessToken(claims(), signing)), expected)).toEqual({ ok: false, reason: 'revoked' });
    expect(await auth.authenticate(header(signAccessToken(claims({ grant: 'grant-2' }), signing)), expected)).toMatchObject({ ok: true });
  });

  it.each([
    ['revoked', { ok: false, reason: 'revoked' } as ResolveResult],
    ['expired', { ok: false, reason: 'expired' } as ResolveResult],
    ['tenant_suspended', { ok: false, reason: 'tenant_suspended' } as ResolveResult],
  ])('refuses a valid token whose key is now %s', async (reason, keyState) => {
    const { auth } = authenticator({ keyState });
    expect(await auth.authenticate(header(signAccessToken(claims(), signing)), expected)).toEqual({ ok: false, reason });
  });

  it('refuses a token naming a key of another tenant', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticate(header(signAccessToken(claims({ tenant: 'tenant-globex' }), signing)), expected)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a grant without an API key (single sign-on is a later step)', async () => {
    const { auth, asked } = authenticator();
    const { key: _key, ...withoutKey } = claims();
    expect(await auth.authenticate(header(signAccessToken(withoutKey, signing)), expected)).toEqual({ ok: false, reason: 'unknown' });
    expect(asked).toEqual([]);
  });

  it('refuses a token for tenant acme presented at tenant globex, as it refuses an unknown token', async () => {
    const { auth } = authenticator();
    const token = signAccessToken(claims(), signing);
    const atGlobex = await auth.authenticate(header(token), { issuer: ISSUER, audience: `${ISSUER}/t/globex/mcp` });
    const unknown = await auth.authenticate(header(signAccessToken(claims(), keyPair('kid-1'))), expected);
    expect(atGlobex).toEqual({ ok: false, reason: 'unknown' });
    expect(atGlobex).toEqual(unknown);
  });

  it('never judges an access token as a tenant token, nor without a resource to compare its audience with', async () => {
    const { auth, asked } = authenticator();
    expect(await auth.authenticate(header(signAccessToken(claims(), signing)))).toEqual({ ok: false, reason: 'unknown' });
    const hs = forged({ alg: 'HS256', typ: 'at+jwt' }, claims(), () => 'c2ln');
    expect(await auth.authenticate(header(hs), expected)).toEqual({ ok: false, reason: 'unknown' });
    expect(asked).toEqual([]);
  });
});
