import type { AnnouncedList, ControlEvent } from '@switchboard/coordination';
import type { Refusal } from '../protocol/jsonrpc-errors';
import type { CatalogScope } from '../tenants/tenant-plugins';

// MCP 2026-07-28 `subscriptions/listen` on this node: the open listen streams by tenant, and the
// decisions of what each one hears. A change is published once on the control bus; every node
// hears it and hands it here, and this node tells its own listeners only.

/**
 * The notification types a client opts in to (SubscriptionFilter). Each is opt-in: "the server
 * MUST NOT send a notification type the client has not explicitly requested".
 */
export interface ListenFilter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/** A filter as the client sent it (SubscriptionFilter, validated). */
export interface RequestedFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** A change notification as a listen stream carries it (before the subscription id is stamped on). */
export interface ListenNotification {
  method: 'notifications/tools/list_changed' | 'notifications/prompts/list_changed' | 'notifications/resources/list_changed' | 'notifications/resources/updated';
  params: Record<string, unknown>;
}

/** One open listen stream. */
export interface Listener {
  tenantId: string;
  /** The key the stream was opened with (directly or through a tenant token): revoked, the stream ends. */
  keyId: string;
  /** The OAuth grant of the access token it was opened with, if any: revoked, the stream ends. */
  grantId?: string | undefined;
  /** The endpoint's plugin and the credential's grant: what the listener may hear of. */
  scope: CatalogScope;
  /** What was acknowledged, never more. */
  filter: ListenFilter;
  deliver(notification: ListenNotification): void;
  /** Ends the subscription gracefully (its final result, then the end of the stream). */
  end(): void;
}

export type ListenerAdmission = { ok: true; remove: () => void } | { ok: false; refusal: Refusal };

const LIST_FLAG: Record<AnnouncedList, 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged'> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
};
const LIST_METHOD: Record<AnnouncedList, ListenNotification['method']> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};
const ALL_LISTS: readonly AnnouncedList[] = ['tools', 'prompts', 'resources'];

/** What the server can deliver to this principal's catalog (its `server/discover` capabilities). */
export interface DeliverableCapabilities {
  tools?: { listChanged?: boolean };
  prompts?: { listChanged?: boolean };
  resources?: { listChanged?: boolean; subscribe?: boolean };
}

/**
 * The part of a requested filter the server agrees to honour, sent back in
 * `notifications/subscriptions/acknowledged`: only types explicitly requested (`false` and absent
 * are dropped), only those the principal's catalog advertises, and only resource URIs the
 * catalog serves (a key narrowed to other plugins cannot subscribe to a URI it could not read).
 */
export function honoredFilter(requested: RequestedFilter, capabilities: DeliverableCapabilities, serves: (uri: string) => boolean): ListenFilter {
  const honored: ListenFilter = {};
  if (requested.toolsListChanged === true && capabilities.tools?.listChanged === true) honored.toolsListChanged = true;
  if (requested.promptsListChanged === true && capabilities.prompts?.listChanged === true) honored.promptsListChanged = true;
  if (requested.resourcesListChanged === true && capabilities.resources?.listChanged === true) honored.resourcesListChanged = true;
  if (capabilities.resources?.subscribe === true) {
    const served = [...new Set((requested.resourceSubscriptions ?? []).filter(serves))];
    if (served.length > 0) honored.resourceSubscriptions = served;
  }
  return honored;
}

/** Whether a filter asks for nothing at all (the subscription then ends as soon as it is acknowledged). */
export function isEmptyFilter(filter: ListenFilter): boolean {
  return Object.keys(filter).length === 0;
}

/**
 * What one listener hears of one control event: nothing unless the event is its tenant's, the
 * type was acknowledged, and (for a plugin's own announcement) its scope covers that plugin.
 */
export function notificationsFor(listener: Listener, event: ControlEvent): ListenNotification[] {
  if (!('tenantId' in event) || event.tenantId !== listener.tenantId) return [];
  switch (event.type) {
    // An admin change: any of the tenant's lists may differ now.
    case 'plugins.changed':
      return ALL_LISTS.filter((list) => listener.filter[LIST_FLAG[list]] === true).map((list) => ({ method: LIST_METHOD[list], params: {} }));
    case 'list.changed':
      if (!scopeSees(listener.scope, event.plugin) || listener.filter[LIST_FLAG[event.list]] !== true) return [];
      return [{ method: LIST_METHOD[event.list], params: {} }];
    case 'resource.updated':
      if (!scopeSees(listener.scope, event.plugin) || !listener.filter.resourceSubscriptions?.includes(event.uri)) return [];
      return [{ method: 'notifications/resources/updated', params: { uri: event.uri } }];
    default:
      return [];
  }
}

/** Whether an endpoint scope and its credential's grant show `plugin` (a session or a listener hears only of those). */
export function scopeSees(scope: CatalogScope, plugin: string): boolean {
  return (scope.plugin === undefined || scope.plugin === plugin) && (scope.allowed.length === 0 || scope.allowed.includes(plugin));
}

export interface ListenerRegistryOptions {
  /** MAX_LISTENERS_PER_TENANT: open listen streams one tenant may hold on this node. */
  maxPerTenant: number;
  /**
   * Whether a key still resolves (asked again when its tenant changed: suspension, a rotation's
   * new expiry). False ends its streams; a failed lookup should answer true, as sessions do.
   */
  keyStillValid?: (keyId: string) => Promise<boolean>;
}

/**
 * This node's listen streams, by tenant. A listen stream is long-lived, so it holds no
 * in-progress request slot; it counts against a cap of its own per tenant instead.
 */
export class ListenerRegistry {
  private readonly byTenant = new Map<string, Set<Listener>>();
  private closing = false;

  constructor(private readonly options: ListenerRegistryOptions) {}

  /** Registers a listener, or refuses it (tenant over its cap, node shutting down). */
  add(listener: Listener): ListenerAdmission {
    if (this.closing) return { ok: false, refusal: { code: 'shutting_down', headers: { 'retry-after': '1' } } };
    const own = this.byTenant.get(listener.tenantId) ?? new Set<Listener>();
    if (own.size >= this.options.maxPerTenant) return { ok: false, refusal: { code: 'too_many_listeners', headers: { 'retry-after': '1' } } };
    own.add(listener);
    this.byTenant.set(listener.tenantId, own);
    return { ok: true, remove: () => this.remove(listener) };
  }

  /** Open listen streams: all of them, or one tenant's. */
  count(tenantId?: string): number {
    if (tenantId !== undefined) return this.byTenant.get(tenantId)?.size ?? 0;
    let total = 0;
    for (const own of this.byTenant.values()) total += own.size;
    return total;
  }

  /** A control event (from the bus, or this node's own when the bus is away): fan-out to this node's listeners. */
  onControlEvent(event: ControlEvent): void {
    switch (event.type) {
      case 'api-key.revoked':
        // The key's streams end as its sessions do: nothing more reaches a revoked credential.
        this.endWhere(event.tenantId, (listener) => listener.keyId === event.keyId);
        return;
      case 'oauth-grant.revoked':
        this.endWhere(event.tenantId, (listener) => listener.grantId === event.grantId);
        return;
      case 'tenant.deleted':
        this.endWhere(event.tenantId, () => true);
        return;
      case 'tenant.changed':
        void this.recheckKeys(event.tenantId);
        return;
      case 'session.terminate':
        return;
      default:
        for (const listener of [...(this.byTenant.get(event.tenantId) ?? [])]) {
          for (const notification of notificationsFor(listener, event)) listener.deliver(notification);
        }
    }
  }

  /** Shutdown: refuses new listeners and ends every open one gracefully. */
  closeAll(): void {
    this.closing = true;
    for (const own of [...this.byTenant.values()]) for (const listener of [...own]) listener.end();
    this.byTenant.clear();
  }

  /** A suspended tenant's (or a no longer valid key's) streams end, as its sessions close. */
  private async recheckKeys(tenantId: string): Promise<void> {
    const check = this.options.keyStillValid;
    if (!check) return;
    const keyIds = new Set([...(this.byTenant.get(tenantId) ?? [])].map((listener) => listener.keyId));
    for (const keyId of keyIds) {
      if (!(await check(keyId).catch(() => true))) this.endWhere(tenantId, (listener) => listener.keyId === keyId);
    }
  }

  private endWhere(tenantId: string, predicate: (listener: Listener) => boolean): void {
    for (const listener of [...(this.byTenant.get(tenantId) ?? [])]) {
      if (!predicate(listener)) continue;
      this.remove(listener);
      listener.end();
    }
  }

  private remove(listener: Listener): void {
    const own = this.byTenant.get(listener.tenantId);
    if (!own?.delete(listener)) return;
    if (own.size === 0) this.byTenant.delete(listener.tenantId);
  }
}
