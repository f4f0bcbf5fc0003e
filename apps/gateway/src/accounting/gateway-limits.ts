import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { limitErrorData, rateLimitHeaders, type Limiter, type LimitPrincipal, type LimitRejection } from '@switchboard/limits';
import { JSON_RPC_LIMIT_EXCEEDED, type Refusal } from '../protocol/jsonrpc-errors';
import type { GatewayTelemetry } from './gateway-telemetry';
import type { McpSession } from '../sessions/mcp-session';

/** Gives a concurrency slot back; safe to call twice. */
export type LeaseRelease = () => Promise<void>;

/**
 * Where the gateway applies the limits (libs/limits) and how a refusal looks to the client:
 * an HTTP 429 refusal (503 when Redis is away and the limiter fails closed) before any MCP work, or a
 * JSON-RPC error inside an open stream for a tool call.
 */
export class GatewayLimits {
  constructor(
    private readonly limiter: Limiter,
    private readonly telemetry: GatewayTelemetry,
  ) {}

  /**
   * Every POST and every stream open, after authentication: a POST counts each JSON-RPC message
   * it carries (`count`), a stream open counts one. Admitted: the RateLimit headers of the
   * tightest limit, to merge into whatever the transport writes.
   */
  async admitRequest(principal: LimitPrincipal, count = 1): Promise<{ ok: true; headers: Record<string, string> | undefined } | { ok: false; refusal: Refusal }> {
    const decision = await this.limiter.consumeRequest(principal, count);
    if (decision.allowed) return { ok: true, headers: decision.state ? rateLimitHeaders(decision) : undefined };
    return { ok: false, refusal: this.httpRefusal(decision) };
  }

  /**
   * Before a session's stream opens: takes a slot of the concurrent-sessions cap. The caller
   * hands the release to `sessionStarted` (or calls it if the session never starts).
   */
  async acquireSession(principal: LimitPrincipal, leaseId: string): Promise<{ ok: true; release: LeaseRelease } | { ok: false; refusal: Refusal }> {
    const decision = await this.limiter.acquireSession(principal, leaseId);
    if (decision.allowed) return { ok: true, release: decision.release ?? noRelease };
    return { ok: false, refusal: this.httpRefusal(decision) };
  }

  /**
   * A session is open: counted as active until it closes, however it closes (DELETE, client
   * disconnect, idle timeout, revocation, shutdown), and then its session slot is given back.
   */
  sessionStarted(session: McpSession, release: LeaseRelease): void {
    const transport = session.transportKind;
    this.telemetry.sessionOpened(transport);
    const ended = () => {
      this.telemetry.sessionClosed(transport);
      void release();
    };
    if (session.signal.aborted) ended();
    else session.signal.addEventListener('abort', ended, { once: true });
  }

  /**
   * A tools/call about to run: tool calls per minute and the monthly quota, then a slot of the
   * in-flight cap, in at most one Redis command (none far from the limits, from leased blocks). Refusals throw the JSON-RPC limit error, which the SDK
   * sends in the stream.
   */
  async acquireToolCall(principal: LimitPrincipal): Promise<LeaseRelease> {
    const decision = await this.limiter.admitToolCall(principal);
    if (!decision.allowed) throw this.toolCallError(decision);
    return decision.release ?? noRelease;
  }

  private httpRefusal(rejection: LimitRejection): Refusal {
    this.telemetry.limitRejected(rejection.scope, rejection.limit);
    const headers = rateLimitHeaders(rejection);
    if (rejection.reason === 'store-unavailable') return { code: 'unavailable', message: 'Service Unavailable: limits cannot be checked', headers };
    return { code: 'rate_limited', message: refusalMessage(rejection), headers };
  }

  private toolCallError(rejection: LimitRejection): McpError {
    this.telemetry.limitRejected(rejection.scope, rejection.limit);
    return new McpError(JSON_RPC_LIMIT_EXCEEDED, refusalMessage(rejection), limitErrorData(rejection));
  }
}

const noRelease: LeaseRelease = async () => undefined;

function refusalMessage(rejection: LimitRejection): string {
  if (rejection.reason === 'store-unavailable') return 'Limits cannot be checked right now';
  return `Too Many Requests: the ${rejection.scope} limit ${rejection.limit} (${rejection.limitValue}) is reached; retry after ${rejection.retryAfterSeconds} s`;
}
