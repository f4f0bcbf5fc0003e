import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { Pool } from 'pg';
import { PrismaClient } from './generated/prisma/client';
import type { SqlConnection } from './sql-connection';

export type DatabaseKind = 'postgres' | 'embedded';

export interface DatabaseOptions {
  /** postgresql://… ; when absent the embedded PGlite database in `dataDir` is used. */
  url?: string;
  /** Where the embedded database lives (DATA_DIR/pglite). */
  dataDir: string;
  /** Connections in the pool (Postgres only). */
  poolSize?: number;
}

/** A Prisma client over one of the two adapters, plus raw SQL access for the migrator. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly prisma: PrismaClient;
  /** Runs `fn` on one dedicated connection (the migrator needs session-level locks). */
  withConnection<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const DEFAULT_POOL_SIZE = 10;
/**
 * Longest wait for a connection (a new one, or a free one from the pool). pg waits forever by
 * default, so a database host that drops packets would hang every request instead of failing
 * it as unavailable (isDatabaseUnavailable recognises pg's timeout errors).
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** Opens the database: its own pool on Postgres, its own PGlite in `dataDir` when embedded. */
export function openDatabase(options: DatabaseOptions): Database {
  return options.url ? openPostgres(options.url, options.poolSize ?? DEFAULT_POOL_SIZE) : openEmbedded(options.dataDir, new EmbeddedDatabases());
}

/**
 * PGlite is one single-connection database per directory and per process, so the apps of one
 * process (`npm start`: API and gateway) must share one instance: the launcher owns one of these
 * and hands it to both, and each opens through it. Reference-counted per directory; an app
 * started alone opens its own (`openDatabase`).
 */
export class EmbeddedDatabases {
  private readonly open = new Map<string, SharedPglite>();

  /** As `openDatabase`, sharing an embedded directory's PGlite with every other user of this object. */
  openDatabase(options: DatabaseOptions): Database {
    return options.url ? openPostgres(options.url, options.poolSize ?? DEFAULT_POOL_SIZE) : openEmbedded(options.dataDir, this);
  }

  /** @internal */
  take(dir: string): SharedPglite {
    let entry = this.open.get(dir);
    if (!entry) {
      mkdirSync(dir, { recursive: true });
      entry = { pglite: new PGlite(dir), refs: 0, queue: Promise.resolve() };
      this.open.set(dir, entry);
    }
    entry.refs += 1;
    return entry;
  }

  /** @internal */
  async release(dir: string, entry: SharedPglite): Promise<void> {
    entry.refs -= 1;
    if (entry.refs > 0) return;
    this.open.delete(dir);
    await entry.pglite.close();
  }
}

interface SharedPglite {
  pglite: PGlite;
  refs: number;
  queue: Promise<unknown>;
}

function openPostgres(url: string, poolSize: number): Database {
  const pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    async withConnection(fn) {
      const client = await pool.connect();
      // pg emits 'error' on a checked-out client whose connection drops (the running query fails
      // with it as well); unheard, that event would crash the process. A broken client is
      // destroyed on release instead of going back to the pool.
      let lost: Error | undefined;
      const onError = (error: Error) => void (lost = error);
      client.on('error', onError);
      try {
        return await fn({
          exec: async (sql) => void (await client.query(sql)),
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        });
      } finally {
        client.removeListener('error', onError);
        client.release(lost);
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

function openEmbedded(dataDir: string, databases: EmbeddedDatabases): Database {
  const dir = `${dataDir.replace(/\/$/, '')}/pglite`;
  const shared = databases.take(dir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(shared.pglite) });
  let closed = false;
  return {
    kind: 'embedded',
    prisma,
    withConnection(fn) {
      // One connection only: serialise raw-SQL users so their sessions never interleave.
      const run = shared.queue.then(() =>
        fn({
          exec: async (sql) => void (await shared.pglite.exec(sql)),
          query: async (sql, params) => (await shared.pglite.query(sql, params as unknown[])).rows as never,
        }),
      );
      shared.queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await databases.release(dir, shared);
    },
  };
}
