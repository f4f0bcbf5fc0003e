/**
 * Control events tell every node that admin data changed, so caches and open sessions follow
 * within a second: the API publishes them, gateways subscribe.
 */
export type ControlEvent =
  | { type: 'api-key.revoked'; tenantId: string; keyId: string }
  /** An OAuth grant ended (admin, user, refresh-token reuse): its access tokens stop on every node. */
  | { type: 'oauth-grant.revoked'; tenantId: string; grantId: string }
  | { type: 'tenant.changed'; tenantId: string }
  | { type: 'tenant.deleted'; tenantId: string }
  | { type: 'plugins.changed'; tenantId: string }
  | { type: 'session.terminate'; sessionId: string }
  | PluginAnnouncement;

/** A list a plugin says changed: its clients are told to list it again. */
export type AnnouncedList = 'tools' | 'prompts' | 'resources';

/**
 * What a plugin announces from a tool call, published once by the node that ran it and heard by
 * every node (its own included): sessions and `subscriptions/listen` streams of the tenant whose
 * grant covers the plugin.
 */
export type PluginAnnouncement =
  | { type: 'list.changed'; tenantId: string; plugin: string; list: AnnouncedList }
  | { type: 'resource.updated'; tenantId: string; plugin: string; uri: string };

export type ControlEventHandler = (event: ControlEvent) => void;

/** Fan-out of control events to every node (in-process, or Redis pub/sub across nodes). */
export interface ControlBus {
  publish(event: ControlEvent): Promise<void>;
  /** Returns a function that removes the handler. */
  subscribe(handler: ControlEventHandler): () => void;
  close(): Promise<void>;
}
