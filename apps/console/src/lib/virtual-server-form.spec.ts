import { addTypedTool, defaultToolName, draftOf, removeTool, toggleTool, toolErrors, toServerBody, updateTool } from './virtual-server-form';

describe('virtual server form', () => {
  const stored = {
    name: 'support',
    description: 'For the desk',
    tools: [
      { source: 'echo__echo', name: 'say', description: 'Says it back' },
      { source: 'notes__add', name: 'add' },
      { source: 'github__search_issues', name: 'find_issue' },
    ],
    urls: { streamableHttp: 'https://mcp.example.test/t/acme/v/support/mcp', sse: 'https://mcp.example.test/t/acme/v/support/sse' },
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
  };

  it('builds the tools payload from ticked and typed rows, in their order, leaving defaults out', () => {
    let draft = draftOf(undefined, new Set());
    draft = { ...draft, name: ' support ', description: ' For the desk ' };
    draft = toggleTool(draft, 'echo__echo', true);
    draft = toggleTool(draft, 'notes__add', true);
    draft = addTypedTool(draft);
    const [echo, , typed] = draft.tools;
    draft = updateTool(draft, echo.key, { name: ' say ', description: 'Says it back' });
    draft = updateTool(draft, typed.key, { source: 'github__search_issues', name: 'find_issue' });
    expect(toServerBody(draft, 'create').body).toEqual({
      name: 'support',
      description: 'For the desk',
      tools: [{ source: 'echo__echo', name: 'say', description: 'Says it back' }, { source: 'notes__add' }, { source: 'github__search_issues', name: 'find_issue' }],
    });
    // A server's name is in the URL of a PUT, never in its body.
    expect(toServerBody(draft, 'edit').body).not.toHaveProperty('name');
  });

  it('unticks a tool without touching a typed row of the same source, and ticks a tool once', () => {
    let draft = toggleTool(draftOf(undefined, new Set()), 'echo__echo', true);
    draft = toggleTool(draft, 'echo__echo', true);
    draft = addTypedTool(draft);
    draft = updateTool(draft, draft.tools[1].key, { source: 'echo__echo' });
    draft = toggleTool(draft, 'echo__echo', false);
    expect(draft.tools.map((row) => [row.source, row.typed])).toEqual([['echo__echo', true]]);
    expect(removeTool(draft, draft.tools[0].key).tools).toEqual([]);
  });

  it('fills the form from a stored server: catalog tools ticked, others typed, default names left empty', () => {
    const draft = draftOf(stored, new Set(['echo__echo', 'notes__add']));
    expect(draft.tools.map(({ source, name, description, typed }) => ({ source, name, description, typed }))).toEqual([
      { source: 'echo__echo', name: 'say', description: 'Says it back', typed: false },
      { source: 'notes__add', name: '', description: '', typed: false },
      { source: 'github__search_issues', name: 'find_issue', description: '', typed: true },
    ]);
    // Sent back unchanged, the server is the same.
    expect(toServerBody(draft, 'edit').body.tools).toEqual([{ source: 'echo__echo', name: 'say', description: 'Says it back' }, { source: 'notes__add' }, { source: 'github__search_issues', name: 'find_issue' }]);
  });

  it("moves the API's errors from an entry's position to the row it came from, past an empty row that was not sent", () => {
    let draft = addTypedTool(toggleTool(draftOf(undefined, new Set()), 'echo__echo', true));
    draft = addTypedTool(draft);
    const [echo, empty, typed] = draft.tools;
    draft = updateTool(draft, echo.key, { name: 'dup' });
    draft = updateTool(draft, typed.key, { source: 'search', name: 'dup' });
    const { body, sent } = toServerBody(draft, 'create');
    expect(body.tools).toHaveLength(2);
    expect(sent).toEqual([echo.key, typed.key]);
    const errors = toolErrors(
      { name: 'bad name', 'tools.1.source': 'not a namespaced tool name', 'tools.1.name': '"dup" is already the name of tools.0', tools: 'too many', 'tools.7.source': 'stale' },
      sent,
    );
    expect(errors.rows).toEqual({ [typed.key]: { source: 'not a namespaced tool name', name: '"dup" is already the name of tools.0' } });
    expect(errors.rows[empty.key]).toBeUndefined();
    expect(errors.list).toBe('too many; stale');
  });

  it('names a tool as the API does when no name is given', () => {
    expect([defaultToolName('notes__add'), defaultToolName('my-notes__list__all'), defaultToolName('bare')]).toEqual(['add', 'list__all', 'bare']);
  });
});
