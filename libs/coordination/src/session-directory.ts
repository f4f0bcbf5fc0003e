import type { Redis } from 'ioredis';
import type { ClusterKeys } from './cluster-keys';

/** One live MCP session as the cluster lists it (the admin API's sessions endpoint). */
export interface SessionEntry {
  sessionId: string;
  /** The gateway node holding the session's state and stream. */
  node: string;
  tenantId: string;
  keyId: string;
  /** The end user of a tenant token; absent for API keys. */
  subject?: string;
  transport: 'sse' | 'streamable-http';
  tenantSlug: string;
  /** The plugin endpoint (`/t/{tenant}/p/{plugin}/…`); absent for the tenant-wide endpoint. */
  plugin?: string;
  openedAt: number;
  lastActivityAt: number;
}

/** Read side of the session registry, for the admin API. */
export interface SessionDirectory {
  /** The tenant's live sessions on every node, oldest first. */
  listTenant(tenantId: string): Promise<SessionEntry[]>;
  find(sessionId: string): Promise<SessionEntry | undefined>;
}

/** What a node stores per session in its hash (the session id and node are the hash field and key). */
type StoredEntry = Omit<SessionEntry, 'sessionId' | 'node'>;

export function encodeSessionEntry(entry: SessionEntry): string {
  const { sessionId: _id, node: _node, ...stored } = entry;
  return JSON.stringify(stored satisfies StoredEntry);
}

export function decodeSessionEntry(sessionId: string, node: string, raw: string): SessionEntry | undefined {
  try {
    return { ...(JSON.parse(raw) as StoredEntry), sessionId, node };
  } catch {
    return undefined;
  }
}

/**
 * The registry as gateways keep it in Redis: one hash per node, which expires with the node's
 * heartbeat, so a dead node's sessions disappear from listings by themselves. The set of nodes
 * spares a SCAN of the whole keyspace (Redis also holds limits and queues).
 */
export class RedisSessionDirectory implements SessionDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
  ) {}

  async listTenant(tenantId: string): Promise<SessionEntry[]> {
    const entries: SessionEntry[] = [];
    for (const [node, hash] of await this.nodeHashes()) {
      for (const [sessionId, raw] of Object.entries(hash)) {
        const entry = decodeSessionEntry(sessionId, node, raw);
        if (entry && entry.tenantId === tenantId) entries.push(entry);
      }
    }
    return entries.sort((a, b) => a.openedAt - b.openedAt);
  }

  async find(sessionId: string): Promise<SessionEntry | undefined> {
    const nodes = await this.redis.smembers(this.keys.nodes());
    if (nodes.length === 0) return undefined;
    const pipeline = this.redis.pipeline();
    for (const node of nodes) pipeline.hget(this.keys.nodeSessions(node), sessionId);
    const results = (await pipeline.exec()) ?? [];
    for (const [index, [, raw]] of results.entries()) {
      if (typeof raw === 'string') return decodeSessionEntry(sessionId, nodes[index]!, raw);
    }
    return undefined;
  }

  private async nodeHashes(): Promise<[string, Record<string, string>][]> {
    const nodes = await this.redis.smembers(this.keys.nodes());
    if (nodes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const node of nodes) pipeline.hgetall(this.keys.nodeSessions(node)).exists(this.keys.nodeAlive(node));
    const results = (await pipeline.exec()) ?? [];
    const hashes: [string, Record<string, string>][] = [];
    const gone: string[] = [];
    nodes.forEach((node, index) => {
      const hash = (results[index * 2]?.[1] ?? {}) as Record<string, string>;
      const alive = results[index * 2 + 1]?.[1] === 1;
      if (Object.keys(hash).length > 0) hashes.push([node, hash]);
      else if (!alive) gone.push(node);
    });
    // Housekeeping: nodes that died (their keys expired) leave the set.
    if (gone.length > 0) await this.redis.srem(this.keys.nodes(), ...gone);
    return hashes;
  }
}
