import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodQuery } from '../common/zod-request.decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ApiZodResponse } from '../openapi/zod-openapi';
import {
  failedJobIdSchema,
  failedJobsQuerySchema,
  failedJobsViewSchema,
  retriedJobViewSchema,
  usageQuerySchema,
  usageViewSchema,
  type FailedJobsQuery,
  type UsageQuery,
} from './usage.schemas';
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

  /** Puts a failed job back in the queue with its retries renewed. */
  @Post('usage/failed-jobs/:jobId/retry')
  @HttpCode(200)
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, retriedJobViewSchema, 'The job is waiting for the worker again')
  retryFailedJob(@CurrentAdmin() admin: AdminPrincipal, @Param('jobId', new ZodValidationPipe(failedJobIdSchema)) jobId: string) {
    return this.usage.retryFailedJob(admin, jobId);
  }

  /** Deletes a failed job: its events are never counted. */
  @Delete('usage/failed-jobs/:jobId')
  @HttpCode(204)
  @Authenticated(Access.PlatformAdmin)
  async discardFailedJob(@CurrentAdmin() admin: AdminPrincipal, @Param('jobId', new ZodValidationPipe(failedJobIdSchema)) jobId: string): Promise<void> {
    await this.usage.discardFailedJob(admin, jobId);
  }
}
