import { Inject, Injectable } from '@nestjs/common';
import { TenantTokens, type Principal } from '@switchboard/api-keys';
import { PrismaClient } from '@switchboard/db';
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
    private readonly prisma: PrismaClient,
    private readonly tenantTokens: TenantTokens,
    @Inject(PLUGIN_CATALOG) private readonly catalog: PluginCatalog,
  ) {}

  async mint(caller: Principal, input: MintTokenInput): Promise<MintedToken> {
    if (input.plugins) await this.assertAllowed(caller, input.plugins);
    const { token, expiresAt } = this.tenantTokens.mint({
      tenantId: caller.tenantId,
      keyId: caller.keyId,
      subject: input.subject,
      plugins: input.plugins,
      ttlSeconds: input.ttlSeconds,
    });
    return { token, tokenType: 'Bearer', expiresAt: expiresAt.toISOString() };
  }

  /**
   * A token may only narrow what its key allows (an empty key list allows every installation:
   * the tenant's, by name, and the platform's plugins, the default names of installations).
   */
  private async assertAllowed(caller: Principal, plugins: string[]): Promise<void> {
    const installed =
      caller.plugins.length > 0
        ? new Set<string>()
        : new Set((await this.prisma.pluginInstallation.findMany({ where: { tenantId: caller.tenantId, name: { in: plugins } }, select: { name: true } })).map((row) => row.name));
    const issues = plugins
      .map((name, index) => ({ name, index }))
      .filter(({ name }) => (caller.plugins.length > 0 ? !caller.plugins.includes(name) : !installed.has(name) && !this.catalog.get(name)))
      .map(({ name, index }) => ({ path: `plugins.${index}`, message: `this key may not use "${name}"` }));
    if (issues.length > 0) throw new ApiError(ApiErrorCode.PLUGIN_NOT_ALLOWED, undefined, { issues });
  }
}
