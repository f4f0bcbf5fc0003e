import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TenantTokens } from '@switchboard/api-keys';
import { PrismaClient } from '@switchboard/db';
import { SecretBox } from '@switchboard/secrets';
import {
  API_CONFIG,
  CLOCK,
  CONTROL_BUS,
  DATABASE,
  IN_PROCESS_SESSIONS,
  LOGGER,
  PLATFORM_SECRETS,
  PLUGIN_CATALOG,
  REDIS_READY,
  USAGE_PIPELINE,
  type ApiContext,
} from './api-context';
import { ControlEventsPublisher } from './control-events.publisher';

/** Shared infrastructure from the ApiContext, injectable everywhere. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(context: ApiContext): DynamicModule {
    const providers = [
      { provide: API_CONFIG, useValue: context.config },
      { provide: DATABASE, useValue: context.db },
      { provide: PrismaClient, useValue: context.db.prisma },
      { provide: CONTROL_BUS, useValue: context.bus },
      { provide: LOGGER, useValue: context.logger },
      { provide: PLUGIN_CATALOG, useValue: context.catalog },
      { provide: CLOCK, useValue: context.clock },
      { provide: PLATFORM_SECRETS, useValue: context.secrets },
      { provide: USAGE_PIPELINE, useValue: context.usage },
      { provide: REDIS_READY, useValue: context.redisReady },
      { provide: IN_PROCESS_SESSIONS, useValue: context.inProcessSessions },
      { provide: SecretBox, useValue: new SecretBox(context.secrets.secretsKeys) },
      { provide: TenantTokens, useValue: new TenantTokens(context.secrets.keyPeppers, context.clock) },
      ControlEventsPublisher,
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => ('provide' in p ? p.provide : p)) };
  }
}
