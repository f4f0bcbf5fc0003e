import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { definePlugin, defineTool, secret } from '@switchboard/plugin-sdk';
import { createTempDataDir } from '@switchboard/testing';
import { buildPluginCatalog, loadPluginCatalog } from './plugin-catalog';
import { PluginLoadError } from './plugin-load.errors';

const tool = (name: string) =>
  defineTool({ name, description: `the ${name} tool`, input: z.object({ text: z.string() }), handler: ({ text }) => text });

const weather = definePlugin({
  name: 'weather',
  version: '1.0.0',
  description: 'Weather forecasts',
  config: z.object({ units: z.enum(['metric', 'imperial']).default('metric'), apiKey: secret(z.string().min(8)) }),
  tools: [tool('forecast')],
});

function loadError(run: () => unknown): PluginLoadError {
  try {
    run();
  } catch (error) {
    if (error instanceof PluginLoadError) return error;
    throw error;
  }
  throw new Error('expected a PluginLoadError');
}

describe('plugin catalog', () => {
  it('loads the plugins of the workspace folder', async () => {
    const catalog = await loadPluginCatalog();
    expect(catalog.get('echo')?.tools.map((t) => t.name)).toEqual(['echo']);
    expect(catalog.get('echo')?.tools[0].inputSchema).toMatchObject({ type: 'object', required: ['text'] });
  });

  it('does not load the plugin template folder (plugins/_template)', async () => {
    const catalog = await loadPluginCatalog();
    expect(catalog.list().map((p) => p.name)).not.toContain('greeter');
    expect(catalog.get('notes')).toBeDefined();
  });

  it('describes config as JSON Schema, marks secret fields and validates with defaults', () => {
    const descriptor = buildPluginCatalog([{ plugin: weather, source: 'test' }]).get('weather')!;
    expect(descriptor.secretFields).toEqual(['apiKey']);
    expect(descriptor.configSchema).toMatchObject({ properties: { apiKey: { writeOnly: true } } });
    expect(descriptor.validateConfig({ apiKey: 'k'.repeat(8) })).toEqual({ ok: true, value: { units: 'metric', apiKey: 'kkkkkkkk' } });
    const invalid = descriptor.validateConfig({ units: 'kelvin' });
    expect(invalid.ok).toBe(false);
    expect(!invalid.ok && invalid.issues.map((i) => i.path).sort()).toEqual(['apiKey', 'units']);
    expect(descriptor.splitSecrets({ units: 'metric', apiKey: 'x' })).toEqual({ plain: { units: 'metric' }, secrets: { apiKey: 'x' } });
  });

  it('refuses a tool declared twice, naming the plugin', () => {
    const broken = definePlugin({ name: 'dupes', version: '1', description: 'd', tools: [tool('a'), tool('a')] });
    const error = loadError(() => buildPluginCatalog([{ plugin: broken, source: 'plugins/dupes' }]));
    expect(error.message).toMatch(/Plugin "dupes" \(plugins\/dupes\)/);
    expect(error.problems).toContain('tool "a" is declared twice');
  });

  it('refuses tool names that LLM APIs reject and namespaced names over 64 characters', () => {
    const broken = definePlugin({
      name: 'names',
      version: '1',
      description: 'd',
      tools: [tool('has space'), tool('x'.repeat(60))],
    });
    const error = loadError(() => buildPluginCatalog([{ plugin: broken, source: 's' }]));
    expect(error.problems.join('\n')).toMatch(/"has space": name must match/);
    expect(error.problems.join('\n')).toMatch(/longer than 64/);
  });

  it('refuses plugin names that would make namespaced names ambiguous, and two plugins of one name', () => {
    const underscored = definePlugin({ name: 'my_plugin', version: '1', description: 'd', tools: [] });
    expect(loadError(() => buildPluginCatalog([{ plugin: underscored, source: 's' }])).problems[0]).toMatch(/kebab case/);
    const error = loadError(() => buildPluginCatalog([{ plugin: weather, source: 'a' }, { plugin: weather, source: 'b' }]));
    expect(error.message).toMatch(/already taken by a/);
  });

  it('refuses a manifest without version or description, and secret fields missing from the config', () => {
    const broken = { name: 'bad', tools: [], secretFields: ['token'] };
    const problems = loadError(() => buildPluginCatalog([{ plugin: broken, source: 's' }])).problems;
    expect(problems).toEqual(['version is missing', 'description is missing', 'secret field "token" is not in the config schema']);
  });

  it('stops at a plugin folder whose module does not load, naming the folder', async () => {
    const temp = createTempDataDir('plugins');
    try {
      mkdirSync(path.join(temp.dir, 'broken'));
      writeFileSync(path.join(temp.dir, 'broken', 'index.js'), 'throw new Error("boom")');
      await expect(loadPluginCatalog({ pluginsDir: temp.dir })).rejects.toThrow(/broken.*cannot be loaded:\n {2}- loading failed: boom/s);
    } finally {
      temp.remove();
    }
  });

  it('loads plugins from npm package names', async () => {
    const temp = createTempDataDir('plugin-pkg');
    try {
      const pkg = path.join(temp.dir, 'node_modules', 'switchboard-plugin-hello');
      mkdirSync(pkg, { recursive: true });
      writeFileSync(
        path.join(pkg, 'index.js'),
        `const { z } = require(${JSON.stringify(require.resolve('zod'))});
         module.exports = { name: 'hello', version: '0.1.0', description: 'says hello',
           tools: [{ name: 'hi', description: 'hi', input: z.object({}), handler: () => 'hi' }] };`,
      );
      const catalog = await loadPluginCatalog({ pluginsDir: path.join(temp.dir, 'none'), packages: [pkg] });
      expect(catalog.list().map((p) => p.name)).toEqual(['hello']);
    } finally {
      temp.remove();
    }
  });
});
