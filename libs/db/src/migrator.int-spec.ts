import { createHash } from 'node:crypto';
import { migrate, openDatabase, pendingMigrations, readMigrations, type Database } from './index';
import { createTempDataDir, createTestDatabase, type TestDatabase } from '@switchboard/testing';

describe('migrator on Postgres', () => {
  let test: TestDatabase;
  const opened: Database[] = [];
  const open = () => {
    const db = openDatabase({ url: test.url, dataDir: '' });
    opened.push(db);
    return db;
  };

  beforeAll(async () => {
    test = await createTestDatabase('migrator');
  });
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
    await test.drop();
  });

  it('applies every migration once when two migrators start together', async () => {
    const [a, b] = await Promise.all([migrate(open()), migrate(open())]);
    const all = readMigrations().map((m) => m.name);
    expect([...a.applied, ...b.applied].sort()).toEqual(all);
    expect([...a.alreadyApplied, ...b.alreadyApplied].sort()).toEqual(all);
  });

  it('is idempotent: a second run applies nothing', async () => {
    const result = await migrate(open());
    expect(result.applied).toEqual([]);
    expect(await pendingMigrations(open())).toEqual([]);
  });

  it('records migrations in the format prisma migrate deploy reads', async () => {
    const db = open();
    const rows = await db.withConnection((conn) =>
      conn.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
        'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
      ),
    );
    const files = readMigrations();
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(createHash('sha256').update(files[i].sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('refuses to start when an applied migration file was changed', async () => {
    const changed = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
    await expect(migrate(open(), changed)).rejects.toThrow(/was changed after it was applied/);
  });

  it('rolls back a failing migration and names it', async () => {
    const broken = [...readMigrations(), { name: '99999999999999_broken', sql: 'CREATE TABLE ok_part (id int); SELECT nope;', checksum: 'x' }];
    await expect(migrate(open(), broken)).rejects.toThrow(/99999999999999_broken failed/);
    const db = open();
    const tables = await db.withConnection((conn) => conn.query(`SELECT to_regclass('ok_part') AS t`));
    expect(tables[0]).toEqual({ t: null });
    expect(await pendingMigrations(db, broken)).toEqual(['99999999999999_broken']);
  });
});

describe('migrated database matches the generated client', () => {
  async function writeAndReadEveryModel(db: Database): Promise<void> {
    const p = db.prisma;
    const tenant = await p.tenant.create({ data: { slug: 'acme', name: 'Acme', limits: { requestsPerMinute: 60 } } });
    const key = await p.apiKey.create({
      data: { tenantId: tenant.id, name: 'ci', publicId: 'pub123', secretHash: Buffer.alloc(32, 1), pepperId: 'p1', plugins: ['echo'], createdBy: 'test' },
    });
    await p.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo', config: { a: 1 }, secrets: 'v1.x', secretsKeyId: 'k1' } });
    await p.serverTemplate.create({ data: { name: 'memory', command: 'npx', args: ['-y', 'x'], env: [{ name: 'A', required: true }] } });
    await p.auditEvent.create({ data: { actor: 'admin', action: 'tenant.create', targetType: 'tenant', targetId: tenant.id, tenantId: tenant.id } });
    const hour = new Date('2026-01-01T10:00:00Z');
    await p.usageRecord.create({ data: { tenantId: tenant.id, apiKeyId: key.id, plugin: 'echo', tool: 'echo', hour, calls: 2, totalDurationMs: 5n, bytesIn: 10n, bytesOut: 20n } });
    await p.usageEventReceipt.create({ data: { eventId: 'evt-1' } });
    await p.note.create({ data: { tenantId: tenant.id, title: 'Deploy checklist', body: 'rotate the keys before deploying', tags: ['ops'] } });

    const loaded = await p.tenant.findUniqueOrThrow({
      where: { slug: 'acme' },
      include: { apiKeys: true, plugins: true, usage: true, notes: true },
    });
    expect(loaded.limits).toEqual({ requestsPerMinute: 60 });
    expect(loaded.apiKeys[0].plugins).toEqual(['echo']);
    expect(Buffer.from(loaded.apiKeys[0].secretHash)).toEqual(Buffer.alloc(32, 1));
    expect(loaded.plugins[0].config).toEqual({ a: 1 });
    expect(loaded.usage[0]).toMatchObject({ calls: 2, totalDurationMs: 5n, bytesOut: 20n, hour });
    expect(await p.serverTemplate.count()).toBe(1);
    expect(await p.auditEvent.count()).toBe(1);
    expect(await p.usageEventReceipt.count()).toBe(1);
    const hits = await p.$queryRaw<{ title: string }[]>`SELECT title FROM notes WHERE search @@ plainto_tsquery('english', 'deploy')`;
    expect(hits).toEqual([{ title: 'Deploy checklist' }]);
  }

  it('on Postgres: every model can be written and read', async () => {
    const test = await createTestDatabase('models');
    const db = openDatabase({ url: test.url, dataDir: '' });
    try {
      await migrate(db);
      await writeAndReadEveryModel(db);
    } finally {
      await db.close();
      await test.drop();
    }
  });

  it('on embedded PGlite: every model can be written and read, and migrations persist across restarts', async () => {
    const data = createTempDataDir('pglite');
    try {
      const db = openDatabase({ dataDir: data.dir });
      expect(db.kind).toBe('embedded');
      expect((await migrate(db)).applied.length).toBe(readMigrations().length);
      await writeAndReadEveryModel(db);
      await db.close();
      const again = openDatabase({ dataDir: data.dir });
      expect((await migrate(again)).applied).toEqual([]);
      expect(await again.prisma.tenant.count()).toBe(1);
      await again.close();
    } finally {
      data.remove();
    }
    // PGlite runs Postgres in WebAssembly on this process's thread: two starts and every
    // migration take seconds alone, and passed 30 s once with other load on both cores.
  }, 120_000);
});
