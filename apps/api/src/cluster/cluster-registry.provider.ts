import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ClusterKeys, decodeSessionEntry, type SessionDirectory, type SessionEntry } from '@switchboard/coordination';
import { PrismaClient } from '@switchboard/db';
import { Redis } from 'ioredis';
import { API_CONFIG, IN_PROCESS_SESSIONS } from '../common/api-context';
import type { ApiConfig } from '../config/api-config';

/** What the registry holds right now: every node that registered, and every live session. */
export interface ClusterSnapshot {
  mode: 'cluster' | 'embedded';
  nodes: { node: string; up: boolean; heartbeatExpiresInMs: number | null }[];
  sessions: SessionEntry[];
}

/**
 * Reads the registry the gateway nodes keep (apps/gateway/src/cluster/cluster-session-registry.ts):
 * the set of nodes, each node's liveness key (renewed by its heartbeat, expiring when it goes
 * silent) and its hash of sessions, under the names in ClusterKeys. Read only: the gateways own
 * those keys, and their readers tidy the set of nodes.
 *
 * Embedded mode (`npm start`, no Redis) has one gateway in this process; its directory answers
 * per tenant only, so the platform-wide view asks it tenant by tenant (an embedded platform is
 * one machine's worth of tenants).
 */
@Injectable()
export class ClusterRegistryProvider implements OnModuleDestroy {
  private readonly redis: Redis | undefined;
  private readonly keys: ClusterKeys | undefined;

  constructor(
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(IN_PROCESS_SESSIONS) private readonly inProcess: SessionDirectory,
    private readonly prisma: PrismaClient,
  ) {
    if (!config.redis) return;
    // Fails fast while Redis is away: the listing answers 503 rather than hanging.
    this.redis = new Redis(config.redis.url, { connectionName: `${config.nodeId}:cluster`, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
    this.keys = new ClusterKeys(config.redis.prefix);
  }

  snapshot(): Promise<ClusterSnapshot> {
    return this.redis && this.keys ? this.fromRedis(this.redis, this.keys) : this.embedded();
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }

  private async fromRedis(redis: Redis, keys: ClusterKeys): Promise<ClusterSnapshot> {
    const names = (await redis.smembers(keys.nodes())).sort();
    if (names.length === 0) return { mode: 'cluster', nodes: [], sessions: [] };
    const pipeline = redis.pipeline();
    for (const node of names) pipeline.pttl(keys.nodeAlive(node)).hgetall(keys.nodeSessions(node));
    const results = (await pipeline.exec()) ?? [];
    const nodes: ClusterSnapshot['nodes'] = [];
    const sessions: SessionEntry[] = [];
    names.forEach((node, index) => {
      const [ttlError, ttl] = results[index * 2] ?? [];
      const [hashError, hash] = results[index * 2 + 1] ?? [];
      if (ttlError || hashError) throw ttlError ?? hashError;
      // PTTL: -2 no key (the node missed its heartbeats), -1 no expiry (never written so by a gateway).
      const up = typeof ttl === 'number' && ttl !== -2;
      const entries = Object.entries((hash ?? {}) as Record<string, string>);
      // A node that is gone and has no sessions left is only waiting for a reader to drop it from the set.
      if (!up && entries.length === 0) return;
      nodes.push({ node, up, heartbeatExpiresInMs: up && typeof ttl === 'number' && ttl >= 0 ? ttl : null });
      for (const [sessionId, raw] of entries) {
        const entry = decodeSessionEntry(sessionId, node, raw);
        if (entry) sessions.push(entry);
      }
    });
    return { mode: 'cluster', nodes, sessions };
  }

  private async embedded(): Promise<ClusterSnapshot> {
    const tenants = await this.prisma.tenant.findMany({ select: { id: true } });
    const sessions = (await Promise.all(tenants.map((tenant) => this.inProcess.listTenant(tenant.id)))).flat();
    // The embedded gateway writes no liveness key: it is up whenever this process is.
    const nodes = [...new Set(sessions.map((entry) => entry.node))].sort().map((node) => ({ node, up: true, heartbeatExpiresInMs: null }));
    return { mode: 'embedded', nodes, sessions };
  }
}
