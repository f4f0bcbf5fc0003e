import { z } from 'zod';
import { definePlugin, defineTool, isSecretSchema, PLUGIN_MARK, secret } from './define-plugin';

describe('definePlugin', () => {
  it('returns a frozen, marked definition', () => {
    const plugin = definePlugin({ name: 'p', version: '1', description: 'd', tools: [] });
    expect(plugin[PLUGIN_MARK]).toBe(true);
    expect(Object.isFrozen(plugin)).toBe(true);
  });

  it('types tool arguments from the input schema', async () => {
    const add = defineTool({
      name: 'add',
      description: 'adds',
      input: z.object({ a: z.number(), b: z.number() }),
      handler: ({ a, b }) => String(a + b),
    });
    expect(await add.handler({ a: 1, b: 2 }, {} as never)).toBe('3');
  });

  it('marks secret fields so the runtime and the published schema can see them', () => {
    const token = secret(z.string());
    expect(isSecretSchema(token)).toBe(true);
    expect(isSecretSchema(z.string())).toBe(false);
    // Made optional or defaulted after secret(): still a secret (else it would be stored in clear).
    expect(isSecretSchema(secret(z.string()).optional())).toBe(true);
    expect(isSecretSchema(secret(z.string()).default('x').nullable())).toBe(true);
    expect(z.toJSONSchema(z.object({ token }))).toMatchObject({ properties: { token: { writeOnly: true } } });
  });
});

describe('plugin lifecycle in the definition', () => {
  it('keeps setup and close, and types the state handlers and close receive from what setup returns', async () => {
    const plugin = definePlugin({
      name: 'p',
      version: '1',
      description: 'd',
      setup: () => ({ opened: true }),
      close: (state) => {
        // Typed from setup: a wrong property would not compile.
        expect(state.opened).toBe(true);
      },
      tools: [],
      async listTools(ctx) {
        return ctx.state.opened ? [] : [];
      },
    });
    const state = await plugin.setup!({} as never);
    await plugin.close!(state);
    expect(Object.isFrozen(plugin)).toBe(true);
  });
});
