import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodQuery } from '../common/zod-request.decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { sessionIdSchema } from '../sessions/sessions.schemas';
import { nodeListSchema, platformSessionPageSchema, platformSessionsQuerySchema, type PlatformSessionsQuery } from './cluster.schemas';
import { ClusterService } from './cluster.service';

@ApiTags('cluster')
@Controller('v1/cluster')
@Authenticated(Access.PlatformAdmin)
export class ClusterController {
  constructor(private readonly cluster: ClusterService) {}

  @Get('nodes')
  @ApiZodResponse(200, nodeListSchema, 'Gateway nodes in the session registry, with their health and sessions')
  nodes() {
    return this.cluster.nodes();
  }

  @Get('sessions')
  @ApiZodResponse(200, platformSessionPageSchema, 'Live MCP sessions of every tenant on every node, oldest first')
  sessions(@ZodQuery(platformSessionsQuerySchema) query: PlatformSessionsQuery) {
    return this.cluster.listSessions(query);
  }

  @Delete('sessions/:sessionId')
  @HttpCode(204)
  terminate(@CurrentAdmin() admin: AdminPrincipal, @Param('sessionId', new ZodValidationPipe(sessionIdSchema)) sessionId: string) {
    return this.cluster.terminate(admin, sessionId);
  }
}
