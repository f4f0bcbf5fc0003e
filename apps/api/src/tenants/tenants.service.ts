import { Injectable } from '@nestjs/common';
import { isUuid } from '@switchboard/config';
import { Prisma, PrismaClient, type Tenant } from '@switchboard/db';
import { limitOverridesSchema } from '@switchboard/limits';
import type { AdminPrincipal } from '../auth/admin-principal';
import { AuditService } from '../audit/audit.service';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import { noteRequestTenant } from '../common/request-context';
import { decodeCursor, toPage, type Page, type PageQuery } from '../common/pagination';
import { SLUG_PATTERN, type CreateTenantInput, type TenantView, type UpdateTenantInput } from './tenants.schemas';

/** Prisma's code for a unique-constraint violation. */
const UNIQUE_VIOLATION = 'P2002';

@Injectable()
export class TenantsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
  ) {}

  async create(admin: AdminPrincipal, input: CreateTenantInput): Promise<TenantView> {
    try {
      const tenant = await this.prisma.$transaction(async (tx) => {
        const created = await tx.tenant.create({ data: { slug: input.slug, name: input.name } });
        await this.audit.record(tx, {
          actor: admin.actor,
          action: 'tenant.create',
          targetType: 'tenant',
          targetId: created.id,
          tenantId: created.id,
          details: { slug: created.slug, name: created.name },
        });
        return created;
      });
      return tenantView(tenant);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === UNIQUE_VIOLATION) {
        throw new ApiError(ApiErrorCode.SLUG_TAKEN, `A tenant with slug "${input.slug}" already exists.`, { path: 'slug' });
      }
      throw error;
    }
  }

  async list(page: PageQuery): Promise<Page<TenantView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.prisma.tenant.findMany({
      where: after ? { OR: [{ createdAt: { gt: after.at } }, { createdAt: after.at, id: { gt: after.id } }] } : {},
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit + 1,
    });
    return toPage(rows, page.limit, (row) => ({ at: row.createdAt, id: row.id }), tenantView);
  }

  async get(admin: AdminPrincipal, ref: string): Promise<TenantView> {
    return tenantView(await this.findForAdmin(admin, ref));
  }

  /**
   * The tenant named by `ref` (id or slug) if this admin may see it. Another tenant's admin gets
   * the same 404 as for a tenant that does not exist, so ids and slugs cannot be probed.
   */
  async findForAdmin(admin: AdminPrincipal, ref: string): Promise<Tenant> {
    const tenant = isUuid(ref)
      ? await this.prisma.tenant.findUnique({ where: { id: ref.toLowerCase() } })
      : SLUG_PATTERN.test(ref)
        ? await this.prisma.tenant.findUnique({ where: { slug: ref } })
        : null;
    if (!tenant || (admin.kind === 'tenant-admin' && admin.tenantId !== tenant.id)) {
      throw new ApiError(ApiErrorCode.TENANT_NOT_FOUND);
    }
    noteRequestTenant(tenant.slug);
    return tenant;
  }

  async update(admin: AdminPrincipal, ref: string, input: UpdateTenantInput): Promise<TenantView> {
    const current = await this.findForAdmin(admin, ref);
    const updated = await this.prisma.$transaction(async (tx) => {
      const tenant = await tx.tenant.update({
        where: { id: current.id },
        data: {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.status !== undefined ? { status: input.status } : {}),
          ...(input.limits !== undefined ? { limits: input.limits as Prisma.InputJsonObject } : {}),
        },
      });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'tenant.update',
        targetType: 'tenant',
        targetId: tenant.id,
        tenantId: tenant.id,
        details: { changed: Object.keys(input), ...input },
      });
      return tenant;
    });
    // Gateways cache the tenant's status and limits with each key; suspension must bite now.
    await this.events.publish({ type: 'tenant.changed', tenantId: updated.id });
    return tenantView(updated);
  }

  async remove(admin: AdminPrincipal, ref: string): Promise<void> {
    const tenant = await this.findForAdmin(admin, ref);
    await this.prisma.$transaction(async (tx) => {
      // Keys, plugin installations, usage, notes and OAuth grants (with their codes and refresh
      // tokens) go with the tenant (ON DELETE CASCADE); audit events stay, so the deletion itself
      // remains on record. OAuth clients registered for the tenant have no foreign key (shared
      // clients have no tenant), so they are deleted here.
      await tx.oAuthClient.deleteMany({ where: { tenantId: tenant.id } });
      await tx.tenant.delete({ where: { id: tenant.id } });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'tenant.delete',
        targetType: 'tenant',
        targetId: tenant.id,
        tenantId: tenant.id,
        details: { slug: tenant.slug },
      });
    });
    await this.events.publish({ type: 'tenant.deleted', tenantId: tenant.id });
  }
}

export function tenantView(tenant: Tenant): TenantView {
  const limits = limitOverridesSchema.safeParse(tenant.limits);
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    limits: limits.success ? limits.data : {},
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
  };
}
