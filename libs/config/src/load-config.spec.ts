import { z } from 'zod';
import { ConfigError, parseEnv } from './load-config';
import { databaseUrl, key32, port } from './env-vars';

const schema = z.object({ API_PORT: port(3000), DATABASE_URL: databaseUrl, SECRETS_KEY: key32.optional() });

describe('parseEnv', () => {
  it('applies defaults and treats empty strings as unset', () => {
    expect(parseEnv(schema, { API_PORT: '', DATABASE_URL: undefined })).toEqual({ API_PORT: 3000 });
  });

  it('names every wrong variable in one error', () => {
    try {
      parseEnv(schema, { API_PORT: 'eighty', DATABASE_URL: 'mysql://x', SECRETS_KEY: 'short' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const vars = (error as ConfigError).problems.map((p) => p.variable).sort();
      expect(vars).toEqual(['API_PORT', 'DATABASE_URL', 'SECRETS_KEY']);
      expect((error as Error).message).toMatch(/DATABASE_URL: must be a postgresql:\/\/ URL/);
    }
  });

  it('decodes 32-byte keys from base64 and hex', () => {
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(parseEnv(schema, { SECRETS_KEY: b64 }).SECRETS_KEY).toEqual(Buffer.alloc(32, 7));
    expect(parseEnv(schema, { SECRETS_KEY: 'ab'.repeat(32) }).SECRETS_KEY).toEqual(Buffer.alloc(32, 0xab));
  });
});
