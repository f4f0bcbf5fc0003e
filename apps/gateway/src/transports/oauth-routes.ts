import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthorizationServer, AuthorizeOutcome, Fields, OAuthFailure } from '../oauth/authorization-server';
import { MAX_REGISTRATION_BYTES } from '../oauth/client-registration';
import { renderConsentPage, renderErrorPage } from '../oauth/consent-page';
import { CONSENT_TTL_MS } from '../oauth/pending-authorization';
import { SSO_CALLBACK_PATH, SSO_ROUND_TRIP_TTL_MS } from '../oauth/sso-sign-in';
import { CONNECT_TTL_MS } from '@switchboard/upstream-auth';
import {
  CLIENT_METADATA_PATH,
  renderUpstreamContinuePage,
  renderUpstreamPage,
  renderUpstreamSignInPage,
  UPSTREAM_CALLBACK_PATH,
  UPSTREAM_CONNECT_PATH,
  type UpstreamConnect,
  type UpstreamConnectOutcome,
} from '../oauth/upstream-connect';

/** Form bodies of the authorization and token endpoints; larger ones are refused unread. */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * The pages' headers: no framing (clickjacking), no referrer, no cache, nothing but inline style.
 * `form-action` names the client's redirect target besides 'self': Chromium applies form-action
 * to the redirect that answers the form (CSP3 §6.4.1 leaves it open), so with 'self' alone the
 * approval's 303 to the client would be blocked. The target is the registered redirect URI's.
 */
function pageHeaders(formTarget: string | undefined): Record<string, string> {
  const formAction = formTarget ? `'self' ${formTarget}` : "'none'";
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
}

/** A CSP source for a redirect URI: its origin (http/https), or its private-use scheme (`com.example.app:`). */
function cspSourceOf(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

/** Metadata, JWKS, registration, token and revocation are called cross-origin by browser-based clients. */
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '600',
};

export interface OAuthRoutesOptions {
  /** PUBLIC_GATEWAY_URL: its origin is the issuer. Unset: the request's Host (development only). */
  publicUrl: string | undefined;
}

export interface PlatformOAuthRoutesOptions extends OAuthRoutesOptions {
  /** Per-user connect links signed in through single sign-on come back to the same callback as consents; their states go here. */
  upstreamConnect?: Pick<UpstreamConnect, 'ownsSsoCallback' | 'ssoCallback'>;
}

/** `__Host-` on https (RFC 6265bis: Secure, Path=/, no Domain); a plain name on http loopback. */
const cookieName = (issuer: string) => (issuer.startsWith('https:') ? '__Host-sb_oauth_consent' : 'sb_oauth_consent');
/** The SSO round trip's cookie, sent only to the callback; `__Secure-` on https (`__Host-` would need Path=/). */
const ssoCookieName = (issuer: string) => (issuer.startsWith('https:') ? '__Secure-sb_oauth_sso' : 'sb_oauth_sso');
const SSO_COOKIE_PATH = '/oauth/sso';

/**
 * The platform authorization server's HTTP face (docs/oauth.md). Registered in its own Fastify
 * scope, so the form content-type parser it adds applies to these routes only: the MCP routes
 * keep reading JSON as text and answering other types with 415.
 */
export function registerOAuthRoutes(fastify: FastifyInstance, server: AuthorizationServer, options: PlatformOAuthRoutesOptions): void {
  const issuerOf = (request: FastifyRequest) => (options.publicUrl ? new URL(options.publicUrl).origin : `http://${request.headers.host ?? 'localhost'}`);

  void fastify.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_req, body, done) => done(null, parseForm(body as string)));

    const metadata = async (request: FastifyRequest, reply: FastifyReply) =>
      reply.headers({ ...CORS_HEADERS, 'cache-control': 'public, max-age=300' }).send(server.metadata(issuerOf(request)));
    scope.get('/.well-known/oauth-authorization-server', metadata);
    // OpenID Connect Discovery alias: MCP clients probe it (2025-11-25 authorization, "Authorization Server Metadata Discovery").
    scope.get('/.well-known/openid-configuration', metadata);
    scope.get('/oauth/jwks.json', async (_request, reply) => reply.headers({ ...CORS_HEADERS, 'cache-control': 'public, max-age=300' }).send(await server.jwks()));

    for (const path of ['/oauth/register', '/oauth/token', '/oauth/revoke', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/oauth/jwks.json'])
      scope.options(path, async (_request, reply) => reply.code(204).headers(CORS_HEADERS).send());

    scope.post('/oauth/register', { bodyLimit: MAX_REGISTRATION_BYTES }, async (request, reply) => {
      const body = typeof request.body === 'string' ? parseJson(request.body) : undefined;
      if (body === undefined) return oauthError(reply, { ok: false, status: 400, error: 'invalid_client_metadata', description: 'the body must be a JSON object' });
      const outcome = await server.register(body, request.ip);
      if (!outcome.ok) return oauthError(reply, outcome);
      return reply.code(201).headers({ ...CORS_HEADERS, 'cache-control': 'no-store' }).send(outcome.body);
    });

    scope.get('/oauth/authorize', async (request, reply) => answerAuthorize(reply, issuerOf(request), await server.authorize(issuerOf(request), request.query as Fields), 302));
    scope.post('/oauth/authorize', async (request, reply) => {
      const issuer = issuerOf(request);
      const outcome = await server.consent(issuer, formOf(request.body), cookieOf(request.headers.cookie, cookieName(issuer)));
      // 303: the browser follows a POST's redirect with a GET.
      return answerAuthorize(reply, issuer, outcome, 303);
    });
    // Single sign-on (docs/oauth.md): "Sign in with …" posts the consent form here; the provider sends the browser back to the callback.
    scope.post('/oauth/sso/start', async (request, reply) => {
      const issuer = issuerOf(request);
      return answerAuthorize(reply, issuer, await server.ssoStart(issuer, formOf(request.body), cookieOf(request.headers.cookie, cookieName(issuer))), 303);
    });
    scope.get(SSO_CALLBACK_PATH, async (request, reply) => {
      const issuer = issuerOf(request);
      const query = request.query as Fields;
      const binding = cookieOf(request.headers.cookie, ssoCookieName(issuer));
      // The round trip's cookie is spent either way.
      reply.header('set-cookie', [`${ssoCookieName(issuer)}=`, `Path=${SSO_COOKIE_PATH}`, 'HttpOnly', 'SameSite=Lax', 'Max-Age=0', ...(issuer.startsWith('https:') ? ['Secure'] : [])].join('; '));
      // A connect link's round trip (the state opens only for the purpose it was sealed for): a link page on to the upstream, as after a key sign-in.
      if (options.upstreamConnect?.ownsSsoCallback(query['state'], binding)) return answerUpstream(reply, issuer, await options.upstreamConnect.ssoCallback(issuer, query, binding), { afterSignIn: true });
      return answerAuthorize(reply, issuer, await server.ssoCallback(issuer, query, binding), 303);
    });

    scope.post('/oauth/token', async (request, reply) => {
      const outcome = await server.token(issuerOf(request), formOf(request.body), request.headers.authorization);
      if (!outcome.ok) return oauthError(reply, outcome);
      // RFC 6749 §5.1: no-store on token responses.
      return reply.headers({ ...CORS_HEADERS, 'cache-control': 'no-store', pragma: 'no-cache' }).send(outcome.body);
    });

    scope.post('/oauth/revoke', async (request, reply) => {
      const outcome = await server.revoke(issuerOf(request), formOf(request.body), request.headers.authorization);
      if (!outcome.ok) return oauthError(reply, outcome);
      // RFC 7009 §2.2: 200 whether or not the token was known.
      return reply.headers({ ...CORS_HEADERS, 'cache-control': 'no-store' }).send();
    });
  });
}

function answerAuthorize(reply: FastifyReply, issuer: string, outcome: AuthorizeOutcome, redirectStatus: 302 | 303): FastifyReply {
  if (outcome.kind === 'sso') {
    // SameSite=Lax, not Strict: the provider's redirect back is a cross-site navigation, which carries Lax cookies only.
    const cookie = [`${ssoCookieName(issuer)}=${outcome.binding}`, `Path=${SSO_COOKIE_PATH}`, 'HttpOnly', 'SameSite=Lax', `Max-Age=${SSO_ROUND_TRIP_TTL_MS / 1000}`, ...(issuer.startsWith('https:') ? ['Secure'] : [])].join('; ');
    return reply.code(redirectStatus).headers({ location: outcome.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'set-cookie': cookie }).send();
  }
  if (outcome.kind === 'redirect') return reply.code(redirectStatus).headers({ location: outcome.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).send();
  if (outcome.kind === 'error') return reply.code(400).headers(pageHeaders(undefined)).send(renderErrorPage(outcome.error, outcome.description));
  const secure = issuer.startsWith('https:');
  const cookie = [`${cookieName(issuer)}=${outcome.binding}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${CONSENT_TTL_MS / 1000}`, ...(secure ? ['Secure'] : [])].join('; ');
  // The provider's origin too when the page offers single sign-on: form-action applies to the redirect answering /oauth/sso/start.
  const formTargets = [cspSourceOf(outcome.redirectUri), ...(outcome.ssoFormTarget ? [outcome.ssoFormTarget] : [])].join(' ');
  return reply.code(200).headers({ ...pageHeaders(formTargets), 'set-cookie': cookie }).send(renderConsentPage(outcome.view));
}

/** RFC 6749 §5.2: a JSON error; 401 with a challenge when client authentication failed. */
function oauthError(reply: FastifyReply, failure: OAuthFailure): FastifyReply {
  const headers: Record<string, string> = { ...CORS_HEADERS, 'cache-control': 'no-store' };
  if (failure.status === 401) headers['www-authenticate'] = 'Basic realm="switchboard"';
  if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
  return reply.code(failure.status).headers(headers).send({ error: failure.error, error_description: failure.description });
}

function parseForm(body: string): Fields {
  const fields: Fields = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const existing = fields[name];
    fields[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return fields;
}

/** Anything but a parsed form (another content type, no body) reads as no fields. */
function formOf(body: unknown): Fields {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Fields) : {};
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** The upstream connect round trip's cookie, sent only to the callback; `__Secure-` on https. */
const upstreamCookieName = (base: string) => (base.startsWith('https:') ? '__Secure-sb_upstream_connect' : 'sb_upstream_connect');

/**
 * The platform as OAuth client of upstream MCP servers (docs/upstream-oauth.md): its client
 * metadata document, the connect URL the admin API hands out, and the redirect_uri.
 */
export function registerUpstreamOAuthRoutes(fastify: FastifyInstance, connect: UpstreamConnect, options: OAuthRoutesOptions): void {
  const baseOf = (request: FastifyRequest) => (options.publicUrl ? new URL(options.publicUrl).origin : `http://${request.headers.host ?? 'localhost'}`);
  const answer = (reply: FastifyReply, base: string, outcome: UpstreamConnectOutcome, clearCookie: boolean, afterSignIn = false): FastifyReply => answerUpstream(reply, base, outcome, { clearCookie, afterSignIn });
  fastify.get(CLIENT_METADATA_PATH, async (request, reply) =>
    reply.headers({ ...CORS_HEADERS, 'cache-control': 'public, max-age=3600' }).send(connect.clientMetadataDocument(baseOf(request))),
  );
  fastify.get(UPSTREAM_CONNECT_PATH, async (request, reply) => {
    const base = baseOf(request);
    const ticket = (request.query as Record<string, unknown>)['ticket'];
    return answer(reply, base, await connect.begin(base, typeof ticket === 'string' ? ticket : undefined), false);
  });
  fastify.get(UPSTREAM_CALLBACK_PATH, async (request, reply) => {
    const base = baseOf(request);
    return answer(reply, base, await connect.callback(request.query as Record<string, unknown>, cookieOf(request.headers.cookie, upstreamCookieName(base))), true);
  });
  // The per-user link's sign-in form posts here; its own scope, so the form parser applies to it only.
  void fastify.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_req, body, done) => done(null, parseForm(body as string)));
    scope.post(UPSTREAM_CONNECT_PATH, async (request, reply) => {
      const base = baseOf(request);
      return answer(reply, base, await connect.signIn(base, formOf(request.body), cookieOf(request.headers.cookie, signInCookieName(base))), false, true);
    });
  });
}

/**
 * Writes a connect step's outcome. `afterSignIn`: the step answers a sign-in (the form, or the
 * single sign-on callback that form led to), so the way on to the upstream is a page with a link:
 * Chromium applies the sign-in page's form-action to every redirect of the navigation its form
 * started, the provider's redirect back included, and the upstream's origin is not in it.
 */
function answerUpstream(reply: FastifyReply, base: string, outcome: UpstreamConnectOutcome, how: { clearCookie?: boolean; afterSignIn?: boolean }): FastifyReply {
  const secure = base.startsWith('https:') ? ['Secure'] : [];
  if (outcome.kind === 'sign-in') {
    // A per-user link's sign-in form (docs/upstream-oauth.md "Per-user mode"). SameSite=Strict: a form posted from another site carries no cookie, so it does not open.
    const cookie = [`${signInCookieName(base)}=${outcome.browserBinding}`, `Path=${UPSTREAM_CONNECT_PATH}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${CONNECT_TTL_MS / 1000}`, ...secure].join('; ');
    return reply.code(outcome.status).headers({ ...pageHeaders(undefined), 'content-security-policy': upstreamSignInCsp(outcome.ssoFormTarget), 'set-cookie': cookie }).send(renderUpstreamSignInPage(outcome.view));
  }
  if (outcome.kind === 'sso') {
    // The consent's round-trip cookie (SameSite=Lax: the provider's redirect back is a cross-site navigation); the callback is the same.
    const cookie = [`${ssoCookieName(base)}=${outcome.binding}`, `Path=${SSO_COOKIE_PATH}`, 'HttpOnly', 'SameSite=Lax', `Max-Age=${SSO_ROUND_TRIP_TTL_MS / 1000}`, ...secure].join('; ');
    return reply.code(303).headers({ location: outcome.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'set-cookie': cookie }).send();
  }
  if (outcome.kind === 'redirect') {
    // SameSite=Lax: the authorization server's redirect back is a cross-site top-level navigation.
    const cookie = [`${upstreamCookieName(base)}=${outcome.browserBinding}`, `Path=${UPSTREAM_CALLBACK_PATH}`, 'HttpOnly', 'SameSite=Lax', `Max-Age=${CONNECT_TTL_MS / 1000}`, ...secure].join('; ');
    if (how.afterSignIn) return reply.code(200).headers({ ...pageHeaders(undefined), 'set-cookie': cookie }).send(renderUpstreamContinuePage(outcome.location));
    return reply.code(302).headers({ location: outcome.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'set-cookie': cookie }).send();
  }
  if (how.clearCookie) reply.header('set-cookie', [`${upstreamCookieName(base)}=`, `Path=${UPSTREAM_CALLBACK_PATH}`, 'HttpOnly', 'SameSite=Lax', 'Max-Age=0', ...secure].join('; '));
  return reply.code(outcome.status).headers(pageHeaders(undefined)).send(renderUpstreamPage(outcome.title, outcome.message));
}

/** The per-user sign-in form's cookie, sent only to the connect URL; `__Secure-` on https. */
const signInCookieName = (base: string) => (base.startsWith('https:') ? '__Secure-sb_upstream_signin' : 'sb_upstream_signin');
/** The sign-in page posts to this origin only; with "Sign in with …", the POST's 303 goes to the provider, and form-action applies to that redirect too. */
const upstreamSignInCsp = (ssoFormTarget: string | undefined) =>
  `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${ssoFormTarget ? ` ${ssoFormTarget}` : ''}; frame-ancestors 'none'; base-uri 'none'`;
