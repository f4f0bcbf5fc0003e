import { Module, type DynamicModule } from '@nestjs/common';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import type { ApiContext } from './common/api-context';
import { ClusterModule } from './cluster/cluster.module';
import { CoreModule } from './common/core.module';
import { ConsoleOidcModule } from './console/console-oidc.module';
import { HealthModule } from './health/health.module';
import { OAuthModule } from './oauth/oauth.module';
import { PluginsModule } from './plugins/plugins.module';
import { ServerTemplatesModule } from './server-templates/server-templates.module';
import { SessionsModule } from './sessions/sessions.module';
import { TenantsModule } from './tenants/tenants.module';
import { TokensModule } from './tokens/tokens.module';
import { ToolsModule } from './tools/tools.module';
import { UpstreamConnectionsModule } from './upstream-connections/upstream-connections.module';
import { UsageModule } from './usage/usage.module';
import { VirtualServersModule } from './virtual-servers/virtual-servers.module';

@Module({})
export class AppModule {
  static forRoot(context: ApiContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(context),
        AuthModule.forRoot(context),
        AuditModule,
        HealthModule,
        TenantsModule,
        ApiKeysModule,
        OAuthModule,
        TokensModule,
        PluginsModule,
        ToolsModule,
        VirtualServersModule,
        UpstreamConnectionsModule,
        ServerTemplatesModule,
        SessionsModule,
        ClusterModule,
        UsageModule,
        ConsoleOidcModule,
      ],
    };
  }
}
