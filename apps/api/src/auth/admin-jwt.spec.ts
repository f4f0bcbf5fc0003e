import { adminFromClaims } from './admin-jwt';

const exp = Math.floor(Date.now() / 1000) + 60;
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
});
