import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { hashSecret, type Clock } from '@switchboard/api-keys';
import { isUuid } from '@switchboard/config';
import { Prisma, PrismaClient, type OAuthClient, type OAuthGrant, type Tenant } from '@switchboard/db';
import { readOAuthSettings, readSsoSettings, ssoSecretAad, ssoSettingsView, type StoredSsoSettings } from '@switchboard/oauth-policy';
import { SecretBox, type PlatformSecrets } from '@switchboard/secrets';
import type { AdminPrincipal } from '../auth/admin-principal';
import { AuditService } from '../audit/audit.service';
import { CLOCK, PLATFORM_SECRETS } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import { decodeCursor, toPage, type Page, type PageQuery } from '../common/pagination';
import { TenantsService } from '../tenants/tenants.service';
import { OAuthGrantRevocation } from './oauth-grant-revocation';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type OAuthClientView,
  type OAuthGrantView,
  type OAuthSettingsView,
  type RegisterOAuthClientInput,
  type RegisteredOAuthClient,
  type UpdateOAuthSettingsInput,
} from './oauth.schemas';

/** `sbc_` + 128 random bits: the client_id of a client an admin registers. */
const CLIENT_ID_PREFIX = 'sbc_';
const CLIENT_ID_BYTES = 16;
/** `sbcs_` + 256 random bits: a confidential client's secret. */
const CLIENT_SECRET_PREFIX = 'sbcs_';
const CLIENT_SECRET_BYTES = 32;

type ClientWithGrantCount = OAuthClient & { _count: { grants: number } };
type GrantWithClient = OAuthGrant & { client: { name: string } };

@Injectable()
export class OAuthService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
    private readonly revocation: OAuthGrantRevocation,
    @Inject(PLATFORM_SECRETS) private readonly secrets: PlatformSecrets,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  /** Clients registered for this tenant, and every other client that holds (or held) a grant on it. */
  async listClients(admin: AdminPrincipal, tenantRef: string): Promise<{ items: OAuthClientView[] }> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const rows = await this.prisma.oAuthClient.findMany({
      where: { OR: [{ tenantId: tenant.id }, { grants: { some: { tenantId: tenant.id } } }] },
      include: this.activeGrantCount(tenant),
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return { items: rows.map((row) => clientView(row)) };
  }

  /** Pre-registers a client for this tenant only. A confidential client's secret is in this answer and nowhere else. */
  async registerClient(admin: AdminPrincipal, tenantRef: string, input: RegisterOAuthClientInput): Promise<RegisteredOAuthClient> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const confidential = input.tokenEndpointAuth !== 'none';
    const secret = confidential ? CLIENT_SECRET_PREFIX + randomBytes(CLIENT_SECRET_BYTES).toString('base64url') : null;
    const row = await this.prisma.$transaction(async (tx) => {
      const client = await tx.oAuthClient.create({
        data: {
          id: CLIENT_ID_PREFIX + randomBytes(CLIENT_ID_BYTES).toString('base64url'),
          kind: 'registered',
          tenantId: tenant.id,
          name: input.name,
          clientUri: input.clientUri ?? null,
          redirectUris: input.redirectUris,
          tokenEndpointAuth: input.tokenEndpointAuth,
          // Under the current KEY_PEPPER, as API keys are; never the secret itself.
          secretHash: secret ? new Uint8Array(hashSecret(secret, this.secrets.keyPeppers.current.key)) : null,
          metadata: { registeredBy: admin.actor } as Prisma.InputJsonObject,
        },
        include: this.activeGrantCount(tenant),
      });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'oauth-client.register',
        targetType: 'oauth-client',
        targetId: client.id,
        tenantId: tenant.id,
        details: { name: client.name, redirectUris: client.redirectUris, tokenEndpointAuth: client.tokenEndpointAuth },
      });
      return client;
    });
    return { client: clientView(row), clientSecret: secret };
  }

  /**
   * A client registered for this tenant is revoked with all its grants. A shared client (dynamic,
   * metadata document) is only cut off from this tenant: its grants here are revoked, the client
   * stays for other tenants.
   */
  async revokeClient(admin: AdminPrincipal, tenantRef: string, clientId: string): Promise<OAuthClientView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const client = await this.findClient(tenant, clientId);
    const now = new Date(this.clock.now());
    const ownClient = client.tenantId === tenant.id;
    const { row, revoked } = await this.prisma.$transaction(async (tx) => {
      if (ownClient && !client.revokedAt) await tx.oAuthClient.update({ where: { id: client.id }, data: { revokedAt: now } });
      const grants = await this.revocation.revokeWhere(tx, { tenantId: tenant.id, clientId: client.id }, 'client_revoked', now);
      const changed = grants.length > 0 || (ownClient && !client.revokedAt);
      // Revoking again changes nothing and records nothing.
      if (changed) {
        await this.audit.record(tx, {
          actor: admin.actor,
          action: 'oauth-client.revoke',
          targetType: 'oauth-client',
          targetId: auditTargetOf(client.id),
          tenantId: tenant.id,
          details: { clientId: client.id, name: client.name, kind: client.kind, clientRevoked: ownClient, revokedGrants: grants.map((grant) => grant.id) },
        });
      }
      const updated = await tx.oAuthClient.findUniqueOrThrow({ where: { id: client.id }, include: this.activeGrantCount(tenant) });
      return { row: updated, revoked: grants };
    });
    await this.revocation.announce(revoked);
    return clientView(row);
  }

  async listGrants(admin: AdminPrincipal, tenantRef: string, page: PageQuery): Promise<Page<OAuthGrantView>> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const after = decodeCursor(page.cursor);
    const rows = await this.prisma.oAuthGrant.findMany({
      where: {
        tenantId: tenant.id,
        ...(after ? { OR: [{ createdAt: { gt: after.at } }, { createdAt: after.at, id: { gt: after.id } }] } : {}),
      },
      include: { client: { select: { name: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit + 1,
    });
    return toPage(rows, page.limit, (row) => ({ at: row.createdAt, id: row.id }), grantView);
  }

  /** Revokes a grant: its refresh tokens are deleted and gateways drop its access tokens. Revoking twice changes nothing. */
  async revokeGrant(admin: AdminPrincipal, tenantRef: string, grantId: string): Promise<OAuthGrantView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    // Scoped by tenant: a grant id of another tenant is simply not found.
    const grant = isUuid(grantId) ? await this.prisma.oAuthGrant.findFirst({ where: { id: grantId.toLowerCase(), tenantId: tenant.id } }) : null;
    if (!grant) throw new ApiError(ApiErrorCode.OAUTH_GRANT_NOT_FOUND);
    const now = new Date(this.clock.now());
    const { row, revoked } = await this.prisma.$transaction(async (tx) => {
      const grants = await this.revocation.revokeWhere(tx, { id: grant.id }, 'admin', now);
      if (grants.length > 0) {
        await this.audit.record(tx, {
          actor: admin.actor,
          action: 'oauth-grant.revoke',
          targetType: 'oauth-grant',
          targetId: grant.id,
          tenantId: tenant.id,
          details: { clientId: grant.clientId, subject: grant.subject, keyId: grant.keyId },
        });
      }
      const updated = await tx.oAuthGrant.findUniqueOrThrow({ where: { id: grant.id }, include: { client: { select: { name: true } } } });
      return { row: updated, revoked: grants };
    });
    await this.revocation.announce(revoked);
    return grantView(row);
  }

  async getSettings(admin: AdminPrincipal, tenantRef: string): Promise<OAuthSettingsView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    return settingsView(tenant.oauth);
  }

  async updateSettings(admin: AdminPrincipal, tenantRef: string, input: UpdateOAuthSettingsInput): Promise<OAuthSettingsView> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const { sso, ...rest } = input;
    const changes = definedFields(rest);
    const settings = { ...readOAuthSettings(tenant.oauth), ...changes };
    const stored: Record<string, unknown> = { ...jsonObject(tenant.oauth), ...settings };
    // `sso: null` turns single sign-on off; an object replaces the provider, its secret sealed to this tenant.
    if (sso === null) delete stored['sso'];
    if (sso) {
      const provider: StoredSsoSettings = {
        issuer: sso.issuer,
        clientId: sso.clientId,
        clientSecretSealed: this.box.encrypt({ clientSecret: sso.clientSecret }, ssoSecretAad(tenant.id)),
        allowedEmailDomains: sso.allowedEmailDomains ?? [],
        ...(sso.requiredGroup ? { requiredGroup: sso.requiredGroup } : {}),
      };
      stored['sso'] = provider;
    }
    const ssoAudit = sso === undefined ? {} : { sso: sso === null ? null : { issuer: sso.issuer, clientId: sso.clientId, allowedEmailDomains: sso.allowedEmailDomains ?? [], requiredGroup: sso.requiredGroup ?? null } };
    await this.prisma.$transaction(async (tx) => {
      // Stored whole (defaults included), so what the gateway reads is exactly what was shown;
      // other keys of tenants.oauth (written by other features) are kept.
      await tx.tenant.update({ where: { id: tenant.id }, data: { oauth: stored as Prisma.InputJsonObject } });
      await this.audit.record(tx, {
        actor: admin.actor,
        action: 'oauth-settings.update',
        targetType: 'tenant',
        targetId: tenant.id,
        tenantId: tenant.id,
        // Never the client secret.
        details: { changed: [...Object.keys(changes), ...(sso === undefined ? [] : ['sso'])], ...changes, ...ssoAudit } as Prisma.InputJsonObject,
      });
    });
    // Gateways cache the tenant: the new token lifetime or host allowlist applies at once.
    await this.events.publish({ type: 'tenant.changed', tenantId: tenant.id });
    return settingsView(stored);
  }

  /** A client this tenant may see: registered for it, or holding a grant on it. */
  private async findClient(tenant: Tenant, clientId: string): Promise<OAuthClient> {
    const client =
      clientId.length <= 2048
        ? await this.prisma.oAuthClient.findFirst({
            where: { id: clientId, OR: [{ tenantId: tenant.id }, { grants: { some: { tenantId: tenant.id } } }] },
          })
        : null;
    if (!client) throw new ApiError(ApiErrorCode.OAUTH_CLIENT_NOT_FOUND);
    return client;
  }

  private activeGrantCount(tenant: Tenant) {
    return { _count: { select: { grants: { where: { tenantId: tenant.id, revokedAt: null } } } } } as const;
  }
}

/** audit_events.target_id holds 64 characters; a metadata document's URL id may be longer (the full id is in the details). */
const AUDIT_TARGET_ID_LENGTH = 64;
function auditTargetOf(clientId: string): string {
  return clientId.slice(0, AUDIT_TARGET_ID_LENGTH);
}

function settingsView(oauth: unknown): OAuthSettingsView {
  const sso = readSsoSettings(oauth);
  return { ...readOAuthSettings(oauth), sso: sso ? ssoSettingsView(sso) : null };
}

function jsonObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function definedFields<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Everything about a client except its secret hash. */
function clientView(row: ClientWithGrantCount): OAuthClientView {
  const auth = (TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(row.tokenEndpointAuth)
    ? (row.tokenEndpointAuth as OAuthClientView['tokenEndpointAuth'])
    : 'none';
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenantId,
    name: row.name,
    clientUri: row.clientUri,
    redirectUris: row.redirectUris,
    tokenEndpointAuth: auth,
    activeGrants: row._count.grants,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

function grantView(row: GrantWithClient): OAuthGrantView {
  return {
    id: row.id,
    tenantId: row.tenantId,
    clientId: row.clientId,
    clientName: row.client.name,
    keyId: row.keyId,
    subject: row.subject,
    email: row.email,
    scopes: row.scopes,
    resource: row.resource,
    status: row.revokedAt ? 'revoked' : 'active',
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedReason: row.revokedReason,
  };
}
