import type { ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { LogLevel } from '@switchboard/plugin-sdk';
import type { CredentialBinding } from '../auth/credential-binding';
import type { CatalogScope } from '../tenants/tenant-plugins.service';
import type { SessionCatalog } from '../tenants/session-catalog';

export type TransportKind = 'sse' | 'streamable-http';

export interface SessionInit {
  id: string;
  transportKind: TransportKind;
  binding: CredentialBinding;
  tenantSlug: string;
  scope: CatalogScope;
  catalog: SessionCatalog;
  /** Legacy SSE: the open event stream, for keep-alive comments. */
  stream?: ServerResponse;
}

/**
 * One MCP session on this node: its credential binding, what it can see, its MCP state (log
 * level, resource subscriptions) and its SDK server and transport. Kept small on purpose: the
 * benchmark holds 10,000 idle ones.
 */
export class McpSession {
  readonly id: string;
  readonly transportKind: TransportKind;
  readonly binding: CredentialBinding;
  readonly tenantSlug: string;
  readonly scope: CatalogScope;
  readonly openedAt = Date.now();
  readonly stream: ServerResponse | undefined;
  lastActivityAt = this.openedAt;
  catalog: SessionCatalog;
  /** The level the client asked for with logging/setLevel; undefined = send every level. */
  logLevel: LogLevel | undefined;
  /** Resource URIs the client subscribed to; created on first subscribe. */
  subscriptions: Set<string> | undefined;
  server!: Server;
  transport!: Transport;
  /** Aborted when the session ends, so running handlers see the disconnect. */
  private readonly lifetime = new AbortController();
  /** Aborts of running handlers (`runAbortable`): a Set entry per call is cheaper than a listener each. */
  private running: Set<(reason: unknown) => void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly onClosed: (session: McpSession) => void;

  constructor(init: SessionInit, onClosed: (session: McpSession) => void) {
    this.id = init.id;
    this.transportKind = init.transportKind;
    this.binding = init.binding;
    this.tenantSlug = init.tenantSlug;
    this.scope = init.scope;
    this.catalog = init.catalog;
    this.stream = init.stream;
    this.onClosed = onClosed;
  }

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** Calls `abort` with the session's end reason when it ends, unless `offClose` came first. */
  onClose(abort: (reason: unknown) => void): void {
    (this.running ??= new Set()).add(abort);
  }

  offClose(abort: (reason: unknown) => void): void {
    this.running?.delete(abort);
  }

  touch(): void {
    this.lastActivityAt = Date.now();
  }

  /** Ends the session once: aborts its handlers, closes server and transport (ending its streams). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const reason = new Error('session closed');
      this.lifetime.abort(reason);
      if (this.running) for (const abort of [...this.running]) abort(reason);
      this.onClosed(this);
      // Server.close() closes the transport, which ends the SSE response or GET stream.
      await this.server?.close().catch(() => undefined);
    })();
    return this.closing;
  }
}
