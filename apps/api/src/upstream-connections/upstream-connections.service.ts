import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '@switchboard/api-keys';
import { PrismaClient } from '@switchboard/db';
import { SecretBox, type PlatformSecrets } from '@switchboard/secrets';
import { ConnectSeals, connectUrlOf, credentialModeOf, SHARED_SUBJECT, UpstreamCredentialStore, type ConnectBinding } from '@switchboard/upstream-auth';
import type { AdminPrincipal } from '../auth/admin-principal';
import { AuditService } from '../audit/audit.service';
import { API_CONFIG, CLOCK, PLATFORM_SECRETS } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import type { ApiConfig } from '../config/api-config';
import { TenantsService } from '../tenants/tenants.service';
import type { PersonalConnections, StartedConnection, UpstreamConnectionView } from './upstream-connections.schemas';
/** Plugins whose installations may connect an upstream OAuth account. */
const OAUTH_PLUGINS = new Set(['remote-mcp']);

/**
 * An installation's upstream OAuth connection (docs/upstream-oauth.md), the admin half: start a
 * connect (a single-use URL a tenant admin opens in the browser), see its status, forget it. The
 * OAuth round trip itself runs on the gateway, which has the outbound network guard.
 */
@Injectable()
export class UpstreamConnectionsService {
  private readonly store: UpstreamCredentialStore;

  constructor(
    private readonly prisma: PrismaClient,
    box: SecretBox,
    @Inject(PLATFORM_SECRETS) secrets: PlatformSecrets,
    @Inject(CLOCK) clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
  ) {
    this.store = new UpstreamCredentialStore(prisma, box, new ConnectSeals(secrets.secretsKeys, clock), { now: () => clock.now() });
  }

  async start(admin: AdminPrincipal, tenantRef: string, installation: string): Promise<StartedConnection> {
    const { binding, tenantId, installationId, mode } = await this.oauthInstallation(admin, tenantRef, installation);
    // A shared account would serve nobody there: each person connects their own from their client's first call.
    if (mode === 'per-user') {
      throw new ApiError(ApiErrorCode.INVALID_PLUGIN_CONFIG, 'This installation uses per-user upstream accounts: each person connects their own through the link their first tool call answers.', {
        issues: [{ path: 'config.oauthMode', message: 'per-user installations have no shared connection to start' }],
      });
    }
    const { ticket, expiresAt } = await this.store.prepareConnect(binding);
    await this.prisma.$transaction((tx) =>
      this.audit.record(tx, { actor: admin.actor, action: 'upstream-connection.start', targetType: 'plugin', targetId: installationId, tenantId, details: { installation } }),
    );
    return { connectUrl: connectUrlOf(this.config.publicGatewayUrl, ticket), expiresAt: expiresAt.toISOString() };
  }

  async view(admin: AdminPrincipal, tenantRef: string, installation: string): Promise<UpstreamConnectionView> {
    const { binding } = await this.oauthInstallation(admin, tenantRef, installation);
    return { installation, ...(await this.store.view(binding)) };
  }

  async disconnect(admin: AdminPrincipal, tenantRef: string, installation: string): Promise<void> {
    const { binding, tenantId, installationId } = await this.oauthInstallation(admin, tenantRef, installation);
    if (!(await this.store.disconnect(binding))) return;
    await this.prisma.$transaction((tx) =>
      this.audit.record(tx, { actor: admin.actor, action: 'upstream-connection.delete', targetType: 'plugin', targetId: installationId, tenantId, details: { installation } }),
    );
  }

  /** Per-user installations: every person's connection, as the tenant admin may see it (no token material). */
  async listPersonal(admin: AdminPrincipal, tenantRef: string, installation: string): Promise<PersonalConnections> {
    const { tenantId, installationId } = await this.oauthInstallation(admin, tenantRef, installation);
    return { installation, items: await this.store.listPersonal(tenantId, installationId) };
  }

  /** Forgets one person's connection: their next call answers a new connect link. */
  async disconnectPerson(admin: AdminPrincipal, tenantRef: string, installation: string, subject: string): Promise<void> {
    const { tenantId, installationId } = await this.oauthInstallation(admin, tenantRef, installation);
    // The shared credential has its own route; this one never reaches it.
    if (subject === SHARED_SUBJECT || !(await this.store.disconnect({ tenantId, installationId, subject }))) return;
    await this.prisma.$transaction((tx) =>
      this.audit.record(tx, { actor: admin.actor, action: 'upstream-connection.delete', targetType: 'plugin', targetId: installationId, tenantId, details: { installation, person: subject } }),
    );
  }

  /** The admin's own tenant's installation, configured for OAuth; another tenant's is the same 404 as none. */
  private async oauthInstallation(
    admin: AdminPrincipal,
    tenantRef: string,
    name: string,
  ): Promise<{ binding: ConnectBinding; tenantId: string; installationId: string; mode: 'shared' | 'per-user' }> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const row = await this.prisma.pluginInstallation.findUnique({ where: { tenantId_name: { tenantId: tenant.id, name } }, select: { id: true, plugin: true, config: true } });
    if (!row) throw new ApiError(ApiErrorCode.PLUGIN_NOT_INSTALLED);
    const config = (row.config ?? {}) as Record<string, unknown>;
    const mode = credentialModeOf(config);
    if (!OAUTH_PLUGINS.has(row.plugin) || mode === 'none') {
      throw new ApiError(ApiErrorCode.INVALID_PLUGIN_CONFIG, 'This installation does not authenticate to its upstream with OAuth.', {
        issues: [{ path: 'config.auth', message: OAUTH_PLUGINS.has(row.plugin) ? 'set auth to "oauth" to connect an upstream account' : `plugin ${row.plugin} has no upstream OAuth` }],
      });
    }
    return { binding: { tenantId: tenant.id, installationId: row.id, subject: SHARED_SUBJECT }, tenantId: tenant.id, installationId: row.id, mode };
  }
}
