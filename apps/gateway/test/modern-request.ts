/** The 2026-07-28 revision, as the tests send it. */
export const MODERN_VERSION = '2026-07-28';

/** Methods whose Mcp-Name header mirrors a param (streamable-http 2026-07-28). */
const NAMED: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

export interface ModernRequestOptions {
  id?: string | number;
  /** `_meta["io.modelcontextprotocol/clientCapabilities"]`; none declared by default. */
  capabilities?: Record<string, unknown>;
  /** More `_meta` (a progressToken, a logLevel). */
  meta?: Record<string, unknown>;
  signal?: AbortSignal;
}

/**
 * One stateless 2026-07-28 POST, written by hand as the spec's wire has it: the per-request
 * envelope in `params._meta`, and the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers that
 * mirror the body. The response is not read: streams are the caller's to read or abandon.
 */
export function modernRequest(
  baseUrl: string,
  path: string,
  token: string,
  method: string,
  params: Record<string, unknown> = {},
  options: ModernRequestOptions = {},
): Promise<Response> {
  const named = NAMED[method];
  const name = named !== undefined ? params[named] : undefined;
  return fetch(new URL(path, baseUrl), {
    method: 'POST',
    ...(options.signal ? { signal: options.signal } : {}),
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': method,
      ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: options.id ?? 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
          'io.modelcontextprotocol/clientCapabilities': options.capabilities ?? {},
          ...options.meta,
        },
      },
    }),
  });
}

/** What a test reads from an answer: any JSON, inspected freely by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnswerJson = Record<string, any>;

/** A modern answer's JSON-RPC message: the JSON body, or an event stream's last event. */
export async function modernAnswer(response: Response): Promise<{ id?: unknown; result?: AnswerJson; error?: { code: number; message: string; data?: unknown } }> {
  const text = await response.text();
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return JSON.parse(text);
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)))
    .at(-1);
}
