export { parseEnv, ConfigError } from './load-config';
export type { Env } from './load-config';
export { port, databaseUrl, redisUrl, httpUrl, logLevel, key32, key32List, commaList, booleanFlag, metricsPort, redisPrefix, METRICS_OFF } from './env-vars';
export { platformEnvSchema, clusterRedis, configuredKeys, DEFAULT_GATEWAY_PORT, DEFAULT_DATA_DIR, DEFAULT_HOST } from './platform-env';
export type { PlatformEnv, ClusterRedis } from './platform-env';
export { nodeIdSchema, isNodeId, isUuid } from './ids';
export { waitForRedisAtStartup, REDIS_STARTUP_WAIT_MS } from './redis-startup';
export { urlHost } from './url-host';
