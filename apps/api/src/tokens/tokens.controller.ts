import { Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Principal } from '@switchboard/api-keys';
import { Access, Authenticated, CurrentCaller } from '../auth/access.decorator';
import { ZodBody } from '../common/zod-request.decorators';
import { ApiZodResponse } from '../openapi/zod-openapi';
import { mintedTokenSchema, mintTokenSchema, type MintTokenInput } from './tokens.schemas';
import { TokensService } from './tokens.service';

@ApiTags('tenant tokens')
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @Authenticated(Access.ApiKey)
  @ApiZodResponse(201, mintedTokenSchema, 'A short-lived token for an end user of the tenant')
  mint(
    @CurrentCaller() caller: Principal,
    @ZodBody(mintTokenSchema, 'Authenticate with the tenant API key: Authorization: Bearer sbk_…') body: MintTokenInput,
  ) {
    return this.tokens.mint(caller, body);
  }
}
