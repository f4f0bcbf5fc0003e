import { z } from 'zod';
import { countQuerySchema, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../common/pagination';
import { sessionViewSchema } from '../sessions/sessions.schemas';

/** Node ids as gateways take them from NODE_ID (also part of Redis key names). */
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'not a node id');

export const clusterModeSchema = z.enum(['cluster', 'embedded']).describe('cluster: gateway nodes register in Redis; embedded: one gateway in the API process (`npm start`)');

export const nodeViewSchema = z.object({
  node: z.string(),
  /** up: its liveness key is there (renewed by its heartbeat); silent: missed it, its sessions expire with it. */
  health: z.enum(['up', 'silent']),
  /** Milliseconds until the liveness key expires unless renewed; null when silent or embedded. */
  heartbeatExpiresInMs: z.number().int().nullable(),
  sessions: z.number().int(),
  sessionsByTransport: z.object({ 'streamable-http': z.number().int(), sse: z.number().int() }),
  /** Tenants with at least one session on the node. */
  tenants: z.number().int(),
});

export const nodeListSchema = z.object({ mode: clusterModeSchema, items: z.array(nodeViewSchema) });

export const platformSessionViewSchema = sessionViewSchema.extend({ tenantId: z.string(), tenantSlug: z.string() });

export const platformSessionsQuerySchema = z
  .object({
    limit: countQuerySchema(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
    cursor: z.string().max(400).optional(),
    /** Only the sessions held by this node. */
    node: nodeIdSchema.optional(),
  })
  .strict();

export const platformSessionPageSchema = z.object({
  mode: clusterModeSchema,
  items: z.array(platformSessionViewSchema),
  nextCursor: z.string().nullable(),
  /** Live sessions matching the filter on every node, across every page. */
  total: z.number().int(),
});

export type NodeView = z.output<typeof nodeViewSchema>;
export type NodeList = z.output<typeof nodeListSchema>;
export type PlatformSessionView = z.output<typeof platformSessionViewSchema>;
export type PlatformSessionsQuery = z.output<typeof platformSessionsQuerySchema>;
export type PlatformSessionPage = z.output<typeof platformSessionPageSchema>;
