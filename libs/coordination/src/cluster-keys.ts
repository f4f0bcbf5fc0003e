/**
 * The Redis names of a cluster, in one place: gateways write them and the admin API reads them.
 * Everything starts with a prefix (REDIS_PREFIX, `sb` by default), so test runs and several
 * installations can share one Redis.
 */
/** The prefix when REDIS_PREFIX is not set (`sb:control` is then the control channel). */
export const DEFAULT_REDIS_PREFIX = 'sb';

export class ClusterKeys {
  constructor(readonly prefix: string) {}

  /** Pub/sub channel a node listens on for requests forwarded to it and replies addressed to it. */
  nodeChannel(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}`;
  }

  /** String key whose presence (TTL renewed by the node's heartbeat) says the node is alive. */
  nodeAlive(nodeId: string): string {
    return `${this.prefix}:alive:${nodeId}`;
  }

  /** Hash of a node's sessions: session id → JSON SessionEntry; expires with the node. */
  nodeSessions(nodeId: string): string {
    return `${this.prefix}:sessions:${nodeId}`;
  }

  /** Set of the nodes that may have sessions (readers drop members whose node is gone). */
  nodes(): string {
    return `${this.prefix}:nodes`;
  }

  /** Redis stream holding a session's recent server-initiated events, for resumption. */
  sessionEvents(sessionId: string): string {
    return `${this.prefix}:events:${sessionId}`;
  }

  /** The cluster's control-event channel. */
  controlChannel(): string {
    return `${this.prefix}:control`;
  }

  /**
   * BullMQ key prefix of the usage queue: under the cluster's prefix, so an installation sharing
   * Redis with another never consumes the other's usage events.
   */
  usageQueuePrefix(): string {
    return `${this.prefix}:bull`;
  }
}
