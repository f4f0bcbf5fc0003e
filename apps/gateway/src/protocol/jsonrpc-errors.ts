import type { ServerResponse } from 'node:http';

// The first error family: what the client sees. Every refusal the gateway answers itself (before
// the MCP SDK sees a message) is an HTTP status with a JSON-RPC error body, as the SDK's own
// transports answer. Local failures (protocol/gateway-errors.ts) never cross this line with their details.

export const JSON_RPC_PARSE_ERROR = -32700;
export const JSON_RPC_INVALID_REQUEST = -32600;
export const JSON_RPC_INVALID_PARAMS = -32602;
export const JSON_RPC_INTERNAL_ERROR = -32603;
/** Implementation-defined server errors (-32000..-32099), as the SDK uses them for transport refusals. */
export const JSON_RPC_SERVER_ERROR = -32000;
export const JSON_RPC_SESSION_NOT_FOUND = -32001;
/**
 * A tool call refused by a rate limit, concurrency cap or quota inside an open stream; its `data`
 * carries the limit and when to retry. Chosen to echo HTTP 429; the MCP spec defines none.
 */
export const JSON_RPC_LIMIT_EXCEEDED = -32029;

/** Which wire a refusal answers: the 2025 eras (sessions) or 2026-07-28 (stateless requests). */
export type WireEra = 'legacy' | 'modern';

/**
 * 2026-07-28 basic/index "Error Codes": -32020..-32099 are the specification's ("MUST NOT emit
 * any code from this sub-range that is not defined by this specification"), -32000..-32019 are
 * legacy ("new implementations SHOULD NOT use codes from this sub-range"), and new codes "SHOULD
 * be allocated outside the JSON-RPC reserved range (-32768 to -32000)". So on the modern wire the
 * gateway's own refusals carry -31000 minus the HTTP status they travel with: -31429, -31503, ...
 */
const MODERN_SERVER_ERROR_BASE = -31000;
/** A request or tool call refused by a limit, on the modern wire (the 2025 eras keep -32000 / -32029). */
export const MODERN_LIMIT_EXCEEDED = MODERN_SERVER_ERROR_BASE - 429;
/** A call cut before its answer (shutdown, node lost): it may have run, on the modern wire. */
export const MODERN_OUTCOME_UNKNOWN = MODERN_SERVER_ERROR_BASE - 502;
/** The codes 2026-07-28 defines inside its reserved sub-range; any other there is never sent. */
const MODERN_DEFINED_CODES: ReadonlySet<number> = new Set([-32020, -32021, -32022]);
const MODERN_RESERVED_LOW = -32099;
const MODERN_RESERVED_HIGH = -32020;

const MODERN_LEGACY_LOW = -32019;

/** A refusal's JSON-RPC code as the modern wire carries it: one of the legacy sub-range becomes -31000 - status. */
export function modernRefusalCode(code: number, status: number): number {
  return code >= MODERN_LEGACY_LOW && code <= JSON_RPC_SERVER_ERROR ? MODERN_SERVER_ERROR_BASE - status : code;
}

/**
 * An in-band error's code (a JSON-RPC answer to a modern request) as the modern wire carries it:
 * the limit code -32029 becomes -31429, -32000 (the SDK's ConnectionClosed, which a call cut by
 * shutdown is answered with) becomes -31502, and any other undefined code of the reserved
 * sub-range (a plugin's own) becomes -32603. The rest, -32001..-32019 included, pass unchanged.
 */
export function modernAnswerCode(code: number): number {
  if (code === JSON_RPC_LIMIT_EXCEEDED) return MODERN_LIMIT_EXCEEDED;
  if (code === JSON_RPC_SERVER_ERROR) return MODERN_OUTCOME_UNKNOWN;
  if (code >= MODERN_RESERVED_LOW && code <= MODERN_RESERVED_HIGH && !MODERN_DEFINED_CODES.has(code)) return JSON_RPC_INTERNAL_ERROR;
  return code;
}

export type HttpRefusalCode =
  | 'parse_error'
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'missing_session'
  | 'session_not_found'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'origin_forbidden'
  | 'node_full'
  | 'rate_limited'
  | 'tenant_busy'
  | 'too_many_listeners'
  | 'shutting_down'
  | 'unavailable'
  | 'cluster_unavailable'
  | 'forward_timeout'
  | 'outcome_unknown'
  | 'internal_error';

/** How a refusal travels: HTTP status and the JSON-RPC error's code and message. */
interface RefusalWire {
  status: number;
  code: number;
  message: string;
}

/**
 * One table from refusal to HTTP status and JSON-RPC code; on the modern wire the code follows
 * `modernRefusalCode` (the status and message stay).
 */
export function refusalFor(code: HttpRefusalCode, era: WireEra = 'legacy'): RefusalWire {
  const wire = legacyRefusalFor(code);
  return era === 'modern' ? { ...wire, code: modernRefusalCode(wire.code, wire.status) } : wire;
}

/** The switch is checked for exhaustiveness. */
function legacyRefusalFor(code: HttpRefusalCode): RefusalWire {
  switch (code) {
    case 'parse_error':
      return { status: 400, code: JSON_RPC_PARSE_ERROR, message: 'Parse error: the body is not valid JSON' };
    case 'invalid_request':
      return { status: 400, code: JSON_RPC_INVALID_REQUEST, message: 'Invalid Request: not a JSON-RPC 2.0 message' };
    case 'unsupported_media_type':
      return { status: 415, code: JSON_RPC_SERVER_ERROR, message: 'Unsupported Media Type: Content-Type must be application/json' };
    case 'payload_too_large':
      return { status: 413, code: JSON_RPC_SERVER_ERROR, message: 'Payload Too Large' };
    case 'missing_session':
      return { status: 400, code: JSON_RPC_SERVER_ERROR, message: 'Bad Request: Mcp-Session-Id header is required' };
    case 'session_not_found':
      return { status: 404, code: JSON_RPC_SESSION_NOT_FOUND, message: 'Session not found' };
    case 'not_found':
      return { status: 404, code: JSON_RPC_SERVER_ERROR, message: 'Not Found' };
    case 'unauthorized':
      return { status: 401, code: JSON_RPC_SERVER_ERROR, message: 'Unauthorized' };
    case 'forbidden':
      return { status: 403, code: JSON_RPC_SERVER_ERROR, message: 'Forbidden' };
    case 'origin_forbidden':
      return { status: 403, code: JSON_RPC_SERVER_ERROR, message: 'Forbidden: Origin not allowed' };
    case 'node_full':
      return { status: 503, code: JSON_RPC_SERVER_ERROR, message: 'Service Unavailable: this node holds its maximum of sessions' };
    case 'rate_limited':
      return { status: 429, code: JSON_RPC_SERVER_ERROR, message: 'Too Many Requests' };
    case 'tenant_busy':
      return { status: 429, code: JSON_RPC_SERVER_ERROR, message: 'Too Many Requests: this tenant has too many requests in progress on this node' };
    case 'too_many_listeners':
      return { status: 429, code: JSON_RPC_SERVER_ERROR, message: 'Too Many Requests: this tenant has too many subscriptions/listen streams open on this node' };
    case 'shutting_down':
      return { status: 503, code: JSON_RPC_SERVER_ERROR, message: 'Service Unavailable: this node is shutting down' };
    case 'unavailable':
      return { status: 503, code: JSON_RPC_SERVER_ERROR, message: 'Service Unavailable' };
    case 'cluster_unavailable':
      return { status: 503, code: JSON_RPC_SERVER_ERROR, message: 'Service Unavailable: the node holding this session cannot be reached (cluster link down)' };
    case 'forward_timeout':
      return { status: 504, code: JSON_RPC_SERVER_ERROR, message: 'Gateway Timeout: the node holding this session did not answer in time' };
    case 'outcome_unknown':
      // Not 503: a client may retry a 503, and this request may already have run.
      return {
        status: 502,
        code: JSON_RPC_SERVER_ERROR,
        message: 'Bad Gateway: the request reached the node holding this session, which stopped or became unreachable before answering; it may have run (outcome unknown)',
      };
    case 'internal_error':
      return { status: 500, code: JSON_RPC_INTERNAL_ERROR, message: 'Internal error' };
    default: {
      const unreachable: never = code;
      throw new Error(`no refusal for ${String(unreachable)}`);
    }
  }
}

/**
 * A decision to refuse, as checks return it: the edge (transports, routes) writes it with
 * `refuse` or turns it into a web Response with `refusalResponse`.
 */
export interface Refusal {
  code: HttpRefusalCode;
  /** Replaces the code's standard message. */
  message?: string;
  headers?: Record<string, string>;
}

/** How a refusal is written: its message, extra headers, and the wire it answers (legacy unless said). */
export interface RefusalOptions {
  message?: string;
  headers?: Record<string, string>;
  era?: WireEra;
}

/** The same refusal as a web Response, for paths that answer through the SDK's web-standard transport. */
export function refusalResponse(code: HttpRefusalCode, options: RefusalOptions = {}): Response {
  const refusal = refusalFor(code, options.era);
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: refusal.code, message: options.message ?? refusal.message }, id: null });
  return new Response(body, { status: refusal.status, headers: { 'content-type': 'application/json', ...options.headers } });
}

/** Writes a refusal on the raw response (streams are handled outside Fastify's reply). */
export function refuse(res: ServerResponse, code: HttpRefusalCode, options: RefusalOptions = {}): void {
  const refusal = refusalFor(code, options.era);
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: refusal.code, message: options.message ?? refusal.message }, id: null });
  res.writeHead(refusal.status, { 'content-type': 'application/json', ...options.headers });
  res.end(body);
}
