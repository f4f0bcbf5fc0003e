import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

@Module({
  imports: [TenantsModule],
  controllers: [UsageController],
  providers: [UsageService],
})
export class UsageModule {}
