import { outboundNetwork } from '@switchboard/plugin-net';
import { isSecretSchema, type PluginSetupContext, type ToolContext, type ToolResult } from '@switchboard/plugin-sdk';
import greeter, { RecentGreetings } from './index';

// COPY ME with the plugin. Unit tests set the plugin up as a gateway would, call handlers with a
// context of their own, and close it; behaviour through the gateway is tested with the MCP SDK
// client (see apps/gateway/test/notes.int-spec.ts).
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const platform: PluginSetupContext = { logger, outbound: outboundNetwork() };

let recent: RecentGreetings;
beforeAll(async () => {
  recent = await greeter.setup!(platform);
});
afterAll(() => greeter.close!(recent));

function context(config: Record<string, unknown>): ToolContext<never, RecentGreetings> {
  const progress: number[] = [];
  return {
    tenant: { id: '00000000-0000-0000-0000-000000000001', slug: 'acme' },
    config: config as never,
    logger,
    signal: AbortSignal.timeout(1_000),
    session: { id: 'session-1', closed: new AbortController().signal },
    storage: undefined,
    state: recent,
    client: { sampling: false, elicitation: false, roots: false },
    progress: async (value) => void progress.push(value),
    log: async () => undefined,
    sample: async () => { throw new Error('no sampling in this test'); },
    elicit: async () => { throw new Error('no elicitation in this test'); },
    listRoots: async () => { throw new Error('no roots in this test'); },
    ask: async () => { throw new Error('no client input in this test'); },
    resourceUpdated: async () => undefined,
    listChanged: async () => undefined,
  };
}

const hello = greeter.tools.find((t) => t.name === 'hello')!;

describe('greeter plugin (the template)', () => {
  it('marks the api key secret, so the admin API never returns it', () => {
    expect(isSecretSchema(greeter.config!.shape.apiKey)).toBe(true);
  });

  it('greets with the tenant\'s configured greeting', async () => {
    const config = greeter.config!.parse({ greeting: 'Hoi' });
    const result = (await hello.handler(hello.input.parse({ name: 'Ada' }), context(config))) as ToolResult;
    expect(result.content).toEqual([{ type: 'text', text: 'Hoi, Ada!' }]);
  });

  it('greets a name again from the state its setup made, per tenant', async () => {
    const config = greeter.config!.parse({});
    await hello.handler({ name: 'Grace' }, context(config));
    expect(((await hello.handler({ name: 'Grace' }, context(config))) as ToolResult).content).toEqual([{ type: 'text', text: 'Hello again, Grace!' }]);
    expect(recent.greet('another-tenant', 'Grace')).toBe(false);
  });

  it('forgets everything when closed', async () => {
    const own = await greeter.setup!(platform);
    own.greet('t', 'Ada');
    await greeter.close!(own);
    expect(own.greet('t', 'Ada')).toBe(false);
  });

  it('answers an error result, not an exception, for input it cannot serve', async () => {
    expect(await hello.handler({ name: 'nobody' }, context({ greeting: 'Hello' }))).toMatchObject({ isError: true });
  });

  it('refuses a configuration with a too-short secret', () => {
    const result = greeter.config!.safeParse({ apiKey: 'short' });
    expect(result.error?.issues.map((i) => i.path)).toEqual([['apiKey']]);
  });
});
