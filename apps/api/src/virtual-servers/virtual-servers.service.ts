import { Inject, Injectable } from '@nestjs/common';
import { Prisma, PrismaClient, type Tenant, type VirtualServer } from '@switchboard/db';
import { PLUGIN_NAME_PATTERN, splitNamespacedTool } from '@switchboard/plugin-runtime';
import type { AdminPrincipal } from '../auth/admin-principal';
import { gatewayUrls } from '../api-keys/client-snippets';
import { AuditService, type AuditAction } from '../audit/audit.service';
import { API_CONFIG } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import type { ApiConfig } from '../config/api-config';
import { TenantsService } from '../tenants/tenants.service';
import {
  exposedNameOf,
  type CreateVirtualServerInput,
  type PutVirtualServerInput,
  type VirtualServerView,
  type VirtualToolInput,
} from './virtual-servers.schemas';

/** A tool as stored: the exposed name always written out, so a renamed source never renames it. */
interface StoredTool {
  source: string;
  name: string;
  description?: string;
}

/**
 * A tenant's virtual servers: curated endpoints made of chosen tools of its installations. A
 * source must name an installation the tenant has; its tool is not checked, since remote and
 * hosted installations list their tools at run time (a source whose tool is absent is left out
 * of the server's list by the gateway, like a tool its upstream stopped listing).
 */
@Injectable()
export class VirtualServersService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async list(admin: AdminPrincipal, tenantRef: string): Promise<{ items: VirtualServerView[] }> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const rows = await this.prisma.virtualServer.findMany({ where: { tenantId: tenant.id }, orderBy: { name: 'asc' } });
    return { items: rows.map((row) => this.view(tenant, row)) };
  }

  async get(admin: AdminPrincipal, tenantRef: string, name: string): Promise<VirtualServerView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return this.view(tenant, await this.find(tenant, name));
  }

  async create(admin: AdminPrincipal, tenantRef: string, input: CreateVirtualServerInput): Promise<VirtualServerView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const tools = await this.storedTools(tenant, input.tools);
    try {
      return await this.write(admin, tenant, input.name, 'virtual-server.create', tools, (tx) =>
        tx.virtualServer.create({ data: { tenantId: tenant.id, name: input.name, description: input.description ?? '', tools: tools as unknown as Prisma.InputJsonArray } }),
      );
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new ApiError(ApiErrorCode.VIRTUAL_SERVER_NAME_TAKEN, undefined, { issues: [{ path: 'name', message: `the tenant already has a virtual server named "${input.name}"` }] });
      }
      throw error;
    }
  }

  async put(admin: AdminPrincipal, tenantRef: string, name: string, input: PutVirtualServerInput): Promise<VirtualServerView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const existing = await this.find(tenant, name);
    const tools = await this.storedTools(tenant, input.tools);
    return this.write(admin, tenant, name, 'virtual-server.update', tools, (tx) =>
      tx.virtualServer.update({ where: { id: existing.id }, data: { description: input.description ?? '', tools: tools as unknown as Prisma.InputJsonArray } }),
    );
  }

  async remove(admin: AdminPrincipal, tenantRef: string, name: string): Promise<void> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const existing = await this.find(tenant, name);
    await this.prisma.$transaction(async (tx) => {
      await tx.virtualServer.delete({ where: { id: existing.id } });
      await this.audit.record(tx, { actor: admin.actor, action: 'virtual-server.delete', targetType: 'virtual-server', targetId: name, tenantId: tenant.id });
    });
    // The event plugin changes publish: every node drops the tenant's cached catalogs and tells open sessions.
    await this.events.publish({ type: 'plugins.changed', tenantId: tenant.id });
  }

  private async write(
    admin: AdminPrincipal,
    tenant: Tenant,
    name: string,
    action: AuditAction,
    tools: StoredTool[],
    save: (tx: Prisma.TransactionClient) => Promise<VirtualServer>,
  ): Promise<VirtualServerView> {
    const row = await this.prisma.$transaction(async (tx) => {
      const saved = await save(tx);
      await this.audit.record(tx, {
        actor: admin.actor,
        action,
        targetType: 'virtual-server',
        targetId: name,
        tenantId: tenant.id,
        details: { tools: tools.map((tool) => ({ source: tool.source, name: tool.name })) },
      });
      return saved;
    });
    await this.events.publish({ type: 'plugins.changed', tenantId: tenant.id });
    return this.view(tenant, row);
  }

  /** Every source names an installation of this tenant; 400 at `tools.{i}.source` otherwise. */
  private async storedTools(tenant: Tenant, tools: VirtualToolInput[]): Promise<StoredTool[]> {
    const installations = new Set(
      (await this.prisma.pluginInstallation.findMany({ where: { tenantId: tenant.id }, select: { name: true } })).map((row) => row.name),
    );
    const issues = tools.flatMap((tool, index) => {
      const installation = splitNamespacedTool(tool.source)?.installation;
      return installation && installations.has(installation)
        ? []
        : [{ path: `tools.${index}.source`, message: `the tenant has no installation named "${installation ?? tool.source}"` }];
    });
    if (issues.length > 0) throw ApiError.validation(issues);
    return tools.map((tool) => ({ source: tool.source, name: exposedNameOf(tool), ...(tool.description !== undefined ? { description: tool.description } : {}) }));
  }

  private view(tenant: Tenant, row: VirtualServer): VirtualServerView {
    return {
      name: row.name,
      description: row.description,
      tools: row.tools as unknown as StoredTool[],
      // What a client is given: the same URLs an API key restricted to this server is issued with.
      urls: gatewayUrls(this.config.publicGatewayUrl, tenant.slug, row.name),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  private async find(tenant: Tenant, name: string): Promise<VirtualServer> {
    // A name no server can have (a NUL, a slash) is not looked up: Postgres would refuse it with an error.
    const row =
      name.length <= 40 && PLUGIN_NAME_PATTERN.test(name)
        ? await this.prisma.virtualServer.findUnique({ where: { tenantId_name: { tenantId: tenant.id, name } } })
        : null;
    if (!row) throw new ApiError(ApiErrorCode.VIRTUAL_SERVER_NOT_FOUND);
    return row;
  }
}
