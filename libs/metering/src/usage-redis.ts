import type { RedisOptions } from 'ioredis';

/**
 * Longest pause between two reconnect attempts of the usage queue's connections. ioredis's own
 * backoff grows to 5 s, so after a Redis restart the sink and the worker each went on waiting up
 * to that long before they noticed Redis was back (metering resumed 6-22 s late). One refused
 * connect a second per connection costs a down Redis nothing.
 */
export const USAGE_REDIS_RECONNECT_MAX_MS = 1_000;
const RECONNECT_FIRST_MS = 50;
/** Spreads the reconnects of many gateways so they do not arrive at the same instant. */
const RECONNECT_JITTER_MS = 100;

/**
 * ioredis options of every usage-queue connection (gateway sink, API worker). Commands wait for
 * ever while Redis is away (`maxRetriesPerRequest: null`, which BullMQ requires): the sink's
 * buffer and the worker's retries cover the gap.
 */
export const USAGE_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: null,
  retryStrategy: (times) => Math.min(RECONNECT_FIRST_MS * 2 ** (times - 1), USAGE_REDIS_RECONNECT_MAX_MS) + Math.floor(Math.random() * RECONNECT_JITTER_MS),
};
