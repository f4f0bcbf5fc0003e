import { encodeSessionEntry, type ClusterKeys } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import type { McpSession } from '../sessions/mcp-session';
import { sessionEntryOf } from '../sessions/session-directory-view';
import { LocalSessionRegistry, type SessionRegistry } from '../sessions/session-registry';
import type { NodeLink } from './node-link';

/** How often a node renews its liveness key and session hash, and writes last-activity times. */
export const HEARTBEAT_INTERVAL_MS = 3_000;
/**
 * A node silent this long (killed, cut off) has its sessions dropped from the registry by Redis.
 * 9 s keeps a margin under the promised 10 s for Redis's expiry and a slow reader; it still
 * tolerates two missed heartbeats.
 */
export const NODE_TTL_MS = 9_000;
/** Entries per HSET when re-registering every session after a reconnect. */
const REREGISTER_BATCH = 500;

/**
 * The node's sessions in memory (the transports use only this map) and mirrored to Redis for the
 * admin listing and node-death cleanup: HSET on open and HDEL (with the session's stored events)
 * on close, never on a message. Last
 * activity is written in bulk by the heartbeat. Redis writes are best effort: while Redis is away
 * the node keeps serving, and it re-registers everything when Redis returns.
 */
export class ClusterSessionRegistry implements SessionRegistry {
  private readonly local = new LocalSessionRegistry();
  private readonly hashKey: string;
  private readonly aliveKey: string;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHeartbeatAt = 0;

  constructor(
    private readonly link: NodeLink,
    private readonly keys: ClusterKeys,
    private readonly logger: Logger,
  ) {
    this.hashKey = keys.nodeSessions(link.nodeId);
    this.aliveKey = keys.nodeAlive(link.nodeId);
  }

  /**
   * Starts the heartbeat. A restarted node (same NODE_ID) first drops its previous hash, so
   * sessions of its previous life never come back. Every reconnect re-registers the live ones.
   */
  start(): void {
    this.link.onStatus((ready) => {
      if (ready) void this.reregister();
    });
    if (this.link.ready) void this.reregister();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /** Stops the heartbeat and removes this node's entries (graceful shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.write((redis) => redis.multi().del(this.hashKey, this.aliveKey).srem(this.keys.nodes(), this.link.nodeId).exec());
  }

  add(session: McpSession): void {
    this.local.add(session);
    void this.write((redis) =>
      redis
        .multi()
        .hset(this.hashKey, session.id, encodeSessionEntry(sessionEntryOf(session, this.link.nodeId)))
        .pexpire(this.hashKey, NODE_TTL_MS)
        .exec(),
    );
  }

  get(id: string): McpSession | undefined {
    return this.local.get(id);
  }

  remove(id: string): void {
    if (!this.local.get(id)) return;
    this.local.remove(id);
    // Its GET-stream events too: an ended session is never resumed (a dead node's expire).
    void this.write((redis) => redis.multi().hdel(this.hashKey, id).del(this.keys.sessionEvents(id)).exec());
  }

  get size(): number {
    return this.local.size;
  }

  values(): IterableIterator<McpSession> {
    return this.local.values();
  }

  private async beat(): Promise<void> {
    const since = this.lastHeartbeatAt;
    this.lastHeartbeatAt = Date.now();
    await this.write((redis) => {
      const tx = redis.multi().set(this.aliveKey, '1', 'PX', NODE_TTL_MS).sadd(this.keys.nodes(), this.link.nodeId);
      for (const session of this.local.values()) {
        if (session.lastActivityAt > since) tx.hset(this.hashKey, session.id, encodeSessionEntry(sessionEntryOf(session, this.link.nodeId)));
      }
      return tx.pexpire(this.hashKey, NODE_TTL_MS).exec();
    });
  }

  private async reregister(): Promise<void> {
    this.lastHeartbeatAt = Date.now();
    const entries = [...this.local.values()].map((session) => [session.id, encodeSessionEntry(sessionEntryOf(session, this.link.nodeId))] as const);
    await this.write(async (redis) => {
      const tx = redis.multi().del(this.hashKey).set(this.aliveKey, '1', 'PX', NODE_TTL_MS).sadd(this.keys.nodes(), this.link.nodeId);
      for (let i = 0; i < entries.length; i += REREGISTER_BATCH) tx.hset(this.hashKey, ...entries.slice(i, i + REREGISTER_BATCH).flat());
      return tx.pexpire(this.hashKey, NODE_TTL_MS).exec();
    });
    this.logger.info({ sessions: entries.length }, 'sessions registered in Redis');
  }

  private async write(command: (redis: NodeLink['redis']) => Promise<unknown>): Promise<void> {
    if (!this.link.ready) return;
    try {
      await command(this.link.redis);
    } catch (error) {
      // Redis went away mid-write: the re-registration on reconnect repairs the hash.
      this.logger.debug({ err: error }, 'session registry write failed');
    }
  }
}
