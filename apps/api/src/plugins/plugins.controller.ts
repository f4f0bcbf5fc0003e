import { Controller, Delete, Get, HttpCode, Param, Patch, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodBody } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import {
  patchPluginSchema,
  pluginCatalogEntrySchema,
  pluginInstallationViewSchema,
  putPluginSchema,
  type PatchPluginInput,
  type PutPluginInput,
} from './plugins.schemas';
import { PluginsService } from './plugins.service';

@ApiTags('plugins')
@Controller('v1')
export class PluginsController {
  constructor(private readonly plugins: PluginsService) {}

  @Get('plugins')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(
    200,
    z.object({ items: z.array(pluginCatalogEntrySchema) }),
    "Plugins this platform can run; tenant admins see server templates without the platform's internals (command, arguments, fixed values)",
  )
  catalog(@CurrentAdmin() admin: AdminPrincipal) {
    return this.plugins.listCatalog(admin);
  }

  @Get('tenants/:tenant/plugins')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, z.object({ items: z.array(pluginInstallationViewSchema) }))
  list(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.plugins.listInstalled(admin, tenant);
  }

  // `:name` is the installation's name; an installation made without one is named after its plugin.
  @Get('tenants/:tenant/plugins/:name')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, pluginInstallationViewSchema)
  get(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string) {
    return this.plugins.get(admin, tenant, name);
  }

  @Put('tenants/:tenant/plugins/:name')
  @Authenticated(Access.TenantAdmin)
  @ApiOperation({ summary: 'Install a plugin under this name (body `plugin`, default: the plugin of this name), or reconfigure it' })
  @ApiZodResponse(200, pluginInstallationViewSchema, 'Installed or reconfigured; 409 when the name is taken by an installation of another plugin')
  put(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @ZodBody(putPluginSchema) body: PutPluginInput,
  ) {
    return this.plugins.put(admin, tenant, name, body);
  }

  @Patch('tenants/:tenant/plugins/:name')
  @Authenticated(Access.TenantAdmin)
  @ApiZodResponse(200, pluginInstallationViewSchema)
  patch(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @ZodBody(patchPluginSchema) body: PatchPluginInput,
  ) {
    return this.plugins.patch(admin, tenant, name, body);
  }

  @Delete('tenants/:tenant/plugins/:name')
  @HttpCode(204)
  @Authenticated(Access.TenantAdmin)
  async remove(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('name') name: string): Promise<void> {
    await this.plugins.remove(admin, tenant, name);
  }
}
