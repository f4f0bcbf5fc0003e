import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { passportJwtSecret } from 'jwks-rsa';
import passport from 'passport';
import { Strategy as JwtStrategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { Clock } from '@switchboard/api-keys';
import { isUuid } from '@switchboard/config';
import type { AdminAuthConfig } from '../config/api-config';
import { PLATFORM_ADMIN_ROLE, type AdminPrincipal } from './admin-principal';
import { bearerToken } from './bearer-token';

/**
 * Admin JWTs through passport-jwt: HS256 with ADMIN_JWT_SECRET, or RS256/ES256 keys from an
 * identity provider's JWKS URL. Issuer, audience and expiry are always checked, and so is the
 * lifetime: a token that expires further out than ADMIN_TOKEN_MAX_TTL_SECONDS is refused, however
 * it was signed, so a leaked token is never good for years.
 *
 * Each API instance has its own passport Authenticator rather than passport's global one, so two
 * instances in one process (tests, or a launcher) never replace each other's strategy.
 */

const STRATEGY = 'switchboard-admin-jwt';
export const ADMIN_JWT_HS_ALGORITHMS: jwt.Algorithm[] = ['HS256'];
export const ADMIN_JWT_JWKS_ALGORITHMS: jwt.Algorithm[] = ['RS256', 'ES256'];
/** Tolerated clock difference with the identity provider. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** jwks-rsa fetches keys at most this often, so bad tokens with random `kid`s cannot flood the IdP. */
const JWKS_REQUESTS_PER_MINUTE = 10;
export const DEFAULT_ADMIN_TOKEN_TTL_SECONDS = 3600;

export class AdminJwtVerifier {
  private readonly authenticator = new passport.Authenticator();

  constructor(
    config: AdminAuthConfig & { secret?: string },
    private readonly clock: Clock,
  ) {
    const keyOptions =
      config.mode === 'jwks'
        ? {
            secretOrKeyProvider: passportJwtSecret({
              jwksUri: config.jwksUrl,
              cache: true,
              rateLimit: true,
              jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
            }),
            algorithms: ADMIN_JWT_JWKS_ALGORITHMS,
          }
        : { secretOrKey: requireSecret(config.secret), algorithms: ADMIN_JWT_HS_ALGORITHMS };
    this.authenticator.use(
      STRATEGY,
      new JwtStrategy(
        {
          jwtFromRequest: (request: { headers: Record<string, string | string[] | undefined> }) => bearerToken(request.headers['authorization']) ?? null,
          issuer: config.issuer,
          audience: config.audience,
          ignoreExpiration: false,
          jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
          ...keyOptions,
        } as StrategyOptionsWithoutRequest,
        (payload: unknown, done: (error: unknown, user?: AdminPrincipal | false) => void) =>
          done(null, adminFromClaims(payload, { nowSeconds: Math.floor(this.clock.now() / 1000), maxTtlSeconds: config.maxTokenTtlSeconds }) ?? false),
      ),
    );
  }

  /** The admin behind the request's bearer token, or null (missing, invalid, expired, no role). */
  authenticate(request: { headers: Record<string, string | string[] | undefined> }): Promise<AdminPrincipal | null> {
    return new Promise((resolve, reject) => {
      const middleware = this.authenticator.authenticate(STRATEGY, { session: false }, (error: unknown, user: AdminPrincipal | false) => {
        if (error) reject(error);
        else resolve(user || null);
      });
      middleware(request, {}, (error?: unknown) => (error ? reject(error) : resolve(null)));
    });
  }
}

export interface TokenLifetimePolicy {
  nowSeconds: number;
  /** Longest accepted lifetime: `exp` at most this far after `iat`, and after now. */
  maxTtlSeconds: number;
}

/**
 * Turns verified claims into an admin. A `tenant` claim makes a tenant admin even when `role`
 * says admin too: the narrower reading of an ambiguous token is the safe one. Tokens without
 * `exp` never expire, and tokens that live longer than the policy allows are as dangerous when
 * leaked: both are refused.
 */
export function adminFromClaims(payload: unknown, policy: TokenLifetimePolicy): AdminPrincipal | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const claims = payload as Record<string, unknown>;
  if (!withinLifetime(claims, policy)) return null;
  const actor = typeof claims['sub'] === 'string' && claims['sub'] !== '' ? claims['sub'] : undefined;
  const tenant = claims['tenant'];
  if (tenant !== undefined) {
    if (typeof tenant !== 'string' || !isUuid(tenant)) return null;
    return { kind: 'tenant-admin', actor: actor ?? `tenant-admin:${tenant}`, tenantId: tenant.toLowerCase() };
  }
  const role = claims['role'];
  const isAdmin = role === PLATFORM_ADMIN_ROLE || (Array.isArray(role) && role.includes(PLATFORM_ADMIN_ROLE));
  return isAdmin ? { kind: 'platform-admin', actor: actor ?? 'admin' } : null;
}

function withinLifetime(claims: Record<string, unknown>, policy: TokenLifetimePolicy): boolean {
  const exp = claims['exp'];
  const iat = claims['iat'];
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return false;
  const longest = policy.maxTtlSeconds + CLOCK_TOLERANCE_SECONDS;
  // Both: `iat` alone could be forged into the future, and without `iat` only now is known.
  if (exp - policy.nowSeconds > longest) return false;
  return iat === undefined || (typeof iat === 'number' && exp - iat <= longest);
}

export interface MintAdminTokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  /** Omit for a platform admin token. */
  tenantId?: string;
  subject?: string;
  ttlSeconds?: number;
}

/** An HS256 admin token, as `npm run admin -- token` prints it. */
export function mintAdminToken(options: MintAdminTokenOptions): string {
  const claims = options.tenantId ? { tenant: options.tenantId } : { role: PLATFORM_ADMIN_ROLE };
  return jwt.sign(claims, options.secret, {
    algorithm: 'HS256',
    issuer: options.issuer,
    audience: options.audience,
    subject: options.subject ?? (options.tenantId ? `tenant-admin:${options.tenantId}` : 'admin'),
    expiresIn: options.ttlSeconds ?? DEFAULT_ADMIN_TOKEN_TTL_SECONDS,
    jwtid: randomUUID(),
  });
}

function requireSecret(secret: string | undefined): string {
  // loadPlatformSecrets guarantees a secret in this mode; reaching here is a wiring bug.
  if (!secret) throw new Error('ADMIN_JWT_SECRET is not set');
  return secret;
}
