import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { VirtualServersController } from './virtual-servers.controller';
import { VirtualServersService } from './virtual-servers.service';

@Module({ imports: [TenantsModule], controllers: [VirtualServersController], providers: [VirtualServersService] })
export class VirtualServersModule {}
