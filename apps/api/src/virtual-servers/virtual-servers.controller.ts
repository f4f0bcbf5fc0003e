import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodBody } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { createVirtualServerSchema, putVirtualServerSchema, virtualServerViewSchema, type CreateVirtualServerInput, type PutVirtualServerInput } from './virtual-servers.schemas';
import { VirtualServersService } from './virtual-servers.service';

@ApiTags('virtual-servers')
@Controller('v1/tenants/:tenant/virtual-servers')
export class VirtualServersController {
  constructor(private readonly servers: VirtualServersService) {}

  @Get()
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, z.object({ items: z.array(virtualServerViewSchema) }))
  list(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.servers.list(admin, tenant);
  }

  @Post()
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: 'Create a virtual server; its URL is /t/{tenant}/v/{name}/mcp (and /sse)' })
  @ApiZodResponse(201, virtualServerViewSchema, 'Created; 400 names the field at fault (a bad name, an unknown installation, a duplicate tool name); 409 when the tenant has a virtual server of this name')
  create(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @ZodBody(createVirtualServerSchema) body: CreateVirtualServerInput) {
    return this.servers.create(admin, tenant, body);
  }

  @Get(':name')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, virtualServerViewSchema)
  get(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string) {
    return this.servers.get(admin, tenant, name);
  }

  @Put(':name')
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: 'Replace a virtual server whole (description and tools); open sessions see the new tools' })
  @ApiZodResponse(200, virtualServerViewSchema)
  put(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string, @ZodBody(putVirtualServerSchema) body: PutVirtualServerInput) {
    return this.servers.put(admin, tenant, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @Authenticated(Access.TenantAdmin)
  async remove(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string): Promise<void> {
    await this.servers.remove(admin, tenant, name);
  }
}
