import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Tracing } from './tracing';

/** Any fetch (Node's, undici's): what is read of its request and response. */
type Fetch<I extends { method?: string; headers?: unknown }, R extends { status: number }> = (input: string | URL, init?: I) => Promise<R>;

/**
 * `fetch` that, inside a traced call, opens a client span and sends its `traceparent` (and
 * `tracestate`) to the server; with tracing off, or outside any span, it is `fetch` itself.
 * Records the method and the URL's origin only: never the path, query, headers or body.
 */
export function tracedFetch<I extends { method?: string; headers?: unknown }, R extends { status: number }>(tracing: Tracing, fetch: Fetch<I, R>): Fetch<I, R> {
  if (!tracing.enabled) return fetch;
  return async (input, init = {} as I) => {
    if (!tracing.active()) return fetch(input, init);
    const url = new URL(input);
    const method = init.method ?? 'GET';
    const span = tracing.startSpan(`${method} upstream`, {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'server.address': url.hostname, 'url.scheme': url.protocol.replace(':', '') },
    });
    const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
    for (const [name, value] of Object.entries(tracing.carrier(span) ?? {})) headers.set(name, value);
    try {
      const response = await fetch(input, { ...init, headers });
      span?.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (error) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      throw error;
    } finally {
      span?.end();
    }
  };
}
