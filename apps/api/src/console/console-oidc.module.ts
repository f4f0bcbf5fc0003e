import { Module } from '@nestjs/common';
import type { Clock } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import type { PlatformSecrets } from '@switchboard/secrets';
import { API_CONFIG, CLOCK, LOGGER, PLATFORM_SECRETS } from '../common/api-context';
import type { ApiConfig } from '../config/api-config';
import { ConsoleOidcController } from './console-oidc.controller';
import { ConsoleOidcService } from './console-oidc.service';

/** Operator sign-in to the console through OpenID Connect; its routes answer 404 unless CONSOLE_OIDC_* is set. */
@Module({
  controllers: [ConsoleOidcController],
  providers: [
    {
      provide: ConsoleOidcService,
      inject: [API_CONFIG, PLATFORM_SECRETS, CLOCK, LOGGER],
      useFactory: (config: ApiConfig, secrets: PlatformSecrets, clock: Clock, logger: Logger) => ConsoleOidcService.build(config, secrets, clock, logger),
    },
  ],
})
export class ConsoleOidcModule {}
