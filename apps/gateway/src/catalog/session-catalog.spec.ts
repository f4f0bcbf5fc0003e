import { describePlugin } from '@switchboard/plugin-runtime';
import { definePlugin, defineTool, type TenantStorage } from '@switchboard/plugin-sdk';
import { z } from 'zod';
import { buildSessionCatalog, type ActivePlugin } from './session-catalog';

const search = definePlugin({
  name: 'remote-like',
  version: '1.0.0',
  description: 'Two tools and a prompt',
  tools: [
    defineTool({ name: 'search', description: 'Searches', input: z.object({}), handler: () => 'found' }),
    defineTool({ name: 'delete_all', description: 'Deletes', input: z.object({}), handler: () => 'gone' }),
  ],
  prompts: [{ name: 'hello', description: 'Greets', arguments: z.object({}), get: () => ({ messages: [] }) }],
});
const descriptor = describePlugin(search, 'session-catalog.spec');
const installed = (name: string): ActivePlugin => ({ name, descriptor, config: {}, storage: {} as TenantStorage });
const toolNames = (catalog: ReturnType<typeof buildSessionCatalog>) => catalog.toolList.tools.map((tool) => tool['name']);

describe('buildSessionCatalog', () => {
  it('namespaces each installation by its own name: one plugin installed twice gives two sets of tools', () => {
    const catalog = buildSessionCatalog([installed('github'), installed('linear')], true);
    expect(toolNames(catalog)).toEqual(['github__search', 'github__delete_all', 'linear__search', 'linear__delete_all']);
    expect(catalog.tools.get('linear__search')?.plugin.name).toBe('linear');
    expect([...catalog.prompts.keys()]).toEqual(['github__hello', 'linear__hello']);
  });

  it("uses the plugin's own names on an installation's endpoint", () => {
    expect(toolNames(buildSessionCatalog([installed('github')], false))).toEqual(['search', 'delete_all']);
  });

  it('keeps only the allowlisted tools, named `{installation}__{tool}` on every endpoint, so the others cannot be called either', () => {
    const wide = buildSessionCatalog([installed('github'), installed('linear')], true, ['github__search']);
    expect(toolNames(wide)).toEqual(['github__search']);
    expect(wide.tools.has('github__delete_all')).toBe(false);
    expect(wide.tools.has('linear__search')).toBe(false);
    const own = buildSessionCatalog([installed('github')], false, ['github__search']);
    expect(toolNames(own)).toEqual(['search']);
    expect(own.tools.has('delete_all')).toBe(false);
    // The plugin-URL name of the tool is not an allowlist entry: only the namespaced one is.
    expect(toolNames(buildSessionCatalog([installed('github')], false, ['search']))).toEqual([]);
  });

  it('leaves prompts and resources to the installation allowlist: the tool allowlist is about tools', () => {
    expect([...buildSessionCatalog([installed('github')], true, ['github__search']).prompts.keys()]).toEqual(['github__hello']);
  });

  it('leaves out a tool whose name grows past 64 characters under a long installation name', () => {
    const tools = [
      defineTool({ name: 'search', description: 'Searches', input: z.object({}), handler: () => 'found' }),
      // 40 + 2 + 24 = 66 characters under a 40-character name; 6 + 2 + 24 under `github`.
      defineTool({ name: 'list_every_open_issue_ok', description: 'Lists', input: z.object({}), handler: () => 'many' }),
    ];
    const wordy = describePlugin(definePlugin({ name: 'wordy', version: '1.0.0', description: 'Long tool names', tools }), 'session-catalog.spec');
    const long: ActivePlugin = { name: 'a'.repeat(40), descriptor: wordy, config: {}, storage: {} as TenantStorage };
    expect(toolNames(buildSessionCatalog([long], true))).toEqual([`${'a'.repeat(40)}__search`]);
    expect(toolNames(buildSessionCatalog([long], false))).toEqual(['search', 'list_every_open_issue_ok']);
    expect(toolNames(buildSessionCatalog([{ ...long, name: 'github' }], true))).toEqual(['github__search', 'github__list_every_open_issue_ok']);
  });
});
