import { parseArgs } from 'node:util';
import { ConfigError, isUuid, type Env } from '@switchboard/config';
import { migrate, openDatabase } from '@switchboard/db';
import { pluginSecretsAad, SecretBox } from '@switchboard/secrets';
import { DEFAULT_ADMIN_TOKEN_TTL_SECONDS, mintAdminToken } from './auth/admin-jwt';
import { loadApiConfig, processEnv } from './config/api-config';
import { loadApiSecrets } from './config/api-secrets';

/**
 * `npm run admin -- <command>`:
 *   token [--tenant <id>] [--ttl <seconds>] [--subject <name>]   print an admin JWT
 *   migrate                                                        apply pending migrations
 *   reencrypt-secrets                                              re-seal plugin secrets under SECRETS_KEY
 *   key-peppers                                                    count live API keys per KEY_PEPPER
 */

const USAGE = `Usage:
  npm run admin -- token [--tenant <tenant id>] [--ttl <seconds>] [--subject <name>]
  npm run admin -- migrate
  npm run admin -- reencrypt-secrets
  npm run admin -- key-peppers`;

export class UsageError extends Error {}

/** Runs one command; returns what to print on stdout. */
export async function runCli(argv: string[], env: Env): Promise<string> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'token':
      return tokenCommand(rest, env);
    case 'migrate':
      return migrateCommand(env);
    case 'reencrypt-secrets':
      return reencryptSecretsCommand(env);
    case 'key-peppers':
      return keyPeppersCommand(env);
    default:
      throw new UsageError(command ? `unknown command "${command}"\n${USAGE}` : USAGE);
  }
}

function tokenCommand(args: string[], env: Env): string {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string' }, ttl: { type: 'string' }, subject: { type: 'string' } },
    strict: true,
  });
  if (values.tenant !== undefined && !isUuid(values.tenant)) throw new UsageError('--tenant must be a tenant id (uuid)');
  const config = loadApiConfig(env);
  // Never longer than the API accepts (ADMIN_TOKEN_MAX_TTL_SECONDS): such a token would be refused anyway.
  const maxTtl = config.adminAuth.maxTokenTtlSeconds;
  const ttl = values.ttl === undefined ? Math.min(DEFAULT_ADMIN_TOKEN_TTL_SECONDS, maxTtl) : /^[0-9]+$/.test(values.ttl) ? Number(values.ttl) : NaN;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > maxTtl) {
    throw new UsageError(`--ttl must be a whole number of seconds from 1 to ${maxTtl} (ADMIN_TOKEN_MAX_TTL_SECONDS)`);
  }

  if (config.adminAuth.mode !== 'secret') {
    throw new UsageError('ADMIN_JWKS_URL is set: admin tokens come from your identity provider, not from this command');
  }
  const secrets = loadApiSecrets(config);
  return (
    mintAdminToken({
      secret: secrets.adminJwtSecret!,
      issuer: config.adminAuth.issuer,
      audience: config.adminAuth.audience,
      tenantId: values.tenant,
      subject: values.subject,
      ttlSeconds: ttl,
    }) + '\n'
  );
}


/**
 * SECRETS_KEY rotation, step 2 (after every node runs with the new key and the old one in
 * SECRETS_KEY_PREVIOUS): re-seals every plugin's secrets under the current key, so the previous
 * key can be removed. Idempotent; installations already under the current key are skipped.
 */
async function reencryptSecretsCommand(env: Env): Promise<string> {
  const config = loadApiConfig(env);
  const box = new SecretBox(loadApiSecrets(config).secretsKeys);
  const db = openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  try {
    const stale = await db.prisma.pluginInstallation.findMany({
      where: { secrets: { not: null }, NOT: { secretsKeyId: box.currentKeyId } },
      select: { id: true, tenantId: true, name: true, secrets: true },
    });
    for (const row of stale) {
      const sealed = box.reencrypt(row.secrets!, pluginSecretsAad(row.tenantId, row.name));
      await db.prisma.pluginInstallation.update({ where: { id: row.id }, data: { secrets: sealed, secretsKeyId: box.currentKeyId } });
    }
    return `Re-encrypted ${stale.length} plugin installation(s) under key ${box.currentKeyId}.\n`;
  } finally {
    await db.close();
  }
}

/**
 * KEY_PEPPER rotation: keys are re-hashed under the current pepper when first used after the
 * rotation; this shows how many unrevoked keys still depend on each pepper, so the operator
 * knows when KEY_PEPPER_PREVIOUS can be emptied (or which keys to rotate first).
 */
async function keyPeppersCommand(env: Env): Promise<string> {
  const config = loadApiConfig(env);
  const peppers = loadApiSecrets(config).keyPeppers;
  const db = openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  try {
    const groups = await db.prisma.apiKey.groupBy({ by: ['pepperId'], where: { revokedAt: null }, _count: { _all: true } });
    const role = (id: string) =>
      id === peppers.current.id ? 'current' : peppers.previous.some((p) => p.id === id) ? 'previous' : 'not configured: these keys cannot be verified';
    const lines = groups.map((g) => `  ${g.pepperId}  ${g._count._all} key(s)  (${role(g.pepperId)})`);
    return `Unrevoked API keys by pepper:\n${lines.length > 0 ? lines.join('\n') : '  none'}\n`;
  } finally {
    await db.close();
  }
}

async function migrateCommand(env: Env): Promise<string> {
  const config = loadApiConfig(env);
  const db = openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  try {
    const result = await migrate(db);
    return result.applied.length > 0
      ? `Applied ${result.applied.length} migration(s):\n${result.applied.map((name) => `  ${name}`).join('\n')}\n`
      : `Database is up to date (${result.alreadyApplied.length} migration(s) applied).\n`;
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), processEnv()).then(
    (output) => process.stdout.write(output),
    (error: unknown) => {
      const known = error instanceof UsageError || error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
      process.exit(known ? 2 : 1);
    },
  );
}
