import { z } from 'zod';
import { TENANT_TOKEN_MAX_TTL_SECONDS } from '@switchboard/api-keys';
import { pluginListSchema } from '../api-keys/api-keys.schemas';

export const mintTokenSchema = z
  .object({
    /** The tenant's end user, as the tenant names them (appears in usage and logs). */
    subject: z.string().trim().min(1).max(200),
    ttlSeconds: z.number().int().min(1).max(TENANT_TOKEN_MAX_TTL_SECONDS).optional(),
    /** Narrows the key's plugins; must be a subset of them. */
    plugins: pluginListSchema.min(1).optional(),
  })
  .strict();

export const mintedTokenSchema = z.object({
  token: z.string(),
  tokenType: z.literal('Bearer'),
  expiresAt: z.iso.datetime(),
});

export type MintTokenInput = z.output<typeof mintTokenSchema>;
export type MintedToken = z.output<typeof mintedTokenSchema>;
