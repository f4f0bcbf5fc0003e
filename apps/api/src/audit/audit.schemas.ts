import { z } from 'zod';
import { instantSchema } from '../common/instant';
import { pageQuerySchema } from '../common/pagination';

/** Audit actions look like `tenant.create`, `api-key.revoke`. */
const actionSchema = z.string().regex(/^[a-z-]{1,32}\.[a-z-]{1,31}$/, 'an action such as tenant.create');
const auditInstantSchema = instantSchema({ allowDate: true });

/** Filters both audit routes share: what was changed and when (`[from, to)`). */
const auditFilterSchema = pageQuerySchema.extend({
  action: actionSchema.optional(),
  targetType: z.enum(['tenant', 'api-key', 'plugin', 'server-template', 'session', 'oauth-client', 'oauth-grant', 'usage-job']).optional(),
  targetId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an id, a slug or a plugin name').optional(),
  from: auditInstantSchema.optional(),
  to: auditInstantSchema.optional(),
});

function fromBeforeTo(query: { from?: Date; to?: Date }, ctx: z.RefinementCtx): void {
  if (query.from instanceof Date && query.to instanceof Date && query.from >= query.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
}

export const platformAuditQuerySchema = auditFilterSchema.extend({ tenantId: z.uuid().optional() }).superRefine(fromBeforeTo);

export const tenantAuditQuerySchema = auditFilterSchema.superRefine(fromBeforeTo);

export type PlatformAuditQuery = z.output<typeof platformAuditQuerySchema>;
export type TenantAuditQuery = z.output<typeof tenantAuditQuerySchema>;
/** What `AuditService.list` narrows by; the tenant comes from the route (or the platform query). */
export type AuditFilter = Pick<PlatformAuditQuery, 'tenantId' | 'action' | 'targetType' | 'targetId' | 'from' | 'to'>;
