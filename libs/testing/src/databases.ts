import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate, openDatabase, type Database } from '@switchboard/db';
import { testAdminDatabaseUrl } from './test-env';

export interface TestDatabase {
  /** postgresql://… of a fresh database that only this test file uses. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database of its own for one test file. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `sb_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: testAdminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(testAdminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new Client({ connectionString: testAdminDatabaseUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fresh, migrated Postgres database opened through libs/db. */
export async function createMigratedDatabase(label?: string): Promise<{ db: Database; test: TestDatabase; close(): Promise<void> }> {
  const test = await createTestDatabase(label);
  const db = openDatabase({ url: test.url, dataDir: '' });
  await migrate(db);
  return {
    db,
    test,
    async close() {
      await db.close();
      await test.drop();
    },
  };
}

/** A temporary DATA_DIR, removed by the returned function. */
export function createTempDataDir(label = 'data'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `sb-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
