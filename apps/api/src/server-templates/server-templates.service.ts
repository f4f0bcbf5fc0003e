import { Inject, Injectable } from '@nestjs/common';
import { Prisma, PrismaClient, type ServerTemplate } from '@switchboard/db';
import { describeServerTemplate, parseEnvDeclarations, type ServerTemplateSpec } from '@switchboard/hosted-servers';
import { PLUGIN_NAME_PATTERN, type PluginCatalog, type PluginDescriptor } from '@switchboard/plugin-runtime';
import type { AdminPrincipal } from '../auth/admin-principal';
import { AuditService } from '../audit/audit.service';
import { PLUGIN_CATALOG } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import type { CreateServerTemplateInput, ServerTemplateView, UpdateServerTemplateInput } from './server-templates.schemas';

/**
 * Server templates: a command the gateway runs as a hosted MCP server, with the environment
 * variables tenants may (or must) provide. Installed per tenant through the plugins API under the
 * template's name, so the name space is shared with code plugins and checked against them.
 */
@Injectable()
export class ServerTemplatesService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
    @Inject(PLUGIN_CATALOG) private readonly catalog: PluginCatalog,
  ) {}

  async create(admin: AdminPrincipal, input: CreateServerTemplateInput): Promise<ServerTemplateView> {
    if (this.catalog.get(input.name)) throw new ApiError(ApiErrorCode.TEMPLATE_NAME_TAKEN, `A code plugin is already named ${input.name}.`);
    const { kind: _kind, ...fields } = input;
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.serverTemplate.create({ data: { ...fields, env: fields.env as Prisma.InputJsonArray } });
        await this.audit.record(tx, { actor: admin.actor, action: 'server-template.create', targetType: 'server-template', targetId: input.name, details: summary(created) });
        return created;
      });
      return this.view(row, 0);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new ApiError(ApiErrorCode.TEMPLATE_NAME_TAKEN);
      throw error;
    }
  }

  async list(): Promise<{ items: ServerTemplateView[] }> {
    const rows = await this.prisma.serverTemplate.findMany({ orderBy: { name: 'asc' } });
    const counts = await this.installationCounts(rows.map((r) => r.name));
    return { items: rows.map((row) => this.view(row, counts.get(row.name) ?? 0)) };
  }

  async get(name: string): Promise<ServerTemplateView> {
    const row = await this.find(name);
    return this.view(row, (await this.installationCounts([name])).get(name) ?? 0);
  }

  async update(admin: AdminPrincipal, name: string, input: UpdateServerTemplateInput): Promise<ServerTemplateView> {
    const existing = await this.find(name);
    const row = await this.prisma.$transaction(async (tx) => {
      const updated = await tx.serverTemplate.update({
        where: { id: existing.id },
        data: { ...input, ...(input.env ? { env: input.env as Prisma.InputJsonArray } : {}) },
      });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'server-template.update',
        targetType: 'server-template',
        targetId: name,
        details: { changed: Object.keys(input), ...summary(updated) },
      });
      return updated;
    });
    // Gateways rebuild the catalogs (and restart the servers) of every tenant that installed it.
    await this.notifyInstallers(name);
    return this.view(row, (await this.installationCounts([name])).get(name) ?? 0);
  }

  /** Refused while tenants still have it installed: uninstalling is their decision, or an explicit one. */
  async remove(admin: AdminPrincipal, name: string): Promise<void> {
    const existing = await this.find(name);
    const installed = (await this.installationCounts([name])).get(name) ?? 0;
    if (installed > 0) throw new ApiError(ApiErrorCode.TEMPLATE_IN_USE, `${installed} tenant(s) still have ${name} installed.`, { installations: installed });
    await this.prisma.$transaction(async (tx) => {
      await tx.serverTemplate.delete({ where: { id: existing.id } });
      await this.audit.record(tx, { actor: admin.actor, action: 'server-template.delete', targetType: 'server-template', targetId: name });
    });
  }

  /** The template as a plugin descriptor (config schema, validation, secrets), for the plugins API. */
  async descriptor(name: string): Promise<PluginDescriptor | undefined> {
    if (!PLUGIN_NAME_PATTERN.test(name)) return undefined;
    const row = await this.prisma.serverTemplate.findUnique({ where: { name } });
    return row ? describeServerTemplate(specOf(row)) : undefined;
  }

  /**
   * Every template as a plugin descriptor, for the catalog. A tenant admin sees what installing
   * one takes (its variables and modes), never how the platform runs it: the command line,
   * arguments and fixed values are the platform's internals (and may name paths or hosts).
   */
  async descriptors(admin: AdminPrincipal): Promise<PluginDescriptor[]> {
    const rows = await this.prisma.serverTemplate.findMany({ orderBy: { name: 'asc' } });
    return rows.map((row) => describeServerTemplate(admin.kind === 'platform-admin' ? specOf(row) : tenantFacingSpec(specOf(row))));
  }

  private async find(name: string): Promise<ServerTemplate> {
    const row = PLUGIN_NAME_PATTERN.test(name) ? await this.prisma.serverTemplate.findUnique({ where: { name } }) : null;
    if (!row) throw new ApiError(ApiErrorCode.TEMPLATE_NOT_FOUND);
    return row;
  }

  private async installationCounts(names: string[]): Promise<Map<string, number>> {
    const groups = await this.prisma.pluginInstallation.groupBy({ by: ['plugin'], where: { plugin: { in: names } }, _count: { _all: true } });
    return new Map(groups.map((g) => [g.plugin, g._count._all]));
  }

  private async notifyInstallers(name: string): Promise<void> {
    const rows = await this.prisma.pluginInstallation.findMany({ where: { plugin: name }, select: { tenantId: true } });
    for (const { tenantId } of rows) await this.events.publish({ type: 'plugins.changed', tenantId });
  }

  private view(row: ServerTemplate, installations: number): ServerTemplateView {
    const spec = specOf(row);
    return {
      name: row.name,
      kind: 'stdio',
      description: row.description,
      command: row.command,
      args: row.args,
      env: spec.env.map((d) => ({ ...d, required: d.required ?? false, secret: d.secret ?? false })),
      defaultMode: row.defaultMode,
      installations,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

export function specOf(row: ServerTemplate): ServerTemplateSpec {
  return {
    name: row.name,
    description: row.description,
    command: row.command,
    args: row.args,
    env: parseEnvDeclarations(row.env),
    defaultMode: row.defaultMode,
    updatedAt: row.updatedAt,
  };
}

/** A template's description when its admin gave none; the default one would quote the command. */
export const TENANT_TEMPLATE_DESCRIPTION = 'Hosted MCP server';

function tenantFacingSpec(spec: ServerTemplateSpec): ServerTemplateSpec {
  return {
    ...spec,
    description: spec.description || TENANT_TEMPLATE_DESCRIPTION,
    command: '',
    args: [],
    env: spec.env.filter((declaration) => declaration.value === undefined),
  };
}

/** What the audit log keeps: names, never values (fixed values may be paths worth keeping private). */
function summary(row: ServerTemplate): Record<string, unknown> {
  return { command: row.command, envNames: parseEnvDeclarations(row.env).map((d) => d.name), defaultMode: row.defaultMode };
}
