import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface WindowResult {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until this window resets. */
  resetMs: number;
}

/**
 * Fixed-window counters ("N per window") keyed by a name and an id, on rate-limiter-flexible.
 * With Redis, every node increments the same key, so N nodes share one budget. Each consume is
 * one EVALSHA of the library's script (SET NX EX + INCRBY + PTTL): atomic, one round trip.
 * Throws when the store cannot be reached; the limiter decides whether that fails open or closed.
 */
export interface WindowCounters {
  consume(counter: string, id: string, limit: number, windowSeconds: number): Promise<WindowResult>;
}

/** rate-limiter-flexible fixes `points` per instance; limits differ per tenant, so keep one per value. */
const MAX_CACHED_LIMITERS = 1_000;

abstract class CachedLimiters implements WindowCounters {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  async consume(counter: string, id: string, limit: number, windowSeconds: number): Promise<WindowResult> {
    const cacheKey = `${counter}|${limit}|${windowSeconds}`;
    let limiter = this.limiters.get(cacheKey);
    if (!limiter) {
      // Only reached with over a thousand distinct limit values. Redis counters live in Redis and
      // survive this; in-memory ones restart their window, a brief over-admission at worst.
      if (this.limiters.size >= MAX_CACHED_LIMITERS) this.limiters.clear();
      limiter = this.create(counter, limit, windowSeconds);
      this.limiters.set(cacheKey, limiter);
    }
    try {
      const res = await limiter.consume(id);
      return { allowed: true, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
    } catch (outcome) {
      // The library rejects with a RateLimiterRes when over the limit and with an Error when the store fails.
      if (outcome instanceof RateLimiterRes) return { allowed: false, remaining: 0, resetMs: outcome.msBeforeNext };
      throw outcome;
    }
  }

  protected abstract create(counter: string, limit: number, windowSeconds: number): RateLimiterAbstract;
}

export class RedisWindowCounters extends CachedLimiters {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    super();
  }

  protected create(counter: string, limit: number, windowSeconds: number): RateLimiterAbstract {
    return new RateLimiterRedis({
      storeClient: this.redis,
      // The same prefix on every node is what makes the budget shared.
      keyPrefix: `${this.keyPrefix}rl:${counter}`,
      points: limit,
      duration: windowSeconds,
      // Fail at once instead of waiting in ioredis's offline queue while Redis is away.
      rejectIfRedisNotReady: true,
      // Once a window is used up, this node refuses locally until it resets: no Redis command per
      // attempt from a client hammering a spent budget.
      inMemoryBlockOnConsumed: limit,
    });
  }
}

/** Embedded mode: one process, so in-memory counters are exact. */
export class MemoryWindowCounters extends CachedLimiters {
  protected create(counter: string, limit: number, windowSeconds: number): RateLimiterAbstract {
    return new RateLimiterMemory({ keyPrefix: counter, points: limit, duration: windowSeconds });
  }
}
