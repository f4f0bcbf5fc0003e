import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@switchboard/logger';
import type { GatewayTelemetry } from '../accounting/gateway-telemetry';

/** A caller's X-Request-Id is kept only when it is short and plain; anything else could forge log lines. */
const PLAIN_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const SESSION_HEADER = 'mcp-session-id';

/** Fastify's genReqId: the caller's X-Request-Id when plain (to follow a request through a proxy), else a new one. */
export function requestIdFor(req: { headers: IncomingHttpHeaders }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && PLAIN_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One log line per HTTP request once its response ends (for a stream: when it closes), with the
 * request id, tenant slug and MCP session id (node id is on every line). Never headers, query
 * strings or bodies: they carry keys and tokens. Each MCP POST is also counted as a message.
 *
 * On the response's `close`, not Fastify's onResponse: that hook runs on `finish` only, so a
 * stream the client closed (an SSE answer, a subscriptions/listen stream) was never logged or
 * counted. `close` comes after `finish` too, so every response is observed exactly once.
 */
export function observeRequests(fastify: FastifyInstance, logger: Logger, telemetry: GatewayTelemetry): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      const tenant = (request.params as { tenant?: string } | undefined)?.tenant;
      if (tenant !== undefined && request.method === 'POST') telemetry.messageAnswered(reply.raw);
      logger.info(
        {
          requestId: request.id,
          method: request.method,
          path: request.url.split('?', 1)[0],
          status: reply.raw.statusCode,
          ms: Math.round(reply.elapsedTime),
          tenant,
          sessionId: sessionIdOf(request.raw, request.query, reply.raw.getHeader(SESSION_HEADER)),
          // The client went away before the response ended (a stream it closed).
          ...(reply.raw.writableFinished ? {} : { closedByClient: true }),
        },
        'request',
      );
    });
    done();
  });
}

/** The session a request addressed (header or legacy `?sessionId=`), or the one its initialize created. */
function sessionIdOf(req: IncomingMessage, query: unknown, created: unknown): string | undefined {
  const header = req.headers[SESSION_HEADER];
  if (typeof header === 'string') return header.slice(0, 64);
  // Fastify has parsed the query already.
  const legacy = (query as { sessionId?: unknown } | undefined)?.sessionId;
  if (typeof legacy === 'string') return legacy.slice(0, 64);
  return typeof created === 'string' ? created : undefined;
}
