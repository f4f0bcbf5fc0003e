import { z } from 'zod';
import { definePlugin, defineTool, type ListedToolDefinition, type ToolContext } from '@switchboard/plugin-sdk';
import { MAX_LISTED_DESCRIPTION_CHARS, MAX_LISTED_TOOLS, withListedTools } from './listed-tools';
import { describePlugin } from './plugin-validation';

const federated = describePlugin(
  definePlugin({
    name: 'federated',
    version: '1.0.0',
    description: 'declares one tool, lists the others',
    tools: [defineTool({ name: 'status', description: 'says ok', input: z.object({}), handler: () => 'ok' })],
  }),
  'test',
);

const listed = (name: string, extra: Partial<ListedToolDefinition> = {}): ListedToolDefinition => ({
  name,
  description: `the ${name} tool`,
  inputSchema: { type: 'object', properties: { q: { type: 'string' } } },
  handler: (args) => `${name}:${JSON.stringify(args)}`,
  ...extra,
});

describe('withListedTools', () => {
  it('adds listed tools after the declared ones, described by their own JSON Schema', () => {
    const { descriptor, skipped } = withListedTools(federated, [listed('search')]);
    expect(descriptor.tools.map((t) => t.name)).toEqual(['status', 'search']);
    expect(descriptor.tools[1].inputSchema).toEqual({ type: 'object', properties: { q: { type: 'string' } } });
    expect(descriptor.plugin.tools.map((t) => t.name)).toEqual(['status', 'search']);
    expect(skipped).toEqual([]);
    // The declared descriptor is not changed: it is shared by every tenant.
    expect(federated.tools.map((t) => t.name)).toEqual(['status']);
  });

  it('passes the arguments through to the listed handler as the client sent them', async () => {
    const { descriptor } = withListedTools(federated, [listed('search')]);
    const tool = descriptor.plugin.tools[1];
    const args = tool.input.parse({ q: 'x', extra: 1 });
    expect(await tool.handler(args, {} as ToolContext<Record<string, unknown>>)).toBe('search:{"q":"x","extra":1}');
  });

  it('leaves out tools a client could not call or that would shadow another, naming each', () => {
    const { descriptor, skipped } = withListedTools(federated, [
      listed('status'),
      listed('has space'),
      listed('x'.repeat(60)),
      listed('not_object', { inputSchema: { type: 'string' } }),
      listed('twice'),
      listed('twice'),
    ]);
    expect(descriptor.tools.map((t) => t.name)).toEqual(['status', 'twice']);
    expect(skipped.map((s) => s.reason)).toEqual([
      'another tool of the plugin has this name',
      expect.stringContaining('name must match'),
      expect.stringContaining('once namespaced'),
      'inputSchema must be an object schema',
      'another tool of the plugin has this name',
    ]);
  });

  it('bounds what a hostile source can put into every client\'s tool list', () => {
    const many = Array.from({ length: MAX_LISTED_TOOLS + 5 }, (_, i) => listed(`t${i}`, { description: 'd'.repeat(MAX_LISTED_DESCRIPTION_CHARS + 10) }));
    const { descriptor, skipped } = withListedTools(federated, many);
    expect(descriptor.tools).toHaveLength(MAX_LISTED_TOOLS + 1);
    expect(descriptor.tools[1].description).toHaveLength(MAX_LISTED_DESCRIPTION_CHARS + 1);
    expect(skipped).toEqual([{ name: '(5 more)', reason: `more than ${MAX_LISTED_TOOLS} tools listed` }]);
  });
});
