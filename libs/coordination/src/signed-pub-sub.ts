import { Redis, type RedisOptions } from 'ioredis';
import { SignedEnvelopeCodec, type EnvelopeRejection } from './signed-envelope';

export interface SignedPubSubOptions {
  redisUrl: string;
  /** CLUSTER_SECRET: the same on every node. */
  secret: Buffer;
  nodeId: string;
  /** The channel this side listens on. */
  channel: string;
  replayWindowMs?: number;
  /** ioredis options of the command connection (publish and anything else). */
  publisherOptions?: RedisOptions;
  /** ioredis options of the listening connection. */
  subscriberOptions?: RedisOptions;
}

export interface SignedPubSubStatus {
  /** Publishing works and this side hears its channel. */
  ready: boolean;
  publisher: string;
  subscriber: string;
  subscribed: boolean;
}

/**
 * Signed messages over Redis pub/sub, the base of the control bus and of node-to-node
 * forwarding. A connection in subscriber mode cannot run other commands, so publishing and
 * listening use two connections. Both reconnect by themselves (ioredis retries forever); the
 * subscriber re-subscribes on every reconnect, done here rather than by ioredis's
 * autoResubscribe so that `ready` turns true only once the SUBSCRIBE is confirmed. Publishing
 * fails fast while Redis is away instead of queueing: the caller decides what that means.
 */
export class SignedPubSub {
  readonly rejected: Record<EnvelopeRejection, number> = { malformed: 0, 'bad-signature': 0, stale: 0, replayed: 0 };
  /** The command connection: PUBLISH, and whatever else the owner keeps in Redis. */
  readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly codec: SignedEnvelopeCodec;
  private subscribed = false;
  private lastReady = false;
  private closed = false;
  private readonly statusListeners = new Set<(status: SignedPubSubStatus) => void>();

  constructor(
    private readonly options: SignedPubSubOptions,
    private readonly onMessage: (payload: unknown, sender: string) => void,
    private readonly onRejected: (reason: EnvelopeRejection) => void = () => undefined,
  ) {
    this.codec = new SignedEnvelopeCodec({ secret: options.secret, nodeId: options.nodeId, replayWindowMs: options.replayWindowMs });
    this.publisher = new Redis(options.redisUrl, { ...options.publisherOptions, enableOfflineQueue: false });
    this.subscriber = new Redis(options.redisUrl, { ...options.subscriberOptions, autoResubscribe: false });
    // Without an 'error' listener ioredis would crash the process on a connection error.
    this.publisher.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.publisher.on('ready', () => this.statusChanged());
    this.publisher.on('close', () => this.statusChanged());
    this.subscriber.on('ready', () => void this.subscribeChannel());
    this.subscriber.on('close', () => {
      this.subscribed = false;
      this.statusChanged();
    });
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel === options.channel) this.receive(raw);
    });
  }

  get ready(): boolean {
    return this.publisher.status === 'ready' && this.subscribed;
  }

  status(): SignedPubSubStatus {
    return { ready: this.ready, publisher: this.publisher.status, subscriber: this.subscriber.status, subscribed: this.subscribed };
  }

  /** Called whenever `ready` flips. Returns a function that removes the listener. */
  onStatus(listener: (status: SignedPubSubStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Resolves once both connections are up and the channel is subscribed (again). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.onStatus((status) => {
        if (!status.ready) return;
        off();
        resolve();
      });
    });
  }

  /** Publishes a signed message; resolves to the number of subscribers that received it. */
  publish(channel: string, payload: unknown): Promise<number> {
    return this.publisher.publish(channel, this.codec.encode(payload));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statusListeners.clear();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private async subscribeChannel(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.options.channel);
      this.subscribed = true;
      this.statusChanged();
    } catch {
      // The connection dropped again; the next 'ready' retries.
    }
  }

  private statusChanged(): void {
    const status = this.status();
    if (status.ready === this.lastReady || this.closed) return;
    this.lastReady = status.ready;
    for (const listener of [...this.statusListeners]) listener(status);
  }

  private receive(raw: string): void {
    const decoded = this.codec.decode(raw);
    if (!decoded.ok) {
      this.rejected[decoded.reason] += 1;
      this.onRejected(decoded.reason);
      return;
    }
    this.onMessage(decoded.payload, decoded.sender);
  }
}
