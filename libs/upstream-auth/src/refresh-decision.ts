/**
 * An access token is refreshed this long before it expires, so a call that starts with it does not
 * meet its expiry half way (and clocks a little apart do not matter).
 */
export const REFRESH_MARGIN_MS = 60_000;

export type TokenDecision = 'use' | 'refresh';

/**
 * Whether the stored access token serves the next request. `rejected` is a token the upstream just
 * answered 401 to: when it is still the stored one, it is refreshed whatever its expiry says (the
 * grant may be revoked; the refresh tells). When another request already replaced it, the new one
 * is used.
 */
export function decideToken(stored: { accessToken: string; expiresAt: number | undefined }, now: number, rejected?: string): TokenDecision {
  if (rejected !== undefined && rejected === stored.accessToken) return 'refresh';
  // No expires_in: the token is used until the upstream refuses it.
  if (stored.expiresAt === undefined) return 'use';
  return now < stored.expiresAt - REFRESH_MARGIN_MS ? 'use' : 'refresh';
}

/**
 * Errors of the authorization server (RFC 6749 §5.2) that no retry fixes: the grant or client is
 * gone, so the credential needs a person to reconnect. Anything else (a network failure, a 5xx,
 * `temporarily_unavailable`) is transient: the credential stays and the next call tries again.
 */
const TERMINAL_OAUTH_ERRORS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_target', 'unsupported_grant_type']);

export function refreshFailureIsTerminal(oauthErrorCode: string | undefined): boolean {
  return oauthErrorCode !== undefined && TERMINAL_OAUTH_ERRORS.has(oauthErrorCode);
}
