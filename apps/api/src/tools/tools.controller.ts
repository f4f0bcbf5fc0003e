import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { tenantToolSchema } from './tools.schemas';
import { ToolsService } from './tools.service';

@ApiTags('tools')
@Controller('v1/tenants/:tenant/tools')
export class ToolsController {
  constructor(private readonly tools: ToolsService) {}

  @Get()
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: "Every tool of the tenant's installations as the gateway names them: declared by plugins, or listed by an upstream or hosted server when a gateway node last built the tenant's catalog" })
  @ApiZodResponse(200, z.object({ items: z.array(tenantToolSchema) }))
  list(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.tools.list(admin, tenant);
  }
}
