import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database';
import type { SqlConnection } from './sql-connection';

/**
 * Applies prisma/migrations/<name>/migration.sql in name order and records each one in
 * Prisma's `_prisma_migrations` table exactly as `prisma migrate deploy` does (same columns,
 * sha256 checksum of the file), so either tool sees the same history.
 *
 * Nodes starting together serialise on a Postgres advisory lock; each migration runs in its
 * own transaction, so a failing one leaves nothing half-applied.
 */

/** pg_advisory_lock key: the first 8 bytes of sha256("switchboard:migrations"). */
export const MIGRATION_LOCK_KEY = createHash('sha256').update('switchboard:migrations').digest().readBigInt64BE(0);

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

/** Finds prisma/migrations walking up from this file (works from src/ and from dist/). */
export function defaultMigrationsDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new MigrationError('prisma/migrations not found above ' + __dirname);
    dir = parent;
  }
}

export function readMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function migrate(db: Database, migrations: MigrationFile[] = readMigrations()): Promise<MigrationResult> {
  return db.withConnection(async (conn) => {
    await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      return await applyPending(conn, migrations);
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  });
}

async function applyPending(conn: SqlConnection, migrations: MigrationFile[]): Promise<MigrationResult> {
  await conn.exec(CREATE_MIGRATIONS_TABLE);
  const rows = await conn.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
  );
  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw new MigrationError(
      `migration ${failed.migration_name} failed earlier and was not rolled back; resolve it before starting`,
    );
  }
  const finished = new Map(rows.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row]));
  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    const done = finished.get(migration.name);
    if (done) {
      if (done.checksum !== migration.checksum) {
        throw new MigrationError(`migration ${migration.name} was changed after it was applied (checksum differs)`);
      }
      result.alreadyApplied.push(migration.name);
      continue;
    }
    await applyOne(conn, migration);
    result.applied.push(migration.name);
  }
  return result;
}

async function applyOne(conn: SqlConnection, migration: MigrationFile): Promise<void> {
  await conn.exec('BEGIN');
  try {
    await conn.exec(migration.sql);
    await conn.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await conn.exec('COMMIT');
  } catch (error) {
    await conn.exec('ROLLBACK');
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`);
  }
}

/** Names of migrations on disk that the database has not finished applying. */
export async function pendingMigrations(db: Database, migrations: MigrationFile[] = readMigrations()): Promise<string[]> {
  return db.withConnection(async (conn) => {
    const exists = await conn.query<{ present: boolean }>(
      `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
    );
    if (!exists[0]?.present) return migrations.map((m) => m.name);
    const rows = await conn.query<{ migration_name: string }>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL',
    );
    const done = new Set(rows.map((row) => row.migration_name));
    return migrations.filter((m) => !done.has(m.name)).map((m) => m.name);
  });
}
