import type { McpSession } from './mcp-session';

/**
 * Where a node keeps its sessions. The transports only ever go through this interface, so the
 * multi-node work can add a Redis-backed registry (session → owner node, binding, expiry) and
 * cross-node forwarding beside the local map without touching them.
 */
export interface SessionRegistry {
  add(session: McpSession): void;
  /** A live session held by this node. */
  get(id: string): McpSession | undefined;
  remove(id: string): void;
  readonly size: number;
  /** Sessions of this node, for keep-alives, idle sweeps, control events and shutdown. */
  values(): IterableIterator<McpSession>;
}

/** Embedded / single-node registry: one Map. */
export class LocalSessionRegistry implements SessionRegistry {
  private readonly sessions = new Map<string, McpSession>();

  add(session: McpSession): void {
    this.sessions.set(session.id, session);
  }

  get(id: string): McpSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  values(): IterableIterator<McpSession> {
    return this.sessions.values();
  }
}
