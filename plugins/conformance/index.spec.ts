import { z } from 'zod';
import conformance from './index';

const ctx = { signal: new AbortController().signal } as never;

describe('conformance plugin', () => {
  it('offers every tool the conformance scenarios call', () => {
    expect(conformance.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['test_simple_text', 'test_image_content', 'test_tool_with_progress', 'test_sampling', 'json_schema_2020_12_tool']),
    );
  });

  it('keeps $schema, $defs and additionalProperties in the JSON Schema 2020-12 tool', () => {
    const tool = conformance.tools.find((t) => t.name === 'json_schema_2020_12_tool')!;
    expect(z.toJSONSchema(tool.input, { io: 'input' })).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      additionalProperties: false,
      properties: { address: { $ref: '#/$defs/address' } },
      $defs: { address: { type: 'object' } },
    });
  });

  it('substitutes prompt arguments', async () => {
    const prompt = conformance.prompts!.find((p) => p.name === 'test_prompt_with_arguments')!;
    const result = await prompt.get({ arg1: 'hello', arg2: 'world' }, ctx);
    expect(JSON.stringify(result.messages)).toContain("arg1='hello', arg2='world'");
  });

  it('reads the template resource with the id substituted', async () => {
    const template = conformance.resourceTemplates![0];
    const [contents] = await template.read('test://template/123/data', { id: '123' }, ctx);
    expect('text' in contents && JSON.parse(contents.text)).toEqual({ id: '123', templateTest: true, data: 'Data for ID: 123' });
  });

  it('fails the error tool by throwing, which the gateway turns into isError', () => {
    const tool = conformance.tools.find((t) => t.name === 'test_error_handling')!;
    expect(() => tool.handler({}, ctx)).toThrow('This tool intentionally returns an error for testing');
  });
});
