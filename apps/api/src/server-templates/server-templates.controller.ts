import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, Authenticated, CurrentAdmin } from '../auth/access.decorator';
import type { AdminPrincipal } from '../auth/admin-principal';
import { ZodBody } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import {
  createServerTemplateSchema,
  serverTemplateViewSchema,
  updateServerTemplateSchema,
  type CreateServerTemplateInput,
  type UpdateServerTemplateInput,
} from './server-templates.schemas';
import { ServerTemplatesService } from './server-templates.service';

/** Hosted stdio MCP servers: platform admins register them, tenants install them as plugins. */
@ApiTags('server-templates')
@Controller('v1/server-templates')
export class ServerTemplatesController {
  constructor(private readonly templates: ServerTemplatesService) {}

  @Post()
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(201, serverTemplateViewSchema, 'The new template')
  create(@CurrentAdmin() admin: AdminPrincipal, @ZodBody(createServerTemplateSchema) body: CreateServerTemplateInput) {
    return this.templates.create(admin, body);
  }

  @Get()
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, z.object({ items: z.array(serverTemplateViewSchema) }))
  list() {
    return this.templates.list();
  }

  @Get(':name')
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, serverTemplateViewSchema)
  get(@Param('name') name: string) {
    return this.templates.get(name);
  }

  @Patch(':name')
  @Authenticated(Access.PlatformAdmin)
  @ApiZodResponse(200, serverTemplateViewSchema)
  update(
    @CurrentAdmin() admin: AdminPrincipal,
    @Param('name') name: string,
    @ZodBody(updateServerTemplateSchema) body: UpdateServerTemplateInput,
  ) {
    return this.templates.update(admin, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @Authenticated(Access.PlatformAdmin)
  async remove(@CurrentAdmin() admin: AdminPrincipal, @Param('name') name: string): Promise<void> {
    await this.templates.remove(admin, name);
  }
}
