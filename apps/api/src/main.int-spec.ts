import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createTempDataDir, createTestDatabase } from '@switchboard/testing';
import { ConfigError } from '@switchboard/config';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@switchboard/api-keys';
import { migrate, openDatabase } from '@switchboard/db';
import { keyIdOf, pluginSecretsAad, SecretBox } from '@switchboard/secrets';
import { runCli } from './cli';
import { DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS } from './config/api-config';
import { startApi } from './main';
import { FIXTURE_PLUGINS_DIR } from './testing/api-test-harness';

const silent = () => new Writable({ write: (_chunk, _encoding, done) => done() });

describe('startApi on embedded PGlite with no secrets configured', () => {
  const data = createTempDataDir('embedded_api');
  afterAll(() => data.remove());
  const env = { DATA_DIR: data.dir, API_PORT: '0', API_METRICS_PORT: '0', PLUGINS_DIR: FIXTURE_PLUGINS_DIR, LOG_LEVEL: 'silent' };

  it('generates the secrets once, prints a working admin token on the first start only, and serves the API', async () => {
    const printed: string[] = [];
    const api = await startApi(env, { print: (text) => printed.push(text), logDestination: silent() });
    try {
      const file = path.join(data.dir, 'secrets.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(printed).toHaveLength(1);
      const token = /\s(eyJ[\w-]+\.[\w-]+\.[\w-]+)\s/.exec(printed[0])![1];
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${api.url}/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ slug: 'embedded', name: 'E' }) });
      expect(created.status).toBe(201);
      const key = await fetch(`${api.url}/v1/tenants/embedded/api-keys`, { method: 'POST', headers, body: JSON.stringify({ name: 'k' }) });
      expect(key.status).toBe(201);
      const audit = (await (await fetch(`${api.url}/v1/audit`, { headers })).json()) as { items: { action: string }[] };
      expect(audit.items.map((e) => e.action)).toEqual(['api-key.issue', 'tenant.create']);
      expect(readFileSync(file, 'utf8')).toContain('adminJwtSecret');
    } finally {
      await api.close();
    }

    const again: string[] = [];
    const second = await startApi(env, { print: (text) => again.push(text), logDestination: silent() });
    await second.close();
    expect(again).toEqual([]);
  });

  it('mints admin tokens from the same generated secret with the CLI', async () => {
    const token = (await runCli(['token', '--ttl', '600'], env)).trim();
    const api = await startApi(env, { logDestination: silent() });
    try {
      const res = await fetch(`${api.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('does not mint a token longer-lived than the API accepts (ADMIN_TOKEN_MAX_TTL_SECONDS)', async () => {
    await expect(runCli(['token', '--ttl', String(DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS + 1)], env)).rejects.toThrow(/--ttl .*ADMIN_TOKEN_MAX_TTL_SECONDS/);
    await expect(runCli(['token', '--ttl', '7200'], { ...env, ADMIN_TOKEN_MAX_TTL_SECONDS: '3600' })).rejects.toThrow(/from 1 to 3600/);
    const token = (await runCli(['token', '--ttl', String(DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS)], env)).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS);
  });
});

describe('startApi configuration errors', () => {
  it('refuses to start against Postgres without the platform secrets, naming each variable', async () => {
    const db = await createTestDatabase('api_config');
    try {
      await expect(startApi({ DATABASE_URL: db.url, API_PORT: '0', LOG_LEVEL: 'silent' })).rejects.toThrow(ConfigError);
      await expect(startApi({ DATABASE_URL: db.url, API_PORT: '0', LOG_LEVEL: 'silent' })).rejects.toThrow(/ADMIN_JWT_SECRET[\s\S]*SECRETS_KEY[\s\S]*KEY_PEPPER/);
    } finally {
      await db.drop();
    }
  });

  it('names a wrong variable', async () => {
    await expect(startApi({ API_PORT: 'eighty' })).rejects.toThrow(/API_PORT/);
  });
});

describe('admin CLI', () => {
  it('migrates a fresh database and then reports it up to date', async () => {
    const db = await createTestDatabase('cli_migrate');
    try {
      expect(await runCli(['migrate'], { DATABASE_URL: db.url })).toMatch(/^Applied \d+ migration/);
      expect(await runCli(['migrate'], { DATABASE_URL: db.url })).toMatch(/up to date/);
    } finally {
      await db.drop();
    }
  });

  it('re-seals plugin secrets under a new SECRETS_KEY so the previous key can be dropped', async () => {
    const db = await createTestDatabase('cli_reencrypt');
    const database = openDatabase({ url: db.url, dataDir: '' });
    try {
      await migrate(database);
      const [oldKey, newKey, pepper] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const tenant = await database.prisma.tenant.create({ data: { slug: 'rotating', name: 'R' } });
      const oldBox = new SecretBox({ current: oldKey });
      await database.prisma.pluginInstallation.create({
        data: { tenantId: tenant.id, plugin: 'weather', secrets: oldBox.encrypt({ apiKey: 'k-123' }, pluginSecretsAad(tenant.id, 'weather')), secretsKeyId: oldBox.currentKeyId },
      });
      const env = { DATABASE_URL: db.url, ADMIN_JWT_SECRET: 'x'.repeat(40), KEY_PEPPER: pepper.toString('base64'), SECRETS_KEY: newKey.toString('base64'), SECRETS_KEY_PREVIOUS: oldKey.toString('base64') };

      expect(await runCli(['reencrypt-secrets'], env)).toMatch(/^Re-encrypted 1 plugin installation/);
      expect(await runCli(['reencrypt-secrets'], env)).toMatch(/^Re-encrypted 0 plugin installation/);
      const row = await database.prisma.pluginInstallation.findFirstOrThrow({ where: { tenantId: tenant.id } });
      const newOnly = new SecretBox({ current: newKey });
      expect(row.secretsKeyId).toBe(newOnly.currentKeyId);
      expect(newOnly.decrypt(row.secrets!, pluginSecretsAad(tenant.id, 'weather'))).toEqual({ apiKey: 'k-123' });
    } finally {
      await database.close();
      await db.drop();
    }
  });

  it('counts unrevoked keys per pepper, naming the current, previous and unknown ones', async () => {
    const db = await createTestDatabase('cli_peppers');
    const database = openDatabase({ url: db.url, dataDir: '' });
    try {
      await migrate(database);
      const [current, previous, forgotten] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const tenant = await database.prisma.tenant.create({ data: { slug: 'peppers', name: 'P' } });
      for (const [pepper, revoked] of [[current, false], [previous, false], [previous, false], [forgotten, false], [forgotten, true]] as const) {
        const key = generateApiKey({ current: { id: keyIdOf(pepper), key: pepper }, previous: [] });
        await database.prisma.apiKey.create({
          data: { tenantId: tenant.id, name: 'k', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, createdBy: 't', revokedAt: revoked ? new Date() : null },
        });
      }
      const env = { DATABASE_URL: db.url, ADMIN_JWT_SECRET: 'x'.repeat(40), SECRETS_KEY: randomBytes(32).toString('base64'), KEY_PEPPER: current.toString('base64'), KEY_PEPPER_PREVIOUS: previous.toString('base64') };
      const report = await runCli(['key-peppers'], env);
      expect(report).toContain(`${keyIdOf(current)}  1 key(s)  (current)`);
      expect(report).toContain(`${keyIdOf(previous)}  2 key(s)  (previous)`);
      expect(report).toContain(`${keyIdOf(forgotten)}  1 key(s)  (not configured`);
    } finally {
      await database.close();
      await db.drop();
    }
  });

  it('explains its usage for unknown commands and bad options', async () => {
    await expect(runCli([], {})).rejects.toThrow(/Usage/);
    await expect(runCli(['token', '--ttl', 'forever'], {})).rejects.toThrow(/--ttl/);
    await expect(runCli(['token', '--ttl', '1e3'], {})).rejects.toThrow(/--ttl/);
    await expect(runCli(['token', '--tenant', 'acme'], {})).rejects.toThrow(/--tenant/);
  });
});
