import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '@switchboard/api-keys';
import { NAMESPACE_SEPARATOR } from '@switchboard/plugin-runtime';
import { MCP_SCOPE, PLUGIN_SCOPE_PREFIX } from './oauth-access-token';

/** A step-up the client can take: the plugins it lacks, and every scope to ask for (what it holds included). */
export interface ScopeStepUp {
  plugins: string[];
  scopes: string[];
}

/**
 * Whether a POST to the tenant-wide URL needs a wider token: one of its `tools/call`s names a
 * `{plugin}__{tool}` of a plugin the tenant has enabled and the token's key allows, but the token
 * was not granted (MCP 2025-11-25 "Scope Challenge Handling": the client re-authorizes with the
 * scopes named). A plugin the key lacks, or the tenant has not enabled, never counts: that call
 * stays an unknown tool, so the answer reveals nothing the tools list does not show.
 * On a plugin URL the gate decided before the body was read.
 */
export function scopeStepUp(
  messages: readonly JSONRPCMessage[],
  principal: Pick<Principal, 'kind' | 'plugins' | 'keyPlugins'>,
  endpointPlugin: string | undefined,
  enabledPlugins: readonly string[],
): ScopeStepUp | undefined {
  const { keyPlugins } = principal;
  // Only an OAuth token can be widened by a new consent; an empty grant already covers every plugin.
  if (endpointPlugin !== undefined || principal.kind !== 'oauth' || keyPlugins === undefined || principal.plugins.length === 0) return undefined;
  const missing = new Set<string>();
  for (const message of messages) {
    const plugin = calledPlugin(message);
    if (plugin === undefined || principal.plugins.includes(plugin) || !enabledPlugins.includes(plugin)) continue;
    if (keyPlugins.length === 0 || keyPlugins.includes(plugin)) missing.add(plugin);
  }
  if (missing.size === 0) return undefined;
  const plugins = [...missing].sort();
  // The token's own plugin scopes stay in the list: a client that replaces its scopes keeps them.
  const scopes = [MCP_SCOPE, ...[...principal.plugins, ...plugins].map((plugin) => `${PLUGIN_SCOPE_PREFIX}${encodeURIComponent(plugin)}`)];
  return { plugins, scopes };
}

/** The plugin a `tools/call` request names by its namespaced tool; undefined for anything else. */
function calledPlugin(message: JSONRPCMessage): string | undefined {
  if (!('method' in message) || message.method !== 'tools/call' || !('id' in message)) return undefined;
  const name: unknown = message.params?.['name'];
  if (typeof name !== 'string') return undefined;
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  return at > 0 ? name.slice(0, at) : undefined;
}
