import type { ServerResponse } from 'node:http';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { LimitName, LimitScope } from '@switchboard/limits';
import type { CallOutcome, GatewayMetrics, MessageEra, MessageRoute, Transport } from '@switchboard/metrics';
import type { AuthFailureReason } from '../auth/bearer-authenticator';

/** Outcome of one MCP POST: handed to a session, refused before reaching one, or failed. */
export type MessageOutcome = 'ok' | 'rejected' | 'error';

const CALL_OUTCOMES: readonly CallOutcome[] = ['ok', 'error', 'timeout', 'rejected', 'input_required'];

type CounterChild = ReturnType<Counter<string>['labels']>;
type GaugeChild = ReturnType<Gauge<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** The pre-resolved series of one tool: looked up once, then only `inc()`/`observe()` per call. */
interface ToolSeries {
  calls: Record<CallOutcome, CounterChild>;
  duration: HistogramChild;
}

/**
 * What the gateway reports to Prometheus, as named events. prom-client's `labels()` hashes its
 * arguments on every call, so label children on the per-message and per-call paths are resolved
 * once and cached here; a tool call costs two Map lookups, an `inc()` and an `observe()`.
 */
export class GatewayTelemetry {
  private readonly toolSeries = new Map<string, Map<string, ToolSeries>>();
  private readonly messageSeries: Record<MessageEra, Record<MessageRoute, Record<MessageOutcome, CounterChild>>>;
  private readonly activeSessions: Record<Transport, GaugeChild>;
  private readonly sessionsOpened: Record<Transport, CounterChild>;
  /** Responses whose request another node served; see markForwarded. */
  private readonly forwarded = new WeakSet<ServerResponse>();
  /** Responses to stateless 2026-07-28 requests; see markStateless. */
  private readonly stateless = new WeakSet<ServerResponse>();

  constructor(readonly metrics: GatewayMetrics) {
    const byOutcome = (era: MessageEra, route: MessageRoute) => ({
      ok: metrics.messages.labels(route, 'ok', era),
      rejected: metrics.messages.labels(route, 'rejected', era),
      error: metrics.messages.labels(route, 'error', era),
    });
    this.messageSeries = {
      session: { local: byOutcome('session', 'local'), forwarded: byOutcome('session', 'forwarded') },
      '2026-07-28': { local: byOutcome('2026-07-28', 'local'), forwarded: byOutcome('2026-07-28', 'forwarded') },
    };
    this.activeSessions = { sse: metrics.activeSessions.labels('sse'), 'streamable-http': metrics.activeSessions.labels('streamable-http') };
    this.sessionsOpened = { sse: metrics.sessionsOpened.labels('sse'), 'streamable-http': metrics.sessionsOpened.labels('streamable-http') };
  }

  sessionOpened(transport: Transport): void {
    this.sessionsOpened[transport].inc();
    this.activeSessions[transport].inc();
  }

  sessionClosed(transport: Transport): void {
    this.activeSessions[transport].dec();
  }

  /** A session was closed because its client stopped reading its answers (backpressure). */
  sessionClosedSlowReader(): void {
    this.metrics.sessionsClosed.inc({ reason: 'slow_reader' });
  }

  /** A stateless request's answer stream was cut because its client stopped reading it. */
  streamCutSlowReader(): void {
    this.metrics.streamsCut.inc({ reason: 'slow_reader' });
  }

  /**
   * Hook for multi-node routing: call it with the response of a request that was forwarded to the
   * session's owner node, and the request is counted as `route="forwarded"` instead of `local`.
   */
  markForwarded(res: ServerResponse): void {
    this.forwarded.add(res);
  }

  /** Marks the response of a stateless 2026-07-28 request, so it is counted as `era="2026-07-28"`. */
  markStateless(res: ServerResponse): void {
    this.stateless.add(res);
  }

  /** Counts one MCP POST once its answer has been started, by its route, era and HTTP status. */
  messageAnswered(res: ServerResponse): void {
    const route: MessageRoute = this.forwarded.has(res) ? 'forwarded' : 'local';
    const era: MessageEra = this.stateless.has(res) ? '2026-07-28' : 'session';
    const status = res.statusCode;
    this.messageSeries[era][route][status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'ok'].inc();
  }

  /** A forwarded request–answer exchange is complete (its answer relayed to the client). */
  forwardFinished(seconds: number): void {
    this.metrics.forwardDuration.observe(seconds);
  }

  toolCallFinished(plugin: string, tool: string, outcome: CallOutcome, seconds: number): void {
    const series = this.seriesOf(plugin, tool);
    series.calls[outcome].inc();
    series.duration.observe(seconds);
  }

  /** A tool call refused by a limit never ran: counted, with no duration. */
  toolCallRefused(plugin: string, tool: string): void {
    this.seriesOf(plugin, tool).calls.rejected.inc();
  }

  limitRejected(scope: LimitScope, limit: LimitName): void {
    // Rare by nature (a refusal); the label lookup is not worth a cache.
    this.metrics.rateLimitRejections.inc({ scope, limit });
  }

  authFailed(reason: AuthFailureReason | 'wrong_tenant' | 'plugin_forbidden' | 'unavailable'): void {
    this.metrics.authFailures.inc({ reason });
  }

  private seriesOf(plugin: string, tool: string): ToolSeries {
    let tools = this.toolSeries.get(plugin);
    if (!tools) this.toolSeries.set(plugin, (tools = new Map()));
    let series = tools.get(tool);
    if (!series) {
      const calls = {} as ToolSeries['calls'];
      for (const outcome of CALL_OUTCOMES) calls[outcome] = this.metrics.toolCalls.labels(plugin, tool, outcome);
      series = { calls, duration: this.metrics.toolCallDuration.labels(plugin) };
      tools.set(tool, series);
    }
    return series;
  }
}
