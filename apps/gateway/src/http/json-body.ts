import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { HttpRefusalCode } from './jsonrpc-errors';

/** What the body parser leaves for a request whose Content-Type is not JSON. */
export const UNSUPPORTED_BODY = Symbol('unsupported-body');

export type ParsedBody = { ok: true; messages: JSONRPCMessage[]; batch: boolean } | { ok: false; refusal: HttpRefusalCode };

/**
 * Parses and checks a POSTed JSON-RPC body before the SDK sees it, so the gateway answers bad
 * input with the right status itself. Only the envelope is checked here; the SDK validates params.
 */
export function parseJsonRpcBody(body: unknown): ParsedBody {
  if (body === UNSUPPORTED_BODY || typeof body !== 'string') return { ok: false, refusal: 'unsupported_media_type' };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, refusal: 'parse_error' };
  }
  const batch = Array.isArray(value);
  const messages = batch ? (value as unknown[]) : [value];
  if (messages.length === 0 || !messages.every(isJsonRpcMessage)) return { ok: false, refusal: 'invalid_request' };
  return { ok: true, messages: messages as JSONRPCMessage[], batch };
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

export function isInitializeRequest(messages: JSONRPCMessage[]): boolean {
  return messages.some((m) => 'method' in m && m.method === 'initialize');
}
