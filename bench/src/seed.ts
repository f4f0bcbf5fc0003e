import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@switchboard/api-keys';
import type { Database } from '@switchboard/db';
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
  const prisma = database.db.prisma;
  const tenant = await prisma.tenant.create({ data: { slug: BENCH_TENANT, name: 'Benchmark' } });
  await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo' } });
  const key = generateApiKey(peppers);
  const row = await prisma.apiKey.create({
    data: { tenantId: tenant.id, name: 'bench', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, createdBy: 'bench' },
  });
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
    token: key.token,
    keyId: row.id,
    close: () => database.close(),
  };
}
