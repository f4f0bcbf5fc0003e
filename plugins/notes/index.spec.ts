import notes from './index';

// Behaviour against Postgres, including the attacker's side, is tested through a real gateway
// in apps/gateway/test/notes.int-spec.ts; here only the plugin's contract.
describe('notes plugin', () => {
  it('offers add, get, list, search and delete, and notes as note://{id} resources', () => {
    expect(notes.tools.map((t) => t.name)).toEqual(['add', 'get', 'list', 'search', 'delete']);
    expect(notes.resourceTemplates?.map((t) => t.uriTemplate)).toEqual(['note://{id}']);
  });

  it('refuses a note without title and oversized tag lists before touching storage', () => {
    const add = notes.tools.find((t) => t.name === 'add')!;
    expect(add.input.safeParse({ body: 'x' }).success).toBe(false);
    expect(add.input.safeParse({ title: 't', body: 'x', tags: Array(21).fill('a') }).success).toBe(false);
  });
});

describe('notes plugin retry safety', () => {
  it('declares for every tool whether a retry is safe, and only add is not', () => {
    const hints = Object.fromEntries(notes.tools.map((tool) => [tool.name, tool.annotations?.idempotentHint]));
    expect(hints).toEqual({ add: false, get: true, list: true, search: true, delete: true });
  });
});
