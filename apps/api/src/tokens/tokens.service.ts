import { Inject, Injectable } from '@nestjs/common';
import { TenantTokens, type Principal } from '@switchboard/api-keys';
import type { PluginCatalog } from '@switchboard/plugin-runtime';
import { PLUGIN_CATALOG } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import type { MintedToken, MintTokenInput } from './tokens.schemas';

/**
 * Short-lived tenant tokens for a tenant's end users, minted with one of the tenant's API keys.
 * Not audited: a tenant backend may mint one per user session, and the token dies with its key.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly tenantTokens: TenantTokens,
    @Inject(PLUGIN_CATALOG) private readonly catalog: PluginCatalog,
  ) {}

  mint(caller: Principal, input: MintTokenInput): MintedToken {
    if (input.plugins) this.assertAllowed(caller, input.plugins);
    const { token, expiresAt } = this.tenantTokens.mint({
      tenantId: caller.tenantId,
      keyId: caller.keyId,
      subject: input.subject,
      plugins: input.plugins,
      ttlSeconds: input.ttlSeconds,
    });
    return { token, tokenType: 'Bearer', expiresAt: expiresAt.toISOString() };
  }

  /** A token may only narrow what its key allows (an empty key list allows every plugin). */
  private assertAllowed(caller: Principal, plugins: string[]): void {
    const issues = plugins
      .map((name, index) => ({ name, index }))
      .filter(({ name }) => (caller.plugins.length > 0 ? !caller.plugins.includes(name) : !this.catalog.get(name)))
      .map(({ name, index }) => ({ path: `plugins.${index}`, message: `this key may not use "${name}"` }));
    if (issues.length > 0) throw new ApiError(ApiErrorCode.PLUGIN_NOT_ALLOWED, undefined, { issues });
  }
}
