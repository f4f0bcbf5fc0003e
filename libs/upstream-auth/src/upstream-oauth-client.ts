import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { AuthorizationServerMetadata, OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * The platform as an OAuth 2.1 client of an upstream MCP server (MCP authorization 2025-11-25,
 * client side). Every protocol step is the official SDK's own function (discovery, registration,
 * PKCE, token requests); this file only chooses between them and keeps what they return.
 */

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The SDK tells an error response from a string by `instanceof Response` (parseErrorResponse): a
 * guarded fetch built on another undici copy answers with its own Response class, whose errors
 * would read as "[object Response]". Its answers are rewrapped in this runtime's Response.
 */
export function sdkFetch(fetchFn: FetchLike): FetchLike {
  return async (url, init) => {
    const response = await fetchFn(url, init);
    if (response instanceof Response) return response;
    // Typed as this runtime's Response, but of another class (the check above narrowed it away).
    const foreign = response as unknown as Response;
    const body = NULL_BODY_STATUSES.has(foreign.status) ? null : foreign.body;
    return new Response(body, { status: foreign.status, statusText: foreign.statusText, headers: foreign.headers });
  };
}

/** Where an upstream's tokens come from, as discovered when a connect starts and kept with the credential. */
export interface UpstreamAuthorizationServer {
  /** The authorization server's issuer URL, from the protected resource's metadata. */
  url: string;
  metadata: AuthorizationServerMetadata;
  /** RFC 8707 resource indicator: the upstream's canonical URI, sent on every authorization and token request. */
  resource: string;
  /** The scopes asked for (the resource's `scopes_supported`), or undefined to ask for none. */
  scope: string | undefined;
}

/** What a credential keeps to refresh: the authorization server, and who the platform is there. */
export interface UpstreamClientState {
  server: UpstreamAuthorizationServer;
  client: OAuthClientInformationMixed;
}

export type ClientIdentity = { kind: 'metadata-document'; clientId: string } | { kind: 'registration' };

/** Thrown when the upstream cannot be connected as configured; its message is for the tenant admin. */
export class UpstreamDiscoveryError extends Error {
  override readonly name = 'UpstreamDiscoveryError';
}

/**
 * 2025-11-25 "Authorization Server Discovery": the client MUST use the resource's Protected
 * Resource Metadata (RFC 9728) to find its authorization server, then that server's metadata
 * (RFC 8414 or OpenID Connect discovery).
 */
export async function discoverUpstream(serverUrl: string, fetchFn: FetchLike): Promise<UpstreamAuthorizationServer> {
  let resourceMetadata;
  try {
    resourceMetadata = await discoverOAuthProtectedResourceMetadata(serverUrl, undefined, fetchFn);
  } catch (error) {
    throw new UpstreamDiscoveryError(`the upstream publishes no usable OAuth protected resource metadata (RFC 9728): ${messageOf(error)}`, { cause: error });
  }
  // RFC 9728 §3.3: the metadata's `resource` must be the resource it was fetched for; the SDK's
  // check also accepts a parent path (a metadata for https://host/ covering https://host/mcp).
  const requested = resourceUrlFromServerUrl(serverUrl);
  if (!checkResourceAllowed({ requestedResource: requested, configuredResource: resourceMetadata.resource })) {
    throw new UpstreamDiscoveryError(`the upstream's protected resource metadata names another resource (${resourceMetadata.resource})`);
  }
  const url = resourceMetadata.authorization_servers?.[0];
  if (!url) throw new UpstreamDiscoveryError('the upstream\'s protected resource metadata names no authorization server');
  let metadata: AuthorizationServerMetadata | undefined;
  try {
    metadata = await discoverAuthorizationServerMetadata(url, { fetchFn });
  } catch (error) {
    throw new UpstreamDiscoveryError(`the upstream's authorization server metadata could not be read: ${messageOf(error)}`, { cause: error });
  }
  if (!metadata) throw new UpstreamDiscoveryError(`the upstream's authorization server (${url}) publishes no metadata (RFC 8414)`);
  // RFC 8414 §3.3: the issuer in the metadata MUST be identical to the one it was looked up by (mix-up defence).
  if (stripSlash(metadata.issuer) !== stripSlash(url)) throw new UpstreamDiscoveryError(`the authorization server's metadata names another issuer (${metadata.issuer})`);
  const scopes = resourceMetadata.scopes_supported;
  return { url, metadata, resource: resourceMetadata.resource, scope: scopes && scopes.length > 0 ? scopes.join(' ') : undefined };
}

/**
 * 2025-11-25 "Client Registration Approaches": a Client ID Metadata Document when the server says it
 * supports them (`client_id_metadata_document_supported`) and ours is reachable over https (the
 * draft's client_id MUST be an https URL); otherwise Dynamic Client Registration (RFC 7591).
 */
export function chooseClientIdentity(metadata: AuthorizationServerMetadata, metadataDocumentUrl: string): ClientIdentity {
  const cimd = (metadata as { client_id_metadata_document_supported?: unknown }).client_id_metadata_document_supported === true;
  if (cimd && metadataDocumentUrl.startsWith('https://')) return { kind: 'metadata-document', clientId: metadataDocumentUrl };
  if (metadata.registration_endpoint) return { kind: 'registration' };
  throw new UpstreamDiscoveryError(
    cimd
      ? 'the upstream\'s authorization server accepts only client metadata documents, and this platform\'s PUBLIC_GATEWAY_URL is not https'
      : 'the upstream\'s authorization server supports neither client metadata documents nor dynamic client registration',
  );
}

/** The platform's client metadata: the document served at /oauth/client-metadata.json, and the body of a registration. */
export function platformClientMetadata(redirectUri: string): OAuthClientMetadata {
  return {
    client_name: 'Switchboard',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // A public client: the draft forbids shared secrets for metadata documents, and PKCE protects the code.
    token_endpoint_auth_method: 'none',
  };
}

/** Who the platform is at this authorization server: its metadata document URL, or a fresh registration. */
export async function clientFor(server: UpstreamAuthorizationServer, identity: ClientIdentity, redirectUri: string, fetchFn: FetchLike): Promise<OAuthClientInformationMixed> {
  if (identity.kind === 'metadata-document') return { client_id: identity.clientId };
  try {
    return await registerClient(server.url, { metadata: server.metadata, clientMetadata: platformClientMetadata(redirectUri), scope: server.scope, fetchFn });
  } catch (error) {
    throw new UpstreamDiscoveryError(`registering with the upstream's authorization server failed: ${messageOf(error)}`, { cause: error });
  }
}

/** The authorization URL (PKCE S256, RFC 8707 resource) and the verifier to keep for the callback. */
export async function authorizationRequest(state: UpstreamClientState, redirectUri: string, oauthState: string): Promise<{ url: URL; codeVerifier: string }> {
  const { authorizationUrl, codeVerifier } = await startAuthorization(state.server.url, {
    metadata: state.server.metadata,
    clientInformation: state.client,
    redirectUrl: redirectUri,
    scope: state.server.scope,
    state: oauthState,
    resource: new URL(state.server.resource),
  });
  return { url: authorizationUrl, codeVerifier };
}

export function exchangeCode(state: UpstreamClientState, code: string, codeVerifier: string, redirectUri: string, fetchFn: FetchLike): Promise<OAuthTokens> {
  return exchangeAuthorization(state.server.url, {
    metadata: state.server.metadata,
    clientInformation: state.client,
    authorizationCode: code,
    codeVerifier,
    redirectUri,
    resource: new URL(state.server.resource),
    fetchFn,
  });
}

export function refreshTokens(state: UpstreamClientState, refreshToken: string, fetchFn: FetchLike): Promise<OAuthTokens> {
  return refreshAuthorization(state.server.url, {
    metadata: state.server.metadata,
    clientInformation: state.client,
    refreshToken,
    resource: new URL(state.server.resource),
    fetchFn,
  });
}

/** The RFC 6749 §5.2 error code of a failed token request, or undefined when the server never said one (network, timeout). */
export function oauthErrorCodeOf(error: unknown): string | undefined {
  return error instanceof OAuthError ? error.errorCode : undefined;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
