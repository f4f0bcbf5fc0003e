import { configFields, initialValues, toConfig } from './config-fields';

// remote-mcp's config schema as GET /v1/plugins returns it (JSON Schema from its zod config).
const schema = {
  type: 'object',
  properties: {
    url: { type: 'string', format: 'uri', description: 'The upstream MCP endpoint' },
    transport: { type: 'string', enum: ['streamable-http', 'sse'], default: 'streamable-http' },
    bearerToken: { type: 'string' },
    retries: { type: 'integer' },
    verbose: { type: 'boolean' },
    headers: { type: 'object' },
  },
  required: ['url', 'transport'],
};

describe('plugin config form from JSON Schema', () => {
  const fields = configFields(schema, ['bearerToken']);
  const byName = Object.fromEntries(fields.map((field) => [field.name, field]));

  it('gives each property a control of its type, with the schema description', () => {
    expect(fields.map((field) => [field.name, field.kind])).toEqual([
      ['url', 'url'],
      ['transport', 'enum'],
      ['bearerToken', 'text'],
      ['retries', 'integer'],
      ['verbose', 'boolean'],
      ['headers', 'json'],
    ]);
    expect(byName['url'].description).toBe('The upstream MCP endpoint');
    expect(byName['transport'].options).toEqual(['streamable-http', 'sse']);
  });

  it('marks required fields, except those with a default', () => {
    expect(byName['url'].required).toBe(true);
    expect(byName['transport'].required).toBe(false);
  });

  it('never prefills a secret field, even when a value is stored', () => {
    expect(byName['bearerToken'].secret).toBe(true);
    expect(initialValues(fields, { url: 'https://a.test/mcp', bearerToken: 'leaked' })).toMatchObject({ url: 'https://a.test/mcp', transport: 'streamable-http', bearerToken: '' });
  });

  it('leaves out empty fields, so an empty secret keeps its stored value', () => {
    const { config, errors } = toConfig(fields, { url: ' https://a.test/mcp ', transport: 'sse', bearerToken: '', retries: '3', verbose: true, headers: '{"x":"1"}' });
    expect(errors).toEqual({});
    expect(config).toEqual({ url: 'https://a.test/mcp', transport: 'sse', retries: 3, verbose: true, headers: { x: '1' } });
  });

  it('names the field it cannot read instead of sending it', () => {
    const { errors } = toConfig(fields, { url: 'x', retries: '1.5', headers: '{', verbose: false, transport: '', bearerToken: '' });
    expect(errors).toEqual({ retries: 'must be a whole number', headers: 'must be valid JSON' });
  });
});

describe('a string map field (remote-mcp headers)', () => {
  // As zod's toJSONSchema writes z.record(z.string(), z.string()), marked writeOnly by the runtime.
  const fields = configFields(
    { type: 'object', properties: { url: { type: 'string' }, headers: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string' }, writeOnly: true } } },
    ['headers'],
  );

  it('is edited as name/value rows, never prefilled when secret', () => {
    expect(fields.map((field) => [field.name, field.kind, field.secret])).toEqual([
      ['url', 'text', false],
      ['headers', 'map', true],
    ]);
    expect(initialValues(fields, { headers: { 'X-Api-Key': 'leaked' } })['headers']).toEqual([]);
  });

  it('sends the rows as an object, drops empty rows, and leaves the field out without rows so the stored value stays', () => {
    const rows = [
      { name: ' X-Api-Key ', value: 'k' },
      { name: '', value: '' },
    ];
    expect(toConfig(fields, { url: 'u', headers: rows })).toEqual({ config: { url: 'u', headers: { 'X-Api-Key': 'k' } }, errors: {} });
    expect(toConfig(fields, { url: 'u', headers: [] }).config).toEqual({ url: 'u' });
  });

  it('names the row it cannot send: one without a name, a name given twice', () => {
    const { errors } = toConfig(fields, {
      url: 'u',
      headers: [
        { name: '', value: 'orphan' },
        { name: 'X-A', value: '1' },
        { name: 'X-A', value: '2' },
      ],
    });
    expect(errors).toEqual({ 'headers.#0': 'give this row a name', 'headers.X-A': 'this name is given twice' });
  });
});
