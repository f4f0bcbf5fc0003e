import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import path from 'node:path';
import { connectClient, disconnect, startHarness, TESTKIT_PLUGIN, type GatewayHarness } from './gateway-harness';
import { lifecycle } from './fixtures/lifecycle-plugin';
import { firstText } from '@switchboard/testing';

const LIFECYCLE_PLUGIN = path.join(__dirname, 'fixtures', 'lifecycle-plugin');

// The gateway sets its plugins up once at start, with the platform's outbound policy on the
// context, hands each call the state its plugin's setup made, and closes them at shutdown.
describe('plugin lifecycle through a real gateway', () => {
  let h: GatewayHarness;
  let client: Client;

  beforeAll(async () => {
    h = await startHarness('plugin_lifecycle', { PLUGINS: `${TESTKIT_PLUGIN},${LIFECYCLE_PLUGIN}`, OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    const tenant = await h.createTenant('acme');
    await h.install(tenant.id, 'lifecycle');
    client = await connectClient(h.gateway.url, '/t/acme', (await h.issueKey(tenant.id)).token, 'streamable-http');
  });
  afterAll(async () => {
    await disconnect(client);
    await h.close();
  });

  it('sets the plugin up once at start, with the operator\'s outbound policy', () => {
    expect(lifecycle.events).toEqual(['setup state-1']);
    expect(lifecycle.policies).toEqual([['127.0.0.1/32']]);
  });

  it('hands every call the state setup made, and no other plugin\'s storage', async () => {
    expect(JSON.parse(firstText(await client.callTool({ name: 'lifecycle__state', arguments: {} })))).toEqual({ state: 'state-1', storage: null });
    expect(JSON.parse(firstText(await client.callTool({ name: 'lifecycle__state', arguments: {} })))).toEqual({ state: 'state-1', storage: null });
  });

  it('gives listed tools the same state as the listing', async () => {
    expect(firstText(await client.callTool({ name: 'lifecycle__listed', arguments: {} }))).toBe('true');
  });

  it('closes the plugin with its state when the gateway shuts down, once', async () => {
    await disconnect(client);
    await h.gateway.close();
    await h.gateway.close();
    expect(lifecycle.events).toEqual(['setup state-1', 'close state-1']);
  });
});
