import { installationNameProblem, isInstallationName, splitNamespacedTool, toolAllowed } from './installation-names';

describe('installation names', () => {
  it('accepts kebab-case slugs of at most 40 characters', () => {
    for (const name of ['github', 'linear-eu', 'remote-mcp', 'a', 'x1', 'a'.repeat(40)]) expect(isInstallationName(name)).toBe(true);
  });

  it('refuses upper case, underscores (so never the `__` separator), edge or double hyphens, and length over 40', () => {
    for (const name of ['', 'GitHub', 'git_hub', 'git__hub', '-github', 'github-', 'git--hub', 'git hub', 'a'.repeat(41), 'gït']) {
      expect(installationNameProblem(name)).toEqual(expect.any(String));
    }
  });
});

describe('namespaced tool names', () => {
  it('splits at the first separator: the installation never contains one', () => {
    expect(splitNamespacedTool('github__search')).toEqual({ installation: 'github', tool: 'search' });
    expect(splitNamespacedTool('github__list__all')).toEqual({ installation: 'github', tool: 'list__all' });
  });

  it('refuses names without an installation, with a malformed one, or too long', () => {
    for (const name of ['search', '__search', 'GitHub__search', 'github__', 'github__sp ace', `github__${'t'.repeat(60)}`]) {
      expect(splitNamespacedTool(name)).toBeUndefined();
    }
  });
});

describe('toolAllowed', () => {
  it('lets every tool through an empty allowlist', () => {
    expect(toolAllowed([], 'github__search')).toBe(true);
  });

  it('lets through only the listed namespaced names, exactly', () => {
    const allowlist = ['github__search'];
    expect(toolAllowed(allowlist, 'github__search')).toBe(true);
    expect(toolAllowed(allowlist, 'github__delete_repo')).toBe(false);
    expect(toolAllowed(allowlist, 'linear__search')).toBe(false);
    expect(toolAllowed(allowlist, 'search')).toBe(false);
    expect(toolAllowed(allowlist, 'GITHUB__search')).toBe(false);
  });
});
