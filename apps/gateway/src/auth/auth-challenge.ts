import type { IncomingMessage } from 'node:http';
import type { AuthFailureReason } from './bearer-authenticator';
import { MCP_SCOPE, PLUGIN_SCOPE_PREFIX } from './oauth-access-token';

export const PROTECTED_RESOURCE_METADATA_PREFIX = '/.well-known/oauth-protected-resource';
const REALM = 'switchboard';
/** The endpoint names a client connects to, and so the only ones with metadata (`messages` belongs to `sse`). */
export const MCP_ENDPOINT_NAMES: readonly string[] = ['mcp', 'sse'];

/** Why a token was refused, in words safe to show (never the token, never whether a tenant exists). */
const DESCRIPTIONS: Record<Exclude<AuthFailureReason, 'missing' | 'tenant_suspended'>, string> = {
  malformed: 'The bearer token is malformed',
  unknown: 'The bearer token is not valid',
  revoked: 'The bearer token has been revoked',
  expired: 'The bearer token has expired',
};

/** The gateway's public base URL: PUBLIC_GATEWAY_URL, else what the client used to reach it. */
export function publicBaseUrl(req: IncomingMessage, configured: string | undefined): string {
  if (configured) return configured;
  return `http://${req.headers.host ?? 'localhost'}`;
}

/**
 * The platform's one authorization server: the origin of the public base URL, served by the
 * gateway itself (docs/oauth.md). Tenants are its resources, not issuers of their own.
 */
export function platformIssuer(base: string): string {
  return new URL(base).origin;
}

/**
 * The path of an endpoint from its (decoded) route parameters, each segment percent-encoded again:
 * the same string for the usual names, and never a quote, comma, space or line break that could
 * change the structure of a `WWW-Authenticate` header it is written into.
 */
export function endpointPath(tenant: string, plugin: string | undefined, endpoint: string): string {
  const t = encodeURIComponent(tenant);
  return plugin === undefined ? `/t/${t}/${endpoint}` : `/t/${t}/p/${encodeURIComponent(plugin)}/${endpoint}`;
}

/** The path of a virtual server's endpoint, `/t/{tenant}/v/{name}/{endpoint}`, encoded like `endpointPath`. */
export function virtualEndpointPath(tenant: string, virtual: string, endpoint: string): string {
  return `/t/${encodeURIComponent(tenant)}/v/${encodeURIComponent(virtual)}/${endpoint}`;
}

/** RFC 9728 metadata URL of an MCP endpoint path such as `/t/acme/mcp` (§3.1: the well-known prefix inserted before the path). */
export function resourceMetadataUrl(base: string, endpointPath: string): string {
  return `${base}${PROTECTED_RESOURCE_METADATA_PREFIX}${endpointPath}`;
}

/**
 * The scopes an endpoint needs: `mcp`, and on a plugin URL `plugin:<name>`. Derived from the path
 * alone, never from the database, so a challenge says nothing about whether the tenant exists.
 */
export function requiredScopes(plugin: string | undefined): string[] {
  return plugin === undefined ? [MCP_SCOPE] : [MCP_SCOPE, `${PLUGIN_SCOPE_PREFIX}${encodeURIComponent(plugin)}`];
}

/** An RFC 7230 quoted-string's content: visible ASCII and space only, `"` and `\` escaped. */
function quoted(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, (c) => `\\${c}`);
}

/**
 * `WWW-Authenticate` for a 401, as RFC 6750 §3 and the MCP authorization spec describe it:
 * `resource_metadata` (RFC 9728 §5.1) and the scopes to ask for (MCP 2025-11-25 "Protected
 * Resource Metadata Discovery Requirements": servers SHOULD include `scope`).
 */
export function wwwAuthenticate(reason: Exclude<AuthFailureReason, 'tenant_suspended'>, metadataUrl: string, scopes: readonly string[] = [MCP_SCOPE]): string {
  const parts = [`realm="${REALM}"`];
  // RFC 6750 §3.1: a request without credentials gets no error code.
  if (reason !== 'missing') parts.push('error="invalid_token"', `error_description="${DESCRIPTIONS[reason]}"`);
  parts.push(`scope="${quoted(scopes.join(' '))}"`, `resource_metadata="${quoted(metadataUrl)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * `WWW-Authenticate` for a 403 step-up (RFC 6750 §3.1 insufficient_scope; MCP 2025-11-25 "Runtime
 * Insufficient Scope Errors"): `scopes` are what the request needs, the token's own relevant ones included.
 */
export function insufficientScope(metadataUrl: string, scopes: readonly string[], description: string): string {
  return `Bearer realm="${REALM}", error="insufficient_scope", error_description="${quoted(description)}", scope="${quoted(scopes.join(' '))}", resource_metadata="${quoted(metadataUrl)}"`;
}

/**
 * RFC 9728 protected resource metadata of one MCP endpoint. `resource` is exactly the URL the
 * client connects to (§3.3: it MUST be identical to the resource the metadata URL was built from),
 * the authorization server is the platform's. `scopes_supported` lists `mcp` (and the plugin of a
 * plugin URL) but never the tenant's plugins: the document is public, and must read the same for
 * a tenant that does not exist. Plugin scopes are offered on the consent page, after sign-in.
 */
export function protectedResourceMetadata(base: string, endpoint: { path: string; plugin: string | undefined }): Record<string, unknown> {
  return {
    resource: `${base}${endpoint.path}`,
    authorization_servers: [platformIssuer(base)],
    scopes_supported: requiredScopes(endpoint.plugin),
    bearer_methods_supported: ['header'],
    resource_name: 'Switchboard MCP gateway',
    resource_documentation: `${base}/`,
  };
}
