import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { keyIdOf } from '@switchboard/secrets';
import { TENANT_TOKEN_AUDIENCE, TENANT_TOKEN_ISSUER, TenantTokens, deriveTokenKey } from './tenant-tokens';

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
});
