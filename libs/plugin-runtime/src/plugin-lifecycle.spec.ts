import { z } from 'zod';
import { outboundNetwork } from '@switchboard/plugin-net';
import { definePlugin, defineTool, type PluginLogger, type PluginSetupContext } from '@switchboard/plugin-sdk';
import { buildPluginCatalog } from './plugin-catalog';
import { startPlugins, type PluginPlatform } from './plugin-lifecycle';
import { PluginLoadError } from './plugin-load.errors';

const tool = defineTool({ name: 'ping', description: 'pings', input: z.object({}), handler: () => 'pong' });

/** A plugin that records its lifecycle in `events`; `setup` returns a fresh state object. */
function recorder(name: string, events: string[], overrides: { setup?: () => unknown; close?: () => unknown } = {}) {
  return definePlugin({
    name,
    version: '1.0.0',
    description: `records ${name}`,
    tools: [tool],
    setup: (ctx: PluginSetupContext) => {
      events.push(`setup ${name}`);
      ctx.logger.info('set up');
      return overrides.setup ? overrides.setup() : { plugin: name, outbound: ctx.outbound };
    },
    close: async (state) => {
      events.push(`close ${name} ${(state as { plugin?: string })?.plugin ?? 'without state'}`);
      await overrides.close?.();
    },
  });
}

function platform(logs: string[] = [], timeouts?: PluginPlatform['timeouts']): PluginPlatform {
  const loggerFor = (plugin: string): PluginLogger => ({
    debug: () => undefined,
    info: (message) => void logs.push(`${plugin}: ${message}`),
    warn: (message) => void logs.push(`${plugin}: ${message}`),
    error: (message, data) => void logs.push(`${plugin}: ${message} ${JSON.stringify(data)}`),
  });
  return { outbound: outboundNetwork({ allow: ['127.0.0.1/32'] }), loggerFor, ...(timeouts ? { timeouts } : {}) };
}

const catalogOf = (...plugins: unknown[]) => buildPluginCatalog(plugins.map((plugin, index) => ({ plugin, source: `source-${index}` })));

describe('plugin lifecycle', () => {
  it('calls each setup once with the platform\'s context and hands each plugin the state its setup returned', async () => {
    const events: string[] = [];
    const logs: string[] = [];
    const net = platform(logs);
    const running = await startPlugins(catalogOf(recorder('a', events), recorder('b', events)), net);
    expect(events).toEqual(['setup a', 'setup b']);
    expect(running.stateOf('a')).toEqual({ plugin: 'a', outbound: net.outbound });
    expect(running.stateOf('b')).toMatchObject({ plugin: 'b' });
    expect(running.stateOf('unknown')).toBeUndefined();
    // Each plugin's logger is its own.
    expect(logs).toEqual(['a: set up', 'b: set up']);
    await running.close();
  });

  it('gives two gateways of one process two states, so closing one leaves the other working', async () => {
    const events: string[] = [];
    const catalog = catalogOf(recorder('a', events));
    const first = await startPlugins(catalog, platform());
    const second = await startPlugins(catalog, platform());
    expect(first.stateOf('a')).not.toBe(second.stateOf('a'));
    await first.close();
    expect(events).toEqual(['setup a', 'setup a', 'close a a']);
    await second.close();
  });

  it('closes every plugin once at shutdown, last set up first, with its own state', async () => {
    const events: string[] = [];
    const running = await startPlugins(catalogOf(recorder('a', events), recorder('b', events)), platform());
    events.length = 0;
    await Promise.all([running.close(), running.close()]);
    await running.close();
    expect(events).toEqual(['close b b', 'close a a']);
  });

  it('leaves plugins without setup or close alone, and closes one without setup with no state', async () => {
    const events: string[] = [];
    const plain = definePlugin({ name: 'plain', version: '1', description: 'no lifecycle', tools: [tool] });
    const closeOnly = definePlugin({ name: 'close-only', version: '1', description: 'close only', tools: [tool], close: () => void events.push('close-only closed') });
    const running = await startPlugins(catalogOf(plain, closeOnly), platform());
    expect(running.stateOf('plain')).toBeUndefined();
    await running.close();
    expect(events).toEqual(['close-only closed']);
  });

  it('stops start-up at a setup that throws, naming the plugin, and closes the plugins already set up', async () => {
    const events: string[] = [];
    const broken = recorder('broken', events, {
      setup: () => {
        throw new Error('no upstream');
      },
    });
    const started = startPlugins(catalogOf(recorder('a', events), broken, recorder('c', events)), platform());
    await expect(started).rejects.toThrow(PluginLoadError);
    await expect(started).rejects.toThrow(/Plugin "broken" \(source-1\) cannot be loaded:\n {2}- setup failed: no upstream/);
    expect(events).toEqual(['setup a', 'setup broken', 'close a a']);
  });

  it('stops start-up at a setup that does not finish in time', async () => {
    const hanging = recorder('hanging', [], { setup: () => new Promise(() => undefined) });
    await expect(startPlugins(catalogOf(hanging), platform([], { setupMs: 20 }))).rejects.toThrow(/setup failed: setup did not finish within 20 ms/);
  });

  it('logs a close that throws or hangs and still closes the other plugins', async () => {
    const events: string[] = [];
    const logs: string[] = [];
    const failing = recorder('failing', events, {
      close: () => {
        throw new Error('socket already gone');
      },
    });
    const hanging = recorder('hanging', events, { close: () => new Promise(() => undefined) });
    const running = await startPlugins(catalogOf(recorder('a', events), failing, hanging), platform(logs, { closeMs: 20 }));
    events.length = 0;
    await running.close();
    expect(events).toEqual(['close hanging hanging', 'close failing failing', 'close a a']);
    expect(logs.filter((line) => line.includes('close failed'))).toEqual([
      expect.stringMatching(/^hanging: plugin close failed .*did not finish within 20 ms/),
      expect.stringMatching(/^failing: plugin close failed .*socket already gone/),
    ]);
  });

  it('refuses a setup or close that is not a function when the catalog loads', () => {
    const broken = { name: 'broken', version: '1', description: 'd', tools: [], setup: 'yes', close: 42 };
    expect(() => catalogOf(broken)).toThrow(/setup must be a function\n {2}- close must be a function/);
  });
});
