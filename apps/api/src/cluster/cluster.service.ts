import { Inject, Injectable } from '@nestjs/common';
import type { SessionEntry } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import { z } from 'zod';
import type { AdminPrincipal } from '../auth/admin-principal';
import { LOGGER } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { decodeJsonCursor, encodeJsonCursor } from '../common/pagination';
import { SessionsService, sessionView } from '../sessions/sessions.service';
import { ClusterRegistryProvider, type ClusterSnapshot } from './cluster-registry.provider';
import type { NodeList, NodeView, PlatformSessionPage, PlatformSessionsQuery } from './cluster.schemas';

/** A page ends after (openedAt, sessionId); the cursor says where, and is checked when it comes back. */
const cursorSchema = z.object({ o: z.number().int().min(0).max(8.64e15), s: z.string().min(1).max(128) }).strict();

/** The platform admin's view of the cluster: gateway nodes, and live sessions of every tenant. */
@Injectable()
export class ClusterService {
  constructor(
    private readonly registry: ClusterRegistryProvider,
    private readonly sessions: SessionsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async nodes(): Promise<NodeList> {
    const snapshot = await this.read();
    return { mode: snapshot.mode, items: snapshot.nodes.map((node) => nodeView(node, snapshot.sessions)) };
  }

  /** Oldest first, across every node and tenant; a session opened between two pages lands on a later one. */
  async listSessions(query: PlatformSessionsQuery): Promise<PlatformSessionPage> {
    const after = decodeCursor(query.cursor);
    const snapshot = await this.read();
    const matching = snapshot.sessions.filter((entry) => query.node === undefined || entry.node === query.node).sort(byOpened);
    const rest = after ? matching.filter((entry) => byOpened(entry, { openedAt: after.o, sessionId: after.s }) > 0) : matching;
    const items = rest.slice(0, query.limit);
    const last = items.at(-1);
    return {
      mode: snapshot.mode,
      items: items.map((entry) => ({ ...sessionView(entry), tenantId: entry.tenantId, tenantSlug: entry.tenantSlug })),
      nextCursor: rest.length > query.limit && last ? encodeCursor(last) : null,
      total: matching.length,
    };
  }

  /** Ends any tenant's session: audited under the session's tenant, like a tenant admin's ending. */
  async terminate(admin: AdminPrincipal, sessionId: string): Promise<void> {
    const snapshot = await this.read();
    const entry = snapshot.sessions.find((candidate) => candidate.sessionId === sessionId);
    if (!entry) throw new ApiError(ApiErrorCode.SESSION_NOT_FOUND, 'No live session with that id on any node.');
    await this.sessions.end(admin, entry);
  }

  private async read(): Promise<ClusterSnapshot> {
    try {
      return await this.registry.snapshot();
    } catch (error) {
      this.logger.warn({ err: error }, 'session registry unreadable');
      throw new ApiError(ApiErrorCode.NOT_READY, 'The session registry (Redis) is unavailable.');
    }
  }
}

function nodeView(node: ClusterSnapshot['nodes'][number], sessions: SessionEntry[]): NodeView {
  const own = sessions.filter((entry) => entry.node === node.node);
  return {
    node: node.node,
    health: node.up ? 'up' : 'silent',
    heartbeatExpiresInMs: node.heartbeatExpiresInMs,
    sessions: own.length,
    sessionsByTransport: {
      'streamable-http': own.filter((entry) => entry.transport === 'streamable-http').length,
      sse: own.filter((entry) => entry.transport === 'sse').length,
    },
    tenants: new Set(own.map((entry) => entry.tenantId)).size,
  };
}

function byOpened(a: Pick<SessionEntry, 'openedAt' | 'sessionId'>, b: Pick<SessionEntry, 'openedAt' | 'sessionId'>): number {
  return a.openedAt - b.openedAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);
}

function encodeCursor(entry: SessionEntry): string {
  return encodeJsonCursor({ o: entry.openedAt, s: entry.sessionId });
}

function decodeCursor(cursor: string | undefined): z.output<typeof cursorSchema> | undefined {
  return decodeJsonCursor(cursor, cursorSchema);
}
