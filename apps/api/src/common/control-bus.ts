import { ClusterKeys, RedisControlBus, sharedInProcessControlBus, type ControlBus } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import type { ApiConfig } from '../config/api-config';

/**
 * How long start-up waits for Redis before serving anyway. The admin API works without Redis
 * (control events are then late, see ControlEventsPublisher), so a Redis outage must not stop it
 * from starting; it reports the degradation on /readyz instead.
 */
export const REDIS_STARTUP_WAIT_MS = 5_000;

export interface ApiControlBus {
  bus: ControlBus;
  /** False while the Redis connections are down; always true in embedded mode. */
  ready(): boolean;
  close(): Promise<void>;
}

/**
 * The bus that carries revocations to gateways. Cluster mode: Redis pub/sub, signed with
 * CLUSTER_SECRET. Embedded mode: the process-wide in-process bus, which reaches a gateway
 * started in the same process (`npm start`) and nothing else.
 */
export async function openControlBus(config: ApiConfig, logger: Logger, channel?: string): Promise<ApiControlBus> {
  if (!config.redis) {
    // Not ours to close: a gateway in this process may still be using it.
    return { bus: sharedInProcessControlBus(), ready: () => true, close: async () => undefined };
  }
  const bus = new RedisControlBus({
    redisUrl: config.redis.url,
    secret: config.redis.clusterSecret,
    nodeId: config.nodeId,
    // The gateways listen on the channel of the same REDIS_PREFIX.
    channel: channel ?? new ClusterKeys(config.redis.prefix).controlChannel(),
    redisOptions: { connectionName: `${config.nodeId}:control-bus` },
  });
  bus.onStatus((status) =>
    status.ready ? logger.info('control bus connected to Redis') : logger.warn({ publisher: status.publisher, subscriber: status.subscriber }, 'control bus lost Redis'),
  );
  let timer: NodeJS.Timeout | undefined;
  const connected = await Promise.race([
    bus.ready().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), REDIS_STARTUP_WAIT_MS).unref())),
  ]);
  clearTimeout(timer);
  if (!connected) logger.warn({ waitedMs: REDIS_STARTUP_WAIT_MS }, 'Redis not reachable at start-up; serving without control events until it is');
  return { bus, ready: () => bus.status().ready, close: () => bus.close() };
}
