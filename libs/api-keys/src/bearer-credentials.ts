// The one parser of `Authorization: Bearer …` for both apps (admin API and gateway).

/** RFC 7235 §2.1: auth-scheme = token (tchar run), compared case-insensitively. */
const AUTH_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
/**
 * RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, b64token = 1*( ALPHA / DIGIT / "-" / "." /
 * "_" / "~" / "+" / "/" ) *"=". Stricter than 1*SP on purpose: exactly one space and nothing after
 * the token, so no proxy, log or library in front of us can read a different token out of the
 * same header than we do.
 */
const BEARER_CREDENTIALS = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/** The token of an `Authorization: Bearer …` header; `missing` without one, `malformed` when it is not exactly one b64token. */
export function bearerTokenOf(header: string | undefined): { token: string } | { reason: 'missing' | 'malformed' } {
  if (!header) return { reason: 'missing' };
  // Another scheme (Basic, ...) is not a bearer credential at all: RFC 6750 §3.1 says no error code.
  if (AUTH_SCHEME.exec(header)?.[0].toLowerCase() !== 'bearer') return { reason: 'missing' };
  const match = BEARER_CREDENTIALS.exec(header);
  return match ? { token: match[1] } : { reason: 'malformed' };
}
