import { Inject, Injectable } from '@nestjs/common';
import { PrismaClient } from '@switchboard/db';
import { maskSecrets } from '@switchboard/logger';
import { queryUsage } from '@switchboard/metering';
import type { AdminPrincipal } from '../auth/admin-principal';
import { USAGE_PIPELINE } from '../common/api-context';
import { TenantsService } from '../tenants/tenants.service';
import type { UsagePipeline } from './usage-pipeline';
import type { FailedJobsQuery, FailedJobsView, UsageQuery, UsageView } from './usage.schemas';

@Injectable()
export class UsageService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    @Inject(USAGE_PIPELINE) private readonly pipeline: UsagePipeline,
  ) {}

  async forTenant(admin: AdminPrincipal, ref: string, query: UsageQuery): Promise<UsageView> {
    // Another tenant's admin gets the same 404 as for a tenant that does not exist.
    const tenant = await this.tenants.findForAdmin(admin, ref);
    const groups = await queryUsage(this.prisma, { tenantId: tenant.id, from: query.from, to: query.to, groupBy: query.groupBy });
    const totals = { calls: 0, errors: 0, totalDurationMs: 0, bytesIn: 0, bytesOut: 0 };
    for (const group of groups) {
      for (const field of Object.keys(totals) as (keyof typeof totals)[]) totals[field] += group[field];
    }
    return { tenantId: tenant.id, from: query.from.toISOString(), to: query.to.toISOString(), groupBy: query.groupBy, totals, groups };
  }

  async failedJobs(query: FailedJobsQuery): Promise<FailedJobsView> {
    const jobs = await this.pipeline.failedJobs(query.limit);
    return {
      mode: this.pipeline.mode,
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
}
