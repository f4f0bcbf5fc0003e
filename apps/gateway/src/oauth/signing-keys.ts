import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { PrismaClient } from '@switchboard/db';
import type { SecretBox } from '@switchboard/secrets';
import { publicJwkOf, type SigningKey } from '../auth/oauth-access-token';

/** A signing key is used for new tokens this long, then retired (still published while its tokens live). */
export const SIGNING_KEY_ROTATION_MS = 30 * 86_400_000;
/** How long a node reuses the key it read before asking Postgres again. */
const SIGNING_KEY_CACHE_MS = 60_000;
/** pg_advisory_xact_lock key: two nodes starting at once create one key, not two. */
const SIGNING_KEY_LOCK = 0x5b0a_0001;

const aadOf = (kid: string) => `oauth-signing-key/${kid}`;

/**
 * The authorization server's ES256 keys, in Postgres (any node signs with the same key): the
 * private key sealed with SECRETS_KEY, the public JWK beside it for the JWKS.
 */
export class SigningKeys {
  private cached: { key: SigningKey; until: number } | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly box: SecretBox,
    private readonly clock: { now(): number } = Date,
    private readonly maxTokenLifetimeMs: number = 86_400_000,
  ) {}

  /** The key to sign with now; the first caller on a fresh database creates it. */
  async current(): Promise<SigningKey> {
    const now = this.clock.now();
    if (this.cached && this.cached.until > now) return this.cached.key;
    const row = await this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(${SIGNING_KEY_LOCK}::bigint)`;
      const active = await tx.oAuthSigningKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
      if (active && active.createdAt.getTime() + SIGNING_KEY_ROTATION_MS > now) return active;
      if (active) await tx.oAuthSigningKey.update({ where: { id: active.id }, data: { retiredAt: new Date(now) } });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const kid = randomBytes(12).toString('base64url');
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      return tx.oAuthSigningKey.create({
        data: { id: kid, publicJwk: publicJwkOf({ kid, key: privateKey }) as object, privateKey: this.box.encrypt({ pem }, aadOf(kid)) },
      });
    });
    const { pem } = this.box.decrypt(row.privateKey, aadOf(row.id)) as { pem: string };
    const key = { kid: row.id, key: createPrivateKey(pem) };
    this.cached = { key, until: now + SIGNING_KEY_CACHE_MS };
    return key;
  }

  /** RFC 7517 JWKS: every key that may still have live tokens (active, or retired within a token lifetime). */
  async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const since = new Date(this.clock.now() - this.maxTokenLifetimeMs);
    const rows = await this.prisma.oAuthSigningKey.findMany({ where: { OR: [{ retiredAt: null }, { retiredAt: { gt: since } }] }, orderBy: { createdAt: 'desc' } });
    return { keys: rows.map((row) => row.publicJwk as Record<string, unknown>) };
  }
}
