import { z } from 'zod';
import { LIMIT_NAMES, type LimitName, type LimitOverrides } from './limits.schema';

/** A value for every limit; `null` = unlimited. */
export type Limits = Record<LimitName, number | null>;

/** Used when the operator configures nothing: generous for one team, still a ceiling for abuse. */
export const DEFAULT_PLATFORM_LIMITS: Limits = {
  requestsPerMinute: 600,
  toolCallsPerMinute: 300,
  concurrentSessions: 50,
  concurrentToolCalls: 20,
  monthlyToolCalls: null,
};

export interface EffectiveLimits {
  tenant: Limits;
  key: Limits;
}

/**
 * Inheritance: the tenant's value is its override or the platform default; the key's value is its
 * override or the tenant's. An absent field inherits, `null` means unlimited at that level.
 * The monthly quota exists at tenant level only, so a key override of it is ignored.
 */
export function resolveEffectiveLimits(
  defaults: Limits,
  tenantOverrides: LimitOverrides = {},
  keyOverrides: LimitOverrides = {},
): EffectiveLimits {
  const tenant = {} as Limits;
  const key = {} as Limits;
  for (const name of LIMIT_NAMES) {
    const tenantValue = tenantOverrides[name];
    tenant[name] = tenantValue === undefined ? defaults[name] : tenantValue;
    const keyValue = name === 'monthlyToolCalls' ? undefined : keyOverrides[name];
    key[name] = keyValue === undefined ? tenant[name] : keyValue;
  }
  return { tenant, key };
}

/**
 * Whether the key-level check adds anything: a key limit that is not below its tenant's would
 * only repeat the tenant's budget, so it is skipped and costs no Redis command.
 */
export function keyLimitApplies(limits: EffectiveLimits, name: LimitName): boolean {
  const keyValue = limits.key[name];
  const tenantValue = limits.tenant[name];
  return keyValue !== null && (tenantValue === null || keyValue < tenantValue);
}

const limitEnvValue = (fallback: number | null) =>
  z
    .string()
    .refine((v) => v === 'unlimited' || /^[1-9][0-9]*$/.test(v), 'must be a positive integer or "unlimited"')
    .transform((v) => (v === 'unlimited' ? null : Number(v)))
    // zod 4: a default after a transform is an output value.
    .default(fallback);

/** Env vars for the platform defaults, to compose into an app's config schema. */
export const limitDefaultsEnvSchema = z.object({
  LIMIT_REQUESTS_PER_MINUTE: limitEnvValue(DEFAULT_PLATFORM_LIMITS.requestsPerMinute),
  LIMIT_TOOL_CALLS_PER_MINUTE: limitEnvValue(DEFAULT_PLATFORM_LIMITS.toolCallsPerMinute),
  LIMIT_CONCURRENT_SESSIONS: limitEnvValue(DEFAULT_PLATFORM_LIMITS.concurrentSessions),
  LIMIT_CONCURRENT_TOOL_CALLS: limitEnvValue(DEFAULT_PLATFORM_LIMITS.concurrentToolCalls),
  LIMIT_MONTHLY_TOOL_CALLS: limitEnvValue(DEFAULT_PLATFORM_LIMITS.monthlyToolCalls),
});

export function limitDefaultsFromEnv(env: z.output<typeof limitDefaultsEnvSchema>): Limits {
  return {
    requestsPerMinute: env.LIMIT_REQUESTS_PER_MINUTE,
    toolCallsPerMinute: env.LIMIT_TOOL_CALLS_PER_MINUTE,
    concurrentSessions: env.LIMIT_CONCURRENT_SESSIONS,
    concurrentToolCalls: env.LIMIT_CONCURRENT_TOOL_CALLS,
    monthlyToolCalls: env.LIMIT_MONTHLY_TOOL_CALLS,
  };
}
