import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKeyResolver, Principal, ResolveFailure } from '@switchboard/api-keys';
import type { TenantTokenVerifier } from './tenant-token.strategy';

export type AuthFailureReason = 'missing' | ResolveFailure;

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Three base64url segments: a JWT (tenant token); anything else is treated as an API key. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
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

/** Resolves the `Authorization: Bearer …` header of every request: API key or tenant token. */
export class BearerAuthenticator {
  constructor(
    private readonly keys: ApiKeyResolver,
    private readonly tokens: TenantTokenVerifier,
  ) {}

  async authenticate(headers: IncomingHttpHeaders): Promise<AuthOutcome> {
    const parsed = bearerTokenOf(headers.authorization);
    if ('reason' in parsed) return { ok: false, reason: parsed.reason };
    const { token } = parsed;
    if (JWT_SHAPE.test(token)) {
      const claims = await this.tokens.verify(token);
      if (!claims) return { ok: false, reason: 'unknown' };
      const resolved = await this.keys.resolveTenantToken(claims);
      return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
    }
    const resolved = await this.keys.resolve(token);
    return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
  }
}
