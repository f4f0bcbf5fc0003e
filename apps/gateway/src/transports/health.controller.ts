import { Controller, Get, Header, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { endpointPath, MCP_ENDPOINT_NAMES, PROTECTED_RESOURCE_METADATA_PREFIX, protectedResourceMetadata, publicBaseUrl, virtualEndpointPath } from '../auth/auth-challenge';
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

  /**
   * RFC 9728 §3.1 metadata of `/t/{tenant}/{mcp|sse}`, path-inserted under the well-known prefix.
   * The same document for every tenant name, existing or not; another endpoint name is 404.
   * Public, so readable from any origin (browser-based clients such as the MCP Inspector discover with fetch).
   */
  @Get(`${PROTECTED_RESOURCE_METADATA_PREFIX.slice(1)}/t/:tenant/:endpoint`)
  @Header('access-control-allow-origin', '*')
  tenantMetadata(@Param('tenant') tenant: string, @Param('endpoint') endpoint: string, @Req() req: FastifyRequest) {
    return metadataOf(req, this.status.publicUrl, tenant, undefined, endpoint);
  }

  @Get(`${PROTECTED_RESOURCE_METADATA_PREFIX.slice(1)}/t/:tenant/p/:plugin/:endpoint`)
  @Header('access-control-allow-origin', '*')
  pluginMetadata(
    @Param('tenant') tenant: string,
    @Param('plugin') plugin: string,
    @Param('endpoint') endpoint: string,
    @Req() req: FastifyRequest,
  ) {
    return metadataOf(req, this.status.publicUrl, tenant, plugin, endpoint);
  }

  /** A virtual server's URL (`/t/{tenant}/v/{name}/…`): the base scope alone, as on the tenant-wide URL. */
  @Get(`${PROTECTED_RESOURCE_METADATA_PREFIX.slice(1)}/t/:tenant/v/:virtual/:endpoint`)
  @Header('access-control-allow-origin', '*')
  virtualMetadata(
    @Param('tenant') tenant: string,
    @Param('virtual') virtual: string,
    @Param('endpoint') endpoint: string,
    @Req() req: FastifyRequest,
  ) {
    if (!MCP_ENDPOINT_NAMES.includes(endpoint) || tenant === '' || virtual === '') throw new NotFoundException();
    return protectedResourceMetadata(publicBaseUrl(req.raw, this.status.publicUrl), { path: virtualEndpointPath(tenant, virtual, endpoint), plugin: undefined });
  }
}

function metadataOf(req: FastifyRequest, publicUrl: string | undefined, tenant: string, plugin: string | undefined, endpoint: string) {
  if (!MCP_ENDPOINT_NAMES.includes(endpoint) || tenant === '' || plugin === '') throw new NotFoundException();
  // The path exactly as the MCP routes spell it, so `resource` equals the URL the client used.
  return protectedResourceMetadata(publicBaseUrl(req.raw, publicUrl), { path: endpointPath(tenant, plugin, endpoint), plugin });
}
