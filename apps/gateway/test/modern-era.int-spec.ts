import { signalAborts, TESTKIT_TIMEOUT_MS, waitStarts } from './fixtures/testkit-plugin';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness } from './gateway-harness';

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'modern-era-test', version: '1.0.0' },
};
/** Methods whose Mcp-Name header mirrors a param. */
const NAMED: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

interface ModernOptions {
  id?: number | string | null;
  token?: string;
  meta?: Record<string, unknown> | null;
  /** Replaces (or, with undefined values, removes) the standard headers. */
  headers?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  contentType: string | null;
  headers: Headers;
  /** The JSON answer, or an event stream's last event (the final response). */
  body: { id?: unknown; result?: Record<string, any>; error?: { code: number; message: string; data?: any } } | undefined;
  /** An event stream's events in order, the final response last; undefined for a JSON answer. */
  events?: { id?: unknown; method?: string; params?: Record<string, any>; result?: Record<string, any> }[];
}

/** The `data:` of each `event: message` of an SSE body (comments, such as keep-alives, skipped). */
function eventsOf(text: string): NonNullable<Answer['events']> {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)).join('\n'))
    .filter((data) => data !== '')
    .map((data) => JSON.parse(data));
}

describe('MCP 2026-07-28 on the tenant endpoints, beside the 2025 sessions', () => {
  let h: GatewayHarness;
  let token: string;
  let keyId: string;
  let tenantId: string;
  let otherToken: string;

  /** One modern POST, written by hand as the spec's wire has it. */
  async function modern(path: string, method: string, params: Record<string, unknown> = {}, options: ModernOptions = {}): Promise<Answer> {
    return read(await modernResponse(path, method, params, options));
  }

  /** The same POST, its response not read yet. */
  async function modernResponse(path: string, method: string, params: Record<string, unknown> = {}, options: ModernOptions = {}): Promise<Response> {
    const id = options.id === undefined ? 1 : options.id;
    const meta = options.meta === undefined ? META : options.meta;
    const named = NAMED[method];
    const headers: Record<string, string | undefined> = {
      authorization: `Bearer ${options.token ?? token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(named && typeof params[named] === 'string' ? { 'mcp-name': params[named] as string } : {}),
      ...options.headers,
    };
    const body = { jsonrpc: '2.0', ...(id !== null ? { id } : {}), method, params: meta ? { ...params, _meta: meta } : params };
    return post(path, headers, JSON.stringify(body), options.signal);
  }

  async function send(path: string, headers: Record<string, string | undefined>, body: string, signal?: AbortSignal): Promise<Answer> {
    return read(await post(path, headers, body, signal));
  }

  function post(path: string, headers: Record<string, string | undefined>, body: string, signal?: AbortSignal): Promise<Response> {
    const defined = Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return fetch(new URL(path, h.gateway.url), { method: 'POST', headers: defined, body, ...(signal ? { signal } : {}) });
  }

  async function read(response: Response): Promise<Answer> {
    const text = await response.text();
    const answer = { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers };
    if (!answer.contentType?.startsWith('text/event-stream')) return { ...answer, body: text ? JSON.parse(text) : undefined };
    const events = eventsOf(text);
    return { ...answer, body: events.at(-1), events };
  }

  beforeAll(async () => {
    h = await startHarness('gw_modern_era');
    const acme = await h.createTenant('acme');
    tenantId = acme.id;
    for (const plugin of ['testkit', 'echo', 'conformance']) await h.install(acme.id, plugin);
    ({ token, id: keyId } = await h.issueKey(acme.id));
    const globex = await h.createTenant('globex');
    await h.install(globex.id, 'echo');
    otherToken = (await h.issueKey(globex.id)).token;
  });

  afterAll(async () => {
    await h.close();
  });

  describe('serving', () => {
    it('answers server/discover with the supported versions, the catalog’s capabilities and serverInfo', async () => {
      const answer = await modern('/t/acme/mcp', 'server/discover', {}, { id: 'discover-1' });
      expect(answer.status).toBe(200);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.body).toMatchObject({
        id: 'discover-1',
        result: {
          resultType: 'complete',
          supportedVersions: [MODERN],
          capabilities: { tools: {}, prompts: {}, resources: {}, completions: {} },
          ttlMs: 0,
          cacheScope: 'private',
          _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'switchboard', version: expect.any(String) } },
        },
      });
    });

    it('does not advertise what the addressed catalog does not have', async () => {
      const answer = await modern('/t/acme/p/echo/mcp', 'server/discover');
      expect(answer.body?.result?.['capabilities']).toEqual({ tools: { listChanged: true } });
      const prompts = await modern('/t/acme/p/echo/mcp', 'prompts/list');
      expect(prompts.status).toBe(404);
      expect(prompts.body?.error?.code).toBe(-32601);
    });

    it('lists the tenant’s tools with resultType, serverInfo and private, uncached hints', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/list');
      expect(answer.status).toBe(200);
      const result = answer.body!.result!;
      expect(result['tools'].map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['echo__echo', 'testkit__whoami', 'conformance__test_simple_text']));
      expect(result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'switchboard' } } });
    });

    it('calls the echo plugin and a testkit tool with the tenant’s context', async () => {
      const echo = await modern('/t/acme/mcp', 'tools/call', { name: 'echo__echo', arguments: { text: 'modern hello' } }, { id: 11 });
      expect(echo.status).toBe(200);
      expect(echo.body).toMatchObject({ id: 11, result: { resultType: 'complete', content: [{ type: 'text', text: 'modern hello' }] } });
      expect(echo.body?.result?.['_meta']).toMatchObject({ 'io.modelcontextprotocol/serverInfo': { name: 'switchboard' } });
      const whoami = await modern('/t/acme/mcp', 'tools/call', { name: 'testkit__whoami', arguments: {} });
      expect(whoami.body?.result).toMatchObject({ content: [{ type: 'text', text: 'acme hello -' }], structuredContent: { tenant: 'acme' } });
    });

    it('answers a failing tool with an error result and invalid arguments with -32602, like a session', async () => {
      const boom = await modern('/t/acme/mcp', 'tools/call', { name: 'testkit__boom', arguments: {} });
      expect(boom.body?.result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'kaboom' }] });
      const invalid = await modern('/t/acme/mcp', 'tools/call', { name: 'testkit__wait', arguments: { ms: 'soon' } }, { id: 12 });
      expect(invalid.status).toBe(200);
      expect(invalid.body).toMatchObject({ id: 12, error: { code: -32602 } });
    });

    it('serves prompts, resources, templates and completions of a plugin endpoint', async () => {
      const path = '/t/acme/p/conformance/mcp';
      const prompts = await modern(path, 'prompts/list');
      expect(prompts.body?.result).toMatchObject({ ttlMs: 0, cacheScope: 'private', resultType: 'complete' });
      const prompt = await modern(path, 'prompts/get', { name: 'test_simple_prompt' });
      expect(prompt.body?.result).toMatchObject({ resultType: 'complete', messages: expect.any(Array) });
      expect((await modern(path, 'resources/list')).body?.result?.['resources'].length).toBeGreaterThan(0);
      expect((await modern(path, 'resources/templates/list')).body?.result?.['resourceTemplates'].length).toBeGreaterThan(0);
      const read = await modern(path, 'resources/read', { uri: 'test://static-text' });
      expect(read.body?.result).toMatchObject({ ttlMs: 0, cacheScope: 'private', contents: [{ uri: 'test://static-text' }] });
      const completion = await modern(path, 'completion/complete', { ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: '' } });
      expect(completion.body?.result).toMatchObject({ resultType: 'complete', completion: { values: expect.any(Array) } });
    });

    it('answers a resource that does not exist with -32602, not -32002 or empty contents', async () => {
      const answer = await modern('/t/acme/p/conformance/mcp', 'resources/read', { uri: 'test://nonexistent-resource-for-conformance-testing' }, { id: 21 });
      expect(answer.body).toMatchObject({ id: 21, error: { code: -32602 } });
    });

    it('accepts a notification with 202 and no body', async () => {
      const answer = await modern('/t/acme/mcp', 'notifications/initialized', {}, { id: null });
      expect(answer.status).toBe(202);
      expect(answer.body).toBeUndefined();
    });

    it('ignores an Mcp-Session-Id on a modern request and mints none', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/list', {}, { headers: { 'mcp-session-id': 'no-such-session.node-elsewhere' } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('mcp-session-id')).toBeNull();
      expect(h.gateway.activeSessions()).toBe(0);
    });
  });

  describe('refusals, each with its status and code, echoing the id', () => {
    it('refuses a modern header without _meta in the body with 400 -32602', async () => {
      const answer = await modern('/t/acme/mcp', 'server/discover', {}, { id: 101, meta: null });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.body).toMatchObject({ id: 101, error: { code: -32602 } });
    });

    it('refuses an envelope without clientCapabilities with 400 -32602', async () => {
      const answer = await modern('/t/acme/mcp', 'server/discover', {}, { id: 102, meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ id: 102, error: { code: -32602 } });
    });

    it('refuses a header/body version mismatch with 400 -32020', async () => {
      const answer = await modern('/t/acme/mcp', 'server/discover', {}, { id: 103, meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ id: 103, error: { code: -32020 } });
    });

    it('refuses an unsupported version with 400 -32022 listing the versions discover lists', async () => {
      const answer = await modern('/t/acme/mcp', 'server/discover', {}, {
        id: 104,
        meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' },
        headers: { 'mcp-protocol-version': 'v999.0.0' },
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ id: 104, error: { code: -32022, data: { supported: [MODERN], requested: 'v999.0.0' } } });
    });

    it('refuses a wrong or missing Mcp-Method with 400 -32020', async () => {
      const wrong = await modern('/t/acme/mcp', 'tools/list', {}, { id: 105, headers: { 'mcp-method': 'TOOLS/LIST' } });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toMatchObject({ id: 105, error: { code: -32020 } });
      const missing = await modern('/t/acme/mcp', 'tools/list', {}, { id: 106, headers: { 'mcp-method': undefined } });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ id: 106, error: { code: -32020 } });
    });

    it('refuses a missing, mismatched or badly encoded Mcp-Name with 400 -32020 and takes a valid sentinel', async () => {
      const call = { name: 'echo__echo', arguments: { text: 'x' } };
      const missing = await modern('/t/acme/mcp', 'tools/call', call, { id: 107, headers: { 'mcp-name': undefined } });
      expect([missing.status, missing.body?.id, missing.body?.error?.code]).toEqual([400, 107, -32020]);
      const other = await modern('/t/acme/mcp', 'tools/call', call, { id: 108, headers: { 'mcp-name': 'testkit__boom' } });
      expect([other.status, other.body?.id, other.body?.error?.code]).toEqual([400, 108, -32020]);
      const encoded = Buffer.from('echo__echo').toString('base64');
      const sentinel = await modern('/t/acme/mcp', 'tools/call', call, { headers: { 'mcp-name': `=?base64?${encoded}?=` } });
      expect(sentinel.status).toBe(200);
      const badPadding = await modern('/t/acme/mcp', 'tools/call', call, { id: 109, headers: { 'mcp-name': `=?base64?${encoded.replace(/=+$/, '')}?=` } });
      expect([badPadding.status, badPadding.body?.error?.code]).toEqual([400, -32020]);
    });

    it('refuses a batch holding a modern request with 400 -32600', async () => {
      const body = JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } }]);
      const answer = await send('/t/acme/mcp', { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body);
      expect(answer.status).toBe(400);
      expect(answer.body?.error?.code).toBe(-32600);
    });

    it.each(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'unknown/method'])(
      'answers %s with a modern envelope with 404 -32601',
      async (method) => {
        const answer = await modern('/t/acme/mcp', method, method.startsWith('resources/') ? { uri: 'test://static-text' } : {}, { id: 301 });
        expect(answer.status).toBe(404);
        expect(answer.body).toMatchObject({ id: 301, error: { code: -32601 } });
      },
    );

    it('answers a tool that needs sampling from a client that did not declare it with 400 -32021', async () => {
      const answer = await modern('/t/acme/p/conformance/mcp', 'tools/call', { name: 'test_sampling', arguments: { prompt: 'hi' } }, { id: 401 });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ id: 401, error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } } });
    });
  });

  describe('the credential rules stay as they are', () => {
    it('refuses another tenant’s key exactly as it refuses a 2025 request (404)', async () => {
      const modernAnswer = await modern('/t/acme/mcp', 'tools/list', {}, { token: otherToken });
      const initialize = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } },
      });
      const legacy = await send('/t/acme/mcp', { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, initialize);
      expect(modernAnswer.status).toBe(404);
      expect([modernAnswer.status, modernAnswer.body]).toEqual([legacy.status, legacy.body]);
    });

    it('shows a narrowed tenant token only its plugins', async () => {
      const narrowed = h.tokens.mint({ tenantId, keyId, subject: 'alice', plugins: ['echo'] }).token;
      const answer = await modern('/t/acme/mcp', 'tools/list', {}, { token: narrowed });
      expect(answer.body?.result?.['tools'].map((t: { name: string }) => t.name)).toEqual(['echo__echo']);
      const call = await modern('/t/acme/mcp', 'tools/call', { name: 'testkit__whoami', arguments: {} }, { token: narrowed, id: 7 });
      expect(call.body).toMatchObject({ id: 7, error: { code: -32602 } });
    });
  });

  it('keeps serving a 2025 client (SDK v1) on the same URL', async () => {
    const client = await connectClient(h.gateway.url, '/t/acme', token, 'streamable-http');
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo__echo');
      expect((await client.callTool({ name: 'echo__echo', arguments: { text: 'legacy' } })).content).toEqual([{ type: 'text', text: 'legacy' }]);
      expect(h.gateway.activeSessions()).toBe(1);
    } finally {
      await disconnect(client);
    }
  });

  describe('request-scoped notifications (response mode "auto")', () => {
    const chatty = { name: 'testkit__chatty', arguments: {} };

    it('streams a tool’s progress, then its result, when the request carries a progressToken', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/call', chatty, { id: 501, meta: { ...META, progressToken: 'chatty-1' } });
      expect(answer.status).toBe(200);
      expect(answer.contentType).toMatch(/^text\/event-stream/);
      expect(answer.headers.get('x-accel-buffering')).toBe('no');
      // No logLevel: the tool's logs are not sent.
      expect(answer.events).toEqual([
        { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'chatty-1', progress: 1, total: 2, message: 'half' } },
        { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'chatty-1', progress: 2, total: 2, message: 'done' } },
        expect.objectContaining({ id: 501, result: expect.objectContaining({ resultType: 'complete', content: [{ type: 'text', text: 'chatted' }] }) }),
      ]);
    });

    it('answers JSON with no notifications when the request has neither a progressToken nor a logLevel', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/call', chatty, { id: 502 });
      expect(answer.status).toBe(200);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.events).toBeUndefined();
      expect(answer.body).toMatchObject({ id: 502, result: { content: [{ type: 'text', text: 'chatted' }] } });
    });

    it('sends only the logs at or above the request’s logLevel', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/call', chatty, { id: 503, meta: { ...META, 'io.modelcontextprotocol/logLevel': 'error' } });
      expect(answer.contentType).toMatch(/^text\/event-stream/);
      expect(answer.events).toEqual([
        { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'error', logger: 'testkit', data: 'something went wrong' } },
        expect.objectContaining({ id: 503, result: expect.objectContaining({ content: [{ type: 'text', text: 'chatted' }] }) }),
      ]);
    });

    it('refuses an unrecognised logLevel with 400 -32602', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/call', chatty, { id: 504, meta: { ...META, 'io.modelcontextprotocol/logLevel': 'loud' } });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ id: 504, error: { code: -32602 } });
    });

    it('aborts the tool when the client closes its SSE response stream', async () => {
      const aborts = signalAborts.count;
      const controller = new AbortController();
      const calledAt = Date.now();
      const response = await modernResponse('/t/acme/mcp', 'tools/call', { name: 'testkit__hang', arguments: {} }, {
        meta: { ...META, progressToken: 7 },
        signal: controller.signal,
      });
      // The headers came with the first notification, long before any result.
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const first = await response.body!.getReader().read();
      expect(eventsOf(new TextDecoder().decode(first.value))).toEqual([
        { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 7, progress: 0, message: 'hanging' } },
      ]);
      controller.abort();
      await eventually(() => signalAborts.count === aborts + 1);
      // The closed stream aborted it, not the plugin's timeout.
      expect(Date.now() - calledAt).toBeLessThan(TESTKIT_TIMEOUT_MS);
    });
  });

  it('aborts the tool’s signal when the client closes the request', async () => {
    const aborts = signalAborts.count;
    const started = waitStarts.count;
    const controller = new AbortController();
    const calledAt = Date.now();
    const call = modern('/t/acme/mcp', 'tools/call', { name: 'testkit__wait', arguments: { ms: 5_000 } }, { signal: controller.signal });
    await eventually(() => waitStarts.count > started);
    controller.abort();
    await expect(call).rejects.toThrow();
    await eventually(() => signalAborts.count === aborts + 1);
    // The disconnect aborted it, not the plugin's timeout.
    expect(Date.now() - calledAt).toBeLessThan(TESTKIT_TIMEOUT_MS);
    // The node carries on: the next modern call is answered.
    expect((await modern('/t/acme/mcp', 'tools/call', { name: 'testkit__wait', arguments: { ms: 1 } })).body?.result).toMatchObject({ content: [{ type: 'text', text: 'waited 1' }] });
  });
});
