import path from 'node:path';
import { eventually, startHarness, TESTKIT_PLUGIN, type GatewayHarness } from './gateway-harness';

const WATCH_PLUGIN = path.join(__dirname, 'fixtures', 'watch-plugin');
const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'modern-listen-test', version: '1.0.0' },
};
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const MAX_LISTENERS = 4;

interface Frame {
  id?: unknown;
  method?: string;
  params?: Record<string, any>;
  result?: Record<string, any>;
  error?: { code: number; message: string };
}

/** An open `subscriptions/listen` stream, read frame by frame (keep-alive comments skipped). */
interface Listen {
  response: Response;
  next(): Promise<Frame | undefined>;
  close(): Promise<void>;
}

function headersFor(token: string, method: string, name?: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name !== undefined ? { 'mcp-name': name } : {}),
  };
}

describe('MCP 2026-07-28 subscriptions/listen', () => {
  let h: GatewayHarness;
  let acmeId: string;
  let globexId: string;
  let token: string;
  let narrowedToken: string;
  let globexToken: string;
  let nextId = 100;

  async function listen(notifications: Record<string, unknown>, options: { token?: string; path?: string; id?: number | string } = {}): Promise<Listen> {
    const id = options.id ?? nextId++;
    const abort = new AbortController();
    const response = await fetch(new URL(options.path ?? '/t/acme/mcp', h.gateway.url), {
      method: 'POST',
      headers: headersFor(options.token ?? token, 'subscriptions/listen'),
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: META, notifications } }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    const frames: Frame[] = [];
    return {
      response,
      async next() {
        while (frames.length === 0) {
          const blocks = buffered.split('\n\n');
          buffered = blocks.pop()!;
          for (const block of blocks) {
            const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)).join('\n');
            if (data !== '') frames.push(JSON.parse(data) as Frame);
          }
          if (frames.length > 0) break;
          const { value, done } = await reader.read();
          if (done) return undefined;
          buffered += decoder.decode(value, { stream: true });
        }
        return frames.shift();
      },
      async close() {
        abort.abort();
        await reader.cancel().catch(() => undefined);
      },
    };
  }

  /** A modern tools/call, answered as JSON. */
  async function call(name: string, args: Record<string, unknown> = {}, options: { token?: string; path?: string } = {}): Promise<Frame> {
    const response = await fetch(new URL(options.path ?? '/t/acme/mcp', h.gateway.url), {
      method: 'POST',
      headers: headersFor(options.token ?? token, 'tools/call', name),
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { _meta: META, name, arguments: args } }),
    });
    return (await response.json()) as Frame;
  }

  /** Opens a listener and reads its acknowledgement. */
  async function acknowledged(notifications: Record<string, unknown>, options: { token?: string; path?: string; id?: number | string } = {}) {
    const stream = await listen(notifications, options);
    const ack = await stream.next();
    expect({ status: stream.response.status, method: ack?.method }).toEqual({ status: 200, method: 'notifications/subscriptions/acknowledged' });
    return { stream, ack: ack! };
  }

  beforeAll(async () => {
    h = await startHarness('gw_modern_listen', { PLUGINS: `${TESTKIT_PLUGIN},${WATCH_PLUGIN}`, MAX_LISTENERS_PER_TENANT: String(MAX_LISTENERS) });
    const acme = await h.createTenant('acme');
    acmeId = acme.id;
    for (const plugin of ['conformance', 'watch']) await h.install(acme.id, plugin);
    token = (await h.issueKey(acme.id)).token;
    narrowedToken = (await h.issueKey(acme.id, { plugins: ['conformance'] })).token;
    const globex = await h.createTenant('globex');
    globexId = globex.id;
    await h.install(globex.id, 'conformance');
    globexToken = (await h.issueKey(globex.id)).token;
  });

  afterAll(async () => {
    await h.close();
  });

  it('advertises listChanged and subscribe in server/discover', async () => {
    const response = await fetch(new URL('/t/acme/mcp', h.gateway.url), {
      method: 'POST',
      headers: headersFor(token, 'server/discover'),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: META } }),
    });
    const body = (await response.json()) as Frame;
    expect(body.result?.['capabilities']).toMatchObject({ tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true } });
  });

  it('acknowledges first, with the subscription id, only what it can deliver', async () => {
    const stream = await listen(
      { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: false, resourceSubscriptions: ['test://watched-resource', 'nothing://here'] },
      { id: 'listen-ack' },
    );
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await stream.next()).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: {
          notifications: { toolsListChanged: true, promptsListChanged: true, resourceSubscriptions: ['test://watched-resource'] },
          _meta: { [SUBSCRIPTION_ID]: 'listen-ack' },
        },
      });
    } finally {
      await stream.close();
    }
  });

  it('tags each change with the subscription id and sends only the types asked for', async () => {
    const tools = await acknowledged({ toolsListChanged: true }, { id: 7 });
    const prompts = await acknowledged({ promptsListChanged: true }, { id: 8 });
    try {
      expect((await call('conformance__test_trigger_tool_change')).result?.['content']).toEqual([{ type: 'text', text: 'Tool list change announced' }]);
      await call('conformance__test_trigger_prompt_change');
      expect(await tools.stream.next()).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { [SUBSCRIPTION_ID]: 7 } } });
      // The prompts-only stream's first change is the prompt change: the tools change never came.
      expect(await prompts.stream.next()).toEqual({ jsonrpc: '2.0', method: 'notifications/prompts/list_changed', params: { _meta: { [SUBSCRIPTION_ID]: 8 } } });
    } finally {
      await tools.stream.close();
      await prompts.stream.close();
    }
  });

  it('tells a listener when an admin enables a plugin, and the next list has its tools', async () => {
    const tools = await acknowledged({ toolsListChanged: true });
    try {
      await h.install(acmeId, 'echo');
      await h.bus.publish({ type: 'plugins.changed', tenantId: acmeId });
      expect((await tools.stream.next())?.method).toBe('notifications/tools/list_changed');
      const response = await fetch(new URL('/t/acme/mcp', h.gateway.url), {
        method: 'POST',
        headers: headersFor(token, 'tools/list'),
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: META } }),
      });
      const listed = ((await response.json()) as Frame).result?.['tools'] as { name: string }[];
      expect(listed.map((tool) => tool.name)).toContain('echo__echo');
    } finally {
      await tools.stream.close();
    }
  });

  it('never tells a listener of another tenant’s changes', async () => {
    const acme = await acknowledged({ toolsListChanged: true, promptsListChanged: true });
    try {
      await call('conformance__test_trigger_tool_change', {}, { token: globexToken, path: '/t/globex/mcp' });
      await h.bus.publish({ type: 'plugins.changed', tenantId: globexId });
      await call('conformance__test_trigger_prompt_change');
      expect((await acme.stream.next())?.method).toBe('notifications/prompts/list_changed');
    } finally {
      await acme.stream.close();
    }
  });

  it('does not let a key narrowed to one plugin subscribe to, or hear of, another plugin’s resources', async () => {
    const narrowed = await acknowledged({ toolsListChanged: true, resourceSubscriptions: ['test://watched-resource', 'watch://a'] }, { token: narrowedToken });
    const wide = await acknowledged({ resourceSubscriptions: ['test://watched-resource', 'watch://a'] });
    try {
      expect(narrowed.ack.params?.['notifications']).toEqual({ toolsListChanged: true, resourceSubscriptions: ['test://watched-resource'] });
      // The watch plugin names a URI the narrowed key subscribed to, and changes its own tools.
      await call('watch__touch', { uri: 'test://watched-resource' });
      await call('watch__change', { list: 'tools' });
      await call('conformance__test_trigger_tool_change');
      expect(await wide.stream.next()).toMatchObject({ method: 'notifications/resources/updated', params: { uri: 'test://watched-resource' } });
      // The narrowed stream's first change is the conformance plugin's: nothing of the watch plugin came.
      expect((await narrowed.stream.next())?.method).toBe('notifications/tools/list_changed');
      await call('watch__touch', { uri: 'watch://a' });
      expect(await wide.stream.next()).toMatchObject({ method: 'notifications/resources/updated', params: { uri: 'watch://a', _meta: { [SUBSCRIPTION_ID]: expect.any(Number) } } });
    } finally {
      await narrowed.stream.close();
      await wide.stream.close();
    }
  });

  it('acknowledges an empty filter and ends the subscription at once', async () => {
    const stream = await listen({ promptsListChanged: false }, { id: 'empty' });
    expect((await stream.next())?.params?.['notifications']).toEqual({});
    expect(await stream.next()).toMatchObject({ id: 'empty', result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: 'empty' } } });
    expect(await stream.next()).toBeUndefined();
  });

  it('answers a listen without its notifications filter with -32602', async () => {
    const response = await fetch(new URL('/t/acme/mcp', h.gateway.url), {
      method: 'POST',
      headers: headersFor(token, 'subscriptions/listen'),
      body: JSON.stringify({ jsonrpc: '2.0', id: 'bad', method: 'subscriptions/listen', params: { _meta: META } }),
    });
    expect(await response.json()).toMatchObject({ id: 'bad', error: { code: -32602 } });
  });

  it('refuses a tenant’s listener over its cap with 429, and frees the slot when a client closes its stream', async () => {
    const open = await Promise.all(Array.from({ length: MAX_LISTENERS }, () => acknowledged({ toolsListChanged: true })));
    try {
      const refused = await listen({ toolsListChanged: true });
      expect(refused.response.status).toBe(429);
      expect(refused.response.headers.get('retry-after')).toBe('1');
      // Another tenant's listeners are not counted against this one.
      const other = await acknowledged({ toolsListChanged: true }, { token: globexToken, path: '/t/globex/mcp' });
      await other.stream.close();
      await open.pop()!.stream.close();
      await eventually(async () => {
        const again = await listen({ toolsListChanged: true });
        if (again.response.status !== 200) return false;
        open.push({ stream: again, ack: (await again.next())! });
        return true;
      });
    } finally {
      await Promise.all(open.map(({ stream }) => stream.close()));
    }
  });

  it('ends the streams of a revoked key and of a suspended tenant, and hears nothing after', async () => {
    const initech = await h.createTenant('initech');
    await h.install(initech.id, 'conformance');
    const revoked = await h.issueKey(initech.id);
    const kept = await h.issueKey(initech.id);
    const options = (key: { token: string }, id: string) => ({ token: key.token, path: '/t/initech/mcp', id });
    const ofRevoked = await acknowledged({ toolsListChanged: true }, options(revoked, 'revoked'));
    const ofKept = await acknowledged({ toolsListChanged: true }, options(kept, 'kept'));
    await h.prisma.apiKey.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
    await h.bus.publish({ type: 'api-key.revoked', tenantId: initech.id, keyId: revoked.id });
    expect(await ofRevoked.stream.next()).toMatchObject({ id: 'revoked', result: { resultType: 'complete' } });
    expect(await ofRevoked.stream.next()).toBeUndefined();
    await h.prisma.tenant.update({ where: { id: initech.id }, data: { status: 'suspended' } });
    await h.bus.publish({ type: 'tenant.changed', tenantId: initech.id });
    expect(await ofKept.stream.next()).toMatchObject({ id: 'kept', result: { resultType: 'complete' } });
    expect(await ofKept.stream.next()).toBeUndefined();
  });

  it('ends the stream of a credential when it expires', async () => {
    const expiring = await h.issueKey(globexId, { expiresAt: new Date(Date.now() + 1_000) });
    const { stream } = await acknowledged({ toolsListChanged: true }, { token: expiring.token, path: '/t/globex/mcp', id: 'expiring' });
    expect(await stream.next()).toMatchObject({ id: 'expiring', result: { resultType: 'complete' } });
    expect(await stream.next()).toBeUndefined();
  });

  // Last: closes the gateway.
  it('ends every listen stream with its final result when the gateway shuts down', async () => {
    // Another tenant's: the slots the cap test freed are given back as their sockets close.
    const tools = await acknowledged({ toolsListChanged: true }, { id: 'shutdown', token: globexToken, path: '/t/globex/mcp' });
    const closing = h.gateway.close();
    const result = await tools.stream.next();
    await closing;
    expect(result).toEqual({
      jsonrpc: '2.0',
      id: 'shutdown',
      result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: 'shutdown', 'io.modelcontextprotocol/serverInfo': { name: 'switchboard', version: expect.any(String) } } },
    });
    expect(await tools.stream.next()).toBeUndefined();
  });
});
