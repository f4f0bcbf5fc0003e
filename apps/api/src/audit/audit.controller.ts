import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodQuery } from '../common/zod-request.decorators';
import { TenantsService } from '../tenants/tenants.service';
import { platformAuditQuerySchema, tenantAuditQuerySchema, type AuditFilter, type PlatformAuditQuery, type TenantAuditQuery } from './audit.schemas';
import { AuditService } from './audit.service';

@ApiTags('audit')
@Controller('v1')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly tenants: TenantsService,
  ) {}

  @Get('audit')
  @Authenticated(Access.PlatformAdmin)
  list(@ZodQuery(platformAuditQuerySchema) query: PlatformAuditQuery) {
    return this.audit.list(auditFilter(query, query.tenantId), query);
  }

  @Get('tenants/:tenant/audit')
  @Authenticated(Access.TenantAdmin)
  async listForTenant(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenantRef: string,
    @ZodQuery(tenantAuditQuerySchema) query: TenantAuditQuery,
  ) {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return this.audit.list(auditFilter(query, tenant.id), query);
  }
}

function auditFilter(query: TenantAuditQuery, tenantId: string | undefined): AuditFilter {
  return { tenantId, action: query.action, targetType: query.targetType, targetId: query.targetId, from: query.from, to: query.to };
}
