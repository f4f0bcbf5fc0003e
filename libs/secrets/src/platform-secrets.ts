import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@switchboard/config';
import { keyIdOf } from './key-id';
import type { SecretBoxKeys } from './secret-box';

/**
 * The platform's three secrets: the admin JWT secret, the SECRETS_KEY that encrypts plugin
 * secrets, and the KEY_PEPPER that API-key hashes are keyed with.
 *
 * In production (DATABASE_URL set) they must come from the environment, identical on every node.
 * In the embedded single-machine mode a user with no environment at all must still get a working,
 * safe platform, so missing values are generated once into DATA_DIR/secrets.json and reused.
 * API and gateway both call this — in one process or two — and must end up with the same values.
 */

export const SECRETS_FILE_NAME = 'secrets.json';
const SECRETS_FILE_MODE = 0o600;
const DATA_DIR_MODE = 0o700;
const GENERATED_KEY_BYTES = 32;

export interface PlatformSecretsInput {
  adminJwtSecret?: string;
  /**
   * The caller verifies HS256 admin JWTs, so ADMIN_JWT_SECRET must be configured or generated:
   * true for the admin API without ADMIN_JWKS_URL; false (default) for the gateway, which never
   * sees admin tokens.
   */
  needsAdminJwtSecret?: boolean;
  secretsKey?: Buffer;
  secretsKeyPrevious: Buffer[];
  keyPepper?: Buffer;
  keyPepperPrevious: Buffer[];
  dataDir: string;
  /** Embedded mode: generate missing secrets into DATA_DIR instead of refusing to start. */
  allowGenerate: boolean;
}

/** The secrets part of an app's config, as each app's loader reads it from the environment. */
export type ConfiguredSecrets = Pick<PlatformSecretsInput, 'secretsKey' | 'secretsKeyPrevious' | 'keyPepper' | 'keyPepperPrevious' | 'allowGenerate'>;

export interface IdentifiedKey {
  id: string;
  key: Buffer;
}

export interface KeyRing {
  current: IdentifiedKey;
  previous: IdentifiedKey[];
}

export interface PlatformSecrets {
  /** Undefined when the caller does not need it (gateway, JWKS) and none was configured or stored. */
  adminJwtSecret: string | undefined;
  /** Ready for `new SecretBox(secretsKeys)`. */
  secretsKeys: SecretBoxKeys & { previous: Buffer[] };
  keyPeppers: KeyRing;
  /** This call generated the admin secret (first start): the caller may show a ready admin token. */
  generatedAdminSecret: boolean;
}

const secretsFileSchema = z.object({
  adminJwtSecret: z.string().min(32).optional(),
  secretsKey: z.string().optional(),
  keyPepper: z.string().optional(),
});
type SecretsFile = z.infer<typeof secretsFileSchema>;
type GeneratedName = keyof SecretsFile;

export function loadPlatformSecrets(input: PlatformSecretsInput): PlatformSecrets {
  const needed: GeneratedName[] = [];
  if (input.adminJwtSecret === undefined && input.needsAdminJwtSecret) needed.push('adminJwtSecret');
  if (input.secretsKey === undefined) needed.push('secretsKey');
  if (input.keyPepper === undefined) needed.push('keyPepper');

  if (needed.length > 0 && !input.allowGenerate) {
    throw new ConfigError(needed.map((name) => ({ variable: VARIABLE_OF[name], message: REQUIRED_MESSAGE[name] })));
  }

  const file = path.join(input.dataDir, SECRETS_FILE_NAME);
  const { stored, generated } = needed.length > 0 ? ensureSecretsFile(file, needed) : { stored: {}, generated: [] };
  const adminJwtSecret = input.adminJwtSecret ?? (input.needsAdminJwtSecret ? stored.adminJwtSecret : undefined);

  return {
    adminJwtSecret,
    secretsKeys: {
      current: input.secretsKey ?? decodeKey(stored.secretsKey, file),
      previous: input.secretsKeyPrevious,
    },
    keyPeppers: {
      current: identify(input.keyPepper ?? decodeKey(stored.keyPepper, file)),
      previous: input.keyPepperPrevious.map(identify),
    },
    generatedAdminSecret: generated.includes('adminJwtSecret'),
  };
}

const VARIABLE_OF: Record<GeneratedName, string> = {
  adminJwtSecret: 'ADMIN_JWT_SECRET',
  secretsKey: 'SECRETS_KEY',
  keyPepper: 'KEY_PEPPER',
};

const REQUIRED_MESSAGE: Record<GeneratedName, string> = {
  adminJwtSecret: 'required with DATABASE_URL unless ADMIN_JWKS_URL is set (openssl rand -base64 32)',
  secretsKey: 'required with DATABASE_URL: a 32-byte key, base64 or hex (openssl rand -base64 32)',
  keyPepper: 'required with DATABASE_URL: a 32-byte key, base64 or hex (openssl rand -base64 32)',
};

function identify(key: Buffer): IdentifiedKey {
  return { id: keyIdOf(key), key };
}

function decodeKey(encoded: string | undefined, file: string): Buffer {
  const key = encoded === undefined ? Buffer.alloc(0) : Buffer.from(encoded, 'base64');
  if (key.length !== GENERATED_KEY_BYTES) throw new Error(`${file} holds a key that is not 32 bytes; fix or remove it`);
  return key;
}

/** Returns the stored secrets, generating (once, atomically) the ones not yet in the file. */
function ensureSecretsFile(file: string, needed: GeneratedName[]): { stored: SecretsFile; generated: GeneratedName[] } {
  mkdirSync(path.dirname(file), { recursive: true, mode: DATA_DIR_MODE });
  const existing = readSecretsFile(file);
  const missing = needed.filter((name) => existing?.[name] === undefined);
  if (missing.length === 0) return { stored: existing!, generated: [] };

  const stored: SecretsFile = { ...existing };
  for (const name of missing) stored[name] = randomBytes(GENERATED_KEY_BYTES).toString('base64');

  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, JSON.stringify(stored, null, 2) + '\n', { mode: SECRETS_FILE_MODE });
  try {
    if (existing === undefined) {
      // link() fails when the file appeared meanwhile: another process won the race, use its values.
      linkSync(temp, file);
    } else {
      renameSync(temp, file);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return ensureSecretsFile(file, needed);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      /* already renamed */
    }
  }
  return { stored, generated: missing };
}

function readSecretsFile(file: string): SecretsFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = secretsFileSchema.safeParse(safeJson(text));
  if (!parsed.success) throw new Error(`${file} is not a valid Switchboard secrets file; fix or remove it`);
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
