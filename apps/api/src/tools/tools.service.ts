import { Inject, Injectable } from '@nestjs/common';
import { PrismaClient } from '@switchboard/db';
import type { PluginCatalog } from '@switchboard/plugin-runtime';
import type { AdminPrincipal } from '../auth/admin-principal';
import { PLUGIN_CATALOG } from '../common/api-context';
import { TenantsService } from '../tenants/tenants.service';
import { toolsOfInstallation } from './tool-listing';
import type { TenantTool } from './tools.schemas';

/**
 * Every tool of a tenant's installations, declared and listed. The listed ones are what gateway
 * nodes recorded when they last built the tenant's catalog (apps/gateway/src/tenants/tool-list-recorder.ts):
 * the API never reaches an upstream or starts a hosted server itself.
 */
@Injectable()
export class ToolsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    @Inject(PLUGIN_CATALOG) private readonly catalog: PluginCatalog,
  ) {}

  async list(admin: AdminPrincipal, tenantRef: string): Promise<{ items: TenantTool[] }> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const rows = await this.prisma.pluginInstallation.findMany({
      where: { tenantId: tenant.id },
      select: { name: true, plugin: true, config: true, listedTools: true, listedToolsAt: true },
      orderBy: { name: 'asc' },
    });
    // Server templates declare no tools: theirs are all listed.
    return { items: rows.flatMap((row) => toolsOfInstallation(row, this.catalog.get(row.plugin)?.tools ?? [])) };
  }
}
