import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ResolveResult } from '@switchboard/api-keys';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { readSsoSettings } from '@switchboard/oauth-policy';
import {
  authorizationRequest,
  chooseClientIdentity,
  clientFor,
  ConnectSeals,
  credentialModeOf,
  discoverUpstream,
  exchangeCode,
  platformClientMetadata,
  SHARED_SUBJECT,
  UPSTREAM_CONNECT_PATH,
  UpstreamDiscoveryError,
  type SealedConnect,
  type UpstreamCredentialStore,
} from '@switchboard/upstream-auth';
import { escapeHtml } from './consent-page';
import type { SsoSignIn } from './sso-sign-in';
import { decideSignIn, decideSsoSignIn, signInMethodFor, type SignInMethod } from './upstream-sign-in';

/** The browser's first stop: the admin API's connect URL (or a person's link), which redirects on to the upstream's authorization server. */
export { UPSTREAM_CONNECT_PATH };
/** The redirect_uri the platform registers everywhere. */
export const UPSTREAM_CALLBACK_PATH = '/oauth/upstream/callback';
/** The platform's Client ID Metadata Document: its URL is the platform's client_id where the upstream supports them. */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';
/** Plugins whose installations may hold an upstream OAuth credential. */
export const OAUTH_UPSTREAM_PLUGINS = new Set(['remote-mcp']);

export type UpstreamConnectOutcome =
  | { kind: 'redirect'; location: string; browserBinding: string }
  | { kind: 'page'; status: number; title: string; message: string }
  /** A per-user link: the person signs in first; `browserBinding` goes into the sign-in form's cookie; `ssoFormTarget`, the provider's origin, when the form goes on to it. */
  | { kind: 'sign-in'; status: number; view: UpstreamSignInView; browserBinding: string; ssoFormTarget?: string }
  /** To the tenant's identity provider for the sign-in; `binding` goes into the cookie SSO_CALLBACK_PATH needs. */
  | { kind: 'sso'; location: string; binding: string };

/** The per-user connect page's sign-in form. */
export interface UpstreamSignInView {
  installation: string;
  tenantName: string;
  /** The opened ticket, sealed to this browser's sign-in cookie (ConnectSeals.sealSignIn). */
  sealed: string;
  error?: string;
  /** The tenant's identity provider (its host): the page offers "Sign in with …" instead of a key field. */
  ssoProvider?: string;
}

/** The single sign-on side of the connect page's sign-in. */
export type ConnectSso = Pick<SsoSignIn, 'offer' | 'beginConnect' | 'completeConnect' | 'purposeOf'>;

/** The API-key side of the connect page's sign-in: the gateway's resolver. */
export interface ConnectKeyCheck {
  resolve(token: string): Promise<ResolveResult>;
}

const page = (status: number, title: string, message: string): UpstreamConnectOutcome => ({ kind: 'page', status, title, message });
const INVALID_LINK = page(400, 'This connect link cannot be used', 'It is invalid, expired, already used, or a newer connect replaced it. Ask for a new connect URL and open it in this browser.');
const NO_SIGN_IN = page(
  409,
  'You cannot be confirmed here',
  'This link was made for a person who signed in to their MCP client through single sign-on, and this tenant no longer signs people in through that identity provider. Sign your MCP client in again, then call the tool; nothing was connected.',
);
const SSO_UNREACHABLE = page(502, 'Your identity provider cannot be reached', 'This link signs you in through your identity provider, which did not answer. Nothing was connected; open the link again in a moment.');
const OTHER_PERSON = page(
  403,
  'This link is for someone else',
  'You signed in as another person than the one this connect link was made for, so nothing was connected. Call the tool from your own MCP client to get your own link.',
);

/**
 * The platform as OAuth client of an upstream MCP server, the browser half (docs/upstream-oauth.md):
 * `begin` turns the admin API's ticket into an authorization request at the upstream's
 * authorization server (discovery, client identity, PKCE, resource); `callback` exchanges the code
 * and stores the tokens. A person's link (per-user mode) first shows a sign-in form: an API key
 * for a person who signed their MCP client in with one (`signIn` checks it), the tenant's single
 * sign-on for one who signed in through it (`signIn` sends them to the provider, `ssoCallback`
 * checks whom it vouched for). Either goes on only when the person signed in is the one the link
 * was sealed for. Every state lives in Postgres or in seals, so any node serves any step.
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
    /** Signs a person in on a per-user link (API key, as on the consent page). */
    private readonly keys: ConnectKeyCheck,
    /** Signs a person in on a per-user link made for a single sign-on subject; without it such links cannot be confirmed. */
    private readonly sso?: ConnectSso,
  ) {}

  /** The document served at CLIENT_METADATA_PATH (draft-ietf-oauth-client-id-metadata-document §4: client_id is its own URL). */
  clientMetadataDocument(base: string): Record<string, unknown> {
    return { client_id: `${base}${CLIENT_METADATA_PATH}`, ...platformClientMetadata(`${base}${UPSTREAM_CALLBACK_PATH}`), client_uri: base };
  }

  async begin(base: string, ticket: string | undefined): Promise<UpstreamConnectOutcome> {
    const connect = this.seals.openTicket(ticket);
    if (!connect) return INVALID_LINK;
    const installation = await this.oauthInstallation(connect);
    if (!installation.ok) return installation.outcome;
    // A person's link: nothing is spent or fetched until the opener proved to be that person.
    if (connect.subject !== SHARED_SUBJECT) {
      // Used or replaced: said at once, not after the person typed a key.
      if (!(await this.store.ticketLive(connect, connect.nonce))) return INVALID_LINK;
      return this.signInForm(connect, installation.name, 200, undefined, ConnectSeals.random());
    }
    return this.authorize(base, connect, installation.name, installation.url);
  }

  /** POST of the per-user sign-in form: the same-person check, then on to the upstream as `begin` goes. */
  async signIn(base: string, form: Record<string, unknown>, browserBinding: string | undefined): Promise<UpstreamConnectOutcome> {
    const sealed = typeof form['signin'] === 'string' ? form['signin'] : undefined;
    // Forged, expired, or posted without this browser's cookie (a cross-site form carries no SameSite=Strict cookie).
    const connect = this.seals.openSignIn(sealed, browserBinding);
    if (!connect || !browserBinding || connect.subject === SHARED_SUBJECT) return INVALID_LINK;
    const installation = await this.oauthInstallation(connect);
    if (!installation.ok) return installation.outcome;
    const tenant = await this.tenantOf(connect.tenantId);
    if (!tenant) return INVALID_LINK;
    const method = this.signInMethod(connect, tenant);
    if (method === 'none') return NO_SIGN_IN;
    if (method === 'sso' && this.sso) {
      // Nothing spent before the provider's answer: the same-person check happens at the callback.
      if (!(await this.store.ticketLive(connect, connect.nonce))) return INVALID_LINK;
      const begun = await this.sso.beginConnect(base, tenant, connect);
      if (!begun.ok) return page(502, 'Single sign-on is not available', `${begun.reason}. Nothing was connected; try again later.`);
      return { kind: 'sso', location: begun.location, binding: begun.binding };
    }
    const apiKey = typeof form['api_key'] === 'string' ? form['api_key'].trim() : '';
    const decision = decideSignIn(connect, apiKey ? await this.keys.resolve(apiKey) : undefined);
    if (!decision.ok && decision.reason === 'not_signed_in') {
      return this.signInForm(connect, installation.name, 400, 'That is not a valid API key of this tenant.', browserBinding);
    }
    if (!decision.ok) {
      this.logger.warn({ tenantId: connect.tenantId, installation: installation.name }, 'per-user upstream connect link opened by another person; refused');
      return OTHER_PERSON;
    }
    return this.authorize(base, connect, installation.name, installation.url);
  }

  /** Whether the single sign-on callback is a connect link's (SsoSignIn.purposeOf): the transport hands it here rather than to the consent. */
  ownsSsoCallback(state: unknown, ssoBinding: string | undefined): boolean {
    return this.sso?.purposeOf(typeof state === 'string' ? state : undefined, ssoBinding) === 'connect';
  }

  /** SSO_CALLBACK_PATH for a connect link: the provider's person must be the link's, then on to the upstream as after a key sign-in. */
  async ssoCallback(base: string, query: Record<string, unknown>, ssoBinding: string | undefined): Promise<UpstreamConnectOutcome> {
    if (!this.sso) return INVALID_LINK;
    // A repeated parameter reads as none (an array is not a string): refused like a missing one.
    const field = (name: string) => (typeof query[name] === 'string' ? query[name] : undefined);
    const completed = await this.sso.completeConnect(base, { code: field('code'), state: field('state'), error: field('error') }, ssoBinding, (id) => this.tenantOf(id));
    if (!completed.ok) return page(400, 'The sign-in did not complete', `${completed.reason}. Nothing was connected.`);
    const connect = completed.connect;
    const installation = await this.oauthInstallation(connect);
    if (!installation.ok) return installation.outcome;
    if (!decideSsoSignIn(connect, completed.identity).ok) {
      this.logger.warn({ tenantId: connect.tenantId, installation: installation.name }, 'per-user upstream connect link opened by another person (single sign-on); refused');
      return OTHER_PERSON;
    }
    return this.authorize(base, connect, installation.name, installation.url);
  }

  private signInMethod(connect: SealedConnect, tenant: { oauth: unknown }): SignInMethod {
    const method = signInMethodFor(connect.subject, readSsoSettings(tenant.oauth)?.issuer);
    return method === 'sso' && !this.sso ? 'none' : method;
  }

  private async tenantOf(tenantId: string): Promise<{ id: string; name: string; oauth: unknown } | undefined> {
    return (await this.prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true, name: true, oauth: true } })) ?? undefined;
  }

  private async signInForm(connect: SealedConnect, installation: string, status: number, error: string | undefined, browserBinding: string): Promise<UpstreamConnectOutcome> {
    const tenant = await this.tenantOf(connect.tenantId);
    if (!tenant) return INVALID_LINK;
    const method = this.signInMethod(connect, tenant);
    if (method === 'none') return NO_SIGN_IN;
    const offer = method === 'sso' ? await this.sso?.offer(tenant) : undefined;
    if (method === 'sso' && !offer) return SSO_UNREACHABLE;
    return {
      kind: 'sign-in',
      status,
      browserBinding,
      ...(offer ? { ssoFormTarget: offer.formTarget } : {}),
      view: { installation, tenantName: tenant.name, sealed: this.seals.sealSignIn(connect, browserBinding), ...(error ? { error } : {}), ...(offer ? { ssoProvider: offer.provider } : {}) },
    };
  }

  /** The ticket's installation, still an OAuth one of the right mode (a shared ticket for a shared installation, a person's for a per-user one). */
  private async oauthInstallation(connect: SealedConnect): Promise<{ ok: true; name: string; url: string } | { ok: false; outcome: UpstreamConnectOutcome }> {
    const installation = await this.prisma.pluginInstallation.findFirst({ where: { id: connect.installationId, tenantId: connect.tenantId }, select: { name: true, plugin: true, config: true } });
    const config = (installation?.config ?? {}) as Record<string, unknown>;
    const mode = credentialModeOf(config);
    if (!installation || !OAUTH_UPSTREAM_PLUGINS.has(installation.plugin) || mode === 'none' || typeof config['url'] !== 'string') {
      return { ok: false, outcome: page(409, 'This installation does not use OAuth', 'Set auth to oauth on the installation, then ask for a new connect URL.') };
    }
    // The mode changed since the link was made: a person's link must not fill the shared credential, nor the reverse.
    if ((mode === 'per-user') !== (connect.subject !== SHARED_SUBJECT)) return { ok: false, outcome: INVALID_LINK };
    return { ok: true, name: installation.name, url: config['url'] };
  }

  /** Spends the ticket, then discovery, client identity, PKCE and the redirect to the upstream's authorization server. */
  private async authorize(base: string, connect: SealedConnect, installation: string, upstreamUrl: string): Promise<UpstreamConnectOutcome> {
    const redirectUri = `${base}${UPSTREAM_CALLBACK_PATH}`;
    const stateNonce = ConnectSeals.random();
    const browserBinding = ConnectSeals.random();
    // The ticket is spent first: the same link opened twice fetches nothing the second time.
    if (!(await this.store.spendTicket(connect, connect.nonce, stateNonce))) return INVALID_LINK;
    let authorization: { url: URL; codeVerifier: string };
    let clientState;
    try {
      const server = await discoverUpstream(upstreamUrl, this.fetch);
      const client = await clientFor(server, chooseClientIdentity(server.metadata, `${base}${CLIENT_METADATA_PATH}`), redirectUri, this.fetch);
      clientState = { server, client };
      authorization = await authorizationRequest(clientState, redirectUri, this.seals.sealState({ ...connect, nonce: stateNonce }, browserBinding));
    } catch (error) {
      this.logger.warn({ tenantId: connect.tenantId, installation, err: error }, 'upstream OAuth connect could not start');
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
    const shared = connect.subject === SHARED_SUBJECT;
    await this.prisma.auditEvent.create({
      data: {
        actor: shared ? 'gateway' : connect.subject,
        action: 'upstream-credential.connect',
        targetType: 'plugin',
        targetId: connect.installationId,
        tenantId: connect.tenantId,
        details: { installation: installation.name, subject: shared ? 'shared' : 'user', ...(shared ? {} : { person: connect.subject }), authorizationServer: pending.server.url },
      },
    });
    // A shared account changes what the installation lists; a person's does not (per-user lists its declared tools).
    if (shared) this.onConnected(connect.tenantId);
    return page(
      200,
      'Upstream connected',
      shared
        ? `Installation "${installation.name}" now reaches its upstream with the account you approved. You can close this page.`
        : `Your calls through installation "${installation.name}" now reach the upstream with the account you approved. Call the tool again; you can close this page.`,
    );
  }
}

/** A per-user link's sign-in page, server-rendered like the consent page (no script); the form posts back to the connect URL. */
export function renderUpstreamSignInPage(view: UpstreamSignInView): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Connect your upstream account</title><style>${PAGE_STYLE}</style></head>
<body><main>
<h1>Connect your upstream account for <strong>${e(view.installation)}</strong></h1>
${view.error ? `<p class="error" role="alert">${e(view.error)}</p>` : ''}
<p>Sign in to ${e(view.tenantName)} as yourself first: this link was made for one person, and only that person can use it. You then go on to the upstream's own sign-in page.</p>
<form method="post" action="${UPSTREAM_CONNECT_PATH}">
<input type="hidden" name="signin" value="${e(view.sealed)}">
${
  view.ssoProvider
    ? `<p><button type="submit" class="primary">Sign in with ${e(view.ssoProvider)}</button></p>`
    : `<label for="api_key">API key of ${e(view.tenantName)}</label>
<input type="password" id="api_key" name="api_key" autocomplete="off" spellcheck="false" required>
<p><button type="submit" class="primary">Sign in and continue</button></p>`
}
</form>
</main></body></html>`;
}

/**
 * After a person's sign-in: a link on to the upstream's authorization server. A link rather than
 * a redirect: the sign-in form's CSP allows forms to post to this origin only, and Chromium
 * applies form-action to the redirect that answers a form; the page also names where it goes.
 */
export function renderUpstreamContinuePage(location: string): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue to the upstream</title><style>${PAGE_STYLE}</style></head>
<body><main><h1>Signed in</h1><p role="status">Next, approve the connection at the upstream's authorization server, <strong>${e(new URL(location).host)}</strong>.</p>
<p><a href="${e(location)}" rel="noreferrer">Continue to ${e(new URL(location).host)}</a></p></main></body></html>`;
}

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}input[type=password]{width:100%;padding:.5rem;font:inherit;border:1px solid #333;box-sizing:border-box}' +
  '.error{background:#fde7e9;border:1px solid #a4262c;color:#5c0a0f;padding:.5rem;border-radius:.3rem}button{font:inherit;padding:.5rem 1.2rem;border-radius:.3rem;border:1px solid #111}button.primary{background:#0b3d91;color:#fff}a{color:#0b3d91}';

/** The connect round trip's last page, server-rendered like the consent page (no script). */
export function renderUpstreamPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p role="status">${escapeHtml(message)}</p></main></body></html>`;
}
