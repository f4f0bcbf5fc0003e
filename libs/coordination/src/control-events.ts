/**
 * Control events tell every node that admin data changed, so caches and open sessions follow
 * within a second: the API publishes them, gateways subscribe.
 */
export type ControlEvent =
  | { type: 'api-key.revoked'; tenantId: string; keyId: string }
  | { type: 'tenant.changed'; tenantId: string }
  | { type: 'tenant.deleted'; tenantId: string }
  | { type: 'plugins.changed'; tenantId: string }
  | { type: 'session.terminate'; sessionId: string };

export type ControlEventHandler = (event: ControlEvent) => void;

/** Fan-out of control events to every node (in-process, or Redis pub/sub across nodes). */
export interface ControlBus {
  publish(event: ControlEvent): Promise<void>;
  /** Returns a function that removes the handler. */
  subscribe(handler: ControlEventHandler): () => void;
  close(): Promise<void>;
}
