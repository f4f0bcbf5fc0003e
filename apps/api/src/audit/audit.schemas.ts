import { z } from 'zod';
import { pageQuerySchema } from '../common/pagination';

/** Audit actions look like `tenant.create`, `api-key.revoke`. */
const actionSchema = z.string().regex(/^[a-z-]{1,32}\.[a-z-]{1,31}$/, 'an action such as tenant.create');

export const platformAuditQuerySchema = pageQuerySchema.extend({
  tenantId: z.uuid().optional(),
  action: actionSchema.optional(),
});

export const tenantAuditQuerySchema = pageQuerySchema.extend({
  action: actionSchema.optional(),
});

export type PlatformAuditQuery = z.output<typeof platformAuditQuerySchema>;
export type TenantAuditQuery = z.output<typeof tenantAuditQuerySchema>;
