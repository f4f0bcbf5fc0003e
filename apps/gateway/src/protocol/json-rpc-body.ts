import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { HttpRefusalCode } from './jsonrpc-errors';

/** What the body parser leaves for a request whose Content-Type is not JSON. */
export const UNSUPPORTED_BODY = Symbol('unsupported-body');

/** The MCP SDK's MAX_BATCH_SIZE (server/requestBody.js), applied on every endpoint that takes batches. */
export const MAX_BATCH_MESSAGES = 100;
/**
 * Nesting of one message, counted from its own braces: the envelope uses three levels
 * (`{ params: { arguments: {…} } }`), real tool arguments a handful more. A bound well above any
 * real use, checked before JSON.parse: V8 parses 200,000 levels in most of a second and
 * `JSON.stringify` overflows the stack on 20,000.
 */
export const MAX_JSON_DEPTH = 64;
/**
 * Protocol revisions from which JSON-RPC batches are gone (2025-06-18 removed them). Revisions
 * compare as strings: they are dates.
 */
const FIRST_REVISION_WITHOUT_BATCHES = '2025-06-18';

export interface ParsedMessages {
  ok: true;
  messages: JSONRPCMessage[];
  batch: boolean;
  /** UTF-8 bytes of each message as received, in the order of `messages` (metering's bytes in). */
  sizes: number[];
}

export interface BodyRefusal {
  ok: false;
  refusal: HttpRefusalCode;
  /** Replaces the refusal's standard message, naming what was wrong. */
  message?: string;
}

export type ParsedBody = ParsedMessages | BodyRefusal;

/**
 * A JSON body after the one scan that bounds it (depth, batch length): counted against the limits
 * where it lands, then parsed, without being scanned twice.
 */
export interface ScannedBody {
  ok: true;
  text: string;
  /** Messages it carries (1 unless it is a batch). */
  count: number;
  /** Where each element of a top-level array ends (empty for a single message). */
  elementEnds: number[];
}

/** The scan alone: a body is refused here (not JSON, too deep, too long a batch) before any parse or limit. */
export function scanJsonRpcBody(body: unknown): ScannedBody | BodyRefusal {
  if (body === UNSUPPORTED_BODY || typeof body !== 'string') return { ok: false, refusal: 'unsupported_media_type' };
  const shape = scanJson(body);
  if (typeof shape === 'string') return scanRefusal(shape);
  return { ok: true, text: body, count: Math.max(1, shape.elementEnds.length), elementEnds: shape.elementEnds };
}

/**
 * Parses and checks a POSTed JSON-RPC body before the SDK sees it, so the gateway answers bad
 * input with the right status itself, and no handler runs for a message that is too deep or a
 * batch that is too long. Only the envelope is checked here; the SDK validates params.
 * `protocolVersion` is the request's MCP-Protocol-Version header, when it has one.
 */
export function parseJsonRpcBody(body: unknown, protocolVersion?: string): ParsedBody {
  const scanned = isScanned(body) ? body : scanJsonRpcBody(body);
  if (!scanned.ok) return scanned;
  const { text } = scanned;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, refusal: 'parse_error' };
  }
  const batch = Array.isArray(value);
  if (batch && protocolVersion !== undefined && protocolVersion >= FIRST_REVISION_WITHOUT_BATCHES) {
    return { ok: false, refusal: 'invalid_request', message: `Invalid Request: protocol version ${protocolVersion} has no JSON-RPC batches` };
  }
  const messages = batch ? (value as unknown[]) : [value];
  if (messages.length === 0 || !messages.every(isJsonRpcMessage)) return { ok: false, refusal: 'invalid_request' };
  const sizes = batch ? elementSizes(text, scanned.elementEnds) : [Buffer.byteLength(text)];
  return { ok: true, messages: messages as JSONRPCMessage[], batch, sizes };
}

function isScanned(body: unknown): body is ScannedBody {
  return typeof body === 'object' && body !== null && (body as { ok?: unknown }).ok === true && typeof (body as { text?: unknown }).text === 'string';
}

/** The messages' JSON-RPC request ids (not notifications' or responses'). */
export function requestIds(messages: readonly JSONRPCMessage[]): (string | number)[] {
  const ids: (string | number)[] = [];
  for (const message of messages) if ('method' in message && 'id' in message) ids.push(message.id);
  return ids;
}

export function isInitializeRequest(messages: JSONRPCMessage[]): boolean {
  return messages.some((m) => 'method' in m && m.method === 'initialize');
}

function scanRefusal(problem: 'too_deep' | 'too_many'): BodyRefusal {
  const message =
    problem === 'too_deep'
      ? `Invalid Request: a message may nest at most ${MAX_JSON_DEPTH} levels deep`
      : `Invalid Request: a batch may hold at most ${MAX_BATCH_MESSAGES} messages`;
  return { ok: false, refusal: 'invalid_request', message };
}

function isJsonRpcMessage(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message['jsonrpc'] !== '2.0') return false;
  const id = message['id'];
  const validId = typeof id === 'string' || typeof id === 'number';
  if (typeof message['method'] === 'string') return id === undefined || validId;
  // A response to a server-initiated request (sampling, elicitation).
  return validId && ('result' in message || 'error' in message);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * One pass over the text, outside strings: nesting depth (refused past the bound before any
 * parse), and for a top-level array where each element ends (its commas and closing bracket).
 * Malformed text passes through to JSON.parse, which names it a parse error.
 */
function scanJson(text: string): { elementEnds: number[] } | 'too_deep' | 'too_many' {
  const elementEnds: number[] = [];
  let start = 0;
  while (start < text.length && text.charCodeAt(start) <= 0x20) start++;
  const batch = text.charCodeAt(start) === OPEN_BRACKET;
  // In a batch the array itself is not a level of its messages.
  const limit = batch ? MAX_JSON_DEPTH + 1 : MAX_JSON_DEPTH;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return 'too_deep';
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (batch && depth === 0) elementEnds.push(i);
    } else if (batch && depth === 1 && c === COMMA) {
      elementEnds.push(i);
      if (elementEnds.length >= MAX_BATCH_MESSAGES) return 'too_many';
    }
  }
  return { elementEnds };
}

/** UTF-8 sizes of a batch's elements from the separators the scan found. */
function elementSizes(text: string, ends: number[]): number[] {
  const sizes: number[] = [];
  let from = text.indexOf('[') + 1;
  for (const end of ends) {
    sizes.push(Buffer.byteLength(text.slice(from, end).trim()));
    from = end + 1;
  }
  return sizes;
}
