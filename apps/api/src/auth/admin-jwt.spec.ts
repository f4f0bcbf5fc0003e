import { adminFromClaims as fromClaims, CLOCK_TOLERANCE_SECONDS, type TokenLifetimePolicy } from './admin-jwt';

const now = Math.floor(Date.now() / 1000);
const exp = now + 60;
const DAY = 86_400;
const policy: TokenLifetimePolicy = { nowSeconds: now, maxTtlSeconds: 7 * DAY };
const adminFromClaims = (claims: unknown) => fromClaims(claims, policy);
const tenant = '3f1c2b9e-8a7d-4c6b-9e5f-1a2b3c4d5e6f';

describe('adminFromClaims', () => {
  it('makes a platform admin from role "admin"', () => {
    expect(adminFromClaims({ role: 'admin', sub: 'alice', exp })).toEqual({ kind: 'platform-admin', actor: 'alice' });
    expect(adminFromClaims({ role: ['viewer', 'admin'], exp })).toEqual({ kind: 'platform-admin', actor: 'admin' });
  });

  it('makes a tenant admin from a tenant claim, even when the token also says admin', () => {
    expect(adminFromClaims({ tenant, role: 'admin', exp })).toMatchObject({ kind: 'tenant-admin', tenantId: tenant });
  });

  it('refuses tokens without a role, with a malformed tenant claim or without an expiry', () => {
    expect(adminFromClaims({ exp })).toBeNull();
    expect(adminFromClaims({ role: 'Admin', exp })).toBeNull();
    expect(adminFromClaims({ tenant: 'acme', exp })).toBeNull();
    expect(adminFromClaims({ role: 'admin' })).toBeNull();
  });

  it('refuses tokens that live longer than the policy allows, counted from iat and from now', () => {
    expect(adminFromClaims({ role: 'admin', iat: now, exp: now + 7 * DAY })).not.toBeNull();
    expect(adminFromClaims({ role: 'admin', iat: now, exp: now + 100 * 365 * DAY })).toBeNull();
    expect(adminFromClaims({ tenant, iat: now, exp: now + 8 * DAY })).toBeNull();
    // Without iat, or with an iat forged close to exp, the distance from now still counts.
    expect(adminFromClaims({ role: 'admin', exp: now + 30 * DAY })).toBeNull();
    expect(adminFromClaims({ role: 'admin', iat: now + 29 * DAY, exp: now + 30 * DAY })).toBeNull();
    // Minted a day ago for a week: six days left, fine.
    expect(adminFromClaims({ role: 'admin', iat: now - DAY, exp: now + 6 * DAY })).not.toBeNull();
    expect(adminFromClaims({ role: 'admin', iat: now, exp: now + 7 * DAY + CLOCK_TOLERANCE_SECONDS + 1 })).toBeNull();
  });

  it('refuses non-numeric exp and iat claims', () => {
    expect(adminFromClaims({ role: 'admin', exp: String(exp) })).toBeNull();
    expect(adminFromClaims({ role: 'admin', iat: 'yesterday', exp })).toBeNull();
  });
});
