import { Module, type DynamicModule } from '@nestjs/common';
import { GatewayStatus } from './gateway-status';
import { HealthController } from './health.controller';

/**
 * The gateway's Nest module. Its services are built by main.ts (they need the database, plugin
 * catalog and secrets opened first) and handed in as values. The MCP routes are plain Fastify
 * routes registered by main.ts (`registerMcpRoutes`), outside Nest's request pipeline.
 */
@Module({})
export class GatewayModule {
  static with(services: { status: GatewayStatus }): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController],
      providers: [{ provide: GatewayStatus, useValue: services.status }],
    };
  }
}
