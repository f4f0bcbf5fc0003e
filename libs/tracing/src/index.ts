export { Tracing } from './tracing';
export type { TracingConfig, SpanOptions } from './tracing';
export { extractTraceContext, injectTraceContext } from './trace-context';
export type { TraceCarrier } from './trace-context';
export { tracedFetch } from './traced-fetch';
export { SpanKind, SpanStatusCode } from '@opentelemetry/api';
export type { Span, Context } from '@opentelemetry/api';
