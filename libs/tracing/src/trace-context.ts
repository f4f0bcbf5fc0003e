import { ROOT_CONTEXT, trace, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** The W3C trace context fields, as HTTP headers or a 2026-07-28 request's `params._meta` carry them. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const propagator = new W3CTraceContextPropagator();

/** Reads `traceparent`/`tracestate` from a header object or `_meta`; a repeated header's first value counts. */
const getter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
  },
};

const setter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/**
 * The remote parent a caller sent, or undefined: absent, malformed (W3C trace-context: a
 * `traceparent` that does not parse is ignored, as are all-zero ids) or not an object.
 */
export function extractTraceContext(carrier: unknown): Context | undefined {
  if (typeof carrier !== 'object' || carrier === null) return undefined;
  const context = propagator.extract(ROOT_CONTEXT, carrier as Record<string, unknown>, getter);
  return trace.getSpanContext(context) ? context : undefined;
}

/** `traceparent` (and `tracestate`) naming the span of `context`, for a request that leaves this process. */
export function injectTraceContext(context: Context): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagator.inject(context, carrier, setter);
  return carrier;
}
