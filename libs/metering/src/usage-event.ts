import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** As long as an OAuth grant's subject column (`sso:<iss>#<sub>`), so every principal's subject fits. */
export const USAGE_SUBJECT_MAX_LENGTH = 255;

/**
 * One tool call, as the gateway reports it. Validated again by the worker: jobs come out of Redis,
 * and a malformed one must fail alone instead of breaking a batch.
 */
export const usageEventSchema = z.object({
  /** Unique per call; a redelivered event with the same id counts once. */
  eventId: z.uuid(),
  tenantId: z.uuid(),
  keyId: z.uuid(),
  /** Who called (the principal's subject, e.g. an SSO person); absent for plain API keys and in older events. */
  subject: z.string().min(1).max(USAGE_SUBJECT_MAX_LENGTH).optional(),
  plugin: z.string().min(1).max(64),
  tool: z.string().min(1).max(64),
  outcome: z.enum(['ok', 'error']),
  durationMs: z.number().int().nonnegative(),
  bytesIn: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
  /** ISO-8601 instant the call finished (a string: events travel as JSON). */
  at: z.iso.datetime(),
});

export type UsageEvent = z.infer<typeof usageEventSchema>;

/** Fills in the event id and time for a finished tool call. */
export function createUsageEvent(fields: Omit<UsageEvent, 'eventId' | 'at'>, at: Date = new Date()): UsageEvent {
  return { ...fields, eventId: randomUUID(), at: at.toISOString() };
}

export interface UsageSinkStats {
  /** Events waiting in this process for delivery. */
  buffered: number;
  /** Events handed on (to the queue, or to the aggregator in embedded mode). */
  delivered: number;
  /** Events lost because the local buffer was full (Redis or the database away for too long). */
  dropped: number;
}

/**
 * Where the gateway sends usage events. `record` never blocks and never throws: metering must not
 * slow down or fail a tool call.
 */
export interface UsageSink {
  record(event: UsageEvent): void;
  stats(): UsageSinkStats;
  /** Delivers what is buffered (within a deadline) and stops. */
  close(): Promise<void>;
}

/** Enough events to ride out a Redis restart of several seconds on a busy node, in a few MB. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 10_000;
/** Events handed on per round trip: one BullMQ job, or one aggregator transaction in embedded mode. */
export const USAGE_BATCH_SIZE = 500;
