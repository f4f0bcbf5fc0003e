import { z } from 'zod';

// Ids that travel between processes and back from clients, checked the same way everywhere.

/** NODE_ID: it names the node in session ids, Redis channel names and metrics labels. */
const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const nodeIdSchema = z.string().regex(NODE_ID_PATTERN, 'letters, digits, _ . - only (at most 64)');

export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}

/**
 * Any 8-4-4-4-12 hex id, in either case, as Postgres' uuid type accepts it. Checked before a
 * lookup so that a malformed id from a client is "not found" instead of a database error.
 * (zod's `z.uuid()` also checks the RFC version and variant bits; the response schemas use it.)
 */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
