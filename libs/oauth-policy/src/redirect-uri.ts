/**
 * Which redirect URIs an OAuth client may register, wherever it registers them (admin API,
 * dynamic registration, a Client ID Metadata Document). OAuth 2.1 §2.3.1 / RFC 8252:
 * - `https:` with a host: web clients;
 * - `http:` only on a loopback host (RFC 8252 §7.3; `localhost` is allowed because native MCP
 *   clients such as mcp-remote use it, although §8.3 does not recommend it);
 * - a private-use scheme in reverse-domain form (RFC 8252 §7.1: it MUST contain a period), so
 *   `javascript:`, `data:` or `file:` can never be one.
 * Never a fragment (RFC 6749 §3.1.2), never userinfo.
 */

export const MAX_REDIRECT_URI_LENGTH = 2048;
export const MAX_REDIRECT_URIS = 20;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]*[a-z0-9]$/;

/** Why `uri` cannot be a redirect URI, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `is longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return 'contains whitespace or control characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain a user name or password';
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'https') return url.hostname ? undefined : 'needs a host';
  if (scheme === 'http') {
    return LOOPBACK_HOSTS.has(url.hostname.toLowerCase()) ? undefined : 'may use http only on a loopback host (127.0.0.1, [::1], localhost); use https';
  }
  if (!PRIVATE_USE_SCHEME.test(scheme)) return `scheme "${scheme}" is neither https, loopback http nor a private-use scheme in reverse-domain form (com.example.app)`;
  return undefined;
}

/** True for an http redirect URI on a loopback host, whose port the client may vary (RFC 8252 §7.3). */
export function isLoopbackRedirectUri(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
  } catch {
    return false;
  }
}
