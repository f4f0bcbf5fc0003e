import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@switchboard/logger';
import { DEFAULT_PLATFORM_LIMITS, keyLimitApplies, resolveEffectiveLimits, type EffectiveLimits, type Limits } from './effective-limits';
import type { LimitDecision, LimitPrincipal, LimitRejection, LimitScope, LimitState } from './limit-decision';
import { MemoryLeaseStore, RedisLeaseStore, type LeaseSlot, type LeaseStore } from './lease-store';
import type { LimitName } from './limits.schema';
import { QUOTA_KEY_TTL_SECONDS, monthBounds, utcMonth } from './monthly-quota';
import { MemoryCombinedChecks, RedisCombinedChecks, ADMITTED_ON_BLOCKS, CHECK_LEASE_FULL, CHECK_WINDOW_REFUSED, type CombinedChecks, type WindowLeaseOptions } from './combined-checks';

export const DEFAULT_LIMITS_KEY_PREFIX = 'sb:limits:';
const RATE_WINDOW_SECONDS = 60;
/** A lease not renewed for this long belongs to a dead node and stops counting. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
/** Renew well before expiry, so one slow or lost renewal does not drop a live lease. */
const LEASE_RENEWALS_PER_TTL = 3;
/** A full concurrency cap frees up when something finishes; there is no window to wait for. */
const CONCURRENCY_RETRY_AFTER_SECONDS = 1;
const STORE_UNAVAILABLE_RETRY_AFTER_SECONDS = 1;
/** While Redis is down every check fails; one log line per interval is enough. */
const STORE_ERROR_LOG_INTERVAL_MS = 10_000;
const RELEASED: Promise<void> = Promise.resolve();

export type LimiterFailureMode = 'open' | 'closed';

export interface LimiterOptions {
  /** Platform defaults (from config); tenants and keys override them. */
  defaults?: Limits;
  /**
   * Shared state for all nodes. Absent = in-memory (embedded mode). Give it a client created with
   * `enableOfflineQueue: false` and a `commandTimeout`, so checks fail fast instead of waiting
   * while Redis is away (see LIMITER_REDIS_OPTIONS).
   */
  redis?: Redis;
  /** The same on every node of a cluster: that is what makes them share a budget. */
  keyPrefix?: string;
  /** When Redis cannot be asked: `open` admits (default), `closed` refuses with reason store-unavailable. */
  failureMode?: LimiterFailureMode;
  leaseTtlMs?: number;
  /**
   * With Redis: admit per-minute windows, the monthly quota and the in-flight caps from blocks of
   * units and slots this node leases (no command per tool call while far from the limits), exact
   * across nodes (default on). Off: every check asks Redis. See docs/limits-and-metering.md.
   */
  leases?: boolean;
  /** Called on every failed store operation, e.g. to count it in a metric. */
  onStoreError?: (error: Error, limit: LimitName) => void;
  logger?: Logger;
  now?: () => Date;
}

/**
 * ioredis options for the limiter's connection: fail fast instead of queueing during an outage,
 * and auto-pipeline, so the checks of concurrent requests share one socket write and read
 * instead of a syscall pair each (measured: see docs/performance.md).
 */
export const LIMITER_REDIS_OPTIONS = { enableOfflineQueue: false, commandTimeout: 500, maxRetriesPerRequest: 1, enableAutoPipelining: true } as const;

interface HeldLease {
  sets: string[];
  member: string;
}

/** One window of a combined check: a per-minute window or the monthly quota. */
interface WindowCheck {
  scope: LimitScope;
  limit: 'requestsPerMinute' | 'toolCallsPerMinute' | 'monthlyToolCalls';
  value: number;
}

/**
 * What a principal's requests or tool calls check, with the window and lease keys, worked out
 * once per key's overrides object (the key cache and a session's binding hand out the same object
 * every time) instead of per check.
 */
interface ChecksPlan {
  tenantLimits: LimitPrincipal['tenantLimits'];
  keyLimits: LimitPrincipal['keyLimits'];
  tenantId: string;
  keyId: string;
  windows: WindowCheck[];
  windowKeys: string[];
  /** (limit, window seconds) per window key. */
  windowArgs: number[];
  /** The month `windowKeys` names for the quota, '' when the quota is not checked. */
  quotaMonth: string;
  leaseScopes: { scope: LimitScope; value: number }[];
  sets: string[];
  setLimits: number[];
  /** Every limit the combined check covers, to count a failed check once per limit. */
  names: LimitName[];
}

/** A request's windows; a tool call's windows and quota; those plus its in-flight lease. */
type CheckKind = 'request' | 'toolCallCount' | 'toolCall';

/**
 * Enforces requests/minute, tool calls/minute, concurrent sessions, concurrent tool calls and the
 * monthly tool-call quota for a key and its tenant, across every node sharing the Redis.
 */
export class Limiter {
  private readonly defaults: Limits;
  private readonly keyPrefix: string;
  private readonly failureMode: LimiterFailureMode;
  private readonly leases: LeaseStore;
  private readonly held = new Map<string, HeldLease>();
  private readonly checks: CombinedChecks;
  private readonly plans: Record<CheckKind, WeakMap<object, ChecksPlan>> = { request: new WeakMap(), toolCallCount: new WeakMap(), toolCall: new WeakMap() };
  /** Lease members of admitToolCall: unique per node without a UUID per call. */
  private readonly callPrefix = `call:${randomBytes(6).toString('hex')}:`;
  private callSeq = 0;
  private readonly renewTimer?: NodeJS.Timeout;
  private readonly now: () => Date;
  private lastErrorLog = 0;
  /** Store failures since start, for a metric. */
  storeErrors = 0;

  constructor(private readonly options: LimiterOptions = {}) {
    this.defaults = options.defaults ?? DEFAULT_PLATFORM_LIMITS;
    this.keyPrefix = options.keyPrefix ?? DEFAULT_LIMITS_KEY_PREFIX;
    this.failureMode = options.failureMode ?? 'open';
    this.now = options.now ?? (() => new Date());
    if (options.redis) {
      const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
      this.leases = new RedisLeaseStore(options.redis, ttlMs);
      this.checks = new RedisCombinedChecks(
        options.redis,
        ttlMs,
        (error) => this.recordStoreError(error, 'concurrentToolCalls'),
        options.leases === false ? undefined : this.windowLeaseOptions(options.redis),
      );
      this.renewTimer = setInterval(() => void this.renewLeases(), ttlMs / LEASE_RENEWALS_PER_TTL);
      this.renewTimer.unref();
    } else {
      const leases = new MemoryLeaseStore();
      this.leases = leases;
      this.checks = new MemoryCombinedChecks(leases);
    }
  }

  private windowLeaseOptions(redis: Redis): WindowLeaseOptions {
    return {
      nodeId: this.callPrefix.slice('call:'.length, -1),
      nodesKey: `${this.keyPrefix}lease-nodes`,
      reclaimChannel: `${this.keyPrefix}leases:reclaim`,
      returnedChannel: `${this.keyPrefix}leases:returned`,
      leaseSetPrefix: `${this.keyPrefix}lease:`,
      // Subscribed connections queue their SUBSCRIBE until connected and re-subscribe by themselves.
      subscriber: redis.duplicate({
        enableOfflineQueue: true,
        commandTimeout: undefined,
        enableAutoPipelining: false,
        connectionName: redis.options.connectionName && `${redis.options.connectionName}-leases`,
      }),
    };
  }

  /**
   * Every HTTP request (each POST and each stream open), as `count` units, e.g. one per JSON-RPC
   * message of a batch: admitted only if all of them fit in every window, else none is consumed.
   */
  consumeRequest(principal: LimitPrincipal, count = 1): Promise<LimitDecision> {
    if (!Number.isSafeInteger(count) || count < 1) return Promise.reject(new RangeError(`count must be a positive integer, got ${count}`));
    return this.check(principal, 'request', count);
  }

  /** Each tools/call without a lease: the per-minute limits and the tenant's monthly quota, together. */
  consumeToolCall(principal: LimitPrincipal): Promise<LimitDecision> {
    return this.check(principal, 'toolCallCount', 1);
  }

  /** Before a session opens (answer 429 before the stream starts). Keep the lease until it closes. */
  acquireSession(principal: LimitPrincipal, sessionId: string): Promise<LimitDecision> {
    return this.acquireLease(principal, 'concurrentSessions', `session:${sessionId}`);
  }

  /** Releases a session's slot from any node, e.g. when the session is terminated elsewhere. */
  async releaseSession(principal: LimitPrincipal, sessionId: string): Promise<void> {
    await this.releaseLease(this.leaseSets(principal, 'concurrentSessions'), `session:${sessionId}`);
  }

  /** Around each tool call: call `release()` when it finishes, whatever the outcome. */
  acquireToolCall(principal: LimitPrincipal, callId: string = randomUUID()): Promise<LimitDecision> {
    return this.acquireLease(principal, 'concurrentToolCalls', `call:${callId}`);
  }

  /**
   * A tools/call about to run: tool calls per minute (key, tenant), the monthly quota and a slot of
   * the in-flight cap, all decided before any is consumed, so a call refused by one spends none of
   * the others. With Redis all of it is at most one command, none while leased blocks cover it
   * (see RedisCombinedChecks and SlotBlocks).
   */
  admitToolCall(principal: LimitPrincipal): Promise<LimitDecision> {
    return this.check(principal, 'toolCall', 1);
  }

  async close(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.held.clear();
    await this.checks.close();
  }

  /** A request's windows, or a tool call's windows, quota and lease: one Redis command with Redis. */
  private async check(principal: LimitPrincipal, kind: CheckKind, units: number): Promise<LimitDecision> {
    const checks = this.checks;
    const plan = this.plan(principal, kind);
    const { windows, windowKeys, leaseScopes } = plan;
    if (windows.length === 0 && leaseScopes.length === 0) return { allowed: true };

    const member = leaseScopes.length > 0 ? this.callPrefix + (this.callSeq++).toString(36) : '';
    let reply: number[];
    try {
      // A tool call goes to Redis for its in-flight lease anyway: its request windows' blocks top up on the way.
      const topUps = kind === 'toolCall' ? this.plan(principal, 'request') : undefined;
      reply = await checks.check(windowKeys, plan.windowArgs, units, plan.sets, plan.setLimits, member, topUps && { keys: topUps.windowKeys, args: topUps.windowArgs });
    } catch (error) {
      for (const name of plan.names) this.recordStoreError(error as Error, name);
      if (this.failureMode === 'open') return { allowed: true };
      const first = windows[0] ?? { ...leaseScopes[0], limit: 'concurrentToolCalls' as const };
      return storeUnavailable(first.limit, first.scope, first.value);
    }

    const status = reply[0];
    if (status === CHECK_WINDOW_REFUSED) {
      const window = windows[reply[1] - 1];
      return reject(this.windowState(window, Math.max(window.value - reply[2], 0), reply[3]));
    }
    if (status === CHECK_LEASE_FULL) {
      const full = leaseScopes[reply[1] - 1];
      return reject({ scope: full.scope, limit: 'concurrentToolCalls', limitValue: full.value, remaining: 0, resetSeconds: CONCURRENCY_RETRY_AFTER_SECONDS });
    }
    let tightest: LimitState | undefined;
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i];
      tightest = tighter(tightest, this.windowState(window, Math.max(window.value - reply[2 + 2 * i], 0), reply[3 + 2 * i]));
    }
    if (leaseScopes.length === 0) return { allowed: true, state: tightest };

    const sets = plan.sets;
    // On this node's slot blocks the call has no lease of its own: the blocks are renewed instead.
    const own = reply[1] !== ADMITTED_ON_BLOCKS;
    if (own) this.held.set(member, { sets, member });
    let released = false;
    return {
      allowed: true,
      state: tightest,
      release: () => {
        if (released) return RELEASED;
        released = true;
        if (own) this.held.delete(member);
        return checks.release(sets, member);
      },
    };
  }

  private windowState(window: WindowCheck, remaining: number, resetMs: number): LimitState {
    if (window.limit === 'monthlyToolCalls') {
      // The counter lives from the first call of the month; the month really ends at its boundary.
      const bounds = monthBounds(this.now());
      return { scope: window.scope, limit: window.limit, limitValue: window.value, remaining, resetSeconds: Math.max(Math.ceil(bounds.resetMs / 1000), 0), windowSeconds: bounds.monthSeconds };
    }
    return { scope: window.scope, limit: window.limit, limitValue: window.value, remaining, resetSeconds: Math.max(Math.ceil(resetMs / 1000), 0), windowSeconds: RATE_WINDOW_SECONDS };
  }

  /** The keys and limits of a principal's check; window keys are the ones rate-limiter-flexible uses. */
  private plan(principal: LimitPrincipal, kind: CheckKind): ChecksPlan {
    const cacheKey = principal.keyLimits ?? principal;
    let plan = this.plans[kind].get(cacheKey);
    if (
      plan &&
      plan.tenantLimits === principal.tenantLimits &&
      plan.keyLimits === principal.keyLimits &&
      plan.tenantId === principal.tenantId &&
      plan.keyId === principal.keyId &&
      (plan.quotaMonth === '' || plan.quotaMonth === utcMonth(this.now()))
    ) {
      return plan;
    }
    const limits = this.resolve(principal);
    const perMinute = kind === 'request' ? 'requestsPerMinute' : 'toolCallsPerMinute';
    const windows: WindowCheck[] = [];
    const windowKeys: string[] = [];
    const windowArgs: number[] = [];
    const names: LimitName[] = [];
    for (const { scope, id, value } of this.scopes(principal, perMinute, limits)) {
      windows.push({ scope, limit: perMinute, value });
      windowKeys.push(`${this.keyPrefix}rl:${perMinute}:${id}`);
      windowArgs.push(value, RATE_WINDOW_SECONDS);
    }
    if (windows.length > 0) names.push(perMinute);
    const quotaValue = kind === 'request' ? null : limits.tenant.monthlyToolCalls;
    let quotaMonth = '';
    if (quotaValue !== null) {
      quotaMonth = utcMonth(this.now());
      windows.push({ scope: 'tenant', limit: 'monthlyToolCalls', value: quotaValue });
      windowKeys.push(`${this.keyPrefix}rl:monthlyToolCalls:tenant:${principal.tenantId}:${quotaMonth}`);
      windowArgs.push(quotaValue, QUOTA_KEY_TTL_SECONDS);
      names.push('monthlyToolCalls');
    }
    const leaseScopes = kind === 'toolCall' ? this.scopes(principal, 'concurrentToolCalls', limits) : [];
    if (leaseScopes.length > 0) names.push('concurrentToolCalls');
    plan = {
      tenantLimits: principal.tenantLimits,
      keyLimits: principal.keyLimits,
      tenantId: principal.tenantId,
      keyId: principal.keyId,
      windows,
      windowKeys,
      windowArgs,
      quotaMonth,
      leaseScopes: leaseScopes.map(({ scope, value }) => ({ scope, value })),
      sets: leaseScopes.map(({ id }) => this.leaseSet(principal, 'concurrentToolCalls', id)),
      setLimits: leaseScopes.map(({ value }) => value),
      names,
    };
    this.plans[kind].set(cacheKey, plan);
    return plan;
  }

  private resolve(principal: LimitPrincipal): EffectiveLimits {
    return resolveEffectiveLimits(this.defaults, principal.tenantLimits, principal.keyLimits);
  }

  /** The scopes a limit is checked at: the key's only when tighter than the tenant's, key first. */
  private scopes(principal: LimitPrincipal, name: LimitName, limits: EffectiveLimits): { scope: LimitScope; id: string; value: number }[] {
    const scopes: { scope: LimitScope; id: string; value: number }[] = [];
    if (keyLimitApplies(limits, name)) scopes.push({ scope: 'key', id: `key:${principal.keyId}`, value: limits.key[name]! });
    const tenantValue = limits.tenant[name];
    if (tenantValue !== null) scopes.push({ scope: 'tenant', id: `tenant:${principal.tenantId}`, value: tenantValue });
    return scopes;
  }

  private leaseSets(principal: LimitPrincipal, name: LimitName): string[] {
    return this.scopes(principal, name, this.resolve(principal)).map(({ id }) => this.leaseSet(principal, name, id));
  }

  /** The {tenantId} hash tag keeps a tenant's sets in one Redis Cluster slot, as the script needs. */
  private leaseSet(principal: LimitPrincipal, name: LimitName, id: string): string {
    return `${this.keyPrefix}lease:{${principal.tenantId}}:${name}:${id}`;
  }

  private async acquireLease(principal: LimitPrincipal, name: LimitName, member: string): Promise<LimitDecision> {
    const scopes = this.scopes(principal, name, this.resolve(principal));
    if (scopes.length === 0) return { allowed: true, release: async () => undefined };
    const slots: LeaseSlot[] = scopes.map(({ id, value }) => ({ set: this.leaseSet(principal, name, id), limit: value }));
    const tenantScope = scopes[scopes.length - 1];
    const result = await this.guard(name, tenantScope.scope, tenantScope.value, () => this.leases.acquire(slots, member));
    // Failing open: nothing was recorded, so there is nothing to give back.
    if (result === 'failed-open') return { allowed: true, release: async () => undefined };
    if (isRejection(result)) return result;
    if (!result.acquired) {
      const full = scopes[result.fullSlot];
      return reject({ scope: full.scope, limit: name, limitValue: full.value, remaining: 0, resetSeconds: CONCURRENCY_RETRY_AFTER_SECONDS });
    }

    const sets = slots.map((s) => s.set);
    const leaseKey = `${member}|${sets.join('|')}`;
    this.held.set(leaseKey, { sets, member });
    let released = false;
    const states = scopes.map(({ scope, value }, i) => ({ scope, limit: name, limitValue: value, remaining: Math.max(value - result.counts[i], 0), resetSeconds: 0 }));
    return {
      allowed: true,
      state: states.reduce<LimitState | undefined>(tighter, undefined),
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(leaseKey);
        await this.releaseLease(sets, member);
      },
    };
  }

  private async releaseLease(sets: string[], member: string): Promise<void> {
    if (sets.length === 0) return;
    try {
      await this.leases.release(sets, member);
    } catch (error) {
      // Not fatal: the lease expires by itself within one TTL.
      this.recordStoreError(error as Error, 'concurrentSessions');
    }
  }

  /** Extends every lease this node holds; runs on a timer, public so tests need not wait for it. */
  async renewLeases(): Promise<void> {
    try {
      await Promise.all([this.leases.renewMany([...this.held.values()]), this.checks.renewBlocks()]);
    } catch (error) {
      this.recordStoreError(error as Error, 'concurrentSessions');
    }
  }

  /** Runs one store operation; on failure applies the failure mode. */
  private async guard<T>(name: LimitName, scope: LimitScope, value: number, operation: () => Promise<T>): Promise<T | LimitRejection | 'failed-open'> {
    try {
      return await operation();
    } catch (error) {
      this.recordStoreError(error as Error, name);
      if (this.failureMode === 'open') return 'failed-open';
      return storeUnavailable(name, scope, value);
    }
  }

  private recordStoreError(error: Error, name: LimitName): void {
    this.storeErrors += 1;
    this.options.onStoreError?.(error, name);
    const now = Date.now();
    if (now - this.lastErrorLog >= STORE_ERROR_LOG_INTERVAL_MS) {
      this.lastErrorLog = now;
      this.options.logger?.warn(
        { err: error.message, limit: name, failureMode: this.failureMode, storeErrors: this.storeErrors },
        `Limits store unavailable; failing ${this.failureMode}`,
      );
    }
  }
}

function storeUnavailable(limit: LimitName, scope: LimitScope, limitValue: number): LimitRejection {
  return {
    allowed: false,
    reason: 'store-unavailable',
    scope,
    limit,
    limitValue,
    remaining: 0,
    resetSeconds: STORE_UNAVAILABLE_RETRY_AFTER_SECONDS,
    retryAfterSeconds: STORE_UNAVAILABLE_RETRY_AFTER_SECONDS,
  };
}

function isRejection(value: object): value is LimitRejection {
  return 'reason' in value;
}

function tighter(a: LimitState | undefined, b: LimitState): LimitState {
  return a && a.remaining <= b.remaining ? a : b;
}

function reject(state: LimitState): LimitRejection {
  return { ...state, allowed: false, reason: 'limit-reached', retryAfterSeconds: Math.max(state.resetSeconds, 1) };
}
