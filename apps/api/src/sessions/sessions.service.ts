import { Inject, Injectable } from '@nestjs/common';
import type { SessionEntry } from '@switchboard/coordination';
import { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { AuditService } from '../audit/audit.service';
import type { AdminPrincipal } from '../auth/admin-principal';
import { LOGGER } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ControlEventsPublisher } from '../common/control-events.publisher';
import { TenantsService } from '../tenants/tenants.service';
import type { SessionView } from './sessions.schemas';
import { SessionDirectoryProvider } from './session-directory.provider';

@Injectable()
export class SessionsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly events: ControlEventsPublisher,
    private readonly sessions: SessionDirectoryProvider,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The tenant's live sessions on every gateway node, oldest first. */
  async list(admin: AdminPrincipal, tenantRef: string): Promise<{ items: SessionView[] }> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const entries = await this.read(() => this.sessions.directory.listTenant(tenant.id));
    return { items: entries.map(sessionView) };
  }

  /**
   * Asks the session's node to close it (control event `session.terminate`, heard by every
   * node; the owner closes it within a second). Another tenant's session is not found.
   */
  async terminate(admin: AdminPrincipal, tenantRef: string, sessionId: string): Promise<void> {
    const tenant = await this.tenants.findForAdmin(admin, tenantRef);
    const entry = await this.read(() => this.sessions.directory.find(sessionId));
    if (!entry || entry.tenantId !== tenant.id) throw new ApiError(ApiErrorCode.SESSION_NOT_FOUND);
    await this.end(admin, entry);
  }

  /** Records the ending under the session's tenant, then tells the nodes (the platform-wide ending uses it too). */
  async end(admin: AdminPrincipal, entry: SessionEntry): Promise<void> {
    await this.prisma.$transaction((tx) =>
      this.audit.record(tx, {
        actor: admin.actor,
        action: 'session.terminate',
        targetType: 'session',
        targetId: entry.sessionId,
        tenantId: entry.tenantId,
        details: { node: entry.node, transport: entry.transport, keyId: entry.keyId },
      }),
    );
    await this.events.publish({ type: 'session.terminate', sessionId: entry.sessionId });
  }

  private async read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      this.logger.warn({ err: error }, 'session registry unreadable');
      throw new ApiError(ApiErrorCode.NOT_READY, 'The session registry (Redis) is unavailable.');
    }
  }
}

export function sessionView(entry: SessionEntry): SessionView {
  return {
    sessionId: entry.sessionId,
    node: entry.node,
    transport: entry.transport,
    keyId: entry.keyId,
    ...(entry.subject !== undefined ? { subject: entry.subject } : {}),
    ...(entry.plugin !== undefined ? { plugin: entry.plugin } : {}),
    openedAt: new Date(entry.openedAt).toISOString(),
    lastActivityAt: new Date(entry.lastActivityAt).toISOString(),
  };
}
