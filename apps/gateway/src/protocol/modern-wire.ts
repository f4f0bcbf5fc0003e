import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { LOG_LEVELS, type LogLevel } from '@switchboard/plugin-sdk';
import { JSON_RPC_INVALID_PARAMS, JSON_RPC_INVALID_REQUEST, modernAnswerCode } from './jsonrpc-errors';

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
/** subscriptions/listen: the listen request's id, on every message of its stream. */
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** 2026-07-28 basic/index "Error Codes": the renumbered modern errors. */
export const JSON_RPC_HEADER_MISMATCH = -32020;
export const JSON_RPC_MISSING_CLIENT_CAPABILITY = -32021;
export const JSON_RPC_UNSUPPORTED_PROTOCOL_VERSION = -32022;
export const JSON_RPC_METHOD_NOT_FOUND = -32601;

export const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';
export const MCP_METHOD_HEADER = 'mcp-method';
export const MCP_NAME_HEADER = 'mcp-name';
/** streamable-http "Custom Headers from Tool Parameters": `Mcp-Param-{x-mcp-header}`, as Node names it. */
export const MCP_PARAM_HEADER_PREFIX = 'mcp-param-';
/**
 * The longest mirrored value (Mcp-Name, Mcp-Param-*) taken, in characters as sent. The spec sets
 * none; 8 KiB is what common proxies allow one header line (nginx's default buffer), so a longer
 * one could not have been routed on anyway. Node refuses all headers over 16 KiB with 431 before this.
 */
export const MAX_MIRRORED_HEADER_LENGTH = 8_192;

const LOG_LEVEL_NAMES: ReadonlySet<string> = new Set(LOG_LEVELS);
/** Methods whose `Mcp-Name` header is required, and the param it mirrors (streamable-http "Standard headers"). */
const NAMED_PARAM: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';
/** Canonical, padded standard Base64: anything else in a sentinel is refused, not guessed at. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Header value characters a client may send unencoded: visible ASCII, SP and HTAB. */
const SAFE_HEADER_VALUE = /^[\x20-\x7e\t]*$/;
const X_MCP_HEADER = 'x-mcp-header';
/** RFC 9110 §5.1 token (`1*tchar`): what an `x-mcp-header` value must be to name a header at all. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** streamable-http "Server Validation": integers SHOULD compare numerically (`42.0` is `42`). */
const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** The request headers the ladder reads, as Node gives them (lower-case names). */
export interface ModernHeaders {
  protocolVersion?: string;
  mcpMethod?: string;
  mcpName?: string;
  /**
   * A mirrored header the request carries more than once (Node joins the values with ", "): a
   * proxy that reads the first would route on another value than the one compared here.
   */
  repeated?: string;
}

/** The request's headers as Node keeps each occurrence (`req.headersDistinct`), lower-case names. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** One `x-mcp-header` declaration: the header's name part and the argument's property path. */
export interface ParamHeaderDeclaration {
  name: string;
  path: readonly string[];
  type: string | undefined;
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
  if (headers.repeated !== undefined) return headerMismatch(requestId, `${headers.repeated} header is sent more than once`);
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
    if (headers.mcpName.length > MAX_MIRRORED_HEADER_LENGTH) return headerMismatch(requestId, `Mcp-Name header value is longer than ${MAX_MIRRORED_HEADER_LENGTH} characters`);
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

/**
 * streamable-http "Schema Extension": the `x-mcp-header` declarations of a tool's inputSchema that
 * can name a header, on properties reached by a chain of `properties` keys alone. One anywhere else
 * (under items, anyOf, $ref ...) or not a token makes the tool invalid for clients, which exclude
 * it: no conforming client mirrors it, so it is not checked either.
 */
export function paramHeadersOf(inputSchema: unknown): ParamHeaderDeclaration[] {
  const found: ParamHeaderDeclaration[] = [];
  const visit = (node: unknown, path: readonly string[]): void => {
    if (!isObject(node)) return;
    const name = node[X_MCP_HEADER];
    if (path.length > 0 && typeof name === 'string' && HEADER_TOKEN.test(name)) {
      found.push({ name, path, type: typeof node['type'] === 'string' ? node['type'] : undefined });
    }
    const properties = node['properties'];
    if (isObject(properties)) for (const [key, child] of Object.entries(properties)) visit(child, [...path, key]);
  };
  visit(inputSchema, []);
  return found;
}

/**
 * A tools/call's `Mcp-Param-*` headers against the tool's declarations and the body's `arguments`
 * (streamable-http "Server Behavior for Custom Headers"), or the -32020 refusal:
 * - a value in the body: the header MUST be present and match it after decoding ("Client omits
 *   header but value is in body: Server MUST reject");
 * - no value (absent or null): the header is not expected; one sent anyway claims a value the
 *   body does not have, a mismatch too;
 * - a recognised header with invalid characters, a bad Base64 sentinel, a repeat or a value over
 *   MAX_MIRRORED_HEADER_LENGTH is refused; an `Mcp-Param-*` no declaration names is ignored.
 */
export function checkParamHeaders(inputSchema: unknown, args: unknown, headers: DistinctHeaders, id: RequestId): ModernRefusal | undefined {
  for (const declaration of paramHeadersOf(inputSchema)) {
    const header = `Mcp-Param-${declaration.name}`;
    const values = headers[MCP_PARAM_HEADER_PREFIX + declaration.name.toLowerCase()];
    const body = valueAt(args, declaration.path);
    const argument = `arguments.${declaration.path.join('.')}`;
    if (values === undefined || values.length === 0) {
      if (body === undefined || body === null) continue;
      return paramMismatch(id, `${header} header is required: the body carries ${argument}`);
    }
    if (values.length > 1) return paramMismatch(id, `${header} header is sent more than once`);
    const raw = values[0]!;
    if (raw.length > MAX_MIRRORED_HEADER_LENGTH) return paramMismatch(id, `${header} header value is longer than ${MAX_MIRRORED_HEADER_LENGTH} characters`);
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return paramMismatch(id, `${header} header value is not valid`);
    if (body === undefined || body === null) return paramMismatch(id, `${header} header is sent but the body carries no ${argument}`);
    if (!sameParamValue(decoded, body, declaration.type)) {
      return paramMismatch(id, `${header} header value '${raw}' does not match body value ${JSON.stringify(body)}`);
    }
  }
  return undefined;
}

/** A modern request's JSON-RPC answer with its error code as the modern wire may carry it. */
export function modernAnswerBody<T extends object>(body: T): T {
  const error: unknown = 'error' in body ? body.error : undefined;
  if (!isObject(error) || typeof error['code'] !== 'number') return body;
  const code = modernAnswerCode(error['code']);
  return code === error['code'] ? body : { ...body, error: { ...error, code } };
}

/** The JSON body of a modern refusal. */
export function modernErrorBody(refusal: ModernRefusal): string {
  return JSON.stringify({ jsonrpc: '2.0', id: refusal.id, error: refusal.error });
}

/** Whether an MCP-Protocol-Version value names a modern revision (served or not). */
export function isModernVersion(version: string | undefined): boolean {
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

/** streamable-http "Value Encoding": strings as they are, integers in decimal, booleans as true / false. */
function sameParamValue(decoded: string, body: unknown, type: string | undefined): boolean {
  if (typeof body === 'string') return decoded === body;
  if (typeof body === 'boolean') return decoded === String(body);
  if (typeof body === 'number') {
    if (!Number.isFinite(body)) return false;
    return (type === 'integer' || type === 'number') && DECIMAL.test(decoded) ? Number(decoded) === body : decoded === String(body);
  }
  // An object or array where the schema has a primitive: no header can match it.
  return false;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function paramMismatch(id: RequestId, detail: string): ModernRefusal {
  return { status: 400, id, error: { code: JSON_RPC_HEADER_MISMATCH, message: `Header mismatch: ${detail}` } };
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
