import { parseEnv } from './load-config';
import { clusterRedis, platformEnvSchema } from './platform-env';

describe('platformEnvSchema', () => {
  it('gives both apps the same defaults', () => {
    expect(parseEnv(platformEnvSchema, {})).toMatchObject({ REDIS_PREFIX: 'sb', DATA_DIR: './.data', HOST: '127.0.0.1', GATEWAY_PORT: 8080, LOG_LEVEL: 'info', PLUGINS: [] });
  });

  it('refuses a NODE_ID that could not be part of a session id or a Redis channel', () => {
    expect(() => parseEnv(platformEnvSchema, { NODE_ID: 'gw 1' })).toThrow(/NODE_ID: letters, digits, _ \. - only/);
    expect(parseEnv(platformEnvSchema, { NODE_ID: 'gw-1.eu_west' }).NODE_ID).toBe('gw-1.eu_west');
  });

  it('keeps the variables an app adds', () => {
    const schema = platformEnvSchema.extend({ API_PORT: platformEnvSchema.shape.GATEWAY_PORT });
    expect(parseEnv(schema, { API_PORT: '3000', HOST: '0.0.0.0' })).toMatchObject({ API_PORT: 3000, HOST: '0.0.0.0' });
  });
});

describe('clusterRedis', () => {
  const secret = Buffer.alloc(32, 1);

  it('is embedded mode without REDIS_URL, whatever else is set', () => {
    expect(clusterRedis({ REDIS_URL: undefined, CLUSTER_SECRET: secret, REDIS_PREFIX: 'sb' })).toBeUndefined();
  });

  it('requires CLUSTER_SECRET with REDIS_URL', () => {
    expect(() => clusterRedis({ REDIS_URL: 'redis://r', CLUSTER_SECRET: undefined, REDIS_PREFIX: 'sb' })).toThrow(/CLUSTER_SECRET: required with REDIS_URL/);
    expect(clusterRedis({ REDIS_URL: 'redis://r', CLUSTER_SECRET: secret, REDIS_PREFIX: 'x' })).toEqual({ url: 'redis://r', clusterSecret: secret, prefix: 'x' });
  });
});
