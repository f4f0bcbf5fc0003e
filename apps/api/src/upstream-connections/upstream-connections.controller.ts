import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodQuery } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { personalConnectionsSchema, personQuerySchema, startedConnectionSchema, upstreamConnectionViewSchema, type PersonQuery } from './upstream-connections.schemas';
import { UpstreamConnectionsService } from './upstream-connections.service';

@ApiTags('upstream-connections')
@Controller('v1/tenants/:tenant/plugins/:name/upstream-connection')
export class UpstreamConnectionsController {
  constructor(private readonly connections: UpstreamConnectionsService) {}

  @Get()
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, upstreamConnectionViewSchema)
  get(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string) {
    return this.connections.view(admin, tenant, name);
  }

  @Post()
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: "Start connecting the installation's upstream OAuth account (auth: oauth): open connectUrl in the browser" })
  @ApiZodResponse(201, startedConnectionSchema, 'Created; 400 when the installation does not use auth oauth; 404 when the tenant has no such installation')
  start(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string) {
    return this.connections.start(admin, tenant, name);
  }

  @Get('people')
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: 'Per-user installations (oauthMode per-user): every person\'s upstream connection and its status' })
  @ApiZodResponse(200, personalConnectionsSchema)
  people(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string) {
    return this.connections.listPersonal(admin, tenant, name);
  }

  @Delete('people')
  @HttpCode(204)
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: 'Forgets one person\'s upstream connection (their next call answers a new connect link)' })
  async removePerson(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string, @ZodQuery(personQuerySchema) query: PersonQuery): Promise<void> {
    await this.connections.disconnectPerson(admin, tenant, name, query.subject);
  }

  @Delete()
  @HttpCode(204)
  @Authenticated(Access.TenantAdmin)
  async remove(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string): Promise<void> {
    await this.connections.disconnect(admin, tenant, name);
  }
}
