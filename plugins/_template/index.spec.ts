import { isSecretSchema, type ToolContext, type ToolResult } from '@switchboard/plugin-sdk';
import greeter from './index';

// COPY ME with the plugin. Unit tests call handlers with a context of your own; behaviour
// through the gateway is tested with the MCP SDK client (see apps/gateway/test/notes.int-spec.ts).
function context(config: Record<string, unknown>): ToolContext<never> {
  const progress: number[] = [];
  return {
    tenant: { id: '00000000-0000-0000-0000-000000000001', slug: 'acme' },
    config: config as never,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    signal: AbortSignal.timeout(1_000),
    session: { id: 'session-1', closed: new AbortController().signal },
    storage: undefined as never,
    client: { sampling: false, elicitation: false },
    progress: async (value) => void progress.push(value),
    log: async () => undefined,
    sample: async () => { throw new Error('no sampling in this test'); },
    elicit: async () => { throw new Error('no elicitation in this test'); },
    resourceUpdated: async () => undefined,
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

  it('answers an error result, not an exception, for input it cannot serve', async () => {
    expect(await hello.handler({ name: 'nobody' }, context({ greeting: 'Hello' }))).toMatchObject({ isError: true });
  });

  it('refuses a configuration with a too-short secret', () => {
    const result = greeter.config!.safeParse({ apiKey: 'short' });
    expect(result.error?.issues.map((i) => i.path)).toEqual([['apiKey']]);
  });
});
