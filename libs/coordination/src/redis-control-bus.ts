import type { RedisOptions } from 'ioredis';
import type { ControlBus, ControlEvent, ControlEventHandler } from './control-events';
import type { EnvelopeRejection } from './signed-envelope';
import { SignedPubSub, type SignedPubSubStatus } from './signed-pub-sub';

/** One channel for the whole cluster: control events are rare and every node wants all of them. */
export const DEFAULT_CONTROL_CHANNEL = 'sb:control';

export interface RedisControlBusOptions {
  redisUrl: string;
  /** CLUSTER_SECRET: at least 32 bytes, the same on every node. */
  secret: Buffer;
  nodeId: string;
  channel?: string;
  replayWindowMs?: number;
  /** Called for every dropped message, e.g. to count it in a metric. Never given the message. */
  onRejected?: (reason: EnvelopeRejection) => void;
  /** Extra ioredis options (tests set connectionName). */
  redisOptions?: RedisOptions;
}

/** `ready`: publishing works and this node hears the channel. /readyz reports it. */
export type ControlBusStatus = SignedPubSubStatus;

export class ControlBusUnavailableError extends Error {
  constructor() {
    super('The control bus is not connected to Redis');
    this.name = 'ControlBusUnavailableError';
  }
}

/**
 * Control events over Redis pub/sub on one channel, signed (SignedPubSub): every node publishes
 * and every node hears every event.
 */
export class RedisControlBus implements ControlBus {
  private readonly handlers = new Set<ControlEventHandler>();
  private readonly channel: string;
  private readonly link: SignedPubSub;

  constructor(options: RedisControlBusOptions) {
    this.channel = options.channel ?? DEFAULT_CONTROL_CHANNEL;
    this.link = new SignedPubSub(
      {
        redisUrl: options.redisUrl,
        secret: options.secret,
        nodeId: options.nodeId,
        channel: this.channel,
        replayWindowMs: options.replayWindowMs,
        publisherOptions: options.redisOptions,
        subscriberOptions: options.redisOptions,
      },
      (payload) => this.dispatch(payload as ControlEvent),
      options.onRejected,
    );
  }

  /** Messages dropped as forged, replayed, stale or malformed, by reason. */
  get rejected(): Record<EnvelopeRejection, number> {
    return this.link.rejected;
  }

  async publish(event: ControlEvent): Promise<void> {
    if (this.link.publisher.status !== 'ready') throw new ControlBusUnavailableError();
    await this.link.publish(this.channel, event);
  }

  subscribe(handler: ControlEventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  status(): ControlBusStatus {
    return this.link.status();
  }

  /** Resolves once both connections are up and the channel is subscribed (again). */
  ready(): Promise<void> {
    return this.link.whenReady();
  }

  /** Called whenever `status().ready` flips, e.g. to set a connection-state gauge and /readyz. */
  onStatus(listener: (status: ControlBusStatus) => void): () => void {
    return this.link.onStatus(listener);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await this.link.close();
  }

  private dispatch(event: ControlEvent): void {
    for (const handler of [...this.handlers]) {
      // A handler's failure is its own; the other handlers still run.
      try {
        handler(event);
      } catch {
        /* handlers log their own errors */
      }
    }
  }
}
