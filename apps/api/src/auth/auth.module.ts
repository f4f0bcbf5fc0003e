import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyResolver } from '@switchboard/api-keys';
import type { PlatformSecrets } from '@switchboard/secrets';
import { API_CONFIG, type ApiContext } from '../common/api-context';
import type { ApiConfig } from '../config/api-config';
import { AdminJwtVerifier } from './admin-jwt';
import { AuthGuard } from './auth.guard';
import { RequestAuthenticator } from './request-authenticator';

/** Admin JWTs and API keys; the guard applies to every route of the app. */
@Global()
@Module({})
export class AuthModule {
  static forRoot(context: Pick<ApiContext, 'secrets' | 'apiKeys' | 'clock' | 'logger'>) {
    return {
      module: AuthModule,
      providers: [
        {
          provide: AdminJwtVerifier,
          inject: [API_CONFIG],
          useFactory: (config: ApiConfig) => new AdminJwtVerifier({ ...config.adminAuth, secret: adminSecret(config, context.secrets) }, context.clock),
        },
        { provide: ApiKeyResolver, useValue: context.apiKeys },
        {
          provide: RequestAuthenticator,
          inject: [AdminJwtVerifier, ApiKeyResolver],
          useFactory: (adminJwt: AdminJwtVerifier, apiKeys: ApiKeyResolver) => new RequestAuthenticator(adminJwt, apiKeys, context.logger),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [AdminJwtVerifier, ApiKeyResolver, RequestAuthenticator],
    };
  }
}

/** The HS256 secret admin tokens are signed with; undefined with ADMIN_JWKS_URL. */
export function adminSecret(config: ApiConfig, secrets: PlatformSecrets): string | undefined {
  return config.adminAuth.mode === 'secret' ? (config.adminAuth.secret ?? secrets.adminJwtSecret) : undefined;
}
