import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '@switchboard/db';
import { SSE_NODE_PARAM } from '../sessions/session-ids';
import type { McpEndpointsService } from './mcp-endpoints';
import type { GatewayStatus } from './gateway-status';
import { refuse } from '../protocol/jsonrpc-errors';
import { endpointPath, virtualEndpointPath } from '../auth/auth-challenge';
import type { EndpointAddress, RequestGate } from './request-gate';
import type { Principal } from '@switchboard/api-keys';
import { extractTraceContext, SpanKind, SpanStatusCode, type Span, type Tracing } from '@switchboard/tracing';

type McpRequest = FastifyRequest<{ Params: { tenant: string; plugin?: string; virtual?: string }; Querystring: Record<string, unknown> }>;

/** The caller the gate admitted in the route's onRequest hook, before the body was read. */
interface Admitted {
  principal: Principal;
  address: EndpointAddress;
  /** The request's server span, when tracing is on: the handler runs inside it. */
  span: Span | undefined;
}

/** Writes the answer itself from raw req/res; the route's endpoint is `sse` or `mcp`. */
type McpHandler = (endpoints: McpEndpointsService, request: McpRequest, res: ServerResponse, admitted: Admitted) => Promise<void>;

const HANDLERS: readonly { method: 'GET' | 'POST' | 'DELETE'; path: string; endpoint: 'sse' | 'mcp'; handle: McpHandler }[] = [
  { method: 'GET', path: 'sse', endpoint: 'sse', handle: (e, req, res, { principal, address }) => e.openSse(req.raw, res, principal, address) },
  {
    method: 'POST',
    path: 'messages',
    endpoint: 'sse',
    handle: (e, req, res, { principal, address }) =>
      e.postSseMessage(req.raw, res, principal, address, req.query['sessionId'], req.query[SSE_NODE_PARAM], req.body),
  },
  { method: 'POST', path: 'mcp', endpoint: 'mcp', handle: (e, req, res, { principal, address }) => e.streamablePost(req.raw, res, principal, address, req.body) },
  { method: 'GET', path: 'mcp', endpoint: 'mcp', handle: (e, req, res, { principal, address }) => e.streamableSession(req.raw, res, principal, address) },
  { method: 'DELETE', path: 'mcp', endpoint: 'mcp', handle: (e, req, res, { principal, address }) => e.streamableSession(req.raw, res, principal, address) },
];

/** Requests that passed the gate, with what it found; filled in onRequest, read by the handler. */
const admissions = new WeakMap<FastifyRequest, Admitted>();

/** The three URL families of an MCP endpoint: tenant-wide, one installation's, one virtual server's. */
const PREFIXES = ['/t/:tenant', '/t/:tenant/p/:plugin', '/t/:tenant/v/:virtual'] as const;

/**
 * The MCP routes, `/t/{tenant}/…`, `/t/{tenant}/p/{plugin}/…` and `/t/{tenant}/v/{virtual}/…`
 * (docs/virtual-servers.md), registered on Fastify directly
 * rather than as a Nest controller: the transports write to the raw Node response, so Nest's
 * per-request pipeline (parameter decorators, pipes, interceptors, the promise around the
 * handler) did no work here and cost ~5% of a tool call (docs/decisions.md).
 *
 * The gate runs in the route's onRequest hook, before Fastify reads the body: a caller without a
 * valid credential is refused without the gateway reading (or buffering) what it sends.
 */
export function registerMcpRoutes(fastify: FastifyInstance, gate: RequestGate, endpoints: McpEndpointsService, status: GatewayStatus, tracing: Tracing): void {
  for (const { method, path, endpoint, handle } of HANDLERS) {
    for (const prefix of PREFIXES) {
      const url = `${prefix}/${path}`;
      fastify.route({
        method,
        url,
        onRequest: async (request: McpRequest, reply: FastifyReply) => {
          const { tenant, plugin, virtual } = request.params;
          // As Nest's routes did: an empty path parameter (`/t//mcp`) is not a route.
          if (tenant === '' || plugin === '' || virtual === '') return reply.callNotFound();
          const address: EndpointAddress =
            virtual === undefined
              ? { tenantSlug: tenant, plugin, path: endpointPath(tenant, plugin, endpoint) }
              : { tenantSlug: tenant, plugin: undefined, virtual, path: virtualEndpointPath(tenant, virtual, endpoint) };
          const span = tracing.enabled ? requestSpan(tracing, request, reply, url, tenant) : undefined;
          const admission = span ? await tracing.runIn(span, () => gate.admit(request.raw, address)) : await gate.admit(request.raw, address);
          if (admission.ok) {
            admissions.set(request, { principal: admission.principal, address, span });
            return undefined;
          }
          reply.hijack();
          // A body the caller may still be sending is not read: the connection closes after the answer.
          const { refusal } = admission;
          const pendingBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
          refuse(reply.raw, refusal.code, { ...refusal, headers: pendingBody ? { ...refusal.headers, connection: 'close' } : refusal.headers });
          return reply;
        },
        handler: (request: McpRequest, reply: FastifyReply) => {
          const admitted = admissions.get(request);
          if (!admitted) return reply.callNotFound();
          const work = () => run(reply, status, (res) => handle(endpoints, request, res, admitted));
          return admitted.span ? tracing.runIn(admitted.span, work) : work();
        },
      });
    }
  }
}

/**
 * The request's server span, a child of the caller's `traceparent` if it sent a valid one; it
 * ends when the response does. Method, route template and tenant slug only: never the query
 * string (it can hold a session id), headers, credentials or bodies.
 */
function requestSpan(tracing: Tracing, request: McpRequest, reply: FastifyReply, route: string, tenant: string): Span | undefined {
  const span = tracing.startSpan(`${request.method} ${route}`, {
    kind: SpanKind.SERVER,
    parent: extractTraceContext(request.headers),
    attributes: { 'http.request.method': request.method, 'http.route': route, 'switchboard.tenant': tenant },
  });
  reply.raw.once('close', () => {
    span?.setAttribute('http.response.status_code', reply.raw.statusCode);
    if (reply.raw.statusCode >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.end();
  });
  return span;
}

/** Seconds a client should wait before retrying while the database is away (a failover takes seconds). */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Takes the response away from Fastify. A database outage (keys, installations live there) is
 * the 'unavailable' refusal with Retry-After, as the request itself was fine; any other
 * unexpected failure becomes a 500 without details.
 */
async function run(reply: FastifyReply, status: GatewayStatus, work: (res: ServerResponse) => Promise<void>): Promise<void> {
  reply.hijack();
  try {
    await work(reply.raw);
  } catch (error) {
    if (isDatabaseUnavailable(error)) {
      status.logger.warn({ err: error }, 'MCP request refused: database unavailable');
      refuse(reply.raw, 'unavailable', { message: 'Service Unavailable: the database is unreachable', headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } });
      return;
    }
    status.logger.error({ err: error }, 'MCP request failed');
    refuse(reply.raw, 'internal_error');
  }
}
