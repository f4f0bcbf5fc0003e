import type { ApiMetrics } from '@switchboard/metrics';
import type { FastifyInstance } from 'fastify';

/** The route label of requests no route matched (404s): one series for all of them, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every request by method, route template and status, and times it. The template
 * (`/v1/tenants/:tenant/usage`), never the URL: URLs carry tenant ids and slugs, and a label value
 * per tenant would grow the metrics page with every tenant.
 */
export function countHttpRequests(fastify: FastifyInstance, metrics: ApiMetrics): void {
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpRequestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
