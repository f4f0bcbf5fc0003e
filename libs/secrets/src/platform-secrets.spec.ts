import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@switchboard/config';
import { createTempDataDir } from '@switchboard/testing';
import { keyIdOf } from './key-id';
import { loadPlatformSecrets, SECRETS_FILE_NAME, type PlatformSecretsInput } from './platform-secrets';

describe('loadPlatformSecrets', () => {
  let data: ReturnType<typeof createTempDataDir>;
  beforeEach(() => {
    data = createTempDataDir('secrets');
  });
  afterEach(() => data.remove());

  const input = (overrides: Partial<PlatformSecretsInput> = {}): PlatformSecretsInput => ({
    secretsKeyPrevious: [],
    keyPepperPrevious: [],
    dataDir: path.join(data.dir, 'nested'),
    allowGenerate: true,
    needsAdminJwtSecret: true,
    ...overrides,
  });

  it('uses configured values as they are and writes no file', () => {
    const secretsKey = randomBytes(32);
    const keyPepper = randomBytes(32);
    const previous = randomBytes(32);
    const secrets = loadPlatformSecrets(input({ adminJwtSecret: 'a'.repeat(40), secretsKey, keyPepper, keyPepperPrevious: [previous] }));
    expect(secrets.adminJwtSecret).toBe('a'.repeat(40));
    expect(secrets.secretsKeys.current).toEqual(secretsKey);
    expect(secrets.keyPeppers.current).toEqual({ id: keyIdOf(keyPepper), key: keyPepper });
    expect(secrets.keyPeppers.previous).toEqual([{ id: keyIdOf(previous), key: previous }]);
    expect(secrets.generatedAdminSecret).toBe(false);
    expect(() => statSync(path.join(data.dir, 'nested', SECRETS_FILE_NAME))).toThrow();
  });

  it('generates missing secrets once into DATA_DIR/secrets.json with mode 0600 and reuses them', () => {
    const first = loadPlatformSecrets(input());
    const file = path.join(data.dir, 'nested', SECRETS_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.generatedAdminSecret).toBe(true);
    expect(first.adminJwtSecret!.length).toBeGreaterThanOrEqual(32);
    expect(first.secretsKeys.current).toHaveLength(32);

    const second = loadPlatformSecrets(input());
    expect(second.adminJwtSecret).toBe(first.adminJwtSecret);
    expect(second.secretsKeys.current).toEqual(first.secretsKeys.current);
    expect(second.keyPeppers.current).toEqual(first.keyPeppers.current);
    expect(JSON.parse(readFileSync(file, 'utf8')).adminJwtSecret).toBe(first.adminJwtSecret);
  });

  it('reads a secrets file written by another process instead of generating new values', () => {
    const file = path.join(data.dir, SECRETS_FILE_NAME);
    const stored = { adminJwtSecret: 'b'.repeat(44), secretsKey: randomBytes(32).toString('base64'), keyPepper: randomBytes(32).toString('base64') };
    writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
    const secrets = loadPlatformSecrets(input({ dataDir: data.dir }));
    expect(secrets.adminJwtSecret).toBe(stored.adminJwtSecret);
    expect(secrets.secretsKeys.current.toString('base64')).toBe(stored.secretsKey);
    expect(secrets.generatedAdminSecret).toBe(false);
  });

  it('adds only the missing values to an existing file', () => {
    const keyPepper = randomBytes(32);
    const withJwks = loadPlatformSecrets(input({ needsAdminJwtSecret: false, keyPepper }));
    expect(withJwks.adminJwtSecret).toBeUndefined();
    const later = loadPlatformSecrets(input());
    expect(later.secretsKeys.current).toEqual(withJwks.secretsKeys.current);
    expect(later.adminJwtSecret).toBeDefined();
  });

  it('refuses to start without generation, naming every missing variable', () => {
    try {
      loadPlatformSecrets(input({ allowGenerate: false }));
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['ADMIN_JWT_SECRET', 'SECRETS_KEY', 'KEY_PEPPER']);
    }
  });

  it('does not require ADMIN_JWT_SECRET from a caller that never verifies admin tokens (gateway, JWKS)', () => {
    const secrets = loadPlatformSecrets(
      input({ allowGenerate: false, needsAdminJwtSecret: false, secretsKey: randomBytes(32), keyPepper: randomBytes(32) }),
    );
    expect(secrets.adminJwtSecret).toBeUndefined();
  });

  it('gives API and gateway the same keys when the gateway generates first', () => {
    const gateway = loadPlatformSecrets(input({ needsAdminJwtSecret: false }));
    const api = loadPlatformSecrets(input());
    expect(api.secretsKeys.current).toEqual(gateway.secretsKeys.current);
    expect(api.keyPeppers.current).toEqual(gateway.keyPeppers.current);
    expect(gateway.adminJwtSecret).toBeUndefined();
    expect(api.adminJwtSecret).toBeDefined();
    expect(api.generatedAdminSecret).toBe(true);
  });
});
