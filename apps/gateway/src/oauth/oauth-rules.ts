import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopbackRedirectUri, redirectUriProblem as sharedRedirectUriProblem } from '@switchboard/oauth-policy';
import { MCP_SCOPE, PLUGIN_SCOPE_PREFIX } from '../auth/oauth-access-token';

/**
 * The authorization server's rules as pure functions (docs/oauth.md): which redirect URIs a
 * client may register and which presented one matches, PKCE, scopes, and which resources are
 * ours. Each returns a decision; the service acts on it.
 */

export type ApplicationType = 'web' | 'native';

/**
 * Whether a client may register this redirect URI: the platform's rule (libs/oauth-policy, shared
 * with the admin API), and in addition a private-use scheme (RFC 8252 §7.1) only for a native app.
 */
export function redirectUriProblem(uri: string, applicationType: ApplicationType): string | undefined {
  const problem = sharedRedirectUriProblem(uri);
  if (problem) return problem;
  const scheme = new URL(uri).protocol;
  if (scheme !== 'https:' && scheme !== 'http:' && applicationType !== 'native') return 'a private-use scheme requires application_type "native"';
  return undefined;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * Whether a presented redirect URI is one the client registered. Exact string match (OAuth 2.1
 * §4.1.1), except that a loopback URI may use any port (RFC 8252 §7.3: "MUST allow any port").
 */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  if (!isLoopbackRedirectUri(presented)) return false;
  const withoutPort = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}${u.search}`;
  const url = withoutPort(new URL(presented));
  return registered.some((candidate) => isLoopbackRedirectUri(candidate) && withoutPort(new URL(candidate)) === url);
}

/** RFC 7636 §4.1: 43–128 unreserved characters; the S256 challenge is 43 base64url characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

/** RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge, compared in constant time. */
export function pkceVerifies(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** A tenant MCP URL on this gateway, as RFC 8707 `resource`. */
export interface TenantResource {
  resource: string;
  tenantSlug: string;
  /** Set for `/t/<slug>/p/<plugin>/…`: the resource is that plugin alone. */
  plugin?: string;
  /** Set for `/t/<slug>/v/<name>/…`: the resource is that virtual server. */
  virtual?: string;
}

const RESOURCE_PATH = /^\/t\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})(?:\/p\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})|\/v\/([a-z0-9][a-z0-9-]{0,39}))?\/(mcp|sse)$/;

/**
 * Whether `resource` names a tenant MCP URL of this issuer: same origin, one of the MCP paths,
 * no query or fragment (RFC 8707 §2: "MUST NOT include a fragment"). Anything else is not ours.
 */
export function tenantResourceOf(resource: string, issuer: string): TenantResource | undefined {
  const url = parseUrl(resource);
  const origin = parseUrl(issuer);
  if (!url || !origin || url.origin !== origin.origin) return undefined;
  if (url.search !== '' || url.hash !== '' || resource.includes('#') || resource.includes('?')) return undefined;
  const match = RESOURCE_PATH.exec(url.pathname);
  if (!match) return undefined;
  const [, tenantSlug, plugin, virtual] = match;
  return { resource: `${url.origin}${url.pathname}`, tenantSlug: tenantSlug!, ...(plugin ? { plugin } : {}), ...(virtual ? { virtual } : {}) };
}

export function pluginScope(plugin: string): string {
  return `${PLUGIN_SCOPE_PREFIX}${plugin}`;
}

export function parseScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))];
}

/**
 * The plugins the consent page offers: those the client asked for (`plugin:<name>`), or, when it
 * asked for the base scope alone, every plugin the resource reaches. Unknown scopes are ignored
 * (RFC 6749 §3.3 lets the server narrow); asking only for plugins the tenant lacks is refused.
 */
export function offeredPlugins(requestedScope: string[], resourcePlugins: readonly string[]): { ok: true; plugins: string[] } | { ok: false } {
  const asked = requestedScope.filter((s) => s.startsWith(PLUGIN_SCOPE_PREFIX)).map((s) => s.slice(PLUGIN_SCOPE_PREFIX.length));
  if (asked.length === 0) return { ok: true, plugins: [...resourcePlugins] };
  const known = asked.filter((plugin) => resourcePlugins.includes(plugin));
  return known.length > 0 ? { ok: true, plugins: known } : { ok: false };
}

/**
 * What the person grants: the base scope and the plugins they ticked, of those offered, that the
 * API key they signed in with reaches (a key narrowed to plugin A cannot grant B; a key with no
 * plugin list reaches every plugin). Plugins are always listed, so `mcp` alone never means "all".
 */
export function grantedScopes(chosen: readonly string[], offered: readonly string[], keyPlugins: readonly string[]): string[] | undefined {
  const plugins = offered.filter((plugin) => chosen.includes(plugin) && (keyPlugins.length === 0 || keyPlugins.includes(plugin)));
  if (offered.length > 0 && plugins.length === 0) return undefined;
  return [MCP_SCOPE, ...plugins.map(pluginScope)];
}

/**
 * RFC 6749 §6: a refresh may ask for the same or fewer scopes, never more. A narrowing that
 * drops every plugin would read as "all plugins", so it is refused too.
 */
export function narrowedScopes(grant: readonly string[], requested: string | undefined): string[] | undefined {
  if (requested === undefined) return [...grant];
  const asked = parseScope(requested);
  if (asked.length === 0 || asked.some((s) => !grant.includes(s)) || !asked.includes(MCP_SCOPE)) return undefined;
  const grantHasPlugins = grant.some((s) => s.startsWith(PLUGIN_SCOPE_PREFIX));
  if (grantHasPlugins && !asked.some((s) => s.startsWith(PLUGIN_SCOPE_PREFIX))) return undefined;
  return grant.filter((s) => asked.includes(s));
}

/** Codes and refresh tokens: 32 random bytes in base64url; only their SHA-256 is stored. */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
