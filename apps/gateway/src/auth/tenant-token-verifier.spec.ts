import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import {
  deriveTokenKey,
  TENANT_TOKEN_AUDIENCE,
  TENANT_TOKEN_CLOCK_SKEW_SECONDS,
  TENANT_TOKEN_ISSUER,
  TENANT_TOKEN_MAX_TTL_SECONDS,
  TenantTokens,
} from '@switchboard/api-keys';
import { keyIdOf } from '@switchboard/secrets';
import { TenantTokenVerifier } from './tenant-token-verifier';

const pepper = randomBytes(32);
const tokens = new TenantTokens({ current: { id: keyIdOf(pepper), key: pepper }, previous: [] });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signed with the platform's real key, as the API derives it: only the times are the attacker's. */
function forge(times: { iat?: number; exp?: number }): string {
  return jwt.sign({ iss: TENANT_TOKEN_ISSUER, aud: TENANT_TOKEN_AUDIENCE, tenant: 't', sub: 'eve', key: 'k', ...times }, deriveTokenKey(pepper), {
    algorithm: 'HS256',
    keyid: keyIdOf(pepper),
    // jsonwebtoken drops a given iat with noTimestamp, and adds one without it.
    noTimestamp: times.iat === undefined,
  });
}

describe('TenantTokenVerifier', () => {
  const verifier = new TenantTokenVerifier(tokens);

  it('accepts a minted token, at the longest lifetime mint allows', async () => {
    const { token } = tokens.mint({ tenantId: 't', keyId: 'k', subject: 'alice', ttlSeconds: TENANT_TOKEN_MAX_TTL_SECONDS });
    expect(await verifier.verify(token)).toMatchObject({ tenant: 't', sub: 'alice' });
  });

  it.each([
    ['without exp', () => ({ iat: nowSeconds() })],
    ['without exp or iat', () => ({})],
    ['without iat', () => ({ exp: nowSeconds() + 600 })],
    ['expiring in 100 years', () => ({ iat: nowSeconds(), exp: nowSeconds() + 100 * 365 * 86_400 })],
    ['living one second longer than mint allows', () => ({ iat: nowSeconds(), exp: nowSeconds() + TENANT_TOKEN_MAX_TTL_SECONDS + 1 })],
    ['issued in the future beyond the clock skew', () => ({ iat: nowSeconds() + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 120, exp: nowSeconds() + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 600 })],
    ['already expired', () => ({ iat: nowSeconds() - 600, exp: nowSeconds() - 1 })],
  ])('refuses a token signed with the real key %s', async (_label, times) => {
    expect(await verifier.verify(forge(times()))).toBeNull();
  });

  it('tolerates an iat a few seconds ahead (clocks of API and gateway differ)', async () => {
    expect(await verifier.verify(forge({ iat: nowSeconds() + 5, exp: nowSeconds() + 600 }))).toMatchObject({ sub: 'eve' });
  });

  it('enforces a shorter configured maximum lifetime', async () => {
    const strict = new TenantTokenVerifier(tokens, { maxLifetimeSeconds: 300 });
    expect(await strict.verify(tokens.mint({ tenantId: 't', keyId: 'k', subject: 'a', ttlSeconds: 301 }).token)).toBeNull();
    expect(await strict.verify(tokens.mint({ tenantId: 't', keyId: 'k', subject: 'a', ttlSeconds: 300 }).token)).toMatchObject({ sub: 'a' });
  });

  it('judges iat against its own clock: a token minted an hour ahead of it is refused', async () => {
    const later = new TenantTokenVerifier(tokens, { clock: { now: () => Date.now() - 3_600_000 } });
    expect(await later.verify(tokens.mint({ tenantId: 't', keyId: 'k', subject: 'a' }).token)).toBeNull();
  });

  it('refuses a token signed with another key', async () => {
    const other = randomBytes(32);
    const foreign = new TenantTokens({ current: { id: keyIdOf(other), key: other }, previous: [] });
    expect(await verifier.verify(foreign.mint({ tenantId: 't', keyId: 'k', subject: 'a' }).token)).toBeNull();
  });
});
