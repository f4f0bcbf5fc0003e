import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  LoggingMessageNotificationSchema,
  McpError,
  ToolListChangedNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { signalAborts, TESTKIT_TIMEOUT_MS, waitStarts } from './fixtures/testkit-plugin';
import { connectClient, disconnect, eventually, startHarness, type GatewayHarness, type TransportName } from './gateway-harness';

describe.each<TransportName>(['streamable-http', 'sse'])('tool calls over %s', (transport) => {
  let h: GatewayHarness;
  let tenant: { id: string; slug: string };
  let token: string;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness(`gw_calls_${transport === 'sse' ? 'sse' : 'http'}`);
    tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'testkit');
    token = (await h.issueKey(tenant.id)).token;
  });

  beforeEach(async () => {
    client = await connectClient(h.gateway.url, '/t/acme', token, transport);
  });

  afterEach(async () => {
    await disconnect(client);
  });

  afterAll(async () => {
    await h.close();
  });

  it('turns a throwing handler into an isError result with its message', async () => {
    const result = await client.callTool({ name: 'testkit__boom', arguments: {} });
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'kaboom' }] });
  });

  it('aborts a handler that runs past its plugin timeout and answers with an error result', async () => {
    const aborts = signalAborts.count;
    const started = Date.now();
    const result = await client.callTool({ name: 'testkit__hang', arguments: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TESTKIT_TIMEOUT_MS - 20);
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/timed out after 300 ms/);
    expect(signalAborts.count).toBe(aborts + 1);
  });

  it('answers invalid arguments with JSON-RPC invalid params naming the problem', async () => {
    const error = await client.callTool({ name: 'testkit__wait', arguments: { ms: 'soon' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((error as McpError).message).toMatch(/ms/);
  });

  it('answers an unknown tool with invalid params', async () => {
    const error = await client.callTool({ name: 'testkit__nope', arguments: {} }).catch((e: unknown) => e);
    expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
  });

  it('relays progress notifications to the caller', async () => {
    const progress: number[] = [];
    await client.callTool({ name: 'testkit__chatty', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2]);
  });

  it('sends log notifications at or above the level the session set', async () => {
    const messages: LoggingMessageNotification['params'][] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
    await client.setLoggingLevel('error');
    await client.callTool({ name: 'testkit__chatty', arguments: {} });
    await eventually(() => messages.length > 0);
    expect(messages).toEqual([{ level: 'error', logger: 'testkit', data: 'something went wrong' }]);
  });

  it('aborts the handler’s signal when the client cancels the call', async () => {
    const aborts = signalAborts.count;
    const started = waitStarts.count;
    const controller = new AbortController();
    const call = client.callTool({ name: 'testkit__wait', arguments: { ms: 5_000 } }, undefined, { signal: controller.signal });
    // Cancel once the handler runs: a cancellation that overtakes its call is ignored, as the spec says.
    await eventually(() => waitStarts.count > started);
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await eventually(() => signalAborts.count === aborts + 1);
    // The session carries on.
    expect((await client.callTool({ name: 'testkit__wait', arguments: { ms: 1 } })).content).toEqual([{ type: 'text', text: 'waited 1' }]);
  });

  it('tells open sessions that the tool list changed when a plugin is enabled, and new sessions see it', async () => {
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await h.install(tenant.id, 'echo');
    await h.bus.publish({ type: 'plugins.changed', tenantId: tenant.id });
    await changed;
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo__echo');
    await h.prisma.pluginInstallation.deleteMany({ where: { tenantId: tenant.id, plugin: 'echo' } });
    await h.bus.publish({ type: 'plugins.changed', tenantId: tenant.id });
  });

  it('leaves no session behind when clients disconnect', async () => {
    await eventually(() => h.gateway.activeSessions() === 1);
    const more = await Promise.all([1, 2, 3].map(() => connectClient(h.gateway.url, '/t/acme', token, transport)));
    expect(h.gateway.activeSessions()).toBe(4);
    await Promise.all(more.map((c) => disconnect(c)));
    await eventually(() => h.gateway.activeSessions() === 1);
  });
});
