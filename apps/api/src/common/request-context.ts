import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';
/**
 * A caller's own X-Request-Id is kept (so one id follows a request through a proxy) when it is
 * short and plain; anything else could smuggle text into log lines, and gets a fresh id.
 */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** What every log line written while handling a request says about it. */
export interface RequestContext {
  requestId: string;
  /** Filled in once a route has resolved the tenant it works on. */
  tenant?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being handled, for the logger; empty outside requests. */
export function currentRequestContext(): Partial<RequestContext> {
  return storage.getStore() ?? {};
}

/** Names the tenant (its slug) in the rest of this request's log lines. */
export function noteRequestTenant(slug: string): void {
  const context = storage.getStore();
  if (context) context.tenant = slug;
}

export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Runs the rest of each request inside its context and answers with its id. The callback style
 * matters: calling `done` inside `storage.run` makes the handlers that follow inherit the context.
 */
export function trackRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    storage.run({ requestId: request.id }, done);
  });
}
