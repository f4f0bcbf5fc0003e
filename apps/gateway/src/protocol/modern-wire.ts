import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { LOG_LEVELS, type LogLevel } from '@switchboard/plugin-sdk';
import { JSON_RPC_INVALID_PARAMS, JSON_RPC_INVALID_REQUEST } from './jsonrpc-errors';

// MCP 2026-07-28 (the stateless revision) beside the 2025 sessions on the same endpoint: which
// era a POST speaks, decided from its parsed body and headers alone. Decisions only; the
// transports floor writes them.

/** The modern revisions this gateway serves: discover's `supportedVersions` and -32022's `data.supported`. */
export const MODERN_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];
/** Revisions compare as strings (dates); from this one on a version is modern, served or not. */
const FIRST_MODERN_REVISION = '2026-07-28';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

/** 2026-07-28 basic/index "Error Codes": the renumbered modern errors. */
export const JSON_RPC_HEADER_MISMATCH = -32020;
export const JSON_RPC_MISSING_CLIENT_CAPABILITY = -32021;
export const JSON_RPC_UNSUPPORTED_PROTOCOL_VERSION = -32022;
export const JSON_RPC_METHOD_NOT_FOUND = -32601;

export const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';
export const MCP_METHOD_HEADER = 'mcp-method';
export const MCP_NAME_HEADER = 'mcp-name';

const LOG_LEVEL_NAMES: ReadonlySet<string> = new Set(LOG_LEVELS);
/** Methods whose `Mcp-Name` header is required, and the param it mirrors (streamable-http "Standard headers"). */
const NAMED_PARAM: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';
/** Canonical, padded standard Base64: anything else in a sentinel is refused, not guessed at. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Header value characters a client may send unencoded: visible ASCII, SP and HTAB. */
const SAFE_HEADER_VALUE = /^[\x20-\x7e\t]*$/;

/** The request headers the ladder reads, as Node gives them (lower-case names). */
export interface ModernHeaders {
  protocolVersion?: string;
  mcpMethod?: string;
  mcpName?: string;
}

/** The per-request `_meta` a modern request carries (basic/index "General fields: _meta"). */
export interface RequestEnvelope {
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo?: { name: string; version: string };
  /** logging.mdx: the request's own log level; without it, no `notifications/message` for it. */
  logLevel?: LogLevel;
}

/** A modern request (with `id`) or notification, checked against its headers. */
export interface ModernMessage {
  id?: RequestId;
  method: string;
  params: Record<string, unknown>;
  envelope: RequestEnvelope;
}

/** A modern refusal: HTTP status and the JSON-RPC error, echoing the request's id. */
export interface ModernRefusal {
  status: number;
  id: RequestId | null;
  error: { code: number; message: string; data?: unknown };
}

export type EraDecision = { era: 'legacy' } | { era: 'modern'; message: ModernMessage } | { era: 'refused'; refusal: ModernRefusal };

const LEGACY: EraDecision = { era: 'legacy' };

/**
 * Whether a POST may be modern, from its raw text and version header, without a parse: a legacy
 * client's POST goes on to the 2025 path at no extra cost. True can still turn out legacy.
 */
export function mayBeModern(body: string, headers: ModernHeaders): boolean {
  return body.includes(META_PROTOCOL_VERSION) || isModernVersion(headers.protocolVersion);
}

/**
 * The era of a POST on a dual-era endpoint (the notes' "Classification rules", mirroring the
 * SDK's inbound classification that conformance exercises): legacy, modern, or a modern refusal.
 */
export function classifyPost(messages: readonly JSONRPCMessage[], batch: boolean, headers: ModernHeaders): EraDecision {
  if (batch) {
    // streamable-http 2026-07-28: "The body of the HTTP POST MUST be a single JSON-RPC request or notification".
    if (messages.some((message) => claimOf(message) !== undefined)) {
      return refused(400, null, JSON_RPC_INVALID_REQUEST, 'Invalid Request: batches may not contain requests for protocol version 2026-07-28');
    }
    return LEGACY;
  }
  const message = messages[0] as Record<string, unknown> | undefined;
  // A posted response belongs to a 2025 session (answer to sampling or elicitation).
  if (!message || typeof message['method'] !== 'string') return LEGACY;
  const method = message['method'];
  const id = typeof message['id'] === 'string' || typeof message['id'] === 'number' ? message['id'] : undefined;
  const params = isObject(message['params']) ? message['params'] : {};
  const meta = claimOf(message);
  if (meta === undefined) {
    if (!isModernVersion(headers.protocolVersion)) return LEGACY;
    // A modern header without the body's claim is malformed modern traffic, never legacy.
    if (method === 'initialize') return headerMismatch(id, `MCP-Protocol-Version ${headers.protocolVersion} does not select initialize`);
    return refused(400, id ?? null, JSON_RPC_INVALID_PARAMS, `Invalid params: _meta is missing ${missingKeys({}).join(', ')}`);
  }
  const envelope = envelopeOf(meta);
  if (typeof envelope === 'string') {
    if (method === 'initialize' && !isModernVersion(headers.protocolVersion)) return LEGACY;
    return refused(400, id ?? null, JSON_RPC_INVALID_PARAMS, `Invalid params: ${envelope}`);
  }
  const requestId = id ?? null;
  // streamable-http "Request Metadata": MUST reject a header/body version mismatch, checked before
  // the version is known to be served.
  if (headers.protocolVersion !== undefined && headers.protocolVersion.trim() !== envelope.protocolVersion) {
    return headerMismatch(requestId, `MCP-Protocol-Version header value '${headers.protocolVersion}' does not match body value '${envelope.protocolVersion}'`);
  }
  if (headers.mcpMethod !== undefined && headers.mcpMethod.trim() !== method) {
    return headerMismatch(requestId, `Mcp-Method header value '${headers.mcpMethod}' does not match body value '${method}'`);
  }
  if (!MODERN_PROTOCOL_VERSIONS.includes(envelope.protocolVersion)) {
    return refused(400, requestId, JSON_RPC_UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${envelope.protocolVersion}`, {
      supported: [...MODERN_PROTOCOL_VERSIONS],
      requested: envelope.protocolVersion,
    });
  }
  const modern: ModernMessage = { ...(id !== undefined ? { id } : {}), method, params, envelope };
  // 2026-07-28 defines no header rules for notification POSTs: only mismatches (above) refuse one.
  if (id === undefined) return { era: 'modern', message: modern };
  if (headers.protocolVersion === undefined) return headerMismatch(requestId, 'MCP-Protocol-Version header is required');
  if (headers.mcpMethod === undefined) return headerMismatch(requestId, 'Mcp-Method header is required');
  const named = NAMED_PARAM[method];
  const source = named && params[named];
  if (typeof source === 'string') {
    if (headers.mcpName === undefined) return headerMismatch(requestId, 'Mcp-Name header is required');
    const decoded = decodeHeaderValue(headers.mcpName);
    if (decoded === undefined) return headerMismatch(requestId, 'Mcp-Name header value is not valid');
    if (decoded !== source) return headerMismatch(requestId, `Mcp-Name header value '${headers.mcpName}' does not match body value '${source}'`);
  }
  return { era: 'modern', message: modern };
}

/**
 * A mirrored header's value as the body would carry it: the `=?base64?…?=` sentinel decoded
 * strictly (canonical padded Base64 of UTF-8), anything else as a literal without surrounding
 * whitespace. Undefined when the value is not valid.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = raw.trim();
  if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX) || value.length < BASE64_PREFIX.length + BASE64_SUFFIX.length) {
    return SAFE_HEADER_VALUE.test(value) ? value : undefined;
  }
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  // streamable-http: servers MUST reject invalid characters; Node's Buffer.from would skip them.
  if (!STRICT_BASE64.test(encoded)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}

/** The JSON body of a modern refusal. */
export function modernErrorBody(refusal: ModernRefusal): string {
  return JSON.stringify({ jsonrpc: '2.0', id: refusal.id, error: refusal.error });
}

function isModernVersion(version: string | undefined): boolean {
  return version !== undefined && version.trim() >= FIRST_MODERN_REVISION;
}

/** The `_meta` of a message that claims a modern version; undefined without the claim. */
function claimOf(message: unknown): Record<string, unknown> | undefined {
  if (!isObject(message) || !isObject(message['params'])) return undefined;
  const meta = message['params']['_meta'];
  return isObject(meta) && Object.hasOwn(meta, META_PROTOCOL_VERSION) ? meta : undefined;
}

/** The envelope, or what is wrong with it. */
function envelopeOf(meta: Record<string, unknown>): RequestEnvelope | string {
  const missing = missingKeys(meta);
  if (missing.length > 0) return `_meta is missing ${missing.join(', ')}`;
  const protocolVersion = meta[META_PROTOCOL_VERSION];
  const clientCapabilities = meta[META_CLIENT_CAPABILITIES];
  if (typeof protocolVersion !== 'string' || protocolVersion === '') return `${META_PROTOCOL_VERSION} must be a non-empty string`;
  if (!isObject(clientCapabilities)) return `${META_CLIENT_CAPABILITIES} must be an object`;
  const clientInfo = meta[META_CLIENT_INFO];
  if (clientInfo !== undefined && !(isObject(clientInfo) && typeof clientInfo['name'] === 'string' && typeof clientInfo['version'] === 'string')) {
    return `${META_CLIENT_INFO} must be an object with a name and a version`;
  }
  const logLevel = meta[META_LOG_LEVEL];
  // logging.mdx: an unrecognised level SHOULD be rejected with -32602.
  if (logLevel !== undefined && !isLogLevel(logLevel)) return `${META_LOG_LEVEL} is not a logging level`;
  return {
    protocolVersion,
    clientCapabilities,
    ...(clientInfo !== undefined ? { clientInfo: { name: clientInfo['name'] as string, version: clientInfo['version'] as string } } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
  };
}

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && LOG_LEVEL_NAMES.has(value);
}

function missingKeys(meta: Record<string, unknown>): string[] {
  return [META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES].filter((key) => !Object.hasOwn(meta, key));
}

function headerMismatch(id: RequestId | null | undefined, detail: string): EraDecision {
  return refused(400, id ?? null, JSON_RPC_HEADER_MISMATCH, `Header mismatch: ${detail}`);
}

function refused(status: number, id: RequestId | null, code: number, message: string, data?: unknown): EraDecision {
  return { era: 'refused', refusal: { status, id, error: { code, message, ...(data !== undefined ? { data } : {}) } } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
