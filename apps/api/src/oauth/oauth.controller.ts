import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { pageQuerySchema, type PageQuery } from '../common/pagination';
import { ZodBody, ZodQuery } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import {
  oauthClientViewSchema,
  oauthGrantViewSchema,
  oauthSettingsViewSchema,
  registerOAuthClientSchema,
  registeredOAuthClientSchema,
  updateOAuthSettingsSchema,
  type RegisterOAuthClientInput,
  type UpdateOAuthSettingsInput,
} from './oauth.schemas';
import { OAuthService } from './oauth.service';

@ApiTags('oauth')
@Controller('v1/tenants/:tenant/oauth')
@Authenticated(Access.TenantAdmin)
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @Get('clients')
  @ApiZodResponse(200, z.object({ items: z.array(oauthClientViewSchema) }), 'Clients registered for the tenant, and clients with grants on it')
  listClients(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.oauth.listClients(admin, tenant);
  }

  @Post('clients')
  @ApiZodResponse(201, registeredOAuthClientSchema, 'The client, and a confidential client its secret (shown only now)')
  registerClient(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @ZodBody(registerOAuthClientSchema) body: RegisterOAuthClientInput) {
    return this.oauth.registerClient(admin, tenant, body);
  }

  @Delete('clients/:clientId')
  @ApiZodResponse(200, oauthClientViewSchema, 'The client after revocation (a URL client id is percent-encoded in the path)')
  revokeClient(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('clientId') clientId: string) {
    return this.oauth.revokeClient(admin, tenant, clientId);
  }

  @Get('grants')
  @ApiZodResponse(200, z.object({ items: z.array(oauthGrantViewSchema), nextCursor: z.string().nullable() }))
  listGrants(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @ZodQuery(pageQuerySchema) query: PageQuery) {
    return this.oauth.listGrants(admin, tenant, query);
  }

  @Delete('grants/:grantId')
  @ApiZodResponse(200, oauthGrantViewSchema, 'The revoked grant')
  revokeGrant(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('grantId') grantId: string) {
    return this.oauth.revokeGrant(admin, tenant, grantId);
  }

  @Get('settings')
  @ApiZodResponse(200, oauthSettingsViewSchema)
  getSettings(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string) {
    return this.oauth.getSettings(admin, tenant);
  }

  @Patch('settings')
  @ApiZodResponse(200, oauthSettingsViewSchema, 'The settings after the change')
  updateSettings(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @ZodBody(updateOAuthSettingsSchema) body: UpdateOAuthSettingsInput) {
    return this.oauth.updateSettings(admin, tenant, body);
  }
}
