import { randomBytes } from 'node:crypto';
import { InProcessControlBus } from '@switchboard/coordination';
import { openDatabase, type Database } from '@switchboard/db';
import { keyIdOf } from '@switchboard/secrets';
import { createMigratedDatabase, eventually } from '@switchboard/testing';
import { formatApiKey, generateApiKey, parseApiKey } from './api-key-format';
import { ApiKeyResolver } from './api-key-resolver';
import { LastUsedTracker } from './last-used-tracker';
import { TenantTokens } from './tenant-tokens';

const pepper = randomBytes(32);
const peppers = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };

describe('ApiKeyResolver against Postgres', () => {
  let env: Awaited<ReturnType<typeof createMigratedDatabase>>;
  let now = Date.now();
  const clock = { now: () => now };
  let tenantId: string;

  beforeAll(async () => {
    env = await createMigratedDatabase('api_keys');
    const tenant = await env.db.prisma.tenant.create({ data: { slug: 'acme', name: 'Acme', limits: { requestsPerMinute: 100 } } });
    tenantId = tenant.id;
  });
  afterAll(async () => {
    await env.close();
  });

  async function issue(data: { expiresAt?: Date; plugins?: string[]; tools?: string[]; tenantId?: string } = {}) {
    const key = generateApiKey(peppers);
    const row = await env.db.prisma.apiKey.create({
      data: {
        tenantId: data.tenantId ?? tenantId,
        name: 'test',
        publicId: key.publicId,
        secretHash: key.secretHash,
        pepperId: key.pepperId,
        plugins: data.plugins ?? [],
        tools: data.tools ?? [],
        limits: { toolCallsPerMinute: 10 },
        expiresAt: data.expiresAt,
        createdBy: 'test',
      },
    });
    return { token: key.token, id: row.id };
  }

  const resolver = (options = {}) => new ApiKeyResolver(env.db.prisma, peppers, { clock, ...options });

  it('re-hashes a key made under a previous pepper at its first use, so the previous pepper can be dropped', async () => {
    const key = await issue();
    const newPepper = randomBytes(32);
    const rotated = { current: { id: keyIdOf(newPepper), key: newPepper }, previous: [peppers.current] };
    expect((await new ApiKeyResolver(env.db.prisma, rotated, { clock }).resolve(key.token)).ok).toBe(true);

    // The re-hash is written after the answer, off the request path.
    const storedPepper = async () => (await env.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).pepperId;
    await eventually(async () => (await storedPepper()) === rotated.current.id);
    expect(await storedPepper()).toBe(rotated.current.id);

    const withoutOldPepper = { current: rotated.current, previous: [] };
    expect((await new ApiKeyResolver(env.db.prisma, withoutOldPepper, { clock }).resolve(key.token)).ok).toBe(true);
    // And the old pepper alone no longer opens it.
    expect(await new ApiKeyResolver(env.db.prisma, peppers, { clock }).resolve(key.token)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('resolves an issued key to its tenant, key id, plugins and limits', async () => {
    const key = await issue({ plugins: ['notes'] });
    const result = await resolver().resolve(key.token);
    expect(result).toEqual({
      ok: true,
      principal: {
        kind: 'api-key',
        tenantId,
        tenantSlug: 'acme',
        keyId: key.id,
        plugins: ['notes'],
        keyLimits: { toolCallsPerMinute: 10 },
        tenantLimits: { requestsPerMinute: 100 },
      },
    });
  });

  it('calls a malformed key malformed and a well-formed stranger unknown', async () => {
    const r = resolver();
    expect(await r.resolve('sbk_nonsense')).toEqual({ ok: false, reason: 'malformed' });
    expect(await r.resolve(generateApiKey(peppers).token)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('does not accept a real public id with a wrong secret, and does not reveal its state', async () => {
    const key = await issue();
    await env.db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    // Valid shape and checksum, the victim's public id, a guessed secret.
    const forged = formatApiKey(parseApiKey(key.token)!.publicId, parseApiKey(generateApiKey(peppers).token)!.secret);
    expect(await resolver().resolve(forged)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('reports a revoked key as revoked once the cache is invalidated through the control bus', async () => {
    const key = await issue();
    const bus = new InProcessControlBus();
    const r = resolver();
    const detach = r.attach(bus);
    expect((await r.resolve(key.token)).ok).toBe(true);
    await env.db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    expect((await r.resolve(key.token)).ok).toBe(true); // still cached: the bus has not spoken yet
    await bus.publish({ type: 'api-key.revoked', tenantId, keyId: key.id });
    expect(await r.resolve(key.token)).toEqual({ ok: false, reason: 'revoked' });
    detach();
  });

  it('expires a cached key on time, without waiting for the cache entry to age out', async () => {
    const key = await issue({ expiresAt: new Date(now + 1_000) });
    const r = resolver({ cacheTtlMs: 3_600_000 });
    expect((await r.resolve(key.token)).ok).toBe(true);
    now += 1_000;
    expect(await r.resolve(key.token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses keys of a suspended tenant and accepts them again after reactivation', async () => {
    const tenant = await env.db.prisma.tenant.create({ data: { slug: 'suspended-co', name: 'S' } });
    const key = await issue({ tenantId: tenant.id });
    const bus = new InProcessControlBus();
    const r = resolver();
    r.attach(bus);
    expect((await r.resolve(key.token)).ok).toBe(true);
    await env.db.prisma.tenant.update({ where: { id: tenant.id }, data: { status: 'suspended' } });
    await bus.publish({ type: 'tenant.changed', tenantId: tenant.id });
    expect(await r.resolve(key.token)).toEqual({ ok: false, reason: 'tenant_suspended' });
    await env.db.prisma.tenant.update({ where: { id: tenant.id }, data: { status: 'active' } });
    r.invalidateTenant(tenant.id);
    expect((await r.resolve(key.token)).ok).toBe(true);
  });

  it('forgets the keys of a deleted tenant', async () => {
    const tenant = await env.db.prisma.tenant.create({ data: { slug: 'gone-co', name: 'G' } });
    const key = await issue({ tenantId: tenant.id });
    const bus = new InProcessControlBus();
    const r = resolver();
    r.attach(bus);
    expect((await r.resolve(key.token)).ok).toBe(true);
    await env.db.prisma.tenant.delete({ where: { id: tenant.id } });
    await bus.publish({ type: 'tenant.deleted', tenantId: tenant.id });
    expect(await r.resolve(key.token)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('answers a cache hit without touching Postgres (the connection is closed)', async () => {
    const key = await issue();
    const own: Database = openDatabase({ url: env.test.url, dataDir: '' });
    const r = new ApiKeyResolver(own.prisma, peppers, { clock });
    const stranger = generateApiKey(peppers).token;
    expect((await r.resolve(key.token)).ok).toBe(true);
    expect((await r.resolve(stranger)).ok).toBe(false);
    await own.close();
    expect(await r.resolve(key.token)).toMatchObject({ ok: true, principal: { keyId: key.id } });
    // Unknown keys are remembered too, so a flood of bad keys does not reach the database.
    expect(await r.resolve(stranger)).toEqual({ ok: false, reason: 'unknown' });
    // The HMAC is still checked on a hit: a wrong secret for the cached public id fails.
    const wrongSecret = formatApiKey(parseApiKey(key.token)!.publicId, 'A'.repeat(30));
    expect(await r.resolve(wrongSecret)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('re-reads the database after the cache entry ages out', async () => {
    const key = await issue();
    const r = resolver({ cacheTtlMs: 1_000 });
    expect((await r.resolve(key.token)).ok).toBe(true);
    await env.db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    now += 1_001;
    expect(await r.resolve(key.token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it("carries a key's tool allowlist to its principal, its tenant tokens' and the principal behind its key id (OAuth grants)", async () => {
    const key = await issue({ plugins: ['notes'], tools: ['notes__search'] });
    const tokens = new TenantTokens(peppers, clock);
    const r = resolver();
    expect(await r.resolve(key.token)).toMatchObject({ ok: true, principal: { plugins: ['notes'], tools: ['notes__search'] } });
    expect(await r.resolveKeyId(key.id)).toMatchObject({ ok: true, principal: { tools: ['notes__search'] } });
    const claims = tokens.verify(tokens.mint({ tenantId, keyId: key.id, subject: 'user-1' }).token)!;
    expect(await r.resolveTenantToken(claims)).toMatchObject({ ok: true, principal: { kind: 'jwt', tools: ['notes__search'] } });
    // An unrestricted key's principal has no list at all.
    const open = await r.resolve((await issue()).token);
    expect(open.ok && open.principal.tools).toBeUndefined();
  });

  it('resolves a tenant token only while its minting key is valid, narrowing plugins and naming the subject', async () => {
    const key = await issue({ plugins: ['notes', 'echo'] });
    const tokens = new TenantTokens(peppers, clock);
    const claims = tokens.verify(tokens.mint({ tenantId, keyId: key.id, subject: 'user-1', plugins: ['echo'] }).token)!;
    const r = resolver();
    expect(await r.resolveTenantToken(claims)).toMatchObject({
      ok: true,
      principal: { kind: 'jwt', subject: 'user-1', plugins: ['echo'], keyId: key.id, tenantId },
    });
    expect(await r.resolveTenantToken({ ...claims, tenant: '00000000-0000-4000-8000-000000000000' })).toEqual({ ok: false, reason: 'unknown' });
    await env.db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    r.invalidateKey(key.id);
    expect(await r.resolveKeyId(key.id)).toEqual({ ok: false, reason: 'revoked' });
    expect(await r.resolveKeyId('not-a-uuid')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('tells when an API key principal expires: the key\'s expiry, or never', async () => {
    const expiring = await issue({ expiresAt: new Date(now + 120_000) });
    const forever = await issue();
    const r = resolver();
    expect(await r.resolve(expiring.token)).toMatchObject({ ok: true, principal: { expiresAt: now + 120_000 } });
    expect(await r.resolveKeyId(expiring.id)).toMatchObject({ ok: true, principal: { expiresAt: now + 120_000 } });
    const result = await r.resolve(forever.token);
    expect(result.ok && 'expiresAt' in result.principal).toBe(false);
  });

  it('lets a tenant token principal expire with the token or its key, whichever is first', async () => {
    const tokens = new TenantTokens(peppers, clock);
    const claimsOf = (keyId: string, ttlSeconds: number) => tokens.verify(tokens.mint({ tenantId, keyId, subject: 'user-1', ttlSeconds }).token)!;
    const r = resolver();
    const forever = await issue();
    const forOneToken = claimsOf(forever.id, 600);
    expect(await r.resolveTenantToken(forOneToken)).toMatchObject({ ok: true, principal: { expiresAt: forOneToken.exp * 1000 } });
    // A token outliving its key still dies with the key.
    const shortKey = await issue({ expiresAt: new Date(now + 60_000) });
    expect(await r.resolveTenantToken(claimsOf(shortKey.id, 600))).toMatchObject({ ok: true, principal: { expiresAt: now + 60_000 } });
    const longKey = await issue({ expiresAt: new Date(now + 7_200_000) });
    const short = claimsOf(longKey.id, 300);
    expect(await r.resolveTenantToken(short)).toMatchObject({ ok: true, principal: { expiresAt: short.exp * 1000 } });
  });

  it('refuses a tenant token whose exp has passed or is not a number, even when handed over unverified', async () => {
    const key = await issue();
    const tokens = new TenantTokens(peppers, clock);
    const claims = tokens.verify(tokens.mint({ tenantId, keyId: key.id, subject: 'user-1' }).token)!;
    const r = resolver();
    expect(await r.resolveTenantToken({ ...claims, exp: Math.floor(now / 1000) })).toEqual({ ok: false, reason: 'expired' });
    expect(await r.resolveTenantToken({ ...claims, exp: Number.NaN })).toEqual({ ok: false, reason: 'expired' });
  });

  it('records last use in one batched write', async () => {
    const key = await issue();
    const tracker = new LastUsedTracker(env.db.prisma, { clock });
    tracker.touch(key.id);
    tracker.touch(key.id);
    expect(await tracker.flush()).toBe(1);
    const row = await env.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.lastUsedAt?.getTime()).toBe(now);
    await tracker.close();
  });
});
