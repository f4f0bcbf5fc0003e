import type { IncomingHttpHeaders } from 'node:http';
import { bearerTokenOf, type ApiKeyResolver, type Principal, type ResolveFailure } from '@switchboard/api-keys';
import type { AccessTokenVerifier, ExpectedResource } from './access-token-verifier';
import { ACCESS_TOKEN_TYPE, pluginsOfScope } from './oauth-access-token';
import type { RevokedGrants } from './revoked-grants';
import type { SsoPrincipals } from './sso-principals';
import type { TenantTokenVerifier } from './tenant-token-verifier';

export type AuthFailureReason = 'missing' | ResolveFailure;

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Three base64url segments: a JWT (tenant token or OAuth access token); anything else is treated as an API key. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The platform authorization server's tokens, and what tells a node that one of its grants ended. */
export interface OAuthTokenChecks {
  verifier: AccessTokenVerifier;
  revokedGrants: Pick<RevokedGrants, 'isRevoked'>;
  /** Grants made through single sign-on (no `key` claim); without it their tokens are refused. */
  sso?: Pick<SsoPrincipals, 'principalFor'>;
}

/**
 * Resolves the `Authorization: Bearer …` header of every request: API key, tenant token or OAuth
 * access token. A JWT whose header says `typ: at+jwt` is only ever judged as an access token
 * (RFC 9068 §2.1 names the type so it cannot be confused with other JWTs); every other JWT is a
 * tenant token, and anything else an API key, so a valid static credential never meets OAuth.
 */
export class BearerAuthenticator {
  constructor(
    private readonly keys: ApiKeyResolver,
    private readonly tokens: TenantTokenVerifier,
    private readonly oauth: OAuthTokenChecks,
  ) {}

  /** `resource`: the issuer and endpoint URL an access token must name; without it no access token is accepted. */
  async authenticate(headers: IncomingHttpHeaders, resource?: ExpectedResource): Promise<AuthOutcome> {
    const parsed = bearerTokenOf(headers.authorization);
    if ('reason' in parsed) return { ok: false, reason: parsed.reason };
    const { token } = parsed;
    if (JWT_SHAPE.test(token)) {
      if (isAccessTokenType(token)) return resource ? this.accessToken(token, resource) : { ok: false, reason: 'unknown' };
      const claims = await this.tokens.verify(token);
      if (!claims) return { ok: false, reason: 'unknown' };
      const resolved = await this.keys.resolveTenantToken(claims);
      return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
    }
    const resolved = await this.keys.resolve(token);
    return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
  }

  /**
   * The key the person signed in with is looked up through the resolver's cache, so its
   * revocation, expiry and the tenant's suspension apply to its tokens as they do to the key
   * (within a second on every node); the token narrows the key's plugins to its `plugin:` scopes,
   * and the principal expires with the token or the key, whichever comes first. Sessions it opens
   * last as long as the key (`keyExpiresAt`): each request must bring a live token, and a
   * refreshed token of the same grant carries the session on.
   */
  private async accessToken(token: string, resource: ExpectedResource): Promise<AuthOutcome> {
    const verdict = await this.oauth.verifier.verify(token, resource);
    if (!verdict.ok) return { ok: false, reason: verdict.reason };
    const { claims } = verdict;
    if (this.oauth.revokedGrants.isRevoked(claims.grant)) return { ok: false, reason: 'revoked' };
    // A grant without a key was made through single sign-on: the tenant's principal (sso-principals.ts).
    if (claims.key === undefined) {
      if (!this.oauth.sso) return { ok: false, reason: 'unknown' };
      const resolved = await this.oauth.sso.principalFor(claims);
      return resolved.ok ? resolved : { ok: false, reason: resolved.reason };
    }
    const resolved = await this.keys.resolveKeyId(claims.key);
    if (!resolved.ok) return { ok: false, reason: resolved.reason };
    const key = resolved.principal;
    if (key.tenantId !== claims.tenant) return { ok: false, reason: 'unknown' };
    const scoped = pluginsOfScope(claims.scope);
    let plugins = key.plugins;
    if (scoped) {
      plugins = key.plugins.length === 0 ? scoped : scoped.filter((plugin) => key.plugins.includes(plugin));
      // The authorization server grants only what the key allows; an empty list would mean "every plugin".
      if (plugins.length === 0) return { ok: false, reason: 'unknown' };
    }
    // Verified already; checked again so an `exp` that is not a number can never mean "no expiry".
    const tokenExpiresAt = claims.exp * 1000;
    if (!Number.isFinite(tokenExpiresAt)) return { ok: false, reason: 'malformed' };
    return {
      ok: true,
      principal: {
        ...key,
        kind: 'oauth',
        subject: claims.sub,
        grantId: claims.grant,
        plugins,
        keyPlugins: key.plugins,
        expiresAt: Math.min(key.expiresAt ?? Infinity, tokenExpiresAt),
        ...(key.expiresAt !== undefined ? { keyExpiresAt: key.expiresAt } : {}),
      },
    };
  }
}

/** Whether a JWT's (unverified) header names the access-token type, `at+jwt` or `application/at+jwt` (RFC 7515 §4.1.9). */
function isAccessTokenType(token: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { typ?: unknown };
    if (typeof header.typ !== 'string') return false;
    const typ = header.typ.toLowerCase();
    return typ === ACCESS_TOKEN_TYPE || typ === `application/${ACCESS_TOKEN_TYPE}`;
  } catch {
    return false;
  }
}
