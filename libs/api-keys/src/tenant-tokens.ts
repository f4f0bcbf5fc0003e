import { hkdfSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { KeyRing } from '@switchboard/secrets';
import { systemClock, type Clock } from './principal';

/**
 * Tenant tokens are short-lived JWTs a tenant's backend mints (POST /v1/tokens, authenticated by
 * one of its API keys) and hands to its end users, so the API key itself never reaches a browser.
 *
 * They are HS256-signed with a key derived from KEY_PEPPER by HKDF, so API and gateway share it
 * with no extra configuration, and rotating the pepper also rotates token keys. The header's
 * `kid` names the pepper, so tokens minted before a rotation still verify until they expire.
 */

export const TENANT_TOKEN_ISSUER = 'switchboard';
export const TENANT_TOKEN_AUDIENCE = 'switchboard-gateway';
export const TENANT_TOKEN_ALGORITHM = 'HS256';
export const TENANT_TOKEN_HKDF_INFO = 'switchboard tenant tokens v1';
export const TENANT_TOKEN_DEFAULT_TTL_SECONDS = 900;
export const TENANT_TOKEN_MAX_TTL_SECONDS = 3600;
/** How far a token's `iat` may lie ahead of the verifier's clock: API and gateway clocks differ a little. */
export const TENANT_TOKEN_CLOCK_SKEW_SECONDS = 60;
const DERIVED_KEY_BYTES = 32;

export interface TenantTokenClaims {
  iss: typeof TENANT_TOKEN_ISSUER;
  aud: typeof TENANT_TOKEN_AUDIENCE;
  /** Tenant id. */
  tenant: string;
  /** The end user, as named by the tenant. */
  sub: string;
  /** Id of the API key that minted the token; the token dies with the key. */
  key: string;
  /** Narrows the key's plugins; absent = the key's plugins. */
  plugins?: string[];
  iat: number;
  exp: number;
}

export interface MintTenantTokenInput {
  tenantId: string;
  keyId: string;
  subject: string;
  plugins?: string[];
  ttlSeconds?: number;
}

export class TenantTokens {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentKid: string;

  constructor(
    peppers: KeyRing,
    private readonly clock: Clock = systemClock,
  ) {
    for (const pepper of [peppers.current, ...peppers.previous]) this.keys.set(pepper.id, deriveTokenKey(pepper.key));
    this.currentKid = peppers.current.id;
  }

  mint(input: MintTenantTokenInput): { token: string; expiresAt: Date } {
    const ttl = input.ttlSeconds ?? TENANT_TOKEN_DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > TENANT_TOKEN_MAX_TTL_SECONDS) {
      throw new RangeError(`ttlSeconds must be an integer from 1 to ${TENANT_TOKEN_MAX_TTL_SECONDS}`);
    }
    const iat = Math.floor(this.clock.now() / 1000);
    const claims: TenantTokenClaims = {
      iss: TENANT_TOKEN_ISSUER,
      aud: TENANT_TOKEN_AUDIENCE,
      tenant: input.tenantId,
      sub: input.subject,
      key: input.keyId,
      ...(input.plugins ? { plugins: input.plugins } : {}),
      iat,
      exp: iat + ttl,
    };
    const token = jwt.sign(claims, this.keys.get(this.currentKid)!, {
      algorithm: TENANT_TOKEN_ALGORITHM,
      keyid: this.currentKid,
    });
    return { token, expiresAt: new Date(claims.exp * 1000) };
  }

  /**
   * The HS256 key for a token's `kid` header (current pepper when omitted), for passport-jwt's
   * secretOrKeyProvider; undefined for an unknown kid.
   */
  verificationSecret(kid?: string): Buffer | undefined {
    return this.keys.get(kid ?? this.currentKid);
  }

  /** Verifies signature, issuer, audience and the token's times (tenantTokenTimeProblem); returns the claims or null. */
  verify(token: string): TenantTokenClaims | null {
    const decoded = jwt.decode(token, { complete: true });
    const secret = decoded && this.verificationSecret(decoded.header.kid);
    if (!secret) return null;
    try {
      const claims = jwt.verify(token, secret, {
        algorithms: [TENANT_TOKEN_ALGORITHM],
        issuer: TENANT_TOKEN_ISSUER,
        audience: TENANT_TOKEN_AUDIENCE,
        clockTimestamp: Math.floor(this.clock.now() / 1000),
      });
      if (!isTenantTokenClaims(claims)) return null;
      return tenantTokenTimeProblem(claims, Math.floor(this.clock.now() / 1000)) === undefined ? claims : null;
    } catch {
      return null;
    }
  }
}

/**
 * Why a signature-checked token's times are not acceptable, or undefined when they are. `exp`
 * and `iat` are required, `iat` may lie at most the clock skew ahead, and `exp - iat` may not
 * exceed the longest lifetime mint allows: a token signed with the right key but made by hand
 * (a leaked derived key, a bug) then still dies within the hour instead of living for years.
 */
export function tenantTokenTimeProblem(
  claims: { iat?: unknown; exp?: unknown },
  nowSeconds: number,
  maxLifetimeSeconds: number = TENANT_TOKEN_MAX_TTL_SECONDS,
): string | undefined {
  const { iat, exp } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'exp is required';
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'iat is required';
  if (exp <= nowSeconds) return 'expired';
  if (iat > nowSeconds + TENANT_TOKEN_CLOCK_SKEW_SECONDS) return 'issued in the future';
  if (exp <= iat) return 'expires before it was issued';
  if (exp - iat > maxLifetimeSeconds) return `lives longer than ${maxLifetimeSeconds} s`;
  return undefined;
}

export function deriveTokenKey(pepper: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), TENANT_TOKEN_HKDF_INFO, DERIVED_KEY_BYTES));
}

function isTenantTokenClaims(value: unknown): value is TenantTokenClaims {
  const c = value as Partial<TenantTokenClaims> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.tenant === 'string' &&
    typeof c.sub === 'string' &&
    typeof c.key === 'string' &&
    (c.plugins === undefined || (Array.isArray(c.plugins) && c.plugins.every((p) => typeof p === 'string')))
  );
}
