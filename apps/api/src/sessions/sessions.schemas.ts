import { z } from 'zod';

/** Session ids as gateways make them: a UUID (legacy SSE) or `<uuid>.<node>` (Streamable HTTP). */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'not a session id');

export const sessionViewSchema = z.object({
  sessionId: z.string(),
  /** The gateway node holding the session. */
  node: z.string(),
  transport: z.enum(['sse', 'streamable-http']),
  keyId: z.string(),
  /** End user of a tenant token; absent for API keys. */
  subject: z.string().optional(),
  /** Plugin endpoint the session was opened through; absent for the tenant-wide endpoint. */
  plugin: z.string().optional(),
  openedAt: z.string().describe('ISO 8601'),
  lastActivityAt: z.string().describe('ISO 8601; written by the gateways every few seconds'),
});
export type SessionView = z.output<typeof sessionViewSchema>;

export const sessionListSchema = z.object({ items: z.array(sessionViewSchema) });
