import type { IncomingMessage } from 'node:http';
import type { AuthFailureReason } from './bearer-authenticator';

export const PROTECTED_RESOURCE_METADATA_PREFIX = '/.well-known/oauth-protected-resource';
const REALM = 'switchboard';

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

/** RFC 9728 metadata URL of an MCP endpoint path such as `/t/acme/mcp`. */
export function resourceMetadataUrl(base: string, endpointPath: string): string {
  return `${base}${PROTECTED_RESOURCE_METADATA_PREFIX}${endpointPath}`;
}

/** `WWW-Authenticate` for a 401, as RFC 6750 and the MCP authorization spec describe it. */
export function wwwAuthenticate(reason: Exclude<AuthFailureReason, 'tenant_suspended'>, metadataUrl: string): string {
  const parts = [`realm="${REALM}"`];
  // RFC 6750 §3.1: a request without credentials gets no error code.
  if (reason !== 'missing') parts.push('error="invalid_token"', `error_description="${DESCRIPTIONS[reason]}"`);
  parts.push(`resource_metadata="${metadataUrl}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** RFC 9728 protected resource metadata. Keys are issued by the admin API, so no authorization server is listed. */
export function protectedResourceMetadata(base: string, endpointPath: string): Record<string, unknown> {
  return {
    resource: `${base}${endpointPath}`,
    authorization_servers: [],
    bearer_methods_supported: ['header'],
    resource_name: 'Switchboard MCP gateway',
    resource_documentation: `${base}/`,
  };
}
