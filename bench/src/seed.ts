import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@switchboard/api-keys';
import type { Database } from '@switchboard/db';
import type { LimitOverrides } from '@switchboard/limits';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { createMigratedDatabase } from '@switchboard/testing';

export const BENCH_TENANT = 'bench';

export interface BenchWorld {
  databaseUrl: string;
  db: Database;
  peppers: KeyRing;
  /** Environment every gateway process of the run gets (same secrets, same database). */
  gatewayEnv: Record<string, string>;
  /** Bearer token of a key allowed to use the echo plugin. */
  token: string;
  keyId: string;
  close(): Promise<void>;
}

/** A scratch database with one tenant, the echo plugin enabled and one API key. */
export async function seedWorld(): Promise<BenchWorld> {
  const database = await createMigratedDatabase('bench');
  const pepper = randomBytes(32);
  const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
  const tenant = await createTenant(database.db, peppers, BENCH_TENANT, {});
  return {
    databaseUrl: database.test.url,
    db: database.db,
    peppers,
    gatewayEnv: {
      DATABASE_URL: database.test.url,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: pepper.toString('base64'),
      CLUSTER_SECRET: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    },
    token: tenant.token,
    keyId: tenant.keyId,
    close: () => database.close(),
  };
}

export interface BenchTenant {
  slug: string;
  /** Bearer token of the tenant's one key (echo plugin). */
  token: string;
  keyId: string;
}

/** One more tenant in the world, like the first (echo plugin, one key), with its own limit overrides. */
export function addTenant(world: BenchWorld, slug: string, limits: LimitOverrides): Promise<BenchTenant> {
  return createTenant(world.db, world.peppers, slug, limits);
}

async function createTenant(db: Database, peppers: KeyRing, slug: string, limits: LimitOverrides): Promise<BenchTenant> {
  const prisma = db.prisma;
  const tenant = await prisma.tenant.create({ data: { slug, name: `Benchmark ${slug}`, limits } });
  await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo' } });
  const key = generateApiKey(peppers);
  const row = await prisma.apiKey.create({
    data: { tenantId: tenant.id, name: 'bench', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, createdBy: 'bench' },
  });
  return { slug, token: key.token, keyId: row.id };
}
