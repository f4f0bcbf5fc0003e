import { createHash } from 'node:crypto';
import type { ToolResult } from '@switchboard/plugin-sdk';
import type { Connector, UpstreamConnection, UpstreamTarget, UpstreamTool } from './upstream-connection';
import { Backoff, classifyFailure, endsConnection, isBlockedAddress, mayRetry } from './upstream-failures';

/** How long an upstream tool list is reused; `notifications/tools/list_changed` drops it sooner. */
export const TOOLS_CACHE_TTL_MS = 60_000;
/** An upstream connection unused this long is closed. */
export const UPSTREAM_IDLE_MS = 5 * 60_000;

/** One open connection and the requests still using it. */
interface Live {
  /** Resolves once initialized; rejects when connecting fails. */
  connected: Promise<Live>;
  /** Undefined until connected. */
  connection: UpstreamConnection | undefined;
  inFlight: number;
  /** No new request uses it; it closes when the last one in flight ends. */
  retired: boolean;
  idle: NodeJS.Timeout | undefined;
}

/** Everything kept for one tenant and configuration, across the connections it goes through. */
interface Entry {
  key: string;
  /** The connection new requests use, open or opening. */
  current: Live | undefined;
  backoff: Backoff;
  tools: { at: number; list: UpstreamTool[]; json: string } | undefined;
  /** A new connection replaced a lost one: the next listing compares what the upstream now has. */
  reconnected: boolean;
  /** The gateway's callback for this tenant, from the latest listing. */
  listChanged: (() => void) | undefined;
  /** The last listing failed: the next success tells the tenant's sessions to list again. */
  listingFailed: boolean;
}

export interface UpstreamsOptions {
  now?: () => number;
  random?: () => number;
}

/**
 * The plugin's state on one gateway, made by `setup` and released by `close`: one upstream
 * connection per tenant, credential owner and configuration (a new token, URL or header connects
 * anew; on a per-user installation each person has their own), each
 * replaced when the upstream forgets its session, with a backoff per upstream when connecting
 * fails.
 */
export class Upstreams {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly connect: Connector,
    private readonly onClose: () => Promise<void> = async () => undefined,
    private readonly options: UpstreamsOptions = {},
  ) {}

  /**
   * The upstream's tools, from cache when fresh. `listChanged` is remembered: the upstream's own
   * list_changed, and a list that differs after a reconnect, reach the tenant through it.
   */
  async list(tenantId: string, target: UpstreamTarget, signal: AbortSignal, listChanged: () => void): Promise<UpstreamTool[]> {
    const entry = this.entryOf(tenantId, target);
    entry.listChanged = listChanged;
    let list: UpstreamTool[];
    try {
      list = await this.listOf(entry, target, signal);
    } catch (error) {
      entry.listingFailed = true;
      throw error;
    }
    // Sessions opened while the upstream was away have none of its tools: they list again now.
    if (entry.listingFailed) {
      entry.listingFailed = false;
      listChanged();
    }
    return list;
  }

  /** Calls one upstream tool; a call the upstream never received is sent again once (see mayRetry). */
  call(
    tenantId: string,
    target: UpstreamTarget,
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    onprogress: (progress: number, total?: number, message?: string) => void,
  ): Promise<ToolResult> {
    return this.run(this.entryOf(tenantId, target), target, 'call', signal, (connection) => connection.callTool(name, args, signal, onprogress));
  }

  /** Upstream connections open or opening now (for tests and logs). */
  get size(): number {
    return [...this.entries.values()].filter((entry) => entry.current !== undefined).length;
  }

  /** Closes every upstream connection, its idle timer, and what setup opened with it. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.entries.values()].flatMap((entry) => (entry.current ? [entry.current.connected] : []));
    this.entries.clear();
    await Promise.all(
      pending.map(async (connecting) => {
        const live = await connecting.catch(() => undefined);
        if (!live) return;
        clearTimeout(live.idle);
        await live.connection?.close().catch(() => undefined);
      }),
    );
    await this.onClose();
  }

  private async listOf(entry: Entry, target: UpstreamTarget, signal: AbortSignal): Promise<UpstreamTool[]> {
    const now = this.now();
    if (entry.tools && !entry.reconnected && now - entry.tools.at < TOOLS_CACHE_TTL_MS) return entry.tools.list;
    const list = await this.run(entry, target, 'list', signal, (connection) => connection.listTools(signal));
    const json = JSON.stringify(list);
    // A restarted upstream may come back with other tools, and it owes a new session no
    // list_changed: the comparison stands in for it.
    const changed = entry.reconnected && entry.tools !== undefined && entry.tools.json !== json;
    entry.reconnected = false;
    entry.tools = { at: this.now(), list, json };
    if (changed) entry.listChanged?.();
    return list;
  }

  /** One request on the entry's connection; at most one retry on a new connection. */
  private async run<T>(entry: Entry, target: UpstreamTarget, kind: 'list' | 'call', signal: AbortSignal, request: (connection: UpstreamConnection) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const live = await this.open(entry, target, signal);
      live.inFlight++;
      try {
        return await request(live.connection!);
      } catch (error) {
        const failure = classifyFailure(error);
        if (endsConnection(failure)) this.retire(entry, live);
        if (attempt > 1 || signal.aborted || !mayRetry(kind, failure)) throw error;
      } finally {
        live.inFlight--;
        if (live.retired && live.inFlight === 0) this.release(live);
      }
    }
  }

  /** The entry's connection, connecting first when there is none and the backoff allows. */
  private async open(entry: Entry, target: UpstreamTarget, signal: AbortSignal): Promise<Live> {
    if (this.closed) throw new Error('the gateway is shutting down');
    if (!entry.current) {
      entry.backoff.check();
      const live = { connection: undefined, inFlight: 0, retired: false, idle: undefined } as Omit<Live, 'connected'> as Live;
      entry.current = live;
      live.connected = this.connect(target, signal, {
        toolsChanged: () => {
          entry.tools = undefined;
          entry.listChanged?.();
        },
        lost: (options) => this.retire(entry, live, options),
      }).then(
        (connection) => {
          entry.backoff.succeeded();
          live.connection = connection;
          // Lost while the handshake finished: closed at once, the next request connects again.
          if (live.retired) this.release(live);
          return live;
        },
        (error: unknown) => {
          if (entry.current === live) entry.current = undefined;
          // A caller that gave up (cancelled, timed out) says nothing about the upstream, and a
          // refused address is the platform's policy, not an outage: neither backs off.
          if (!signal.aborted && !isBlockedAddress(error)) entry.backoff.failed(error);
          throw error;
        },
      );
    }
    const live = await entry.current.connected;
    // Lost between connecting and now: the next connection is this request's.
    if (live.retired || !live.connection) return this.open(entry, target, signal);
    clearTimeout(live.idle);
    live.idle = setTimeout(() => this.retire(entry, live, { idle: true }), UPSTREAM_IDLE_MS);
    live.idle.unref();
    return live;
  }

  /** Takes a connection out of use: later requests connect anew; it closes once no request uses it (at once when abandoned). */
  private retire(entry: Entry, live: Live, options: { idle?: boolean; abandon?: boolean } = {}): void {
    if (!live.retired) {
      live.retired = true;
      clearTimeout(live.idle);
      if (entry.current === live) {
        entry.current = undefined;
        if (!options.idle) entry.reconnected = true;
        // Unused for minutes: nothing of this tenant and configuration is worth keeping.
        else if (this.entries.get(entry.key) === entry && !entry.listingFailed) this.entries.delete(entry.key);
      }
    }
    if (live.inFlight === 0 || options.abandon) this.release(live);
  }

  private release(live: Live): void {
    const connection = live.connection;
    live.connection = undefined;
    void connection?.close().catch(() => undefined);
  }

  private entryOf(tenantId: string, target: UpstreamTarget): Entry {
    // Whose credential leads the key: two people's calls never share a connection, even with equal targets otherwise.
    const key = createHash('sha256').update(JSON.stringify([tenantId, target.connectionKey ?? 'shared', target])).digest('hex');
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, current: undefined, backoff: new Backoff(this.now, this.options.random), tools: undefined, reconnected: false, listChanged: undefined, listingFailed: false };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private readonly now = (): number => (this.options.now ?? Date.now)();
}
