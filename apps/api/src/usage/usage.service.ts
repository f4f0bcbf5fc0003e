import { Inject, Injectable } from '@nestjs/common';
import { PrismaClient } from '@switchboard/db';
import { maskSecrets } from '@switchboard/logger';
import { queryUsage, queryUsageSeries } from '@switchboard/metering';
import { AuditService } from '../audit/audit.service';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { USAGE_PIPELINE } from '../common/api-context';
import { TenantsService } from '../tenants/tenants.service';
import type { UsagePipeline } from './usage-pipeline';
import type { FailedJobsQuery, FailedJobsView, UsageQuery, UsageView } from './usage.schemas';

@Injectable()
export class UsageService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    @Inject(USAGE_PIPELINE) private readonly pipeline: UsagePipeline,
  ) {}

  async forTenant(admin: AdminPrincipal, ref: string, query: UsageQuery): Promise<UsageView> {
    // Another tenant's admin gets the same 404 as for a tenant that does not exist.
    const tenant = await this.tenants.findForAdmin(admin, ref);
    const range = { tenantId: tenant.id, from: query.from, to: query.to };
    const { interval, groupBy } = query;
    const [groups, series] = await Promise.all([
      queryUsage(this.prisma, { ...range, groupBy }),
      // The schema refuses an interval with groupBy hour.
      interval !== undefined && groupBy !== 'hour' ? queryUsageSeries(this.prisma, { ...range, groupBy, interval }) : undefined,
    ]);
    const totals = { calls: 0, errors: 0, totalDurationMs: 0, bytesIn: 0, bytesOut: 0 };
    for (const group of groups) {
      for (const field of Object.keys(totals) as (keyof typeof totals)[]) totals[field] += group[field];
    }
    return { tenantId: tenant.id, from: query.from.toISOString(), to: query.to.toISOString(), groupBy, totals, groups, ...(series ? { series } : {}) };
  }

  async failedJobs(query: FailedJobsQuery): Promise<FailedJobsView> {
    const { jobs, total } = await this.pipeline.failedJobs(query.offset, query.limit);
    const next = query.offset + jobs.length;
    return {
      mode: this.pipeline.mode,
      total,
      nextOffset: jobs.length === query.limit && next < total ? next : null,
      // The job's data (ids and counts) stays out: the operator needs why and when, and the id to find it.
      items: jobs.map((job) => ({
        id: job.id,
        // Error texts come from Postgres or the worker; masked anyway in case one ever quotes a credential.
        failedReason: maskSecrets(job.failedReason),
        attemptsMade: job.attemptsMade,
        queuedAt: job.queuedAt.toISOString(),
        failedAt: job.failedAt?.toISOString() ?? null,
      })),
    };
  }

  /** Back into the queue with fresh retries; audited (platform-wide: a job may hold several tenants' events). */
  async retryFailedJob(admin: AdminPrincipal, id: string): Promise<{ id: string; state: 'waiting' }> {
    if (!(await this.pipeline.retryFailedJob(id))) throw new ApiError(ApiErrorCode.USAGE_JOB_NOT_FOUND);
    await this.record(admin, 'usage-job.retry', id);
    return { id, state: 'waiting' };
  }

  /** The job's events are never counted: the operator decided they are lost. */
  async discardFailedJob(admin: AdminPrincipal, id: string): Promise<void> {
    if (!(await this.pipeline.discardFailedJob(id))) throw new ApiError(ApiErrorCode.USAGE_JOB_NOT_FOUND);
    await this.record(admin, 'usage-job.discard', id);
  }

  private async record(admin: AdminPrincipal, action: 'usage-job.retry' | 'usage-job.discard', id: string): Promise<void> {
    await this.prisma.$transaction((tx) => this.audit.record(tx, { actor: admin.actor, action, targetType: 'usage-job', targetId: id }));
  }
}
