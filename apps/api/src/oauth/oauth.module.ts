import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { OAuthGrantRevocation } from './oauth-grant-revocation';
import { OAuthController } from './oauth.controller';
import { OAuthService } from './oauth.service';

@Module({
  imports: [TenantsModule],
  controllers: [OAuthController],
  providers: [OAuthService, OAuthGrantRevocation],
  // API key revocation ends the grants made with the key, in its own transaction.
  exports: [OAuthGrantRevocation],
})
export class OAuthModule {}
