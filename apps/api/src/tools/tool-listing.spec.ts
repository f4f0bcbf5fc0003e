import { MAX_TOOLS_PER_INSTALLATION, toolsOfInstallation, type InstallationTools } from './tool-listing';

const listedAt = new Date('2026-12-02T08:00:00Z');
const row = (extra: Partial<InstallationTools> = {}): InstallationTools => ({ name: 'github', config: {}, listedTools: null, listedToolsAt: null, ...extra });

describe('toolsOfInstallation', () => {
  it('names declared tools, then listed ones, as the gateway does', () => {
    const tools = toolsOfInstallation(row({ listedTools: [{ name: 'search_issues', title: 'Search', description: 'finds issues' }], listedToolsAt: listedAt }), [{ name: 'status', description: 'says ok' }]);
    expect(tools).toEqual([
      { name: 'github__status', installation: 'github', tool: 'status', description: 'says ok', origin: 'declared' },
      { name: 'github__search_issues', installation: 'github', tool: 'search_issues', title: 'Search', description: 'finds issues', origin: 'listed', listedAt: '2026-12-02T08:00:00.000Z' },
    ]);
  });

  it('shows a listed tool that is also declared once, as declared', () => {
    const tools = toolsOfInstallation(row({ listedTools: [{ name: 'status' }, { name: 'status' }] }), [{ name: 'status', description: 'says ok' }]);
    expect(tools.map((t) => [t.name, t.origin])).toEqual([['github__status', 'declared']]);
  });

  it('reads a malformed stored list defensively: a list that is not one, entries that are not tools', () => {
    expect(toolsOfInstallation(row({ listedTools: { name: 'x' } }), [])).toEqual([]);
    expect(toolsOfInstallation(row({ listedTools: 'search' }), [])).toEqual([]);
    const tools = toolsOfInstallation(row({ listedTools: [null, 7, { name: 'has space' }, { name: 42 }, { name: 'ok', title: 5 }, { name: 'good', extra: true }] }), []);
    expect(tools.map((t) => t.tool)).toEqual(['good']);
  });

  it('bounds what a hand-edited row can put into the response', () => {
    const many = Array.from({ length: MAX_TOOLS_PER_INSTALLATION + 10 }, (_, i) => ({ name: `t${i}`, description: 'd'.repeat(5_000) }));
    const tools = toolsOfInstallation(row({ listedTools: many }), []);
    expect(tools).toHaveLength(MAX_TOOLS_PER_INSTALLATION);
    expect(tools[0].description!.length).toBeLessThan(5_000);
  });

  it("lists a per-user installation's declared tools from its configuration, never a recorded list", () => {
    const config = { url: 'https://mcp.example.test/mcp', auth: 'oauth', oauthMode: 'per-user', declaredTools: [{ name: 'whoami', description: 'who the upstream sees' }] };
    const tools = toolsOfInstallation(row({ config, listedTools: [{ name: 'someones_private_tool' }], listedToolsAt: listedAt }), []);
    expect(tools).toEqual([{ name: 'github__whoami', installation: 'github', tool: 'whoami', description: 'who the upstream sees', origin: 'declared' }]);
  });

  it('ignores declaredTools on an installation that is not per-user (the upstream lists its tools there)', () => {
    expect(toolsOfInstallation(row({ config: { declaredTools: [{ name: 'whoami' }] } }), [])).toEqual([]);
  });
});
