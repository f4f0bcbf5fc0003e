import { hasListedTools, knownToolsOf } from './tenant-tools';

describe('tenant tools offered as checkboxes', () => {
  const formatTime = (iso: string) => `at ${iso.slice(11, 16)}`;

  it('names each tool as the gateway does, saying when a listed one was seen', () => {
    const tools = knownToolsOf(
      [
        { name: 'echo__echo', installation: 'echo', tool: 'echo', description: 'Says it back', origin: 'declared' },
        { name: 'github__search_issues', installation: 'github', tool: 'search_issues', title: 'Search', description: 'finds issues', origin: 'listed', listedAt: '2026-12-02T08:00:00.000Z' },
        { name: 'memory__read_graph', installation: 'memory', tool: 'read_graph', origin: 'listed' },
      ],
      formatTime,
    );
    expect(tools).toEqual([
      { source: 'echo__echo', about: 'Says it back', origin: 'declared' },
      { source: 'github__search_issues', about: 'Search: finds issues · Listed by github, seen at 08:00.', origin: 'listed' },
      { source: 'memory__read_graph', about: 'Listed by memory.', origin: 'listed' },
    ]);
    expect(hasListedTools(tools)).toBe(true);
    expect(hasListedTools(tools.slice(0, 1))).toBe(false);
  });
});
