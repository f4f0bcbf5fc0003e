export { parseEnv, ConfigError } from './load-config';
export type { Env } from './load-config';
export { port, databaseUrl, redisUrl, httpUrl, logLevel, key32, key32List, commaList, booleanFlag, metricsPort, redisPrefix, METRICS_OFF } from './env-vars';
