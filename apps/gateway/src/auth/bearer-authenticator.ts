import type { IncomingHttpHeaders } from 'node:http';
import { bearerTokenOf, type ApiKeyResolver, type Principal, type ResolveFailure } from '@switchboard/api-keys';
import type { TenantTokenVerifier } from './tenant-token-verifier';

export type AuthFailureReason = 'missing' | ResolveFailure;

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Three base64url segments: a JWT (tenant token); anything else is treated as an API key. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
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
