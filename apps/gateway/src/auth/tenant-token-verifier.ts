import { Strategy as JwtStrategy } from 'passport-jwt';
import {
  systemClock,
  tenantTokenTimeProblem,
  TENANT_TOKEN_ALGORITHM,
  TENANT_TOKEN_AUDIENCE,
  TENANT_TOKEN_ISSUER,
  TENANT_TOKEN_MAX_TTL_SECONDS,
  type Clock,
  type TenantTokenClaims,
  type TenantTokens,
} from '@switchboard/api-keys';

export interface TenantTokenVerifierOptions {
  /** Longest `exp - iat` accepted (TENANT_TOKEN_MAX_LIFETIME_SECONDS); mint's maximum by default. */
  maxLifetimeSeconds?: number;
  clock?: Clock;
}

/** What the strategy runs on: the token the authenticator already parsed out of the header. */
interface ParsedCredential {
  token: string;
}

/** The unverified header of a JWT, to pick the key its `kid` names. */
function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies tenant tokens with passport-jwt (signature, issuer, audience, expiry, HS256 only), then
 * their times: `exp` and `iat` present, `iat` not in the future, a lifetime of at most
 * `maxLifetimeSeconds`. The strategy is driven directly rather than through a Nest guard: the
 * gateway authenticates every request itself, and only tokens that look like JWTs reach this path.
 */
export class TenantTokenVerifier {
  private readonly strategy: JwtStrategy;

  constructor(tokens: TenantTokens, options: TenantTokenVerifierOptions = {}) {
    const maxLifetimeSeconds = options.maxLifetimeSeconds ?? TENANT_TOKEN_MAX_TTL_SECONDS;
    const clock = options.clock ?? systemClock;
    this.strategy = new JwtStrategy(
      {
        // The token BearerAuthenticator parsed from the Authorization header (never the query
        // string: it would end up in proxy logs). One parse, so the token checked here is the
        // token the authenticator judged well-formed.
        jwtFromRequest: (req) => (req as unknown as ParsedCredential).token,
        secretOrKeyProvider: (_req: unknown, raw: string, done: (err: Error | null, key?: Buffer) => void) => {
          const key = tokens.verificationSecret(kidOf(raw));
          if (key) done(null, key);
          else done(new Error('unknown key id'));
        },
        issuer: TENANT_TOKEN_ISSUER,
        audience: TENANT_TOKEN_AUDIENCE,
        algorithms: [TENANT_TOKEN_ALGORITHM],
      },
      (payload: unknown, done: (err: null, user: TenantTokenClaims | false) => void) => {
        const now = Math.floor(clock.now() / 1000);
        done(null, isClaims(payload) && tenantTokenTimeProblem(payload, now, maxLifetimeSeconds) === undefined ? payload : false);
      },
    );
  }

  /** The verified claims of a bearer token, or null for any invalid, expired, overlong or foreign token. */
  verify(token: string): Promise<TenantTokenClaims | null> {
    return new Promise((resolve) => {
      // Passport runs a strategy on an object derived from it, with these three outcomes attached.
      const run = Object.create(this.strategy) as JwtStrategy & {
        success(user: TenantTokenClaims): void;
        fail(): void;
        error(): void;
      };
      run.success = (user) => resolve(user);
      run.fail = () => resolve(null);
      run.error = () => resolve(null);
      run.authenticate({ token } satisfies ParsedCredential as never, {});
    });
  }
}

function isClaims(payload: unknown): payload is TenantTokenClaims {
  const claims = payload as Partial<TenantTokenClaims> | null;
  return (
    typeof claims?.tenant === 'string' &&
    typeof claims.sub === 'string' &&
    typeof claims.key === 'string' &&
    (claims.plugins === undefined || (Array.isArray(claims.plugins) && claims.plugins.every((p) => typeof p === 'string')))
  );
}
