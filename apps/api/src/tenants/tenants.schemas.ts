import { z } from 'zod';
import { isUuid } from '@switchboard/config';
import { limitOverridesSchema } from '@switchboard/limits';

/** Slugs appear in MCP URLs (/t/{slug}/mcp): lowercase letters, digits and inner hyphens. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
export const SLUG_MIN_LENGTH = 3;
export const SLUG_MAX_LENGTH = 40;

export const tenantSlugSchema = z
  .string()
  .min(SLUG_MIN_LENGTH)
  .max(SLUG_MAX_LENGTH)
  .regex(SLUG_PATTERN, 'use lowercase letters, digits and hyphens, starting and ending with a letter or digit')
  // Tenants are addressed by id or slug in the same path segment, so a slug must not look like an id.
  .refine((slug) => !isUuid(slug), 'must not look like a tenant id');

export const tenantNameSchema = z.string().trim().min(1).max(200);

export const createTenantSchema = z.object({ slug: tenantSlugSchema, name: tenantNameSchema }).strict();

export const updateTenantSchema = z
  .object({
    name: tenantNameSchema.optional(),
    status: z.enum(['active', 'suspended']).optional(),
    /** Replaces the tenant's limit overrides as a whole. */
    limits: limitOverridesSchema.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one of name, status, limits');

export const tenantViewSchema = z.object({
  id: z.uuid(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  limits: limitOverridesSchema,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export type CreateTenantInput = z.output<typeof createTenantSchema>;
export type UpdateTenantInput = z.output<typeof updateTenantSchema>;
export type TenantView = z.output<typeof tenantViewSchema>;
