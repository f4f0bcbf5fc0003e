import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKeyResolver, Principal, ResolveFailure } from '@switchboard/api-keys';
import type { TenantTokenVerifier } from './tenant-token.strategy';

export type AuthFailureReason = 'missing' | ResolveFailure;

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Three base64url segments: a JWT (tenant token); anything else is treated as an API key. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BEARER_PREFIX = /^Bearer +/i;

/** Resolves the `Authorization: Bearer …` header of every request: API key or tenant token. */
export class BearerAuthenticator {
  constructor(
    private readonly keys: ApiKeyResolver,
    private readonly tokens: TenantTokenVerifier,
  ) {}

  async authenticate(headers: IncomingHttpHeaders): Promise<AuthOutcome> {
    const header = headers.authorization;
    if (!header || !BEARER_PREFIX.test(header)) return { ok: false, reason: 'missing' };
    const token = header.replace(BEARER_PREFIX, '').trim();
    if (token === '') return { ok: false, reason: 'missing' };
    if (JWT_SHAPE.test(token)) {
      const claims = await this.tokens.verify(headers);
      if (!claims) return { ok: false, reason: 'unknown' };
      const resolved = await this.keys.resolveTenantToken(claims);
      return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
    }
    const resolved = await this.keys.resolve(token);
    return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
  }
}
