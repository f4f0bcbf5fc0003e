import { Injectable } from '@nestjs/common';
import { Prisma, PrismaClient, type AuditEvent } from '@switchboard/db';
import { decodeCursor, toPage, type Page, type PageQuery } from '../common/pagination';
import type { AuditFilter } from './audit.schemas';

export type AuditAction =
  | 'tenant.create'
  | 'tenant.update'
  | 'tenant.delete'
  | 'api-key.issue'
  | 'api-key.revoke'
  | 'api-key.rotate'
  | 'oauth-client.register'
  | 'oauth-client.revoke'
  | 'oauth-grant.revoke'
  | 'oauth-settings.update'
  | 'session.terminate'
  | 'plugin.install'
  | 'plugin.update'
  | 'plugin.uninstall'
  | 'virtual-server.create'
  | 'virtual-server.update'
  | 'virtual-server.delete'
  | 'server-template.create'
  | 'server-template.update'
  | 'server-template.delete'
  | 'upstream-connection.start'
  | 'upstream-connection.delete'
  | 'usage-job.retry'
  | 'usage-job.discard';

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  targetType: 'tenant' | 'api-key' | 'plugin' | 'virtual-server' | 'server-template' | 'session' | 'oauth-client' | 'oauth-grant' | 'usage-job';
  targetId: string;
  /** Absent for platform-wide changes (server templates). */
  tenantId?: string;
  /** Never secrets: names, ids, changed field names, non-secret values. */
  details?: Record<string, unknown>;
}

export interface AuditEventView {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  tenantId: string | null;
  details: unknown;
}

/** Writes and reads the audit log. Writes take the caller's transaction, so no change goes unrecorded. */
@Injectable()
export class AuditService {
  constructor(private readonly prisma: PrismaClient) {}

  async record(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
    await tx.auditEvent.create({
      data: {
        actor: entry.actor,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId,
        tenantId: entry.tenantId ?? null,
        details: (entry.details ?? {}) as Prisma.InputJsonObject,
      },
    });
  }

  /** Newest first; `tenantId` narrows to one tenant, `from`/`to` to the events in `[from, to)`. */
  async list(filter: AuditFilter, page: PageQuery): Promise<Page<AuditEventView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        ...(filter.tenantId ? { tenantId: filter.tenantId } : {}),
        ...(filter.action ? { action: filter.action } : {}),
        ...(filter.targetType ? { targetType: filter.targetType } : {}),
        ...(filter.targetId ? { targetId: filter.targetId } : {}),
        ...(filter.from || filter.to ? { at: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
        ...(after ? { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: page.limit + 1,
    });
    return toPage(rows, page.limit, (row) => ({ at: row.at, id: row.id }), auditView);
  }
}

function auditView(row: AuditEvent): AuditEventView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    tenantId: row.tenantId,
    details: row.details,
  };
}
