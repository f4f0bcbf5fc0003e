import type { ServerResponse } from 'node:http';
import { keepEventStreamAlive } from '../protocol/web-exchange';

/** streamable-http 2026-07-28: servers SHOULD send `X-Accel-Buffering: no` on an SSE response stream. */
const EVENT_STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } as const;

export interface ModernResponseOptions {
  /** Keep-alive comment interval once the answer is an event stream (SSE_KEEPALIVE_MS). */
  keepAliveMs: number;
  /** Unread bytes allowed on the socket (SESSION_MAX_BUFFERED_BYTES); past them the socket is destroyed. */
  maxBufferedBytes: number;
  /** Called once when the bound cut the stream: the request is to be cancelled. */
  onSlowReader: () => void;
}

/**
 * The answer to one 2026-07-28 request in response mode "auto" (the SDK's `createMcpHandler`
 * default): JSON, unless a notification for the request comes before its result. Then the
 * answer becomes an event stream from that notification on: the notifications, then the result,
 * which ends it. Only notifications are ever written on it, never a server-to-client request.
 */
export class ModernResponse {
  private streaming = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: ModernResponseOptions,
  ) {}

  /** Sends a notification for the request; dropped once the client is gone, or when JSON cannot carry it. */
  notify(notification: { method: string; params: Record<string, unknown> }): void {
    if (this.gone) return;
    let data: string;
    try {
      data = JSON.stringify({ jsonrpc: '2.0', ...notification });
    } catch {
      return;
    }
    if (!this.streaming) {
      this.streaming = true;
      this.res.writeHead(200, EVENT_STREAM_HEADERS);
      this.res.flushHeaders();
      keepEventStreamAlive(this.res, this.options.keepAliveMs);
    }
    this.res.write(eventFrame(data));
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      // A client that stopped reading: its unread frames are freed with the socket.
      this.res.destroy();
      this.options.onSlowReader();
    }
  }

  /** The final JSON-RPC response: the whole JSON answer, or the stream's last event. */
  answer(status: number, body: string): void {
    if (this.gone) return;
    if (!this.streaming) {
      this.res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      return;
    }
    // streamable-http: "The final JSON-RPC response SHOULD terminate the stream." Its status is
    // the stream's 200: once committed, an error travels in-stream.
    this.res.end(eventFrame(body));
  }

  private get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }
}

/** One SSE event; no `id:`, as 2026-07-28 response streams are not resumable. */
function eventFrame(data: string): string {
  return `event: message\ndata: ${data}\n\n`;
}
