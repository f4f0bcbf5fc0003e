import type { IncomingHttpHeaders } from 'node:http';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import {
  TENANT_TOKEN_ALGORITHM,
  TENANT_TOKEN_AUDIENCE,
  TENANT_TOKEN_ISSUER,
  type TenantTokenClaims,
  type TenantTokens,
} from '@switchboard/api-keys';

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
 * Verifies tenant tokens with passport-jwt (signature, issuer, audience, expiry, HS256 only).
 * The strategy is driven directly rather than through a Nest guard: the gateway authenticates
 * every request itself, and only tokens that look like JWTs reach this path.
 */
export class TenantTokenVerifier {
  private readonly strategy: JwtStrategy;

  constructor(tokens: TenantTokens) {
    this.strategy = new JwtStrategy(
      {
        // Header only: tokens in query strings would end up in proxy logs.
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKeyProvider: (_req: unknown, raw: string, done: (err: Error | null, key?: Buffer) => void) => {
          const key = tokens.verificationSecret(kidOf(raw));
          if (key) done(null, key);
          else done(new Error('unknown key id'));
        },
        issuer: TENANT_TOKEN_ISSUER,
        audience: TENANT_TOKEN_AUDIENCE,
        algorithms: [TENANT_TOKEN_ALGORITHM],
      },
      (payload: TenantTokenClaims, done: (err: null, user: TenantTokenClaims | false) => void) =>
        done(null, isClaims(payload) ? payload : false),
    );
  }

  /** The verified claims, or null for any invalid, expired or foreign token. */
  verify(headers: IncomingHttpHeaders): Promise<TenantTokenClaims | null> {
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
      run.authenticate({ headers } as never, {});
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
