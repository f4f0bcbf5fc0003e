import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodQuery } from '../common/zod-request.decorators';
import { TenantsService } from '../tenants/tenants.service';
import { platformAuditQuerySchema, tenantAuditQuerySchema, type PlatformAuditQuery, type TenantAuditQuery } from './audit.schemas';
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
    return this.audit.list({ tenantId: query.tenantId, action: query.action }, query);
  }

  @Get('tenants/:tenant/audit')
  @Authenticated(Access.TenantAdmin)
  async listForTenant(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenantRef: string,
    @ZodQuery(tenantAuditQuerySchema) query: TenantAuditQuery,
  ) {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return this.audit.list({ tenantId: tenant.id, action: query.action }, query);
  }
}
