import type { ControlEvent } from '@switchboard/coordination';
import { honoredFilter, ListenerRegistry, notificationsFor, type Listener, type ListenFilter, type ListenNotification } from './listener-registry';

const EVERYTHING = { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true, subscribe: true } } as const;

function listener(filter: ListenFilter, overrides: Partial<Listener> = {}): Listener & { heard: ListenNotification[]; ended: number } {
  const heard: ListenNotification[] = [];
  const self = {
    tenantId: 'acme',
    keyId: 'key-1',
    scope: { plugin: undefined, allowed: [], tools: [] },
    filter,
    heard,
    ended: 0,
    deliver: (notification: ListenNotification) => void heard.push(notification),
    end: () => void (self.ended += 1),
    ...overrides,
  };
  return self;
}

describe('honoredFilter', () => {
  it('acknowledges only the types the client asked for with true', () => {
    expect(honoredFilter({ toolsListChanged: true, promptsListChanged: false }, EVERYTHING, () => true)).toEqual({ toolsListChanged: true });
  });

  it('does not acknowledge a type the principal’s catalog does not advertise', () => {
    expect(honoredFilter({ toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true }, { tools: { listChanged: true } }, () => true)).toEqual({
      toolsListChanged: true,
    });
  });

  it('keeps only resource URIs the catalog serves, once each', () => {
    const served = new Set(['test://mine']);
    expect(honoredFilter({ resourceSubscriptions: ['test://mine', 'test://theirs', 'test://mine'] }, EVERYTHING, (uri) => served.has(uri))).toEqual({
      resourceSubscriptions: ['test://mine'],
    });
  });

  it('acknowledges nothing when nothing asked for can be delivered', () => {
    expect(honoredFilter({ resourceSubscriptions: ['test://theirs'] }, EVERYTHING, () => false)).toEqual({});
  });
});

describe('notificationsFor', () => {
  it('tells a listener of an admin change only the lists it asked for', () => {
    const prompts = listener({ promptsListChanged: true });
    expect(notificationsFor(prompts, { type: 'plugins.changed', tenantId: 'acme' })).toEqual([{ method: 'notifications/prompts/list_changed', params: {} }]);
  });

  it('does not tell a prompts-only listener of a tools change', () => {
    const prompts = listener({ promptsListChanged: true });
    expect(notificationsFor(prompts, { type: 'list.changed', tenantId: 'acme', plugin: 'a', list: 'tools' })).toEqual([]);
  });

  it('never tells a listener of another tenant’s change', () => {
    const tools = listener({ toolsListChanged: true, resourceSubscriptions: ['test://x'] });
    const events: ControlEvent[] = [
      { type: 'plugins.changed', tenantId: 'globex' },
      { type: 'list.changed', tenantId: 'globex', plugin: 'a', list: 'tools' },
      { type: 'resource.updated', tenantId: 'globex', plugin: 'a', uri: 'test://x' },
    ];
    expect(events.flatMap((event) => notificationsFor(tools, event))).toEqual([]);
  });

  it('does not tell a key narrowed to plugin a of plugin b’s resource, even under a URI it subscribed to', () => {
    const narrowed = listener({ resourceSubscriptions: ['test://x'] }, { scope: { plugin: undefined, allowed: ['a'], tools: [] } });
    expect(notificationsFor(narrowed, { type: 'resource.updated', tenantId: 'acme', plugin: 'b', uri: 'test://x' })).toEqual([]);
    expect(notificationsFor(narrowed, { type: 'resource.updated', tenantId: 'acme', plugin: 'a', uri: 'test://x' })).toEqual([
      { method: 'notifications/resources/updated', params: { uri: 'test://x' } },
    ]);
  });

  it('does not tell a plugin endpoint’s listener of another plugin’s list change', () => {
    const endpoint = listener({ toolsListChanged: true }, { scope: { plugin: 'a', allowed: [], tools: [] } });
    expect(notificationsFor(endpoint, { type: 'list.changed', tenantId: 'acme', plugin: 'b', list: 'tools' })).toEqual([]);
  });

  it('tells of a resource update only for a URI the listener subscribed to', () => {
    const watcher = listener({ resourceSubscriptions: ['test://x'] });
    expect(notificationsFor(watcher, { type: 'resource.updated', tenantId: 'acme', plugin: 'a', uri: 'test://y' })).toEqual([]);
  });
});

describe('ListenerRegistry', () => {
  it('refuses a tenant’s listener over the cap as too_many_listeners, not another tenant’s', () => {
    const registry = new ListenerRegistry({ maxPerTenant: 1 });
    expect(registry.add(listener({ toolsListChanged: true })).ok).toBe(true);
    expect(registry.add(listener({ toolsListChanged: true }))).toEqual({ ok: false, refusal: { code: 'too_many_listeners', headers: { 'retry-after': '1' } } });
    expect(registry.add(listener({ toolsListChanged: true }, { tenantId: 'globex' })).ok).toBe(true);
  });

  it('frees the slot and stops delivering once a listener is removed', () => {
    const registry = new ListenerRegistry({ maxPerTenant: 1 });
    const gone = listener({ toolsListChanged: true });
    const admission = registry.add(gone);
    if (!admission.ok) throw new Error('refused');
    admission.remove();
    registry.onControlEvent({ type: 'plugins.changed', tenantId: 'acme' });
    expect(gone.heard).toEqual([]);
    expect(registry.count('acme')).toBe(0);
    expect(registry.add(listener({ toolsListChanged: true })).ok).toBe(true);
  });

  it('fans a change out to each of the tenant’s listeners once', () => {
    const registry = new ListenerRegistry({ maxPerTenant: 10 });
    const first = listener({ toolsListChanged: true });
    const second = listener({ toolsListChanged: true });
    registry.add(first);
    registry.add(second);
    registry.onControlEvent({ type: 'list.changed', tenantId: 'acme', plugin: 'a', list: 'tools' });
    expect(first.heard).toHaveLength(1);
    expect(second.heard).toHaveLength(1);
  });

  it('ends the listeners of a revoked key and of a deleted tenant', () => {
    const registry = new ListenerRegistry({ maxPerTenant: 10 });
    const revoked = listener({ toolsListChanged: true }, { keyId: 'key-revoked' });
    const kept = listener({ toolsListChanged: true });
    registry.add(revoked);
    registry.add(kept);
    registry.onControlEvent({ type: 'api-key.revoked', tenantId: 'acme', keyId: 'key-revoked' });
    expect([revoked.ended, kept.ended]).toEqual([1, 0]);
    registry.onControlEvent({ type: 'plugins.changed', tenantId: 'acme' });
    expect(revoked.heard).toEqual([]);
    registry.onControlEvent({ type: 'tenant.deleted', tenantId: 'acme' });
    expect(kept.ended).toBe(1);
    expect(registry.count()).toBe(0);
  });

  it('ends the listen streams of a revoked OAuth grant, and keeps those of other grants and API keys of the same key', () => {
    const registry = new ListenerRegistry({ maxPerTenant: 10 });
    const revoked = listener({ toolsListChanged: true }, { grantId: 'grant-1' });
    const otherGrant = listener({ toolsListChanged: true }, { grantId: 'grant-2' });
    const apiKey = listener({ toolsListChanged: true });
    for (const l of [revoked, otherGrant, apiKey]) registry.add(l);
    registry.onControlEvent({ type: 'oauth-grant.revoked', tenantId: 'acme', grantId: 'grant-1' });
    expect([revoked.ended, otherGrant.ended, apiKey.ended]).toEqual([1, 0, 0]);
    registry.onControlEvent({ type: 'oauth-grant.revoked', tenantId: 'globex', grantId: 'grant-2' });
    expect(otherGrant.ended).toBe(0);
  });

  it('ends the listeners of a key that no longer resolves once its tenant changed (suspension), and keeps the others', async () => {
    const asked: string[] = [];
    let checked!: () => void;
    const done = new Promise<void>((resolve) => (checked = resolve));
    const registry = new ListenerRegistry({
      maxPerTenant: 10,
      keyStillValid: async (keyId) => {
        asked.push(keyId);
        if (asked.length === 2) setImmediate(checked);
        return keyId !== 'key-suspended';
      },
    });
    const suspended = listener({ toolsListChanged: true }, { keyId: 'key-suspended' });
    const valid = listener({ toolsListChanged: true });
    const twice = listener({ toolsListChanged: true });
    for (const one of [suspended, valid, twice]) registry.add(one);
    registry.onControlEvent({ type: 'tenant.changed', tenantId: 'acme' });
    await done;
    expect(asked.sort()).toEqual(['key-1', 'key-suspended']);
    expect([suspended.ended, valid.ended, twice.ended]).toEqual([1, 0, 0]);
    expect(registry.count('acme')).toBe(2);
  });

  it('keeps a listener when its key cannot be checked (the lookup failed)', async () => {
    let checked!: () => void;
    const done = new Promise<void>((resolve) => (checked = resolve));
    const registry = new ListenerRegistry({
      maxPerTenant: 10,
      keyStillValid: async () => {
        setImmediate(checked);
        throw new Error('database down');
      },
    });
    const open = listener({ toolsListChanged: true });
    registry.add(open);
    registry.onControlEvent({ type: 'tenant.changed', tenantId: 'acme' });
    await done;
    expect(open.ended).toBe(0);
  });

  it('ends every listener on close and refuses new ones', () => {
    const registry = new ListenerRegistry({ maxPerTenant: 10 });
    const open = listener({ toolsListChanged: true });
    registry.add(open);
    registry.closeAll();
    expect(open.ended).toBe(1);
    expect(registry.add(listener({ toolsListChanged: true }))).toMatchObject({ ok: false, refusal: { code: 'shutting_down' } });
  });
});
