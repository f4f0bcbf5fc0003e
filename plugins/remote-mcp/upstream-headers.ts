import { z } from 'zod';

/** Static headers toward the upstream: at most this many... */
export const MAX_UPSTREAM_HEADERS = 20;
/** ...each value at most this long... */
export const MAX_UPSTREAM_HEADER_VALUE = 8_192;
/** ...and names and values together at most this many characters. */
export const MAX_UPSTREAM_HEADERS_TOTAL = 16_384;

/** RFC 9110 §5.6.2 `token`: the only characters a field name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/;
/** RFC 9110 §5.5 field-value: visible characters, spaces and tabs; never CR, LF or NUL (header injection). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Header names a tenant may not set, and why. Hop-by-hop headers belong to one connection
 * (RFC 9110 §7.6.1), framing headers to the HTTP client, and the MCP transport's own headers to
 * the transport: a tenant's value would be sent after them and win, breaking the session.
 */
const RESERVED: Record<string, string> = {
  connection: 'a hop-by-hop header',
  'keep-alive': 'a hop-by-hop header',
  'proxy-connection': 'a hop-by-hop header',
  'transfer-encoding': 'a hop-by-hop header',
  te: 'a hop-by-hop header',
  trailer: 'a hop-by-hop header',
  upgrade: 'a hop-by-hop header',
  'proxy-authorization': 'a hop-by-hop header',
  'proxy-authenticate': 'a hop-by-hop header',
  host: 'set by the HTTP client from the URL',
  'content-length': 'set by the HTTP client',
  expect: 'set by the HTTP client',
  'content-type': 'set by the MCP transport',
  accept: 'set by the MCP transport',
  'mcp-session-id': 'set by the MCP transport',
  'mcp-protocol-version': 'set by the MCP transport',
  'last-event-id': 'set by the MCP transport',
  traceparent: 'set by the gateway for tracing',
  tracestate: 'set by the gateway for tracing',
};

/**
 * The `headers` field: header name → value, sent on every request to the upstream. Each refusal
 * names the header (`config.headers.Host`). `Authorization` is allowed (for schemes other than
 * Bearer) unless `bearerToken` is set too; that check lives on the whole config.
 */
export const upstreamHeadersSchema = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  const names = Object.keys(headers);
  if (names.length > MAX_UPSTREAM_HEADERS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_UPSTREAM_HEADERS} headers` });
  let total = 0;
  const seen = new Set<string>();
  for (const name of names) {
    const value = headers[name]!;
    total += name.length + value.length;
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a header name is 1 to 100 token characters (letters, digits, !#$%&\'*+-.^_`|~)' });
    else if (RESERVED[lower]) ctx.addIssue({ code: 'custom', path: [name], message: `${name} cannot be configured: it is ${RESERVED[lower]}` });
    else if (seen.has(lower)) ctx.addIssue({ code: 'custom', path: [name], message: 'header names are case-insensitive: this one is given twice' });
    seen.add(lower);
    if (value.length > MAX_UPSTREAM_HEADER_VALUE) ctx.addIssue({ code: 'custom', path: [name], message: `at most ${MAX_UPSTREAM_HEADER_VALUE} characters` });
    else if (!FIELD_VALUE.test(value)) ctx.addIssue({ code: 'custom', path: [name], message: 'a header value cannot contain control characters (CR, LF, NUL...) or characters beyond U+00FF' });
  }
  if (total > MAX_UPSTREAM_HEADERS_TOTAL) ctx.addIssue({ code: 'custom', message: `names and values together at most ${MAX_UPSTREAM_HEADERS_TOTAL} characters` });
});

/** Whether `headers` sets Authorization (case-insensitively). */
export const setsAuthorization = (headers: Record<string, string> | undefined): boolean =>
  headers !== undefined && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
