import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROTECTED_RESOURCE_METADATA_PREFIX, protectedResourceMetadata, publicBaseUrl } from '../auth/auth-challenge';
import { GatewayStatus } from './gateway-status';

@Controller()
export class HealthController {
  constructor(private readonly status: GatewayStatus) {}

  @Get()
  root() {
    return {
      name: 'switchboard-gateway',
      version: this.status.version,
      node: this.status.nodeId,
      status: this.status.sessions.isDraining ? 'draining' : 'ok',
    };
  }

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: 503 only while draining (a balancer stops sending new sessions here); dependency outages show as `degraded` with 200. */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply) {
    const result = await this.status.ready();
    return reply.status(result.ready ? 200 : 503).send(result);
  }

  @Get(`${PROTECTED_RESOURCE_METADATA_PREFIX.slice(1)}/t/:tenant/:endpoint`)
  tenantMetadata(@Param('tenant') tenant: string, @Param('endpoint') endpoint: string, @Req() req: FastifyRequest) {
    return protectedResourceMetadata(publicBaseUrl(req.raw, this.status.publicUrl), `/t/${tenant}/${endpoint}`);
  }

  @Get(`${PROTECTED_RESOURCE_METADATA_PREFIX.slice(1)}/t/:tenant/p/:plugin/:endpoint`)
  pluginMetadata(
    @Param('tenant') tenant: string,
    @Param('plugin') plugin: string,
    @Param('endpoint') endpoint: string,
    @Req() req: FastifyRequest,
  ) {
    return protectedResourceMetadata(publicBaseUrl(req.raw, this.status.publicUrl), `/t/${tenant}/p/${plugin}/${endpoint}`);
  }
}
