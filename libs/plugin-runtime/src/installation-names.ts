import { MAX_NAMESPACED_NAME_LENGTH, NAMESPACE_SEPARATOR, PLUGIN_NAME_PATTERN, TOOL_NAME_PATTERN } from './plugin-validation';

/**
 * A tenant installs a plugin under a name (`github`, `linear`, both of plugin `remote-mcp`); the
 * default name is the plugin's own. The name is the installation's namespace on the tenant-wide
 * URL (`github__search`), its URL (`/t/{tenant}/p/github/mcp`), its OAuth scope (`plugin:github`)
 * and what API keys list in `plugins`. Same rule as plugin names: kebab case, so it can never
 * contain the `__` separator and the first `__` of a namespaced name is always the separator.
 */
export const INSTALLATION_NAME_PATTERN = PLUGIN_NAME_PATTERN;
export const MAX_INSTALLATION_NAME_LENGTH = 40;

/** Why `name` cannot name an installation, or undefined when it can. */
export function installationNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_INSTALLATION_NAME_LENGTH) return `must be at most ${MAX_INSTALLATION_NAME_LENGTH} characters`;
  if (!INSTALLATION_NAME_PATTERN.test(name)) return "must be lower-case letters, digits and single '-' between them (like github or linear-eu)";
  return undefined;
}

export function isInstallationName(name: string): boolean {
  return installationNameProblem(name) === undefined;
}

/** `{installation}__{tool}` split at its separator; undefined when it is not well formed. */
export function splitNamespacedTool(name: string): { installation: string; tool: string } | undefined {
  if (name.length > MAX_NAMESPACED_NAME_LENGTH) return undefined;
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  if (at <= 0) return undefined;
  const installation = name.slice(0, at);
  const tool = name.slice(at + NAMESPACE_SEPARATOR.length);
  if (!isInstallationName(installation) || !TOOL_NAME_PATTERN.test(tool)) return undefined;
  return { installation, tool };
}

/**
 * Whether a key's tool allowlist lets it see a tool, named `{installation}__{tool}` whatever URL
 * the session uses (on `/p/github/mcp` the tool `search` is `github__search`). Empty = every tool
 * of the key's installations.
 */
export function toolAllowed(allowlist: readonly string[], namespacedTool: string): boolean {
  return allowlist.length === 0 || allowlist.includes(namespacedTool);
}
