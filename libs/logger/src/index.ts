export { createLogger, maskSecrets, REDACTED_PATHS, LOG_BATCH_BYTES, LOG_FLUSH_MS } from './logger';
export type { Logger, LoggerOptions } from './logger';
