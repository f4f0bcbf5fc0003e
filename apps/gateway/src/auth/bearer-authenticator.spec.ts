import type { ApiKeyResolver, Principal, ResolveResult, TenantTokenClaims } from '@switchboard/api-keys';
import { bearerTokenOf } from '@switchboard/api-keys';
import { BearerAuthenticator } from './bearer-authenticator';
import type { AccessTokenVerifier } from './access-token-verifier';
import type { TenantTokenVerifier } from './tenant-token-verifier';

const KEY = 'sbk_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBCCCCCC';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
const principal: Principal = { kind: 'api-key', tenantId: 't', tenantSlug: 'acme', keyId: 'k', plugins: [], keyLimits: {}, tenantLimits: {} };
const claims = { tenant: 't', sub: 'alice', key: 'k', iat: 1, exp: 2 } as TenantTokenClaims;

/** A key store and token verifier that accept exactly KEY and JWT, and record what reached them. */
function authenticator() {
  const seen: string[] = [];
  const keys = {
    resolve: async (token: string): Promise<ResolveResult> => {
      seen.push(token);
      return token === KEY ? { ok: true, principal } : { ok: false, reason: 'malformed' };
    },
    resolveTenantToken: async (): Promise<ResolveResult> => ({ ok: true, principal: { ...principal, kind: 'jwt', subject: 'alice' } }),
  } as unknown as ApiKeyResolver;
  const tokens = {
    verify: async (token: string) => {
      seen.push(token);
      return token === JWT ? claims : null;
    },
  } as unknown as TenantTokenVerifier;
  const verifier = {
    verify: async (token: string) => {
      seen.push(`oauth:${token}`);
      return { ok: false, reason: 'unknown' };
    },
  } as unknown as AccessTokenVerifier;
  return { auth: new BearerAuthenticator(keys, tokens, { verifier, revokedGrants: { isRevoked: () => false } }), seen };
}

describe('bearer credentials', () => {
  it.each([
    ['a trailing second word', `Bearer ${KEY} extra-garbage`],
    ['a second token', `Bearer ${KEY} ${KEY}`],
    ['a comma-joined second credential', `Bearer ${KEY}, Bearer ${KEY}`],
    ['two spaces after the scheme', `Bearer  ${KEY}`],
    ['a tab after the scheme', `Bearer\t${KEY}`],
    ['a tab after the token', `Bearer ${KEY}\tx`],
    ['a no-break space after the token (trim() would eat it)', `Bearer ${KEY}\u00a0`],
    ['a no-break space after a tenant token', `Bearer ${JWT}\u00a0`],
    ['a tenant token and garbage', `Bearer ${JWT} x`],
    ['no token at all', 'Bearer'],
    ['only a space', 'Bearer '],
    ['a character outside b64token', 'Bearer ab%cd'],
    ['"=" inside the token', 'Bearer ab=cd'],
    ['only "="', 'Bearer ='],
    ['a NUL', `Bearer ${KEY}\u0000`],
  ])('refuses %s as malformed, before any lookup', async (_label, header) => {
    const { auth, seen } = authenticator();
    expect(bearerTokenOf(header)).toEqual({ reason: 'malformed' });
    expect(await auth.authenticate({ authorization: header })).toEqual({ ok: false, reason: 'malformed' });
    expect(seen).toEqual([]);
  });

  it.each([undefined, '', `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearerish ${KEY}`, `Token ${KEY}`])(
    'treats %j as no bearer credential',
    async (header) => {
      const { auth, seen } = authenticator();
      expect(await auth.authenticate({ authorization: header })).toEqual({ ok: false, reason: 'missing' });
      expect(seen).toEqual([]);
    },
  );

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s (RFC 7235: case-insensitive)', async (scheme) => {
    const { auth } = authenticator();
    expect(await auth.authenticate({ authorization: `${scheme} ${KEY}` })).toEqual({ ok: true, principal });
  });

  it('accepts every b64token character and trailing "="', () => {
    expect(bearerTokenOf('Bearer aZ09-._~+/==')).toEqual({ token: 'aZ09-._~+/==' });
  });

  it('hands the verifier exactly the token it parsed, so both judge the same string', async () => {
    const { auth, seen } = authenticator();
    expect(await auth.authenticate({ authorization: `Bearer ${JWT}` })).toMatchObject({ ok: true, principal: { kind: 'jwt', subject: 'alice' } });
    expect(seen).toEqual([JWT]);
  });

  it('never sends an API key or a tenant token to the OAuth verifier, even with a resource to compare against', async () => {
    const { auth, seen } = authenticator();
    const resource = { issuer: 'https://gw.example', audience: 'https://gw.example/t/acme/mcp' };
    expect(await auth.authenticate({ authorization: `Bearer ${KEY}` }, resource)).toEqual({ ok: true, principal });
    expect(await auth.authenticate({ authorization: `Bearer ${JWT}` }, resource)).toMatchObject({ ok: true, principal: { kind: 'jwt' } });
    expect(seen).toEqual([KEY, JWT]);
  });

  it('sends a JWT whose header says typ at+jwt (any case, or application/at+jwt) only to the OAuth verifier', async () => {
    const { auth, seen } = authenticator();
    const resource = { issuer: 'https://gw.example', audience: 'https://gw.example/t/acme/mcp' };
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
      const token = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ })).toString('base64url')}.eyJzdWIiOiJhIn0.c2lnbmF0dXJl`;
      expect(await auth.authenticate({ authorization: `Bearer ${token}` }, resource)).toEqual({ ok: false, reason: 'unknown' });
      expect(seen.splice(0)).toEqual([`oauth:${token}`]);
    }
  });

  it('calls a tenant token the verifier refuses unknown', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticate({ authorization: `Bearer ${JWT.slice(0, -2)}xx` })).toEqual({ ok: false, reason: 'unknown' });
  });
});
