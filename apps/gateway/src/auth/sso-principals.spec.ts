import type { PrismaClient } from '@switchboard/db';
import { InProcessControlBus } from '@switchboard/coordination';
import type { AccessTokenClaims } from './oauth-access-token';
import { SsoPrincipals } from './sso-principals';

const ISSUER = 'https://login.acme.example';
const NOW = 1_800_000_000_000;
const GRANT = '0b4e7f7a-1f4e-4a5e-9a39-6f9a4c1b2d3e';

function fakePrisma(tenant: { status: string; oauth: unknown; plugins: string[] } | null) {
  const reads = { count: 0 };
  const prisma = {
    tenant: {
      findUnique: async () => {
        reads.count += 1;
        return tenant && { slug: 'acme', status: tenant.status, limits: { requestsPerMinute: 30 }, oauth: tenant.oauth, plugins: tenant.plugins.map((name) => ({ name })) };
      },
    },
  } as unknown as PrismaClient;
  return { prisma, reads };
}

const ssoOn = { sso: { issuer: ISSUER, clientId: 'c', clientSecretSealed: 'sealed', allowedEmailDomains: [] } };
const claims = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'https://gw.example',
  aud: 'https://gw.example/t/acme/mcp',
  sub: `sso:${ISSUER}#user-1`,
  client_id: 'sbc_x',
  scope: 'mcp plugin:echo',
  tenant: 'tenant-1',
  grant: GRANT,
  email: 'ada@acme.example',
  iat: NOW / 1000 - 5,
  exp: NOW / 1000 + 600,
  jti: 'j',
  ...overrides,
});

describe('SsoPrincipals', () => {
  const clock = { now: () => NOW };

  it('gives an SSO grant the tenant’s principal: the grant id as pseudo key id, the SSO subject, the granted plugins, the tenant’s limits', async () => {
    const sso = new SsoPrincipals(fakePrisma({ status: 'active', oauth: ssoOn, plugins: ['echo', 'notes'] }).prisma, clock);
    expect(await sso.principalFor(claims())).toEqual({
      ok: true,
      principal: {
        kind: 'oauth',
        tenantId: 'tenant-1',
        tenantSlug: 'acme',
        keyId: GRANT,
        subject: `sso:${ISSUER}#user-1`,
        grantId: GRANT,
        plugins: ['echo'],
        keyPlugins: [],
        keyLimits: {},
        tenantLimits: { requestsPerMinute: 30 },
        expiresAt: NOW + 600_000,
      },
    });
  });

  it('grants only plugins the tenant still has: none left is refused, not "every plugin"', async () => {
    const sso = new SsoPrincipals(fakePrisma({ status: 'active', oauth: ssoOn, plugins: ['notes'] }).prisma, clock);
    expect(await sso.principalFor(claims())).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses the grants of a suspended tenant, and of a tenant whose provider was removed or replaced', async () => {
    expect(await new SsoPrincipals(fakePrisma({ status: 'suspended', oauth: ssoOn, plugins: ['echo'] }).prisma, clock).principalFor(claims())).toEqual({ ok: false, reason: 'tenant_suspended' });
    expect(await new SsoPrincipals(fakePrisma({ status: 'active', oauth: {}, plugins: ['echo'] }).prisma, clock).principalFor(claims())).toEqual({ ok: false, reason: 'revoked' });
    const other = new SsoPrincipals(fakePrisma({ status: 'active', oauth: ssoOn, plugins: ['echo'] }).prisma, clock);
    expect(await other.principalFor(claims({ sub: 'sso:https://login.evil.example#user-1' }))).toEqual({ ok: false, reason: 'revoked' });
    expect(await new SsoPrincipals(fakePrisma(null).prisma, clock).principalFor(claims())).toEqual({ ok: false, reason: 'unknown' });
  });

  it('reads the tenant once per cache period and again after a tenant change on the bus', async () => {
    const { prisma, reads } = fakePrisma({ status: 'active', oauth: ssoOn, plugins: ['echo'] });
    const sso = new SsoPrincipals(prisma, clock);
    const bus = new InProcessControlBus();
    const detach = sso.attach(bus);
    await sso.principalFor(claims());
    await sso.principalFor(claims());
    expect(reads.count).toBe(1);
    await bus.publish({ type: 'tenant.changed', tenantId: 'tenant-1' });
    await sso.principalFor(claims());
    expect(reads.count).toBe(2);
    detach();
  });
});
