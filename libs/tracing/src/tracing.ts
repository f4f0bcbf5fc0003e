import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { injectTraceContext, type TraceCarrier } from './trace-context';

/** Where and how spans are exported (the OTEL_* variables, read by the app's config loader). */
export interface TracingConfig {
  /** Full OTLP/HTTP traces URL (`…/v1/traces`). */
  tracesUrl: string;
  headers: Record<string, string>;
  serviceName: string;
  serviceVersion?: string;
  /** Attributes on every span's resource (the node id). */
  resource?: Attributes;
  /** Fraction of new traces sampled (a caller's sampled flag is followed). */
  sampleRatio: number;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active span's by default. */
  parent?: Context;
  links?: Link[];
}

/**
 * One tracer per process, built by the composition root. Off (no endpoint), every method is a
 * branch on `enabled` and nothing more: no span, no context, no AsyncLocalStorage.
 *
 * The active span travels in this instance's AsyncLocalStorage (no global context manager, no
 * monkey-patching): the edges that know what happens open spans and run the rest inside them.
 */
export class Tracing {
  private readonly storage = new AsyncLocalStorage<Context>();

  private constructor(
    private readonly tracer: Tracer | undefined,
    private readonly provider: BasicTracerProvider | undefined,
  ) {}

  /** Tracing off: nothing recorded, nothing propagated. */
  static disabled(): Tracing {
    return new Tracing(undefined, undefined);
  }

  /** Tracing on: a batch processor exporting OTLP/HTTP (JSON) to `config.tracesUrl`, or to `exporter` (tests). */
  static start(config: TracingConfig, exporter?: SpanExporter): Tracing {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: config.serviceName,
        ...(config.serviceVersion ? { [ATTR_SERVICE_VERSION]: config.serviceVersion } : {}),
        ...config.resource,
      }),
      idGenerator: new PooledIdGenerator(),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor(exporter ?? new OTLPTraceExporter({ url: config.tracesUrl, headers: config.headers }))],
    });
    return new Tracing(provider.getTracer(config.serviceName, config.serviceVersion), provider);
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  /** The context of the active span, if tracing is on and a span is active. */
  active(): Context | undefined {
    return this.tracer ? this.storage.getStore() : undefined;
  }

  /** The active span's ids (to link to it), if tracing is on and a span is active. */
  activeSpanContext(): SpanContext | undefined {
    const context = this.active();
    return context && trace.getSpanContext(context);
  }

  /** Starts a span (a child of the active one unless `options.parent`); undefined when tracing is off. */
  startSpan(name: string, options: SpanOptions = {}): Span | undefined {
    if (!this.tracer) return undefined;
    const parent = options.parent ?? this.storage.getStore() ?? ROOT_CONTEXT;
    return this.tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links }, parent);
  }

  /** Runs `work` with `span` active (its children parent to it); just runs it without a span. */
  runIn<T>(span: Span | undefined, work: () => T): T {
    if (!span) return work();
    return this.storage.run(trace.setSpan(this.storage.getStore() ?? ROOT_CONTEXT, span), work);
  }

  /**
   * `work` inside a new span that ends when it settles; a throw marks the span as an error.
   * Off, this is `work(undefined)`.
   */
  async inSpan<T>(name: string, options: SpanOptions, work: (span: Span | undefined) => Promise<T>): Promise<T> {
    const span = this.startSpan(name, options);
    if (!span) return work(undefined);
    try {
      return await this.runIn(span, () => work(span));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      throw error;
    } finally {
      span.end();
    }
  }

  /** `traceparent`/`tracestate` for a request leaving inside `span` (or the active span); undefined when off or none. */
  carrier(span?: Span): TraceCarrier | undefined {
    if (!this.tracer) return undefined;
    const context = span ? trace.setSpan(ROOT_CONTEXT, span) : this.storage.getStore();
    return context && trace.getSpanContext(context) ? injectTraceContext(context) : undefined;
  }

  /** Exports what is buffered now. */
  async flush(): Promise<void> {
    await this.provider?.forceFlush();
  }

  /** Exports what is buffered, then stops; later spans are dropped. */
  async close(): Promise<void> {
    await this.provider?.shutdown();
  }
}

/** Random bytes drawn at once for many ids: one `randomBytes` per 256 spans instead of work per id. */
const ID_POOL_BYTES = 4096;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/**
 * Trace and span ids cut from a pool of random bytes. The SDK's default builds each id from
 * `Math.random()` words in a fresh Buffer, which showed as 1% of a traced tool call's CPU
 * (`npm run bench:profile -- --tracing`); a hex slice of a pooled buffer is one native call.
 * An all-zero id is invalid in W3C trace-context, so one is drawn again.
 */
export class PooledIdGenerator implements IdGenerator {
  private pool = randomBytes(ID_POOL_BYTES);
  private offset = 0;

  generateTraceId(): string {
    const id = this.hex(16);
    return id === INVALID_TRACE_ID ? this.generateTraceId() : id;
  }

  generateSpanId(): string {
    const id = this.hex(8);
    return id === INVALID_SPAN_ID ? this.generateSpanId() : id;
  }

  private hex(bytes: number): string {
    if (this.offset + bytes > this.pool.length) {
      this.pool = randomBytes(ID_POOL_BYTES);
      this.offset = 0;
    }
    const id = this.pool.toString('hex', this.offset, this.offset + bytes);
    this.offset += bytes;
    return id;
  }
}
