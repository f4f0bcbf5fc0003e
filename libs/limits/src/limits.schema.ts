import { z } from 'zod';

/**
 * Limit overrides stored in Tenant.limits and ApiKey.limits. A field that is absent inherits
 * (key → tenant → platform default from config); `null` means "no limit" at that level.
 */
const limitValue = z.number().int().positive().max(1_000_000_000).nullable().optional();

export const limitOverridesSchema = z
  .object({
    /** HTTP requests (every POST and stream open) per minute. */
    requestsPerMinute: limitValue,
    /** tools/call requests per minute. */
    toolCallsPerMinute: limitValue,
    /** Open MCP sessions at once. */
    concurrentSessions: limitValue,
    /** Tool calls in flight at once. */
    concurrentToolCalls: limitValue,
    /** Tool calls per calendar month (UTC); tenant level only. */
    monthlyToolCalls: limitValue,
  })
  .strict();

export type LimitOverrides = z.infer<typeof limitOverridesSchema>;
export type LimitName = keyof LimitOverrides;
export const LIMIT_NAMES = Object.keys(limitOverridesSchema.shape) as LimitName[];
