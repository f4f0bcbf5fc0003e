import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { SessionDirectoryProvider } from './session-directory.provider';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [TenantsModule],
  controllers: [SessionsController],
  providers: [SessionsService, SessionDirectoryProvider],
  exports: [SessionsService],
})
export class SessionsModule {}
