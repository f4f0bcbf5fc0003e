import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { pageQuerySchema, type PageQuery } from '../common/pagination';
import { ZodBody, ZodQuery } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { createTenantSchema, tenantViewSchema, updateTenantSchema, type CreateTenantInput, type UpdateTenantInput } from './tenants.schemas';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(201, tenantViewSchema, 'The new tenant')
  create(@CurrentAdmin() admin: AdminPrincipal, @ZodBody(createTenantSchema) body: CreateTenantInput) {
    return this.tenants.create(admin, body);
  }

  @Get()
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, z.object({ items: z.array(tenantViewSchema), nextCursor: z.string().nullable() }))
  list(@ZodQuery(pageQuerySchema) query: PageQuery) {
    return this.tenants.list(query);
  }

  @Get(':tenant')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, tenantViewSchema)
  get(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.tenants.get(admin, tenant);
  }

  @Patch(':tenant')
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, tenantViewSchema)
  update(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @ZodBody(updateTenantSchema) body: UpdateTenantInput,
  ) {
    return this.tenants.update(admin, tenant, body);
  }

  @Delete(':tenant')
  @HttpCode(204)
  @Authenticated(Access.PlatformAdmin)
  async remove(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string): Promise<void> {
    await this.tenants.remove(admin, tenant);
  }
}
