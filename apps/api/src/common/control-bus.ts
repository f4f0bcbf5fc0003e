import { waitForRedisAtStartup } from '@switchboard/config';
import { ClusterKeys, InProcessControlBus, RedisControlBus, type ControlBus } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import type { ApiConfig } from '../config/api-config';

export interface ApiControlBus {
  bus: ControlBus;
  /** False while the Redis connections are down; always true in embedded mode. */
  ready(): boolean;
  close(): Promise<void>;
}

/**
 * The bus that carries revocations to gateways. Cluster mode: Redis pub/sub, signed with
 * CLUSTER_SECRET. Embedded mode: the in-process bus shared with a gateway started in the same
 * process (`npm start`), or with none, one of our own that reaches nothing else.
 */
export async function openControlBus(config: ApiConfig, logger: Logger, channel?: string, embedded?: ControlBus): Promise<ApiControlBus> {
  if (!config.redis) {
    // The shared bus is not ours to close: the gateway in this process may still be using it.
    if (embedded) return { bus: embedded, ready: () => true, close: async () => undefined };
    const own = new InProcessControlBus();
    return { bus: own, ready: () => true, close: () => own.close() };
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
  // The admin API works without Redis (control events are then late, see ControlEventsPublisher),
  // so an outage must not stop it from starting; /readyz reports the degradation instead.
  await waitForRedisAtStartup(bus.ready(), logger, 'Redis not reachable at start-up; serving without control events until it is');
  return { bus, ready: () => bus.status().ready, close: () => bus.close() };
}
