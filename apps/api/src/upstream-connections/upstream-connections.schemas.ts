import { z } from 'zod';

/** What the admin API shows of an installation's upstream OAuth credential: never token material. */
export const upstreamConnectionViewSchema = z.object({
  installation: z.string(),
  status: z.enum(['not_connected', 'pending', 'connected', 'needs_reconnect']),
  connectedAt: z.string().nullable(),
  expiresAt: z.string().nullable().describe('When the current access token expires; it is refreshed before'),
  lastError: z.string().nullable().describe('Why the credential needs reconnecting'),
});
export type UpstreamConnectionView = z.infer<typeof upstreamConnectionViewSchema>;

export const startedConnectionSchema = z.object({
  connectUrl: z.string().describe("Open in the browser: the gateway redirects to the upstream's authorization server, then back; single use"),
  expiresAt: z.string(),
});
export type StartedConnection = z.infer<typeof startedConnectionSchema>;

/** One person's connection of a per-user installation (docs/upstream-oauth.md "Per-user mode"): never token material. */
export const personalConnectionViewSchema = upstreamConnectionViewSchema.omit({ installation: true }).extend({
  subject: z.string().describe('The person: their OAuth grant\'s subject (key:<key id> or sso:<issuer>#<sub>)'),
});

export const personalConnectionsSchema = z.object({ installation: z.string(), items: z.array(personalConnectionViewSchema) });
export type PersonalConnections = z.infer<typeof personalConnectionsSchema>;

export const personQuerySchema = z.object({ subject: z.string().min(1).max(200).describe('The person whose connection to forget') });
export type PersonQuery = z.infer<typeof personQuerySchema>;
