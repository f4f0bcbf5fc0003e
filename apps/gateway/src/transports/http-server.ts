import { createServer, type RequestListener, type Server } from 'node:http';

export interface HttpTimeouts {
  /** Time to receive a request's headers, from the connection or the previous request (slow-header clients). */
  headersMs: number;
  /** Time to receive a whole request, body included (slow-body clients). Answers may take longer. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveMs: number;
}

/**
 * How often Node looks for requests past their headers or request timeout. Its default, 30 s,
 * would let a slow client keep a socket up to 30 s past either; a scan of the open connections
 * once a second is cheap.
 */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/**
 * Fastify's `serverFactory`: a Node HTTP server whose clients cannot hold a socket by sending
 * slowly or not at all. Fastify's own options cannot set `headersTimeout` or the check interval.
 * Streams are not cut: the timeouts bound receiving requests, not sending answers, and no socket
 * inactivity timeout is set (an SSE stream is quiet between keep-alives).
 */
export function timedHttpServer(timeouts: HttpTimeouts): (handler: RequestListener) => Server {
  return (handler) => {
    const server = createServer(
      {
        // Node requires headersTimeout <= requestTimeout.
        headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
        requestTimeout: timeouts.requestMs,
        keepAliveTimeout: timeouts.keepAliveMs,
        connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
      },
      handler,
    );
    return server;
  };
}
