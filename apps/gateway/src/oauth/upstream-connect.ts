import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import {
  authorizationRequest,
  chooseClientIdentity,
  clientFor,
  ConnectSeals,
  discoverUpstream,
  exchangeCode,
  platformClientMetadata,
  UpstreamDiscoveryError,
  type UpstreamCredentialStore,
} from '@switchboard/upstream-auth';
import { escapeHtml } from './consent-page';

/** The browser's first stop: the admin API's connect URL, which redirects on to the upstream's authorization server. */
export const UPSTREAM_CONNECT_PATH = '/oauth/upstream/connect';
/** The redirect_uri the platform registers everywhere. */
export const UPSTREAM_CALLBACK_PATH = '/oauth/upstream/callback';
/** The platform's Client ID Metadata Document: its URL is the platform's client_id where the upstream supports them. */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';
/** Plugins whose installations may hold an upstream OAuth credential. */
export const OAUTH_UPSTREAM_PLUGINS = new Set(['remote-mcp']);

export type UpstreamConnectOutcome =
  | { kind: 'redirect'; location: string; browserBinding: string }
  | { kind: 'page'; status: number; title: string; message: string };

const page = (status: number, title: string, message: string): UpstreamConnectOutcome => ({ kind: 'page', status, title, message });
const INVALID_LINK = page(400, 'This connect link cannot be used', 'It is invalid, expired, already used, or a newer connect replaced it. Ask for a new connect URL and open it in this browser.');

/**
 * The platform as OAuth client of an upstream MCP server, the browser half (docs/upstream-oauth.md):
 * `begin` turns the admin API's ticket into an authorization request at the upstream's
 * authorization server (discovery, client identity, PKCE, resource); `callback` exchanges the code
 * and stores the tokens. Every state lives in Postgres or in seals, so any node serves any step.
 */
export class UpstreamConnect {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: UpstreamCredentialStore,
    private readonly seals: ConnectSeals,
    private readonly fetch: FetchLike,
    private readonly logger: Logger,
    /** A connected credential changes what the installation lists: its sessions list again. */
    private readonly onConnected: (tenantId: string) => void,
  ) {}

  /** The document served at CLIENT_METADATA_PATH (draft-ietf-oauth-client-id-metadata-document §4: client_id is its own URL). */
  clientMetadataDocument(base: string): Record<string, unknown> {
    return { client_id: `${base}${CLIENT_METADATA_PATH}`, ...platformClientMetadata(`${base}${UPSTREAM_CALLBACK_PATH}`), client_uri: base };
  }

  async begin(base: string, ticket: string | undefined): Promise<UpstreamConnectOutcome> {
    const connect = this.seals.openTicket(ticket);
    if (!connect) return INVALID_LINK;
    const installation = await this.prisma.pluginInstallation.findFirst({ where: { id: connect.installationId, tenantId: connect.tenantId }, select: { name: true, plugin: true, config: true } });
    const config = (installation?.config ?? {}) as Record<string, unknown>;
    if (!installation || !OAUTH_UPSTREAM_PLUGINS.has(installation.plugin) || config['auth'] !== 'oauth' || typeof config['url'] !== 'string') {
      return page(409, 'This installation does not use OAuth', 'Set auth to oauth on the installation, then ask for a new connect URL.');
    }
    const redirectUri = `${base}${UPSTREAM_CALLBACK_PATH}`;
    const stateNonce = ConnectSeals.random();
    const browserBinding = ConnectSeals.random();
    // The ticket is spent first: the same link opened twice fetches nothing the second time.
    if (!(await this.store.spendTicket(connect, connect.nonce, stateNonce))) return INVALID_LINK;
    let authorization: { url: URL; codeVerifier: string };
    let clientState;
    try {
      const server = await discoverUpstream(config['url'], this.fetch);
      const client = await clientFor(server, chooseClientIdentity(server.metadata, `${base}${CLIENT_METADATA_PATH}`), redirectUri, this.fetch);
      clientState = { server, client };
      authorization = await authorizationRequest(clientState, redirectUri, this.seals.sealState({ ...connect, nonce: stateNonce }, browserBinding));
    } catch (error) {
      this.logger.warn({ tenantId: connect.tenantId, installation: installation.name, err: error }, 'upstream OAuth connect could not start');
      return page(502, 'The upstream cannot be connected', error instanceof UpstreamDiscoveryError ? error.message : 'its authorization server could not be reached or answered unexpectedly');
    }
    if (!(await this.store.savePending(connect, stateNonce, { ...clientState, codeVerifier: authorization.codeVerifier, redirectUri }))) return INVALID_LINK;
    return { kind: 'redirect', location: authorization.url.href, browserBinding };
  }

  async callback(query: Record<string, unknown>, browserBinding: string | undefined): Promise<UpstreamConnectOutcome> {
    const state = typeof query['state'] === 'string' ? query['state'] : undefined;
    const connect = this.seals.openState(state, browserBinding);
    if (!connect) return INVALID_LINK;
    // Taken before anything else: a replayed callback finds nothing, so the code is redeemed once
    // (our own authorization server revokes a grant whose code comes twice).
    const pending = await this.store.takePending(connect, connect.nonce);
    if (!pending) return INVALID_LINK;
    const installation = await this.prisma.pluginInstallation.findFirst({ where: { id: connect.installationId, tenantId: connect.tenantId }, select: { name: true } });
    if (!installation) return INVALID_LINK;
    if (typeof query['error'] === 'string') {
      const detail = typeof query['error_description'] === 'string' ? `: ${query['error_description'].slice(0, 200)}` : '';
      return page(400, 'The upstream did not authorize the connection', `${query['error'].slice(0, 64)}${detail}`);
    }
    // RFC 9207: an `iss` that is not the server this request went to is an authorization server mix-up.
    if (typeof query['iss'] === 'string' && query['iss'].replace(/\/+$/, '') !== pending.server.metadata.issuer.replace(/\/+$/, '')) {
      return page(400, 'The upstream answered from another authorization server', 'The connection was not made. Start again from the console.');
    }
    if (typeof query['code'] !== 'string' || query['code'] === '') return page(400, 'The upstream sent no authorization code', 'Start again from the console.');
    let tokens;
    try {
      tokens = await exchangeCode(pending, query['code'], pending.codeVerifier, pending.redirectUri, this.fetch);
    } catch (error) {
      this.logger.warn({ tenantId: connect.tenantId, installation: installation.name, err: error }, 'upstream OAuth code exchange failed');
      return page(502, 'The upstream did not issue a token', 'Its authorization server refused the code exchange. Start again from the console.');
    }
    await this.store.saveConnected(connect, pending, tokens);
    await this.prisma.auditEvent.create({
      data: { actor: 'gateway', action: 'upstream-credential.connect', targetType: 'plugin', targetId: connect.installationId, tenantId: connect.tenantId, details: { installation: installation.name, subject: 'shared', authorizationServer: pending.server.url } },
    });
    this.onConnected(connect.tenantId);
    return page(200, 'Upstream connected', `Installation "${installation.name}" now reaches its upstream with the account you approved. You can close this page.`);
  }
}

/** The connect round trip's last page, server-rendered like the consent page (no script). */
export function renderUpstreamPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p role="status">${escapeHtml(message)}</p></main></body></html>`;
}
