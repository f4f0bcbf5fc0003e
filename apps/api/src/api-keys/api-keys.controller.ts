import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { pageQuerySchema, type PageQuery } from '../common/pagination';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ApiZodBody, ApiZodQuery, ApiZodResponse } from '../openapi/zod-openapi';
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
  @ApiZodBody(issueApiKeySchema)
  @ApiZodResponse(201, issuedApiKeySchema, 'The key (its secret shown only now), its MCP URLs and client snippets')
  issue(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @Body(new ZodValidationPipe(issueApiKeySchema)) body: IssueApiKeyInput,
  ) {
    return this.keys.issue(admin, tenant, body);
  }

  @Get()
  @ApiZodQuery(pageQuerySchema)
  @ApiZodResponse(200, z.object({ items: z.array(apiKeyViewSchema), nextCursor: z.string().nullable() }))
  list(@CurrentAdmin() admin: AdminPrincipal, @Param('tenant') tenant: string, @Query(new ZodValidationPipe(pageQuerySchema)) query: PageQuery) {
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
  @ApiZodBody(rotateApiKeySchema)
  @ApiZodResponse(201, issuedApiKeySchema, 'The replacement key; the old one is revoked or expires after the grace period')
  rotate(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('tenant') tenant: string,
    @Param('keyId') keyId: string,
    @Body(new ZodValidationPipe(rotateApiKeySchema)) body: RotateApiKeyInput,
  ) {
    return this.keys.rotate(admin, tenant, keyId, body);
  }
}
