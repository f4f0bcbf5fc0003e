import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { pageQuerySchema, type PageQuery } from '../common/pagination';
import { ZodBody, ZodQuery } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import {
  apiKeyViewSchema,
  issueApiKeySchema,
  issuedApiKeySchema,
  rotateApiKeySchema,
  type IssueApiKeyInput,
  type RotateApiKeyInput,
} from './api-keys.schemas';
import { ApiKeysService } from './api-keys.service';

@ApiTags('api-keys')
@Controller('v1/tenants/:tenant/api-keys')
@Authenticated(Access.TenantAdmin)
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiZodResponse(201, issuedApiKeySchema, 'The key (its secret shown only now), its MCP URLs and client snippets')
  issue(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @ZodBody(issueApiKeySchema) body: IssueApiKeyInput,
  ) {
    return this.keys.issue(admin, tenant, body);
  }

  @Get()
  @ApiZodResponse(200, z.object({ items: z.array(apiKeyViewSchema), nextCursor: z.string().nullable() }))
  list(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @ZodQuery(pageQuerySchema) query: PageQuery) {
    return this.keys.list(admin, tenant, query);
  }

  @Get(':keyId')
  @ApiZodResponse(200, apiKeyViewSchema)
  get(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('keyId') keyId: string) {
    return this.keys.get(admin, tenant, keyId);
  }

  @Post(':keyId/revoke')
  @HttpCode(200)
  @ApiZodResponse(200, apiKeyViewSchema, 'The revoked key')
  revoke(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Param('keyId') keyId: string) {
    return this.keys.revoke(admin, tenant, keyId);
  }

  @Post(':keyId/rotate')
  @ApiZodResponse(201, issuedApiKeySchema, 'The replacement key; the old one is revoked or expires after the grace period')
  rotate(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @Param('keyId') keyId: string,
    @ZodBody(rotateApiKeySchema) body: RotateApiKeyInput,
  ) {
    return this.keys.rotate(admin, tenant, keyId, body);
  }
}
