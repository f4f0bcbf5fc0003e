import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SSE_NODE_PARAM } from '../cluster/session-ids';
import type { McpEndpointsService } from '../transports/mcp-endpoints.service';
import type { GatewayStatus } from '../gateway-runtime';
import { refuse } from './jsonrpc-errors';
import type { EndpointAddress } from './request-gate';

type McpRequest = FastifyRequest<{ Params: { tenant: string; plugin?: string }; Querystring: Record<string, unknown> }>;

/** Writes the answer itself from raw req/res; the route's endpoint is `sse` or `mcp`. */
type McpHandler = (endpoints: McpEndpointsService, request: McpRequest, res: ServerResponse, address: EndpointAddress) => Promise<void>;

const HANDLERS: readonly { method: 'GET' | 'POST' | 'DELETE'; path: string; endpoint: 'sse' | 'mcp'; handle: McpHandler }[] = [
  { method: 'GET', path: 'sse', endpoint: 'sse', handle: (e, req, res, address) => e.openSse(req.raw, res, address) },
  {
    method: 'POST',
    path: 'messages',
    endpoint: 'sse',
    handle: (e, req, res, address) => e.postSseMessage(req.raw, res, address, req.query['sessionId'], req.query[SSE_NODE_PARAM], req.body),
  },
  { method: 'POST', path: 'mcp', endpoint: 'mcp', handle: (e, req, res, address) => e.streamablePost(req.raw, res, address, req.body) },
  { method: 'GET', path: 'mcp', endpoint: 'mcp', handle: (e, req, res, address) => e.streamableSession(req.raw, res, address) },
  { method: 'DELETE', path: 'mcp', endpoint: 'mcp', handle: (e, req, res, address) => e.streamableSession(req.raw, res, address) },
];

/**
 * The MCP routes, `/t/{tenant}/…` and `/t/{tenant}/p/{plugin}/…`, registered on Fastify directly
 * rather than as a Nest controller: the transports write to the raw Node response, so Nest's
 * per-request pipeline (parameter decorators, pipes, interceptors, the promise around the
 * handler) did no work here and cost ~5% of a tool call (docs/decisions.md).
 */
export function registerMcpRoutes(fastify: FastifyInstance, endpoints: McpEndpointsService, status: GatewayStatus): void {
  for (const { method, path, endpoint, handle } of HANDLERS) {
    for (const scoped of [false, true]) {
      fastify.route({
        method,
        url: scoped ? `/t/:tenant/p/:plugin/${path}` : `/t/:tenant/${path}`,
        handler: (request: McpRequest, reply: FastifyReply) => {
          const { tenant, plugin } = request.params;
          // As Nest's routes did: an empty path parameter (`/t//mcp`) is not a route.
          if (tenant === '' || plugin === '') return reply.callNotFound();
          const address: EndpointAddress = {
            tenantSlug: tenant,
            plugin,
            path: plugin === undefined ? `/t/${tenant}/${endpoint}` : `/t/${tenant}/p/${plugin}/${endpoint}`,
          };
          return run(reply, status, (res) => handle(endpoints, request, res, address));
        },
      });
    }
  }
}

/** Takes the response away from Fastify; an unexpected failure becomes a 500 without details. */
async function run(reply: FastifyReply, status: GatewayStatus, work: (res: ServerResponse) => Promise<void>): Promise<void> {
  reply.hijack();
  try {
    await work(reply.raw);
  } catch (error) {
    status.logger.error({ err: error }, 'MCP request failed');
    refuse(reply.raw, 'internal_error');
  }
}
