import { z } from 'zod';
import { DEFAULT_REDIS_PREFIX } from '@switchboard/coordination';
import { commaList, databaseUrl, httpUrl, key32, key32List, logLevel, port, redisPrefix, redisUrl } from './env-vars';
import { nodeIdSchema } from './ids';
import { ConfigError } from './load-config';

export const DEFAULT_GATEWAY_PORT = 8080;
export const DEFAULT_DATA_DIR = './.data';
export const DEFAULT_HOST = '127.0.0.1';

/**
 * The variables the admin API and the gateway both read, with the same meaning and default.
 * Each app's loader extends this with its own (`platformEnvSchema.extend({...})`).
 */
export const platformEnvSchema = z.object({
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  /** Signs control events and messages between nodes; the same 32 bytes on the API and every gateway. */
  CLUSTER_SECRET: key32.optional(),
  /** Prefix of the cluster's Redis names; the same on the API and every gateway (`sb`). */
  REDIS_PREFIX: redisPrefix(DEFAULT_REDIS_PREFIX),
  DATA_DIR: z.string().default(DEFAULT_DATA_DIR),
  HOST: z.string().default(DEFAULT_HOST),
  /** The gateway's port: it listens on it, the API builds the default PUBLIC_GATEWAY_URL from it. */
  GATEWAY_PORT: port(DEFAULT_GATEWAY_PORT),
  PUBLIC_GATEWAY_URL: httpUrl.optional(),
  SECRETS_KEY: key32.optional(),
  SECRETS_KEY_PREVIOUS: key32List,
  KEY_PEPPER: key32.optional(),
  KEY_PEPPER_PREVIOUS: key32List,
  NODE_ID: nodeIdSchema.optional(),
  LOG_LEVEL: logLevel,
  PLUGINS: commaList,
  PLUGINS_DIR: z.string().optional(),
});

export type PlatformEnv = z.output<typeof platformEnvSchema>;

/** Cluster mode's Redis, or undefined in embedded mode (no REDIS_URL). */
export interface ClusterRedis {
  url: string;
  clusterSecret: Buffer;
  prefix: string;
}

/** REDIS_URL with its CLUSTER_SECRET and REDIS_PREFIX; throws ConfigError when the secret is missing. */
export function clusterRedis(vars: Pick<PlatformEnv, 'REDIS_URL' | 'CLUSTER_SECRET' | 'REDIS_PREFIX'>): ClusterRedis | undefined {
  if (!vars.REDIS_URL) return undefined;
  // Control events are signed with it: without a shared secret a node would accept forged revocations or ignore real ones.
  if (!vars.CLUSTER_SECRET) {
    throw new ConfigError([{ variable: 'CLUSTER_SECRET', message: 'required with REDIS_URL: the same 32-byte key on every node (openssl rand -base64 32)' }]);
  }
  return { url: vars.REDIS_URL, clusterSecret: vars.CLUSTER_SECRET, prefix: vars.REDIS_PREFIX };
}

/** The configured keys and their predecessors; each app decides whether missing ones may be generated. */
export function configuredKeys(vars: PlatformEnv): { secretsKey?: Buffer; secretsKeyPrevious: Buffer[]; keyPepper?: Buffer; keyPepperPrevious: Buffer[] } {
  return {
    secretsKey: vars.SECRETS_KEY,
    secretsKeyPrevious: vars.SECRETS_KEY_PREVIOUS,
    keyPepper: vars.KEY_PEPPER,
    keyPepperPrevious: vars.KEY_PEPPER_PREVIOUS,
  };
}
