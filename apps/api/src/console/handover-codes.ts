import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '@switchboard/api-keys';
import { SecretBox, SecretBoxError } from '@switchboard/secrets';

/**
 * The single-use code under which the callback hands the minted admin token to the console
 * (`/console/#/signed-in/<code>`): the token itself never enters a URL. Redeemable once, within
 * HANDOVER_TTL_MS, on any API instance (Redis in cluster mode).
 *
 * The store never holds the token in the clear: it is sealed under a key derived from the code,
 * and filed under the code's hash, so whoever reads the store (a Redis dump) learns no token.
 */
export const HANDOVER_TTL_MS = 60_000;
const CODE_BYTES = 32;
const KEY_INFO = 'switchboard/console-oidc-handover/v1';
const AAD = 'console-oidc-handover/v1';
/** The in-memory store drops expired entries when it holds more than this: a flood of abandoned sign-ins stays bounded. */
const MAX_IN_MEMORY_ENTRIES = 10_000;

/** Where sealed handovers wait: a get-and-delete that succeeds at most once per key. */
export interface HandoverStore {
  put(key: string, sealed: string, ttlMs: number): Promise<void>;
  /** The value, removed in the same step; undefined when absent or already taken. */
  take(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export class HandoverCodes {
  constructor(
    private readonly store: HandoverStore,
    private readonly clock: Clock,
  ) {}

  /** A fresh code for `token`. */
  async issue(token: string): Promise<string> {
    const code = randomBytes(CODE_BYTES).toString('base64url');
    const sealed = boxFor(code).encrypt({ token, exp: this.clock.now() + HANDOVER_TTL_MS }, AAD);
    await this.store.put(keyOf(code), sealed, HANDOVER_TTL_MS);
    return code;
  }

  /** The token, once; undefined for an unknown, spent or expired code. */
  async redeem(code: string): Promise<string | undefined> {
    const sealed = await this.store.take(keyOf(code));
    if (sealed === undefined) return undefined;
    let opened: Record<string, unknown>;
    try {
      opened = boxFor(code).decrypt(sealed, AAD);
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
    // The store's own expiry is a clean-up; the clock decides (and tests move it).
    if (typeof opened['exp'] !== 'number' || this.clock.now() > opened['exp'] || typeof opened['token'] !== 'string') return undefined;
    return opened['token'];
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const keyOf = (code: string) => createHash('sha256').update(code).digest('hex');
const boxFor = (code: string) => new SecretBox({ current: Buffer.from(hkdfSync('sha256', Buffer.from(code, 'utf8'), Buffer.alloc(0), KEY_INFO, 32)) });

/** Embedded mode: one process serves every request. */
export class InMemoryHandoverStore implements HandoverStore {
  private readonly entries = new Map<string, { sealed: string; until: number }>();

  constructor(private readonly clock: Clock) {}

  async put(key: string, sealed: string, ttlMs: number): Promise<void> {
    if (this.entries.size >= MAX_IN_MEMORY_ENTRIES) this.dropExpired();
    this.entries.set(key, { sealed, until: this.clock.now() + ttlMs });
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    this.entries.delete(key);
    return entry && this.clock.now() <= entry.until ? entry.sealed : undefined;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private dropExpired(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.until < now) this.entries.delete(key);
  }
}

/** Cluster mode: the callback and the redeem may land on different API instances. */
export class RedisHandoverStore implements HandoverStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async put(key: string, sealed: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.name(key), sealed, 'PX', ttlMs);
  }

  async take(key: string): Promise<string | undefined> {
    // GETDEL (Redis 6.2): two tabs redeeming the same code cannot both get it.
    return (await this.redis.getdel(this.name(key))) ?? undefined;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private name(key: string): string {
    return `${this.prefix}:console-handover:${key}`;
  }
}
