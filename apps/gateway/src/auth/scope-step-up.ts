import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '@switchboard/api-keys';
import { NAMESPACE_SEPARATOR, toolAllowed } from '@switchboard/plugin-runtime';
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
 * stays an unknown tool, so the answer reveals nothing the tools list does not show. Nor does a
 * tool outside the key's tool allowlist: no consent could grant it, and a challenge would tell the
 * caller that the tool's installation exists.
 * On a plugin URL the gate decided before the body was read.
 */
export function scopeStepUp(
  messages: readonly JSONRPCMessage[],
  principal: Pick<Principal, 'kind' | 'plugins' | 'keyPlugins' | 'tools'>,
  endpointPlugin: string | undefined,
  enabledPlugins: readonly string[],
): ScopeStepUp | undefined {
  const { keyPlugins } = principal;
  // Only an OAuth token can be widened by a new consent; an empty grant already covers every plugin.
  if (endpointPlugin !== undefined || principal.kind !== 'oauth' || keyPlugins === undefined || principal.plugins.length === 0) return undefined;
  const missing = new Set<string>();
  for (const message of messages) {
    const called = calledTool(message);
    const plugin = called?.plugin;
    if (called === undefined || plugin === undefined || principal.plugins.includes(plugin) || !enabledPlugins.includes(plugin)) continue;
    if (!toolAllowed(principal.tools ?? [], called.name)) continue;
    if (keyPlugins.length === 0 || keyPlugins.includes(plugin)) missing.add(plugin);
  }
  if (missing.size === 0) return undefined;
  const plugins = [...missing].sort();
  // The token's own plugin scopes stay in the list: a client that replaces its scopes keeps them.
  const scopes = [MCP_SCOPE, ...[...principal.plugins, ...plugins].map((plugin) => `${PLUGIN_SCOPE_PREFIX}${encodeURIComponent(plugin)}`)];
  return { plugins, scopes };
}

/** The tool a `tools/call` request names, with the installation of its namespace; undefined for anything else. */
function calledTool(message: JSONRPCMessage): { name: string; plugin: string | undefined } | undefined {
  if (!('method' in message) || message.method !== 'tools/call' || !('id' in message)) return undefined;
  const name: unknown = message.params?.['name'];
  if (typeof name !== 'string') return undefined;
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  return { name, plugin: at > 0 ? name.slice(0, at) : undefined };
}
