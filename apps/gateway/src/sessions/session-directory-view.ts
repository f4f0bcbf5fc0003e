import type { SessionDirectory, SessionEntry } from '@switchboard/coordination';
import type { McpSession } from './mcp-session';
import type { SessionRegistry } from './session-registry';

/** How the admin listing shows a session (the same shape whether read from Redis or in process). */
export function sessionEntryOf(session: McpSession, nodeId: string): SessionEntry {
  return {
    sessionId: session.id,
    node: nodeId,
    tenantId: session.binding.tenantId,
    keyId: session.binding.keyId,
    ...(session.binding.subject !== undefined ? { subject: session.binding.subject } : {}),
    transport: session.transportKind,
    tenantSlug: session.tenantSlug,
    ...(session.scope.plugin !== undefined ? { plugin: session.scope.plugin } : {}),
    openedAt: session.openedAt,
    lastActivityAt: session.lastActivityAt,
  };
}

/** Embedded mode: the admin API of the same process lists this node's sessions through this. */
export function localSessionDirectory(registry: SessionRegistry, nodeId: string): SessionDirectory {
  const entries = () => [...registry.values()].map((session) => sessionEntryOf(session, nodeId));
  return {
    listTenant: async (tenantId) => entries().filter((entry) => entry.tenantId === tenantId).sort((a, b) => a.openedAt - b.openedAt),
    find: async (sessionId) => {
      const session = registry.get(sessionId);
      return session ? sessionEntryOf(session, nodeId) : undefined;
    },
  };
}
