import type { PluginCatalog } from '@switchboard/plugin-runtime';
import type { ApiKeyResolver, Clock } from '@switchboard/api-keys';
import type { ControlBus, SessionDirectory } from '@switchboard/coordination';
import type { Database } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import type { PlatformSecrets } from '@switchboard/secrets';
import type { ApiConfig } from '../config/api-config';
import type { UsagePipeline } from '../usage/usage-pipeline';

/** Everything the API's modules share, built once by startApi() and closed by it. */
export interface ApiContext {
  config: ApiConfig;
  db: Database;
  bus: ControlBus;
  logger: Logger;
  secrets: PlatformSecrets;
  catalog: PluginCatalog;
  clock: Clock;
  /** Verifies API keys for POST /v1/tokens; attached to the bus by startApi. */
  apiKeys: ApiKeyResolver;
  /** Usage aggregation (BullMQ worker, or the in-process sink) and its failed jobs. */
  usage: UsagePipeline;
  /** False while Redis is unreachable (cluster mode only): /readyz reports it. */
  redisReady(): boolean;
  /** Embedded mode: the sessions of a gateway in this process (`npm start`); none when the API runs alone. */
  inProcessSessions: SessionDirectory;
}

// Injection tokens for the parts that are interfaces (classes are injected by class).
export const API_CONFIG = Symbol('ApiConfig');
export const DATABASE = Symbol('Database');
export const CONTROL_BUS = Symbol('ControlBus');
export const LOGGER = Symbol('Logger');
export const PLUGIN_CATALOG = Symbol('PluginCatalog');
export const CLOCK = Symbol('Clock');
export const PLATFORM_SECRETS = Symbol('PlatformSecrets');
export const USAGE_PIPELINE = Symbol('UsagePipeline');
export const REDIS_READY = Symbol('RedisReady');
export const IN_PROCESS_SESSIONS = Symbol('InProcessSessions');
