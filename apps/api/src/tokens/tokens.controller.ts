import { Body, Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Principal } from '@switchboard/api-keys';
import { Access, Authenticated, CurrentCaller } from '../auth/access.decorator';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ApiZodBody, ApiZodResponse } from '../openapi/zod-openapi';
import { mintedTokenSchema, mintTokenSchema, type MintTokenInput } from './tokens.schemas';
import { TokensService } from './tokens.service';

@ApiTags('tenant tokens')
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @Authenticated(Access.ApiKey)
  @ApiZodBody(mintTokenSchema, 'Authenticate with the tenant API key: Authorization: Bearer sbk_…')
  @ApiZodResponse(201, mintedTokenSchema, 'A short-lived token for an end user of the tenant')
  mint(@CurrentCaller() caller: Principal, @Body(new ZodValidationPipe(mintTokenSchema)) body: MintTokenInput) {
    return this.tokens.mint(caller, body);
  }
}
