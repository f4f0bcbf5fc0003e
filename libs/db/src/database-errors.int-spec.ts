import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTempDataDir, createTestDatabase, eventually, startTcpProxy, testAdminDatabaseUrl, type TcpProxy, type TestDatabase } from '@switchboard/testing';
import { isDatabaseUnavailable, migrate, openDatabase, type Database } from './index';

/** Provokes each failure for real, so a Prisma or pg upgrade that changes an error's shape fails here. */
describe('isDatabaseUnavailable on Postgres', () => {
  let test: TestDatabase;
  let relay: TcpProxy;
  let db: Database;

  beforeAll(async () => {
    test = await createTestDatabase('db_errors');
    relay = await startTcpProxy(test.url);
    db = openDatabase({ url: relay.url, dataDir: '', poolSize: 2 });
    await migrate(db);
  });
  afterAll(async () => {
    await relay.close();
    await db.close();
    await test.drop();
  });
  afterEach(() => relay.restore());

  const failure = (work: Promise<unknown>) => work.then(() => undefined, (error: unknown) => error);

  it('recognises a refused connection, for model queries, raw queries and transactions', async () => {
    await relay.cut();
    expect(isDatabaseUnavailable(await failure(db.prisma.tenant.findMany()))).toBe(true);
    expect(isDatabaseUnavailable(await failure(db.prisma.$queryRawUnsafe('SELECT 1')))).toBe(true);
    expect(isDatabaseUnavailable(await failure(db.prisma.$transaction(async (tx) => tx.tenant.count())))).toBe(true);
  });

  it('recognises a connection dropped in the middle of a query', async () => {
    const marker = randomUUID();
    const sleeping = failure(db.prisma.$queryRawUnsafe(sleepQuery(marker)));
    // The query is running once the backend shows it as active.
    await waitForActiveSleep(marker);
    await relay.cut();
    expect(isDatabaseUnavailable(await sleeping)).toBe(true);
  });

  it('recognises a backend terminated by the server (restart, failover)', async () => {
    const marker = randomUUID();
    const sleeping = failure(db.prisma.$queryRawUnsafe(sleepQuery(marker)));
    const pid = await waitForActiveSleep(marker);
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    expect(isDatabaseUnavailable(await sleeping)).toBe(true);
  });

  it('does not take a wrong query or a constraint violation for an outage', async () => {
    expect(isDatabaseUnavailable(await failure(db.prisma.$queryRawUnsafe("SELECT '0000-01-01'::timestamp")))).toBe(false);
    const tenant = await db.prisma.tenant.create({ data: { slug: `t-${randomUUID().slice(0, 8)}`, name: 'x' } });
    expect(isDatabaseUnavailable(await failure(db.prisma.tenant.create({ data: { slug: tenant.slug, name: 'again' } })))).toBe(false);
    expect(isDatabaseUnavailable(await failure(db.prisma.$queryRawUnsafe('SELECT * FROM no_such_table')))).toBe(false);
  });

  it('does not take a missing database for an outage (a configuration fault)', async () => {
    const url = new URL(test.url);
    url.pathname = '/sb_no_such_database';
    const wrong = openDatabase({ url: url.toString(), dataDir: '' });
    try {
      expect(isDatabaseUnavailable(await failure(wrong.prisma.$queryRawUnsafe('SELECT 1')))).toBe(false);
    } finally {
      await wrong.close();
    }
  });

  /** Marked, so that the backend of an earlier test's query (still sleeping after a cut) is not taken for it. */
  const sleepQuery = (marker: string) => `SELECT pg_sleep(5)::text AS "${marker}"`;

  async function waitForActiveSleep(marker: string): Promise<number> {
    let pid: number | undefined;
    await eventually(async () => {
      const rows = await adminQuery<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%' || $2 || '%'",
        [test.name, marker],
      );
      pid = rows[0]?.pid;
      return pid !== undefined;
    });
    return pid!;
  }
});

describe('isDatabaseUnavailable on PGlite', () => {
  it('recognises a closed embedded database', async () => {
    const data = createTempDataDir('db_errors');
    const db = openDatabase({ dataDir: data.dir });
    try {
      await db.prisma.$queryRawUnsafe('SELECT 1');
      await db.close();
      const error = await db.prisma.$queryRawUnsafe('SELECT 1').then(() => undefined, (e: unknown) => e);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      data.remove();
    }
  });
});

async function adminQuery<Row>(sql: string, params: unknown[]): Promise<Row[]> {
  const client = new Client({ connectionString: testAdminDatabaseUrl() });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}
