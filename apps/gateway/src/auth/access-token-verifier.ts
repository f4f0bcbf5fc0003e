import { createPublicKey, type KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '@switchboard/api-keys';
import type { PrismaClient } from '@switchboard/db';
import { accessTokenKid, verifyAccessToken, type AccessTokenClaims } from './oauth-access-token';

/**
 * Every gateway node verifies the platform's access tokens (oauth-access-token.ts) from the
 * signing keys' public halves, kept in memory: no database read per request. The set is loaded
 * from OAuthSigningKey when first needed, again when a token names a kid we do not know (the
 * authorization server rotated), at most once per `refreshIntervalMs` so a flood of random kids
 * costs one query per interval, and again when older than `maxKeySetAgeMs` so a key deleted from
 * the table stops verifying on every node.
 */

/**
 * A flood of unknown kids reaches Postgres at most this often per node (one query a second on a
 * table of a few rows); it is also how long a node that loaded just before a rotation may refuse
 * the first tokens of the new key.
 */
export const DEFAULT_SIGNING_KEY_REFRESH_INTERVAL_MS = 1_000;
/** A key removed from the table (compromised) stops verifying within this long. */
export const DEFAULT_SIGNING_KEY_SET_MAX_AGE_MS = 60_000;
/**
 * The longest access-token lifetime (`exp - iat`) accepted, whatever a tenant's settings say
 * (OAUTH_ACCESS_TOKEN_TTL_SECONDS allows at most 24 h; the default is 10 min). It also bounds how long a revoked grant must be remembered
 * (RevokedGrants) and how long a retired signing key is still loaded.
 */
export const ACCESS_TOKEN_MAX_LIFETIME_SECONDS = 86_400;
/** RFC 9068 §4 leaves skew to the resource server; a few seconds between nodes' clocks. */
const CLOCK_SKEW_SECONDS = 5;

/** One signing key's public half, as the authorization server stored it. */
export interface PublishedSigningKey {
  kid: string;
  publicJwk: unknown;
  retiredAt: Date | null;
}

/** Where the public keys come from: the OAuthSigningKey table, or a fake in specs. */
export interface SigningKeySource {
  publicKeys(): Promise<PublishedSigningKey[]>;
}

export function prismaSigningKeySource(prisma: PrismaClient): SigningKeySource {
  return {
    publicKeys: async () => {
      const rows = await prisma.oAuthSigningKey.findMany({ select: { id: true, publicJwk: true, retiredAt: true } });
      return rows.map((row) => ({ kid: row.id, publicJwk: row.publicJwk, retiredAt: row.retiredAt }));
    },
  };
}

/** What the resource expects of a token: the platform issuer and this endpoint's URL (RFC 8707). */
export interface ExpectedResource {
  issuer: string;
  audience: string;
}

export type AccessTokenVerdict = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'unknown' | 'expired' | 'malformed' };

export interface AccessTokenVerifierOptions {
  refreshIntervalMs?: number;
  maxKeySetAgeMs?: number;
  maxLifetimeSeconds?: number;
  clock?: Clock;
}

export class AccessTokenVerifier {
  private keys = new Map<string, KeyObject>();
  /** When the set was last loaded (epoch ms); -Infinity = never. */
  private loadedAt = -Infinity;
  /** When a load last started, successful or not: loads are at most `refreshIntervalMs` apart. */
  private attemptedAt = -Infinity;
  private loading: Promise<void> | undefined;
  private readonly refreshIntervalMs: number;
  private readonly maxKeySetAgeMs: number;
  private readonly maxLifetimeSeconds: number;
  private readonly clock: Clock;

  constructor(
    private readonly source: SigningKeySource,
    options: AccessTokenVerifierOptions = {},
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_SIGNING_KEY_REFRESH_INTERVAL_MS;
    this.maxKeySetAgeMs = options.maxKeySetAgeMs ?? DEFAULT_SIGNING_KEY_SET_MAX_AGE_MS;
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? ACCESS_TOKEN_MAX_LIFETIME_SECONDS;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Signature (ES256 only, `typ: at+jwt`), issuer, expiry, a lifetime of at most
   * `maxLifetimeSeconds`, and the audience: exactly the URL of the endpoint called.
   * Any other token, another tenant's included, is `unknown`.
   */
  async verify(token: string, expected: ExpectedResource): Promise<AccessTokenVerdict> {
    // RFC 9068 §4: the resource server MUST check `typ` is at+jwt; accessTokenKid also requires ES256,
    // so `alg: none` and HS256-with-the-public-key never reach a key.
    const kid = accessTokenKid(token);
    if (kid === undefined) return { ok: false, reason: 'unknown' };
    const key = await this.keyFor(kid);
    if (!key) return { ok: false, reason: 'unknown' };
    const now = Math.floor(this.clock.now() / 1000);
    const checked = verifyAccessToken(token, key, expected.issuer, now);
    if (!checked.ok) return checked;
    const { claims } = checked;
    // RFC 8707 §2 / MCP authorization "Token Handling": MUST validate the token was issued for this resource.
    if (claims.aud !== expected.audience) return { ok: false, reason: 'unknown' };
    if (claims.iat > now + CLOCK_SKEW_SECONDS || claims.exp - claims.iat > this.maxLifetimeSeconds) return { ok: false, reason: 'unknown' };
    return checked;
  }

  private async keyFor(kid: string): Promise<KeyObject | undefined> {
    // A load under way (another request's new kid) may bring this one's key too.
    if (this.loading && !this.keys.has(kid)) await this.loading.catch(() => undefined);
    const now = this.clock.now();
    const known = this.keys.get(kid);
    const due = known === undefined || now - this.loadedAt >= this.maxKeySetAgeMs;
    if (due && now - this.attemptedAt >= this.refreshIntervalMs) {
      try {
        await this.reload();
      } catch (error) {
        // The database is away: a key we know keeps verifying; an unknown kid is the outage's (503).
        if (known === undefined) throw error;
        return known;
      }
    }
    return this.keys.get(kid);
  }

  /** One load at a time: concurrent requests with new kids share it. */
  private reload(): Promise<void> {
    this.loading ??= (async () => {
      this.attemptedAt = this.clock.now();
      try {
        const published = await this.source.publicKeys();
        const oldest = this.clock.now() - this.maxLifetimeSeconds * 1000;
        const keys = new Map<string, KeyObject>();
        for (const { kid, publicJwk, retiredAt } of published) {
          // A key retired longer ago than any token lives has nothing left to verify.
          if (retiredAt && retiredAt.getTime() < oldest) continue;
          const key = importPublicKey(publicJwk);
          if (key) keys.set(kid, key);
        }
        this.keys = keys;
        this.loadedAt = this.clock.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}

/** A P-256 public JWK as a key; anything else (a private part, another curve) is skipped. */
function importPublicKey(jwk: unknown): KeyObject | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kty, crv, x, y, d } = jwk as Record<string, unknown>;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string' || d !== undefined) return undefined;
  try {
    return createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' });
  } catch {
    return undefined;
  }
}
