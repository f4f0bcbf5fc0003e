import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { keyIdOf } from '@switchboard/secrets';
import {
  TENANT_TOKEN_AUDIENCE,
  TENANT_TOKEN_CLOCK_SKEW_SECONDS,
  TENANT_TOKEN_ISSUER,
  TENANT_TOKEN_MAX_TTL_SECONDS,
  TenantTokens,
  deriveTokenKey,
  tenantTokenTimeProblem,
} from './tenant-tokens';

const ring = (key = randomBytes(32), previous: Buffer[] = []) => ({
  current: { id: keyIdOf(key), key },
  previous: previous.map((k) => ({ id: keyIdOf(k), key: k })),
});

describe('TenantTokens', () => {
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now };

  it('mints an HS256 token with issuer, audience, tenant, subject, key and expiry', () => {
    const pepper = randomBytes(32);
    const tokens = new TenantTokens(ring(pepper), clock);
    const { token, expiresAt } = tokens.mint({ tenantId: 't1', keyId: 'k1', subject: 'user-7', plugins: ['notes'], ttlSeconds: 600 });
    expect(expiresAt.getTime()).toBe(now + 600_000);
    const claims = jwt.verify(token, deriveTokenKey(pepper), { algorithms: ['HS256'], clockTimestamp: now / 1000 }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ iss: TENANT_TOKEN_ISSUER, aud: TENANT_TOKEN_AUDIENCE, tenant: 't1', sub: 'user-7', key: 'k1', plugins: ['notes'] });
    expect(tokens.verify(token)).toMatchObject({ tenant: 't1', sub: 'user-7' });
  });

  it('signs with a key derived from the pepper, never the pepper itself', () => {
    const pepper = randomBytes(32);
    const { token } = new TenantTokens(ring(pepper), clock).mint({ tenantId: 't', keyId: 'k', subject: 's' });
    expect(() => jwt.verify(token, pepper, { clockTimestamp: now / 1000 })).toThrow();
  });

  it('refuses a ttl above one hour', () => {
    const tokens = new TenantTokens(ring(), clock);
    expect(() => tokens.mint({ tenantId: 't', keyId: 'k', subject: 's', ttlSeconds: 3601 })).toThrow(RangeError);
  });

  it('rejects an expired token, a token of another platform and a forged one', () => {
    const tokens = new TenantTokens(ring(), clock);
    const { token } = tokens.mint({ tenantId: 't', keyId: 'k', subject: 's', ttlSeconds: 60 });
    now += 61_000;
    expect(tokens.verify(token)).toBeNull();
    expect(new TenantTokens(ring(), clock).verify(tokens.mint({ tenantId: 't', keyId: 'k', subject: 's' }).token)).toBeNull();
    const forged = jwt.sign({ tenant: 't', key: 'k', sub: 's', iss: TENANT_TOKEN_ISSUER, aud: TENANT_TOKEN_AUDIENCE }, 'guess');
    expect(tokens.verify(forged)).toBeNull();
  });

  it('still verifies tokens minted before a pepper rotation', () => {
    const oldPepper = randomBytes(32);
    const { token } = new TenantTokens(ring(oldPepper), clock).mint({ tenantId: 't', keyId: 'k', subject: 's' });
    const rotated = new TenantTokens(ring(randomBytes(32), [oldPepper]), clock);
    expect(rotated.verify(token)).toMatchObject({ tenant: 't' });
    expect(rotated.verificationSecret(keyIdOf(oldPepper))).toEqual(deriveTokenKey(oldPepper));
  });

  describe('a token signed with the right key but made by hand', () => {
    const pepper = randomBytes(32);
    const tokens = new TenantTokens(ring(pepper), clock);
    const nowSeconds = () => Math.floor(now / 1000);
    /** What an attacker holding the derived key (or a buggy minting path) would sign. */
    const forge = (times: { iat?: number; exp?: number }) =>
      jwt.sign({ iss: TENANT_TOKEN_ISSUER, aud: TENANT_TOKEN_AUDIENCE, tenant: 't', sub: 's', key: 'k', ...times }, deriveTokenKey(pepper), {
        algorithm: 'HS256',
        keyid: keyIdOf(pepper),
        // jsonwebtoken drops a given iat with noTimestamp, and adds one without it.
        noTimestamp: times.iat === undefined,
      });

    it('is accepted with the times mint would give it', () => {
      expect(tokens.verify(forge({ iat: nowSeconds(), exp: nowSeconds() + TENANT_TOKEN_MAX_TTL_SECONDS }))).toMatchObject({ tenant: 't' });
    });

    it.each([
      ['without exp', () => ({ iat: nowSeconds() })],
      ['without iat', () => ({ exp: nowSeconds() + 60 })],
      ['living 100 years', () => ({ iat: nowSeconds(), exp: nowSeconds() + 100 * 365 * 86_400 })],
      ['living one second longer than mint allows', () => ({ iat: nowSeconds(), exp: nowSeconds() + TENANT_TOKEN_MAX_TTL_SECONDS + 1 })],
      ['issued in the future', () => ({ iat: nowSeconds() + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 1, exp: nowSeconds() + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 60 })],
      ['with a backdated iat hiding a long life', () => ({ iat: nowSeconds() - 86_400, exp: nowSeconds() + 600 })],
    ])('is refused %s', (_label, times) => {
      expect(tokens.verify(forge(times()))).toBeNull();
    });
  });

  describe('tenantTokenTimeProblem', () => {
    it('allows a small clock skew on iat and a shorter configured maximum', () => {
      expect(tenantTokenTimeProblem({ iat: 1_000 + TENANT_TOKEN_CLOCK_SKEW_SECONDS, exp: 1_000 + TENANT_TOKEN_CLOCK_SKEW_SECONDS + 60 }, 1_000)).toBeUndefined();
      expect(tenantTokenTimeProblem({ iat: 1_000, exp: 1_601 }, 1_000, 600)).toMatch(/longer than 600/);
      expect(tenantTokenTimeProblem({ iat: 1_000, exp: 1_600 }, 1_000, 600)).toBeUndefined();
    });

    it.each([
      [{ iat: 1_000, exp: '9999999999' }, /exp is required/],
      [{ iat: '1000', exp: 1_100 }, /iat is required/],
      [{ iat: 900, exp: 1_000 }, /expired/],
      [{ iat: 1_200, exp: 1_200 }, /future|before/],
    ])('refuses %j', (claims, problem) => {
      expect(tenantTokenTimeProblem(claims, 1_000)).toMatch(problem);
    });
  });
});
