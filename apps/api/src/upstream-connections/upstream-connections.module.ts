import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { UpstreamConnectionsController } from './upstream-connections.controller';
import { UpstreamConnectionsService } from './upstream-connections.service';

@Module({ imports: [TenantsModule], controllers: [UpstreamConnectionsController], providers: [UpstreamConnectionsService] })
export class UpstreamConnectionsModule {}
