import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { sessionIdSchema, sessionListSchema } from './sessions.schemas';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@Controller('v1/tenants/:tenant/sessions')
@Authenticated(Access.TenantAdmin)
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiZodResponse(200, sessionListSchema, 'Live MCP sessions of the tenant on every gateway node')
  list(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.sessions.list(admin, tenant);
  }

  @Delete(':sessionId')
  @HttpCode(204)
  terminate(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('sessionId', new ZodValidationPipe(sessionIdSchema)) sessionId: string) {
    return this.sessions.terminate(admin, tenant, sessionId);
  }
}
