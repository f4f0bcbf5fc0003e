import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodQuery } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { failedJobsQuerySchema, failedJobsViewSchema, usageQuerySchema, usageViewSchema, type FailedJobsQuery, type UsageQuery } from './usage.schemas';
import { UsageService } from './usage.service';

@ApiTags('usage')
@Controller('v1')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /** Tool-call totals per plugin, tool, key or hour, from the hourly usage records. */
  @Get('tenants/:tenant/usage')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, usageViewSchema)
  forTenant(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @ZodQuery(usageQuerySchema) query: UsageQuery) {
    return this.usage.forTenant(admin, tenant, query);
  }

  /** Usage jobs that failed every retry (cluster mode), newest first. */
  @Get('usage/failed-jobs')
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, failedJobsViewSchema)
  failedJobs(@ZodQuery(failedJobsQuerySchema) query: FailedJobsQuery) {
    return this.usage.failedJobs(query);
  }
}
