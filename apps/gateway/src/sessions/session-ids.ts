import { randomUUID } from 'node:crypto';
import { isNodeId } from '@switchboard/config';

// The owner of a session is written into what the client sends back, so a node receiving a
// request for someone else's session knows where to forward it without asking Redis:
// Streamable HTTP session ids are `<uuid>.<node>`, legacy SSE endpoints carry `?n=<node>`.

const UUID_LENGTH = 36;

/** The query parameter of a legacy-SSE message endpoint that names the session's node. */
export const SSE_NODE_PARAM = 'n';

export function newSessionId(nodeId: string): string {
  return `${randomUUID()}.${nodeId}`;
}

/**
 * The node named by a session id, if it names one. Nothing here is trusted: a forged name only
 * reaches a node (or nobody) that answers "session not found".
 */
export function ownerOfSessionId(sessionId: string): string | undefined {
  if (sessionId.length <= UUID_LENGTH + 1 || sessionId[UUID_LENGTH] !== '.') return undefined;
  return validNodeId(sessionId.slice(UUID_LENGTH + 1));
}

export function validNodeId(value: unknown): string | undefined {
  return isNodeId(value) ? value : undefined;
}
