import { describePlugin } from '@switchboard/plugin-runtime';
import { definePlugin, defineTool, type TenantStorage } from '@switchboard/plugin-sdk';
import { z } from 'zod';
import type { ActivePlugin } from './session-catalog';
import { buildVirtualCatalog, sourceInstallationsOf, virtualToolsOf } from './virtual-catalog';

const plugin = definePlugin({
  name: 'remote-like',
  version: '1.0.0',
  description: 'Two tools and a prompt',
  tools: [
    defineTool({ name: 'search', description: 'Searches', input: z.object({ q: z.string() }), handler: () => 'found' }),
    defineTool({ name: 'delete_all', description: 'Deletes', input: z.object({}), handler: () => 'gone' }),
  ],
  prompts: [{ name: 'hello', description: 'Greets', arguments: z.object({}), get: () => ({ messages: [] }) }],
});
const descriptor = describePlugin(plugin, 'virtual-catalog.spec');
const installed = (name: string): ActivePlugin => ({ name, descriptor, config: {}, storage: {} as TenantStorage });
const SERVER = {
  name: 'support',
  tools: [
    { source: 'github__search', name: 'find', description: 'Finds issues' },
    { source: 'linear__search', name: 'search' },
  ],
};

describe('buildVirtualCatalog', () => {
  it('lists only the chosen tools under their exposed names and descriptions, each running its source', () => {
    const catalog = buildVirtualCatalog([installed('github'), installed('linear')], SERVER, []);
    expect(catalog.toolList.tools.map((tool) => [tool['name'], tool['description']])).toEqual([
      ['find', 'Finds issues'],
      ['search', 'Searches'],
    ]);
    expect(catalog.toolList.tools[0]!['inputSchema']).toMatchObject({ properties: { q: expect.any(Object) } });
    expect(catalog.tools.get('find')?.plugin.name).toBe('github');
    expect(catalog.tools.get('search')?.plugin.name).toBe('linear');
    expect(catalog.tools.get('find')?.tool.name).toBe('search');
    // Source names and the tools left out are absent, so tools/call refuses them as unknown.
    for (const name of ['github__search', 'delete_all', 'github__delete_all', 'linear__delete_all']) expect(catalog.tools.has(name)).toBe(false);
    expect(catalog.promptList.prompts).toEqual([]);
    expect([...catalog.prompts.keys()]).toEqual([]);
  });

  it("is the intersection with the credential's allowlists", () => {
    expect([...buildVirtualCatalog([installed('github'), installed('linear')], SERVER, ['linear__search']).tools.keys()]).toEqual(['search']);
    // Installations the key may not use are not passed in at all.
    expect([...buildVirtualCatalog([installed('linear')], SERVER, []).tools.keys()]).toEqual(['search']);
  });

  it('leaves out sources that are gone, and is empty for a server that no longer exists', () => {
    expect([...buildVirtualCatalog([installed('github')], { name: 's', tools: [{ source: 'github__nope', name: 'x' }, { source: 'gone__search', name: 'y' }] }, []).tools.keys()]).toEqual([]);
    expect(buildVirtualCatalog([installed('github')], undefined, []).toolList.tools).toEqual([]);
  });

  it('never lets a second entry of one exposed name shadow the first', () => {
    const catalog = buildVirtualCatalog([installed('github')], { name: 's', tools: [{ source: 'github__search', name: 'x' }, { source: 'github__delete_all', name: 'x' }] }, []);
    expect(catalog.tools.get('x')?.tool.name).toBe('search');
    expect(catalog.toolList.tools).toHaveLength(1);
  });
});

describe('virtualToolsOf', () => {
  it('reads the stored JSON defensively', () => {
    expect(virtualToolsOf(null)).toEqual([]);
    expect(virtualToolsOf([{ source: 'a__b', name: 'c', description: 'd' }, { source: 1 }, 'x', { source: 'a__b' }])).toEqual([{ source: 'a__b', name: 'c', description: 'd' }]);
  });
});

describe('sourceInstallationsOf', () => {
  it('names each installation a server draws tools from once, skipping sources that are not namespaced', () => {
    const tools = [
      { source: 'github__search', name: 'a' },
      { source: 'github__issues', name: 'b' },
      { source: 'linear__create', name: 'c' },
      { source: 'plain', name: 'd' },
    ];
    expect([...sourceInstallationsOf(tools)]).toEqual(['github', 'linear']);
  });
});
