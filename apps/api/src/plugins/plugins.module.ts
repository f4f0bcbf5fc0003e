import { Module } from '@nestjs/common';
import { ServerTemplatesModule } from '../server-templates/server-templates.module';
import { TenantsModule } from '../tenants/tenants.module';
import { PluginsController } from './plugins.controller';
import { PluginsService } from './plugins.service';

@Module({ imports: [TenantsModule, ServerTemplatesModule], controllers: [PluginsController], providers: [PluginsService] })
export class PluginsModule {}
