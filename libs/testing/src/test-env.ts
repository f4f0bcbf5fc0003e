// The only place tests read the environment: where the real services are.

/** A Postgres URL with rights to create databases; each test file gets its own database. */
export function testAdminDatabaseUrl(): string {
  return process.env['TEST_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

export function testRedisUrl(): string {
  return process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}
