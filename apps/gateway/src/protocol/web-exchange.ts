import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Request headers the MCP transport reads. Only these reach it, whether the request arrived here
 * or was forwarded by another node, so a session answers the same wherever the client's request
 * landed. The credential is never among them: it was checked where the request landed.
 */
export const TRANSPORT_HEADERS = ['accept', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'] as const;

/** Base of the URLs given to the SDK transport; it only reads path and query from them. */
const INTERNAL_ORIGIN = 'http://gateway.internal';

export interface TransportRequest {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  headers: Record<string, string>;
}

export function transportRequestOf(req: IncomingMessage): TransportRequest {
  const headers: Record<string, string> = {};
  for (const name of TRANSPORT_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return { method: req.method ?? 'GET', path: req.url ?? '/', headers };
}

/** A body-less web Request for the SDK transport (POST bodies are handed over already parsed). */
export function webRequestOf(request: TransportRequest, signal?: AbortSignal): Request {
  return new Request(INTERNAL_ORIGIN + request.path, { method: request.method, headers: request.headers, signal });
}

export function isEventStream(headers: Headers | Record<string, string>): boolean {
  const type = headers instanceof Headers ? headers.get('content-type') : headers['content-type'];
  return type?.startsWith('text/event-stream') ?? false;
}

export function headersObject(headers: Headers): Record<string, string> {
  const object: Record<string, string> = {};
  headers.forEach((value, name) => (object[name] = value));
  return object;
}

/** How an event stream is kept open and bounded while it is written. */
export interface StreamOptions {
  /** Keep-alive comment interval on event streams. */
  keepAliveMs?: number;
  /** Unread bytes allowed on the socket; past them the response is cut (a client that stopped reading). */
  maxBufferedBytes?: number;
  /** Called once when the bound cut the response. */
  onSlowReader?: () => void;
}

/**
 * Writes a web Response to the Node response as it streams. A client that goes away cancels the
 * body, which tells the SDK transport its stream is gone; so does a client that stops reading
 * while answers pile up past `maxBufferedBytes` (its socket is destroyed, releasing them).
 */
export async function writeWebResponse(response: Response, res: ServerResponse, options: StreamOptions = {}): Promise<void> {
  res.writeHead(response.status, headersObject(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  // An event stream may stay silent for a while: the client must get the headers now.
  if (isEventStream(response.headers)) {
    res.flushHeaders();
    if (options.keepAliveMs) keepEventStreamAlive(res, options.keepAliveMs);
  }
  const reader = response.body.getReader();
  const maxBuffered = options.maxBufferedBytes ?? Infinity;
  let finished = false;
  res.once('close', () => {
    if (!finished) void reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      res.write(value);
      if (res.writableLength > maxBuffered) {
        void reader.cancel().catch(() => undefined);
        res.destroy();
        options.onSlowReader?.();
        break;
      }
    }
  } catch {
    // The stream was cancelled (client gone) or the transport closed it: nothing more to write.
  } finally {
    finished = true;
    res.end();
  }
}

/** SSE comment frame: clients ignore it, proxies see traffic and keep an idle stream open. */
export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';

/**
 * Writes a keep-alive comment every `intervalMs` while an event stream is open (Streamable HTTP
 * GET streams and long POST answers), as the SDK's sseKeepAlive does. Legacy SSE streams get
 * theirs from the session sweeper. The timer never keeps the process alive and ends with the
 * stream.
 */
export function keepEventStreamAlive(res: ServerResponse, intervalMs: number): void {
  const timer = setInterval(() => {
    if (!res.writableEnded) res.write(KEEP_ALIVE_FRAME);
  }, intervalMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
