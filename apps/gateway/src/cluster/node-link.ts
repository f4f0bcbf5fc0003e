import type { Redis } from 'ioredis';
import { SignedPubSub, type ClusterKeys, type EnvelopeRejection } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';

export interface NodeLinkOptions {
  redisUrl: string;
  secret: Buffer;
  nodeId: string;
  keys: ClusterKeys;
  logger: Logger;
}

/** A local error: the node cannot reach Redis right now (never sent to clients as is). */
export class ClusterLinkDownError extends Error {
  constructor() {
    super('The cluster link to Redis is down');
    this.name = 'ClusterLinkDownError';
  }
}

/**
 * This node's line to the others: its own pub/sub channel with signed messages (HMAC under
 * CLUSTER_SECRET, timestamp and nonce against replay, see SignedPubSub), and a command
 * connection for everything else the cluster keeps in Redis. Both connections reconnect by
 * themselves; sends fail fast while Redis is away.
 */
export class NodeLink {
  /** Commands (PUBLISH, registry writes, event store); fails fast while disconnected. */
  readonly redis: Redis;
  private readonly pubsub: SignedPubSub;
  private handler: ((payload: unknown, sender: string) => void) | undefined;

  constructor(private readonly options: NodeLinkOptions) {
    this.pubsub = new SignedPubSub(
      {
        redisUrl: options.redisUrl,
        secret: options.secret,
        nodeId: options.nodeId,
        channel: options.keys.nodeChannel(options.nodeId),
        // Connection names let operators (and tests) find a node's connections in CLIENT LIST.
        publisherOptions: { connectionName: `${options.nodeId}:cluster`, maxRetriesPerRequest: 1 },
        subscriberOptions: { connectionName: `${options.nodeId}:cluster-sub` },
      },
      (payload, sender) => this.handler?.(payload, sender),
      (reason) => options.logger.warn({ reason }, 'rejected a message on the node channel'),
    );
    this.redis = this.pubsub.publisher;
    this.pubsub.onStatus((status) => {
      if (status.ready) options.logger.info('cluster link to Redis is up');
      else options.logger.warn({ redis: status.publisher, subscriber: status.subscriber }, 'cluster link to Redis is down');
    });
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Messages dropped as forged, replayed, stale or malformed, by reason. */
  get rejected(): Record<EnvelopeRejection, number> {
    return this.pubsub.rejected;
  }

  /** True when this node can send and hears its channel. */
  get ready(): boolean {
    return this.pubsub.ready;
  }

  /** Where messages addressed to this node go. One handler: the cluster forwarder. */
  onMessage(handler: (payload: unknown, sender: string) => void): void {
    this.handler = handler;
  }

  /** Called with the new state whenever `ready` flips (re-registration, /readyz, logs). */
  onStatus(listener: (ready: boolean) => void): () => void {
    return this.pubsub.onStatus((status) => listener(status.ready));
  }

  /** Resolves once connected and listening (start-up waits for this, bounded). */
  whenReady(): Promise<void> {
    return this.pubsub.whenReady();
  }

  /**
   * Sends one signed message to a node's channel. Resolves to the number of nodes that heard it:
   * 0 means nobody listens there (the node is gone, or never existed).
   */
  async send(nodeId: string, payload: unknown): Promise<number> {
    if (this.redis.status !== 'ready') throw new ClusterLinkDownError();
    return this.pubsub.publish(this.options.keys.nodeChannel(nodeId), payload);
  }

  /** Which of these nodes are listening on their channel now (a killed node stops at once). */
  async listening(nodeIds: string[]): Promise<Set<string>> {
    if (this.redis.status !== 'ready' || nodeIds.length === 0) return new Set(nodeIds);
    const reply = (await this.redis.call('PUBSUB', 'NUMSUB', ...nodeIds.map((id) => this.options.keys.nodeChannel(id)))) as (string | number)[];
    const alive = new Set<string>();
    nodeIds.forEach((id, index) => {
      if (Number(reply[index * 2 + 1]) > 0) alive.add(id);
    });
    return alive;
  }

  async close(): Promise<void> {
    await this.pubsub.close();
  }
}
