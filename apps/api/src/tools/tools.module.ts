import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { ToolsController } from './tools.controller';
import { ToolsService } from './tools.service';

@Module({ imports: [TenantsModule], controllers: [ToolsController], providers: [ToolsService] })
export class ToolsModule {}
