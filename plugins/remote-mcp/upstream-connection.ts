import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SseError, SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ToolAnnotations, ToolResult } from '@switchboard/plugin-sdk';
import type { GuardedFetchHandle } from '@switchboard/plugin-net';
import { refusalMeansSessionLost, UpstreamSessionLostError } from './upstream-failures';

/** One upstream request (connect, list, call) at most; the gateway's tool timeout may cut sooner. */
export const UPSTREAM_TIMEOUT_MS = 30_000;
/** Upstream metadata is hostile until proven otherwise: this many tools at most (the gateway also checks names and cuts descriptions). */
export const MAX_UPSTREAM_TOOLS = 200;

/** What a connection needs of the tenant's configuration. */
export interface UpstreamTarget {
  url: string;
  transport: 'streamable-http' | 'sse';
  bearerToken?: string | undefined;
  headers?: Record<string, string> | undefined;
  /**
   * Whose credential the token is (UpstreamCredentials.connectionKey): part of the connection's
   * identity, never sent. A per-user installation's people each get their own connections.
   */
  connectionKey?: string | undefined;
}

export type UpstreamTool = {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  annotations?: ToolAnnotations | undefined;
};

/** What the connection tells its owner without being asked. */
export interface ConnectionEvents {
  /** The upstream sent notifications/tools/list_changed. */
  toolsChanged(): void;
  /**
   * The connection cannot be used any more (session forgotten, stream gone): open a new one for
   * the next request. `abandon`: answers to requests in flight can no longer arrive, close it now.
   */
  lost(options?: { abandon?: boolean }): void;
}

/** One initialized MCP session with an upstream. Errors that mean "session forgotten" are thrown as UpstreamSessionLostError. */
export interface UpstreamConnection {
  listTools(signal: AbortSignal): Promise<UpstreamTool[]>;
  callTool(name: string, args: Record<string, unknown>, signal: AbortSignal, onprogress: (progress: number, total?: number, message?: string) => void): Promise<ToolResult>;
  close(): Promise<void>;
}

/** Opens connections: the official SDK client in the gateway, a fake in unit specs. */
export type Connector = (target: UpstreamTarget, signal: AbortSignal, events: ConnectionEvents) => Promise<UpstreamConnection>;

/** How the message of the SDK's StreamableHTTPError for a refused POST begins; the response body follows. */
const POST_REFUSED_PREFIX = 'Streamable HTTP error: Error POSTing to endpoint: ';

/** The upstream refused the credential (HTTP 401), on either transport. */
export function isUnauthorized(error: unknown): boolean {
  if (error instanceof StreamableHTTPError || error instanceof SseError) return error.code === 401;
  return error instanceof Error && /\(HTTP 401\)/.test(error.message);
}

/** Connects with the official MCP SDK client over the platform's guarded fetch. */
export function sdkConnector(outbound: GuardedFetchHandle): Connector {
  return async (target, signal, events) => {
    const url = new URL(target.url);
    const fetch = outbound.fetch as unknown as FetchLike;
    // The transport sends these after its own headers; upstream-headers.ts refuses the ones it owns.
    const headers: Record<string, string> = { ...target.headers, ...(target.bearerToken ? { authorization: `Bearer ${target.bearerToken}` } : {}) };
    const requestInit = Object.keys(headers).length > 0 ? { headers } : undefined;
    const transport =
      target.transport === 'sse'
        ? new SSEClientTransport(url, { requestInit, fetch, eventSourceInit: { fetch: fetch as never } })
        : new StreamableHTTPClientTransport(url, { requestInit, fetch });
    const client = new Client({ name: 'switchboard-remote-mcp', version: '1.0.0' }, { capabilities: {} });
    let connected = false;
    // `method` is the request's; undefined for what the transport reports to `onerror` on its own
    // (the GET stream, and each failed POST before its caller sees it). Never `initialize`: that
    // only runs in `connect`, whose failures are not translated and come before `connected`.
    const sessionLost = (error: unknown, method?: string): boolean =>
      transport instanceof StreamableHTTPClientTransport
        ? error instanceof StreamableHTTPError &&
          refusalMeansSessionLost({
            status: error.code ?? 0,
            carriedSession: transport.sessionId !== undefined,
            method,
            body: error.message.startsWith(POST_REFUSED_PREFIX) ? error.message.slice(POST_REFUSED_PREFIX.length) : '',
          })
        : // A legacy SSE session is its message endpoint (`?sessionId=`): a 404 there is the session's.
          error instanceof Error && /^Error POSTing to endpoint \(HTTP 404\)/.test(error.message);
    const translate = (error: unknown, method: string): unknown => (sessionLost(error, method) ? new UpstreamSessionLostError({ cause: error }) : error);
    // Once the upstream forgot the session (or, on legacy SSE, the stream that carries the
    // answers broke), requests it had accepted will never be answered; a POST still under way
    // may yet get its own 404, to be sent again. So the connection is given up (its pending
    // requests fail at once, instead of waiting for their timeout) when every POST under way
    // has its status.
    let postsUnderWay = 0;
    let gone = false;
    const abandonWhenSettled = () => gone && postsUnderWay === 0 && events.lost({ abandon: true });
    const counted: Transport = transport;
    const send = counted.send.bind(counted);
    counted.send = async (message, options) => {
      postsUnderWay++;
      try {
        await send(message, options);
      } finally {
        postsUnderWay--;
        // After the request took this POST's outcome (a 404 to send again, say): closing first
        // would answer it "connection closed" instead.
        setImmediate(abandonWhenSettled);
      }
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => events.toolsChanged());
    client.onerror = (error) => {
      if (!connected) return;
      // The standalone GET stream of a Streamable HTTP session reconnects by itself, and gets 404
      // once the upstream forgot the session; a legacy SSE stream that broke took its session
      // with it (the event source would reconnect into a new, uninitialized one).
      if (!sessionLost(error) && !(error instanceof SseError)) return;
      if (!gone) {
        gone = true;
        events.lost();
      }
      // Deferred: the event source reports the error before arming its reconnect timer, which a
      // close from inside the report would leave armed.
      setImmediate(abandonWhenSettled);
    };
    client.onclose = () => {
      if (connected) events.lost();
    };
    await client.connect(transport, { timeout: UPSTREAM_TIMEOUT_MS, signal });
    connected = true;
    return {
      async listTools(listSignal) {
        try {
          const { tools } = await client.listTools({}, { timeout: UPSTREAM_TIMEOUT_MS, signal: listSignal });
          return tools.slice(0, MAX_UPSTREAM_TOOLS).map((t) => ({
            name: t.name,
            title: t.title,
            description: t.description,
            inputSchema: t.inputSchema as Record<string, unknown>,
            outputSchema: t.outputSchema as Record<string, unknown> | undefined,
            annotations: t.annotations as ToolAnnotations | undefined,
          }));
        } catch (error) {
          throw translate(error, 'tools/list');
        }
      },
      async callTool(name, args, callSignal, onprogress) {
        try {
          const result = await client.callTool({ name, arguments: args }, undefined, {
            timeout: UPSTREAM_TIMEOUT_MS,
            signal: callSignal,
            onprogress: (p) => onprogress(p.progress, p.total, p.message),
          });
          // The upstream's own tool errors (isError) pass through as they are.
          return result as ToolResult;
        } catch (error) {
          throw translate(error, 'tools/call');
        }
      },
      close: () => client.close(),
    };
  };
}
