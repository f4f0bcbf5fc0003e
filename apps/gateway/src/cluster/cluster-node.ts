import { waitForRedisAtStartup } from '@switchboard/config';
import { ClusterKeys, RedisControlBus, type ControlBus } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import type { GatewayConfig } from '../config/gateway-config';
import { ClusterForwarder } from './cluster-forwarder';
import type { Tracing } from '@switchboard/tracing';
import { ClusterSessionRegistry } from './cluster-session-registry';
import { NodeLink } from './node-link';
import { RedisEventStore } from './redis-event-store';

export interface ClusterNode {
  registry: ClusterSessionRegistry;
  forwarder: ClusterForwarder;
  /** Control events from the API and the other nodes, signed with CLUSTER_SECRET. */
  bus: ControlBus;
  eventStoreFor(sessionId: string): RedisEventStore;
  /**
   * Calls `listener` with each Redis connection's readiness now and whenever it changes, by use
   * (`control-bus`, `sessions`): the switchboard_redis_connection_up gauge.
   */
  onRedisStatus(listener: (connection: 'control-bus' | 'sessions', ready: boolean) => void): void;
  /** 'ok', or 'degraded' while Redis is unreachable (/readyz). */
  health(): 'ok' | 'degraded';
  /** Starts the heartbeat; call once the node serves. */
  start(): void;
  close(): Promise<void>;
}

/** Everything a gateway node needs to be one of many (REDIS_URL set). */
export async function openClusterNode(
  nodeId: string,
  cluster: NonNullable<GatewayConfig['cluster']>,
  logger: Logger,
  streams: { keepAliveMs: number; maxBufferedBytes: number },
  tracing: Tracing,
): Promise<ClusterNode> {
  const keys = new ClusterKeys(cluster.prefix);
  const link = new NodeLink({ redisUrl: cluster.redisUrl, secret: cluster.secret, nodeId, keys, logger });
  const bus = new RedisControlBus({
    redisUrl: cluster.redisUrl,
    secret: cluster.secret,
    nodeId,
    channel: keys.controlChannel(),
    redisOptions: { connectionName: `${nodeId}:control-bus` },
    onRejected: (reason) => logger.warn({ reason }, 'rejected a control event'),
  });
  bus.onStatus((status) =>
    status.ready ? logger.info('control bus connected to Redis') : logger.warn({ publisher: status.publisher, subscriber: status.subscriber }, 'control bus lost Redis'),
  );
  const registry = new ClusterSessionRegistry(link, keys, logger);
  const forwarder = new ClusterForwarder(link, cluster.forwardTimeoutMs, logger, streams, tracing);

  // A node without Redis still serves the sessions it opens (only cross-node requests fail).
  await waitForRedisAtStartup(Promise.all([link.whenReady(), bus.ready()]), logger, 'Redis not reachable at start-up; serving this node\'s own sessions until it is');

  return {
    registry,
    forwarder,
    bus,
    eventStoreFor: (sessionId) => new RedisEventStore(link, keys, sessionId),
    onRedisStatus(listener) {
      listener('sessions', link.ready);
      listener('control-bus', bus.status().ready);
      link.onStatus((ready) => listener('sessions', ready));
      bus.onStatus((status) => listener('control-bus', status.ready));
    },
    health: () => (link.ready && bus.status().ready ? 'ok' : 'degraded'),
    start: () => registry.start(),
    async close() {
      forwarder.close();
      await registry.stop();
      await Promise.all([link.close(), bus.close()]);
    },
  };
}
