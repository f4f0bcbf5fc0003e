import { Inject, Injectable } from '@nestjs/common';
import { pendingMigrations, type Database } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { DATABASE, LOGGER, REDIS_READY } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';

/** A readiness probe that hangs is as bad as a failing one: answer within this time. */
export const READINESS_TIMEOUT_MS = 2_000;

export type Readiness = { status: 'ready' } | { status: 'degraded'; degraded: ['redis']; message: string };

@Injectable()
export class HealthService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS_READY) private readonly redisReady: () => boolean,
  ) {}

  /**
   * Ready = the database answers and every migration on disk is applied. Redis being away is
   * reported but still answers 200: readiness decides whether a load balancer sends admin work
   * here, and every API node loses the same Redis at once, so a 503 would turn a partial outage
   * (revocations reach gateways late, through cache expiry; usage waits in the gateways' buffers)
   * into a total one in which no one can even revoke a key in the database.
   */
  async readiness(): Promise<Readiness> {
    let pending: string[];
    try {
      pending = await withTimeout(pendingMigrations(this.db), READINESS_TIMEOUT_MS);
    } catch (error) {
      // The probe is unauthenticated: the cause goes to the log, not to the caller.
      this.logger.warn({ err: error }, 'readiness: database not reachable');
      throw new ApiError(ApiErrorCode.NOT_READY, 'The database is not reachable.', { reason: 'database_unreachable' });
    }
    if (pending.length > 0) {
      throw new ApiError(ApiErrorCode.NOT_READY, 'Database migrations are pending.', { reason: 'migrations_pending', pending });
    }
    if (!this.redisReady()) {
      return { status: 'degraded', degraded: ['redis'], message: 'Redis is not reachable: control events and usage are delayed.' };
    }
    return { status: 'ready' };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
