import type { LimitName, LimitOverrides } from './limits.schema';

export type LimitScope = 'key' | 'tenant';

/** Who is asking: ids plus the raw overrides stored on the tenant and the key. */
export interface LimitPrincipal {
  tenantId: string;
  keyId: string;
  tenantLimits?: LimitOverrides;
  keyLimits?: LimitOverrides;
}

/** The state of one limit after a check, enough for the RateLimit headers. */
export interface LimitState {
  scope: LimitScope;
  limit: LimitName;
  limitValue: number;
  remaining: number;
  /** Seconds until the window resets (rate limits, quota) or a suggested wait (concurrency caps). */
  resetSeconds: number;
  /** Length of the window for rate limits and the quota; absent for concurrency caps. */
  windowSeconds?: number;
}

export interface LimitAllowed {
  allowed: true;
  /** The checked limit with the least room left, for informational RateLimit headers. */
  state?: LimitState;
  /** For sessions and in-flight tool calls: give the slot back. Safe to call twice. */
  release?: () => Promise<void>;
}

export interface LimitRejection extends LimitState {
  allowed: false;
  /** `store-unavailable`: Redis could not be asked and the limiter fails closed (answer 503). */
  reason: 'limit-reached' | 'store-unavailable';
  retryAfterSeconds: number;
}

export type LimitDecision = LimitAllowed | LimitRejection;
