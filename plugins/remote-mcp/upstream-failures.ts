import { BlockedAddressError } from '@switchboard/plugin-net';

/** First wait after a failed connection; each further failure doubles it. */
export const BACKOFF_BASE_MS = 1_000;
/** The longest wait between two connection attempts. */
export const BACKOFF_MAX_MS = 60_000;

/**
 * The upstream no longer knows the session this request carried (it restarted, or expired it).
 * 2025-06-18 streamable-http: the server "MUST respond to requests containing that session ID
 * with HTTP 404 Not Found", and the client "MUST start a new session". Some upstreams answer 400
 * instead (refusalMeansSessionLost says which 400s count).
 */
export class UpstreamSessionLostError extends Error {
  constructor(options: { cause: unknown }) {
    super('the upstream MCP server forgot the session', options);
    this.name = 'UpstreamSessionLostError';
  }
}

/** An upstream's HTTP refusal of one Streamable HTTP request, as far as telling a lost session from a bad request goes. */
export interface HttpRefusal {
  status: number;
  /** The request carried an Mcp-Session-Id. */
  carriedSession: boolean;
  /** The JSON-RPC method it sent; undefined where unknown (the standalone GET stream, the transport's own error report). */
  method?: string | undefined;
  /** The response body as received ('' when there was none). */
  body: string;
}

/**
 * Whether the refusal says the upstream no longer knows the session, so a new session may carry
 * the request once more.
 *
 * - 404 on a request with a session id: 2025-06-18 streamable-http, the server "MUST respond to
 *   requests containing that session ID with HTTP 404 Not Found" (a stateless upstream's 404, no
 *   session sent, is a wrong URL).
 * - 400, only when the request carried a session id, was not `initialize`, and the body is a
 *   JSON-RPC error whose message mentions a session. The same section says servers "SHOULD
 *   respond to requests without an Mcp-Session-Id header (other than initialization) with HTTP
 *   400 Bad Request"; servers built from the official SDK's examples keep a map of transports and
 *   answer an id missing from it the same way, with `{"jsonrpc":"2.0","error":{"code":-32000,
 *   "message":"Bad Request: No valid session ID provided"},"id":null}`. Such a 400 is sent before
 *   any handler ran, so sending the request once more on a new session cannot run it twice. Any
 *   other 400 (a malformed request, a refused argument) stays an answer a retry would not change.
 */
export function refusalMeansSessionLost(refusal: HttpRefusal): boolean {
  if (!refusal.carriedSession) return false;
  if (refusal.status === 404) return true;
  return refusal.status === 400 && refusal.method !== 'initialize' && SESSION_MENTION.test(jsonRpcErrorMessage(refusal.body) ?? '');
}

const SESSION_MENTION = /session/i;

/** The `error.message` of a JSON-RPC error response, or undefined when the body is not one. */
function jsonRpcErrorMessage(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || (parsed as { jsonrpc?: unknown }).jsonrpc !== '2.0') return undefined;
  const error = (parsed as { error?: unknown }).error;
  if (!error || typeof error !== 'object') return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'number' && typeof message === 'string' ? message : undefined;
}

/** Connections to this upstream are backing off: refused here, without touching the network. */
export class UpstreamBackoffError extends Error {
  constructor(
    readonly retryAt: number,
    lastError: string,
    now: number,
  ) {
    const seconds = Math.max(1, Math.ceil((retryAt - now) / 1_000));
    super(`unreachable (${lastError}); next connection attempt in ${seconds} s, after ${new Date(retryAt).toISOString()}`);
    this.name = 'UpstreamBackoffError';
  }
}

/**
 * What went wrong with an upstream request, as far as retrying is concerned:
 * - `session-lost`: the upstream refused the message for its session before handling it;
 * - `refused`: no connection was made, so nothing was sent;
 * - `interrupted`: the connection broke after the request may have been sent;
 * - `other`: an answer (HTTP or JSON-RPC error, timeout, policy refusal) that a retry would not change.
 */
export type UpstreamFailure = 'session-lost' | 'refused' | 'interrupted' | 'other';

/** Network errors raised before any byte of the request left (Node's and undici's codes). */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** Network errors of a connection that was open: the request may have reached the upstream. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
/** The SDK's own error for a transport closed under a pending request (ErrorCode.ConnectionClosed; upstreams use -32000 too, hence the message check). */
const SDK_CONNECTION_CLOSED = -32000;

/** Whether the platform's SSRF guard refused the address (on the error or its cause). */
export function isBlockedAddress(error: unknown): boolean {
  return blockedAddressOf(error) !== undefined;
}

export function blockedAddressOf(error: unknown): BlockedAddressError | undefined {
  const cause = (error as { cause?: unknown })?.cause;
  return error instanceof BlockedAddressError ? error : cause instanceof BlockedAddressError ? cause : undefined;
}

export function classifyFailure(error: unknown): UpstreamFailure {
  if (error instanceof UpstreamSessionLostError) return 'session-lost';
  for (let current: unknown = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof BlockedAddressError) return 'other';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_CONNECTED.has(code)) return 'refused';
    if (typeof code === 'string' && BROKEN.has(code)) return 'interrupted';
    if (code === SDK_CONNECTION_CLOSED && /Connection closed/.test(String((current as { message?: unknown }).message))) return 'interrupted';
  }
  // undici's "fetch failed" without a known cause: a network error of unknown moment.
  if (error instanceof TypeError && error.message === 'fetch failed') return 'interrupted';
  return 'other';
}

/**
 * Whether a failed request may be sent once more on a new connection.
 *
 * A tools/call that got 404 on its session (or a session 400, see refusalMeansSessionLost), or that found no connection, never ran on the
 * upstream: sending it again cannot run it twice. One whose connection broke mid-way may have
 * run (the upstream may have acted and only the answer was lost), so it is reported, not
 * repeated; tool annotations such as `idempotentHint` come from the upstream and are only hints,
 * so they do not change that. A tools/list has no effect and is always safe to repeat.
 */
export function mayRetry(kind: 'list' | 'call', failure: UpstreamFailure): boolean {
  switch (failure) {
    case 'session-lost':
    case 'refused':
      return true;
    case 'interrupted':
      return kind === 'list';
    case 'other':
      return false;
  }
}

/** Whether the connection a request used is done for: the next request opens a new one. */
export function endsConnection(failure: UpstreamFailure): boolean {
  return failure !== 'other';
}

/**
 * Exponential backoff with jitter for connection attempts to one upstream: after the n-th failure
 * in a row the next attempt waits between half and all of min(BASE · 2^(n-1), MAX), so the
 * gateways of a cluster do not all knock on a recovering upstream at the same instant. A success
 * resets it.
 */
export class Backoff {
  private failures = 0;
  private retryAt = 0;
  private lastError = '';

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Throws UpstreamBackoffError while the wait after the last failure lasts. */
  check(): void {
    const now = this.now();
    if (now < this.retryAt) throw new UpstreamBackoffError(this.retryAt, this.lastError, now);
  }

  /** Records a failed attempt; returns how long the next one waits. */
  failed(error: unknown): number {
    this.failures++;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.failures - 1, 30));
    const delay = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
    this.retryAt = this.now() + delay;
    this.lastError = error instanceof Error ? error.message : String(error);
    return delay;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = '';
  }

  /** Failed attempts in a row so far. */
  get failuresInARow(): number {
    return this.failures;
  }
}
