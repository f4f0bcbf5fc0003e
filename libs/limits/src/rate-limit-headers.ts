import type { LimitDecision, LimitState } from './limit-decision';

/** Policy name as it appears in the headers, e.g. "tenant-requestsPerMinute". */
export function policyName(state: Pick<LimitState, 'scope' | 'limit'>): string {
  return `${state.scope}-${state.limit}`;
}

/**
 * Response headers for a decision, after the IETF draft "RateLimit header fields for HTTP"
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "name";q=60;w=60` and
 * `RateLimit: "name";r=12;t=42`, plus `Retry-After` on a rejection. Concurrency caps have no
 * window, so they get only `Retry-After`.
 */
export function rateLimitHeaders(decision: LimitDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  const state = decision.allowed ? decision.state : decision;
  if (state && state.windowSeconds !== undefined) {
    const name = `"${policyName(state)}"`;
    headers['RateLimit-Policy'] = `${name};q=${state.limitValue};w=${state.windowSeconds}`;
    headers['RateLimit'] = `${name};r=${state.remaining};t=${state.resetSeconds}`;
  }
  if (!decision.allowed) headers['Retry-After'] = String(decision.retryAfterSeconds);
  return headers;
}

/** `data` for the JSON-RPC error that refuses a tool call inside an open stream. */
export function limitErrorData(rejection: Extract<LimitDecision, { allowed: false }>) {
  return {
    limit: rejection.limit,
    scope: rejection.scope,
    limitValue: rejection.limitValue,
    retryAfterSeconds: rejection.retryAfterSeconds,
    reason: rejection.reason,
  };
}
