import { randomBytes } from 'node:crypto';
import { migrate, openDatabase, type Database } from '@switchboard/db';
import { createTempDataDir } from '@switchboard/testing';
import { queryUsage } from './query-usage';
import { UsageAggregator } from './usage-aggregator';
import { createUsageEvent } from './usage-event';

// Embedded mode (`npm start` without DATABASE_URL) runs the same SQL on PGlite.
describe('UsageAggregator on the embedded database', () => {
  let dataDir: ReturnType<typeof createTempDataDir>;
  let db: Database;

  beforeAll(async () => {
    dataDir = createTempDataDir('metering');
    db = openDatabase({ dataDir: dataDir.dir });
    await migrate(db);
  });

  afterAll(async () => {
    await db.close();
    dataDir.remove();
  });

  it('counts an event once and reports it in the totals', async () => {
    const tenant = await db.prisma.tenant.create({ data: { slug: 'emb', name: 'Embedded' } });
    const key = await db.prisma.apiKey.create({
      data: { tenantId: tenant.id, name: 'k', publicId: randomBytes(8).toString('hex'), secretHash: Buffer.alloc(32), pepperId: 'p', createdBy: 't' },
    });
    const at = new Date('2026-11-20T10:30:00Z');
    const e = createUsageEvent({ tenantId: tenant.id, keyId: key.id, plugin: 'echo', tool: 'echo', outcome: 'error', durationMs: 5, bytesIn: 1, bytesOut: 2 }, at);
    const aggregator = new UsageAggregator(db.prisma);
    expect(await aggregator.apply([e])).toEqual({ applied: 1, duplicates: 0 });
    expect(await aggregator.apply([e])).toEqual({ applied: 0, duplicates: 1 });
    const totals = await queryUsage(db.prisma, { tenantId: tenant.id, from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z'), groupBy: 'hour' });
    expect(totals).toEqual([{ group: '2026-11-20T10:00:00Z', calls: 1, errors: 1, totalDurationMs: 5, bytesIn: 1, bytesOut: 2 }]);
    expect((await db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt).toEqual(at);
  });
});
