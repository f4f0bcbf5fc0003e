import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { hashSecret, verifySecret, type ResolveResult } from '@switchboard/api-keys';
import { Prisma, type PrismaClient } from '@switchboard/db';
import { readOAuthSettings, readSsoSettings } from '@switchboard/oauth-policy';
import type { ControlEvent } from '@switchboard/coordination';
import type { KeyRing } from '@switchboard/secrets';
import { sourceInstallationsOf, virtualToolsOf } from '../catalog/virtual-catalog';
import { accessTokenKid, signAccessToken, verifyAccessToken, MCP_SCOPE, type AccessTokenClaims } from '../auth/oauth-access-token';
import { isClientMetadataDocumentId, type ClientMetadataDocumentResult, type ResolveOptions } from './client-metadata-document';
import { checkRegistration } from './client-registration';
import type { ConsentView } from './consent-page';
import {
  grantedScopes,
  isS256Challenge,
  narrowedScopes,
  offeredPlugins,
  parseScope,
  pkceVerifies,
  redirectUriMatches,
  tenantResourceOf,
  tokenHash,
} from './oauth-rules';
import type { PendingAuthorization, PendingAuthorizations } from './pending-authorization';
import type { RegistrationLimiter } from './registration-limiter';
import type { SigningKeys } from './signing-keys';
import type { SsoSignIn } from './sso-sign-in';

/** RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED"; ours is one. */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;
export const MAX_STATE_CHARS = 2048;
const CLIENT_ID_PREFIX = 'sbc_';
const CLIENT_SECRET_PREFIX = 'sbcs_';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'slow_down';

/** Form and query fields as Fastify hands them: a repeated parameter arrives as an array. */
export type Fields = Record<string, string | string[] | undefined>;

export interface OAuthFailure {
  ok: false;
  status: 400 | 401 | 429;
  error: OAuthErrorCode;
  description: string;
  /** With 429: when the caller may try again. */
  retryAfterSeconds?: number;
}

export type TokenOutcome = { ok: true; body: TokenResponse } | OAuthFailure;

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** What /oauth/authorize answers: a page that must not redirect, a redirect, or the consent page. */
export type AuthorizeOutcome =
  | { kind: 'error'; error: OAuthErrorCode; description: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'consent'; view: ConsentView; binding: string; redirectUri: string; ssoFormTarget?: string }
  /** To the tenant's identity provider; `binding` goes into the cookie the callback needs. */
  | { kind: 'sso'; location: string; binding: string };

/** The API-key side of sign-in: the gateway's resolver. */
export interface KeyCheck {
  resolve(token: string): Promise<ResolveResult>;
  resolveKeyId(keyId: string): Promise<ResolveResult>;
}

export interface AuthorizationServerOptions {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Client ID Metadata Documents (client-metadata-document.ts); without it, URL client_ids are unknown clients. */
  metadataDocuments?: { resolve(clientId: string, options?: ResolveOptions): Promise<ClientMetadataDocumentResult> };
  /** Tells every node a grant ended (control bus), so its access tokens stop within a second. */
  announce: (event: ControlEvent) => Promise<void>;
  /** Single sign-on through the tenant's own OpenID Connect provider; without it the page offers API keys only. */
  sso?: SsoSignIn;
  clock?: { now(): number };
}


type ClientRow = Prisma.OAuthClientGetPayload<object>;

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? undefined : value === '' ? undefined : value);
const repeated = (value: string | string[] | undefined): boolean => Array.isArray(value);

/**
 * The platform's OAuth 2.1 authorization server (docs/oauth.md): one issuer, tenants as RFC 8707
 * resources, sign-in with a tenant API key. Every method returns a decision; transports/ writes
 * it. All state is in Postgres (or sealed in the browser), so any node serves any step.
 */
export class AuthorizationServer {
  private readonly clock: { now(): number };

  constructor(
    private readonly prisma: PrismaClient,
    private readonly keys: KeyCheck,
    private readonly peppers: KeyRing,
    private readonly signing: SigningKeys,
    private readonly pending: PendingAuthorizations,
    private readonly registrations: RegistrationLimiter,
    private readonly options: AuthorizationServerOptions,
  ) {
    this.clock = options.clock ?? Date;
  }

  /** RFC 8414 §2 metadata. */
  metadata(issuer: string): Record<string, unknown> {
    return {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      registration_endpoint: `${issuer}/oauth/register`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      jwks_uri: `${issuer}/oauth/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      scopes_supported: [MCP_SCOPE],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: this.options.metadataDocuments !== undefined,
    };
  }

  jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    return this.signing.jwks();
  }

  /** RFC 7591 §3: registers a dynamic client; the secret (confidential clients) is shown once. */
  async register(body: unknown, sourceAddress: string): Promise<{ ok: true; body: Record<string, unknown> } | OAuthFailure> {
    const check = checkRegistration(body);
    if (!check.ok) return { ok: false, status: 400, error: check.error, description: check.description };
    const admitted = this.registrations.admit(sourceAddress);
    if (!admitted.ok)
      return { ok: false, status: 429, error: 'slow_down', description: 'too many client registrations from this address; try again later', retryAfterSeconds: Math.ceil(admitted.retryAfterMs / 1000) };
    const { registration } = check;
    const clientId = `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`;
    const secret = registration.tokenEndpointAuth === 'none' ? undefined : `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    const created = await this.prisma.$transaction(async (tx) => {
      const row = await tx.oAuthClient.create({
        data: {
          id: clientId,
          kind: 'dynamic',
          name: registration.name,
          clientUri: registration.clientUri ?? null,
          redirectUris: registration.redirectUris,
          tokenEndpointAuth: registration.tokenEndpointAuth,
          secretHash: secret ? new Uint8Array(hashSecret(secret, this.peppers.current.key)) : null,
          metadata: { ...registration.metadata, application_type: registration.applicationType } as Prisma.InputJsonObject,
        },
      });
      await tx.auditEvent.create({
        data: { actor: `client:${clientId}`, action: 'oauth-client.register', targetType: 'oauth-client', targetId: clientId.slice(0, 64), details: { name: registration.name, redirectUris: registration.redirectUris } },
      });
      return row;
    });
    return {
      ok: true,
      body: {
        ...registration.metadata,
        client_id: clientId,
        client_id_issued_at: Math.floor(created.createdAt.getTime() / 1000),
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
        client_name: registration.name,
        redirect_uris: registration.redirectUris,
        token_endpoint_auth_method: registration.tokenEndpointAuth,
        grant_types: registration.grantTypes,
        response_types: ['code'],
        application_type: registration.applicationType,
      },
    };
  }

  /** GET /oauth/authorize: checks the request and shows the consent page. */
  async authorize(issuer: string, query: Fields): Promise<AuthorizeOutcome> {
    const clientId = single(query['client_id']);
    const client = clientId ? await this.authorizingClient(issuer, clientId, single(query['resource'])) : undefined;
    // RFC 6749 §4.1.2.1: with a bad client or redirect URI the server MUST NOT redirect.
    if (!client) return { kind: 'error', error: 'invalid_client', description: 'unknown or revoked client_id' };
    if (repeated(query['redirect_uri'])) return { kind: 'error', error: 'invalid_request', description: 'redirect_uri is repeated' };
    const presented = single(query['redirect_uri']);
    const redirectUri = presented ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (!redirectUri || !redirectUriMatches(client.redirectUris, redirectUri))
      return { kind: 'error', error: 'invalid_request', description: 'redirect_uri is missing or is not registered for this client' };

    const state = single(query['state']);
    const fail = (error: OAuthErrorCode, description: string): AuthorizeOutcome => ({ kind: 'redirect', location: redirectWith(redirectUri, { error, error_description: description, state, iss: issuer }) });
    if (state !== undefined && state.length > MAX_STATE_CHARS) return fail('invalid_request', 'state is too long');
    for (const name of ['response_type', 'code_challenge', 'code_challenge_method', 'resource', 'scope', 'state'])
      if (repeated(query[name])) return fail(name === 'resource' ? 'invalid_target' : 'invalid_request', `${name} is repeated`);
    if (single(query['response_type']) !== 'code') return fail('unsupported_response_type', 'response_type must be "code"');
    const codeChallenge = single(query['code_challenge']);
    // OAuth 2.1 §4.1.1: PKCE is required; we accept S256 only (`plain` is refused).
    if (!codeChallenge) return fail('invalid_request', 'code_challenge is required (PKCE)');
    if (single(query['code_challenge_method']) !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
    if (!isS256Challenge(codeChallenge)) return fail('invalid_request', 'code_challenge is not an S256 challenge');

    const target = await this.resolveTarget(issuer, single(query['resource']), client);
    if (!target.ok) return fail(target.error, target.description);
    const offered = offeredPlugins(parseScope(single(query['scope'])), target.plugins);
    if (!offered.ok) return fail('invalid_scope', 'none of the requested plugin scopes is available on this resource');

    const binding = this.pending.newBinding();
    const request: PendingAuthorization = { clientId: client.id, redirectUri, state, codeChallenge, resource: target.resource, tenantId: target.tenant.id, offered: offered.plugins };
    const sso = await this.options.sso?.offer(target.tenant);
    return {
      kind: 'consent',
      binding,
      redirectUri,
      ...(sso ? { ssoFormTarget: sso.formTarget } : {}),
      view: { ...this.consentView(client, target.tenant.name, request, this.pending.seal(request, binding)), ...(sso ? { ssoProvider: sso.provider } : {}) },
    };
  }

  /** POST /oauth/sso/start: "Sign in with …" on the consent page; sends the browser to the tenant's provider. */
  async ssoStart(issuer: string, form: Fields, binding: string | undefined): Promise<AuthorizeOutcome> {
    const request = this.pending.open(single(form['request']), binding);
    if (!request || request.sso) return { kind: 'error', error: 'invalid_request', description: 'the sign-in form expired or was not opened in this browser; start again from the application' };
    const client = await this.activeClient(request.clientId);
    if (!client || !redirectUriMatches(client.redirectUris, request.redirectUri)) return { kind: 'error', error: 'invalid_client', description: 'the client is no longer registered' };
    const target = await this.resolveTarget(issuer, request.resource, client);
    if (!target.ok || !this.options.sso) return { kind: 'error', error: 'invalid_request', description: 'single sign-on is not available for this tenant' };
    const begun = await this.options.sso.begin(issuer, target.tenant, request);
    if (!begun.ok) return { kind: 'error', error: 'invalid_request', description: `single sign-on is not available: ${begun.reason}` };
    return { kind: 'sso', location: begun.location, binding: begun.binding };
  }

  /** GET /oauth/sso/callback: the provider's answer; a person it vouches for (and the tenant admits) sees the consent page. */
  async ssoCallback(issuer: string, query: Fields, ssoBinding: string | undefined): Promise<AuthorizeOutcome> {
    if (!this.options.sso) return { kind: 'error', error: 'invalid_request', description: 'single sign-on is not available' };
    for (const name of ['code', 'state', 'error']) if (repeated(query[name])) return { kind: 'error', error: 'invalid_request', description: `${name} is repeated` };
    const fields = { code: single(query['code']), state: single(query['state']), error: single(query['error']) };
    const tenantOf = async (tenantId: string) => (await this.prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true, oauth: true } })) ?? undefined;
    const completed = await this.options.sso.complete(issuer, fields, ssoBinding, tenantOf);
    if (!completed.ok) return { kind: 'error', error: 'access_denied', description: completed.reason };
    const client = await this.activeClient(completed.pending.clientId);
    if (!client || !redirectUriMatches(client.redirectUris, completed.pending.redirectUri)) return { kind: 'error', error: 'invalid_client', description: 'the client is no longer registered' };
    const target = await this.resolveTarget(issuer, completed.pending.resource, client);
    if (!target.ok || target.tenant.id !== completed.pending.tenantId) return { kind: 'error', error: 'invalid_target', description: 'the tenant is no longer available' };
    const request: PendingAuthorization = { ...completed.pending, sso: completed.identity };
    const binding = this.pending.newBinding();
    return {
      kind: 'consent',
      binding,
      redirectUri: request.redirectUri,
      view: { ...this.consentView(client, target.tenant.name, request, this.pending.seal(request, binding)), signedInAs: completed.identity.email, ssoProvider: providerHostOf(completed.identity.subject) },
    };
  }

  /** POST /oauth/authorize: the person's answer on the consent page. */
  async consent(issuer: string, form: Fields, binding: string | undefined): Promise<AuthorizeOutcome> {
    const sealed = single(form['request']);
    const request = this.pending.open(sealed, binding);
    // Not opened: forged, expired, or posted without this browser's cookie (CSRF). Never redirected.
    if (!request || !sealed || !binding) return { kind: 'error', error: 'invalid_request', description: 'the sign-in form expired or was not opened in this browser; start again from the application' };
    const client = await this.activeClient(request.clientId);
    if (!client || !redirectUriMatches(client.redirectUris, request.redirectUri)) return { kind: 'error', error: 'invalid_client', description: 'the client is no longer registered' };
    const fail = (error: OAuthErrorCode, description: string): AuthorizeOutcome => ({
      kind: 'redirect',
      location: redirectWith(request.redirectUri, { error, error_description: description, state: request.state, iss: issuer }),
    });
    const target = await this.resolveTarget(issuer, request.resource, client);
    if (!target.ok) return fail(target.error, target.description);
    if (single(form['decision']) !== 'approve') return fail('access_denied', 'the person denied the request');

    // Shown again after a wrong key: still with "Sign in with …" when the tenant has a provider.
    const again = async (error: string): Promise<AuthorizeOutcome> => {
      const offer = request.sso ? undefined : await this.options.sso?.offer(target.tenant);
      return {
        kind: 'consent',
        binding,
        redirectUri: request.redirectUri,
        ...(offer ? { ssoFormTarget: offer.formTarget } : {}),
        view: {
          ...this.consentView(client, target.tenant.name, request, sealed),
          error,
          ...(request.sso ? { signedInAs: request.sso.email, ssoProvider: providerHostOf(request.sso.subject) } : {}),
          ...(offer ? { ssoProvider: offer.provider } : {}),
        },
      };
    };
    if (request.sso) return this.grantFor(issuer, request, client, { subject: request.sso.subject, email: request.sso.email, keyId: null, plugins: [] }, formList(form['plugin']), target.plugins, again);
    const apiKey = single(form['api_key'])?.trim();
    const resolved = apiKey ? await this.keys.resolve(apiKey) : undefined;
    // One message for every failure: the page does not tell whether a key exists in another tenant.
    if (!resolved?.ok || resolved.principal.tenantId !== request.tenantId) return again(`That is not a valid API key of ${target.tenant.name}.`);
    const principal = resolved.principal;
    return this.grantFor(issuer, request, client, { subject: `key:${principal.keyId}`, email: null, keyId: principal.keyId, plugins: principal.plugins }, formList(form['plugin']), target.plugins, again);
  }

  /** The approved grant and its code: for an API key (at most its plugins) or an SSO identity (any plugin of the resource). */
  private async grantFor(
    issuer: string,
    request: PendingAuthorization,
    client: ClientRow,
    who: { subject: string; email: string | null; keyId: string | null; plugins: string[] },
    chosen: string[],
    available: string[],
    again: (error: string) => Promise<AuthorizeOutcome>,
  ): Promise<AuthorizeOutcome> {
    const scopes = grantedScopes(chosen, request.offered.filter((p) => available.includes(p)), who.plugins);
    if (!scopes) return again(who.keyId ? 'Choose at least one plugin this API key may use.' : 'Choose at least one plugin.');

    const code = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await this.prisma.$transaction(async (tx) => {
      const grant = await tx.oAuthGrant.create({
        data: { tenantId: request.tenantId, clientId: client.id, keyId: who.keyId, subject: who.subject, email: who.email, scopes, resource: request.resource },
      });
      await tx.oAuthCode.create({
        data: { codeHash: new Uint8Array(tokenHash(code)), grantId: grant.id, redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, scopes, expiresAt: new Date(now + AUTHORIZATION_CODE_TTL_MS) },
      });
      await tx.auditEvent.create({
        data: {
          actor: who.subject.slice(0, 200),
          action: 'oauth-grant.consent',
          targetType: 'oauth-grant',
          targetId: grant.id,
          tenantId: request.tenantId,
          details: { clientId: client.id, clientName: client.name, scopes, resource: request.resource, ...(who.email ? { email: who.email } : {}) },
        },
      });
    });
    // RFC 9207 §2: `iss` in the authorization response.
    return { kind: 'redirect', location: redirectWith(request.redirectUri, { code, state: request.state, iss: issuer }) };
  }

  /** POST /oauth/token (RFC 6749 §3.2). */
  async token(issuer: string, form: Fields, authorization: string | undefined): Promise<TokenOutcome> {
    for (const [name, value] of Object.entries(form)) if (repeated(value)) return invalid('invalid_request', `${name} is repeated`);
    const client = await this.authenticateClient(form, authorization);
    if (!client.ok) return client;
    const grantType = single(form['grant_type']);
    if (grantType === 'authorization_code') return this.exchangeCode(issuer, form, client.client);
    if (grantType === 'refresh_token') return this.refresh(issuer, form, client.client);
    return invalid('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }

  /** RFC 7009: revokes the grant of a refresh or access token; unknown tokens are not an error. */
  async revoke(issuer: string, form: Fields, authorization: string | undefined): Promise<{ ok: true } | OAuthFailure> {
    const client = await this.authenticateClient(form, authorization);
    if (!client.ok) return client;
    const token = single(form['token']);
    if (!token) return invalid('invalid_request', 'token is required');
    const grantId = (await this.prisma.oAuthRefreshToken.findUnique({ where: { tokenHash: new Uint8Array(tokenHash(token)) }, select: { grantId: true } }))?.grantId ?? (await this.grantOfAccessToken(issuer, token));
    if (grantId) {
      const grant = await this.prisma.oAuthGrant.findUnique({ where: { id: grantId } });
      // §2.1: a client may revoke only its own tokens.
      if (grant && grant.clientId === client.client.id) await this.revokeGrant(grant.id, grant.tenantId, 'user', `client:${client.client.id}`);
    }
    return { ok: true };
  }

  private async exchangeCode(issuer: string, form: Fields, client: ClientRow): Promise<TokenOutcome> {
    const code = single(form['code']);
    if (!code) return invalid('invalid_request', 'code is required');
    const hash = new Uint8Array(tokenHash(code));
    const row = await this.prisma.oAuthCode.findUnique({ where: { codeHash: hash }, include: { grant: true } });
    if (!row || row.grant.clientId !== client.id) return invalid('invalid_grant', 'unknown authorization code');
    // RFC 6749 §4.1.2: a code used twice SHOULD revoke what was issued from it.
    if (row.usedAt) return this.replayed(row.grant.id, row.grant.tenantId, 'code_reuse', 'the authorization code was already used');
    if (row.expiresAt.getTime() <= this.clock.now()) return invalid('invalid_grant', 'the authorization code expired');
    if (row.grant.revokedAt) return invalid('invalid_grant', 'the grant was revoked');
    if (single(form['redirect_uri']) !== row.redirectUri) return invalid('invalid_grant', 'redirect_uri does not match the authorization request');
    if (!pkceVerifies(single(form['code_verifier']), row.codeChallenge)) return invalid('invalid_grant', 'code_verifier does not match the code_challenge');
    const resource = single(form['resource']);
    if (resource !== undefined && resource !== row.grant.resource) return invalid('invalid_target', 'resource does not match the authorization request');
    const won = await this.prisma.oAuthCode.updateMany({ where: { codeHash: hash, usedAt: null }, data: { usedAt: new Date(this.clock.now()) } });
    if (won.count === 0) return this.replayed(row.grant.id, row.grant.tenantId, 'code_reuse', 'the authorization code was already used');
    if (!(await this.keyStillGrants(row.grant))) return invalid('invalid_grant', row.grant.keyId ? 'the API key of this grant is no longer valid' : 'the tenant no longer signs in through this identity provider');
    return { ok: true, body: await this.issue(issuer, row.grant, row.scopes, row.scopes) };
  }

  private async refresh(issuer: string, form: Fields, client: ClientRow): Promise<TokenOutcome> {
    const token = single(form['refresh_token']);
    if (!token) return invalid('invalid_request', 'refresh_token is required');
    const hash = new Uint8Array(tokenHash(token));
    const row = await this.prisma.oAuthRefreshToken.findUnique({ where: { tokenHash: hash }, include: { grant: true } });
    if (!row || row.grant.clientId !== client.id) return invalid('invalid_grant', 'unknown refresh token');
    // OAuth 2.1 §4.3.1: a rotated refresh token presented again means it leaked: end the whole grant.
    if (row.usedAt) return this.replayed(row.grant.id, row.grant.tenantId, 'refresh_reuse', 'the refresh token was already used');
    if (row.grant.revokedAt) return invalid('invalid_grant', 'the grant was revoked');
    if (row.expiresAt.getTime() <= this.clock.now()) return invalid('invalid_grant', 'the refresh token expired');
    const resource = single(form['resource']);
    if (resource !== undefined && resource !== row.grant.resource) return invalid('invalid_target', 'resource does not match the grant');
    const scopes = narrowedScopes(row.scopes, single(form['scope']));
    if (!scopes) return invalid('invalid_scope', 'a refresh may narrow the granted scopes, never widen them');
    const won = await this.prisma.oAuthRefreshToken.updateMany({ where: { tokenHash: hash, usedAt: null }, data: { usedAt: new Date(this.clock.now()) } });
    if (won.count === 0) return this.replayed(row.grant.id, row.grant.tenantId, 'refresh_reuse', 'the refresh token was already used');
    if (!(await this.keyStillGrants(row.grant))) return invalid('invalid_grant', row.grant.keyId ? 'the API key of this grant is no longer valid' : 'the tenant no longer signs in through this identity provider');
    // RFC 6749 §6: the new refresh token keeps the scope of the one it replaces.
    return { ok: true, body: await this.issue(issuer, row.grant, scopes, row.scopes) };
  }

  private async issue(issuer: string, grant: Prisma.OAuthGrantGetPayload<object>, accessScopes: string[], refreshScopes: string[]): Promise<TokenResponse> {
    const now = this.clock.now();
    const tenant = await this.prisma.tenant.findUnique({ where: { id: grant.tenantId }, select: { oauth: true } });
    // The tenant's own lifetime when it set one (admin API), else OAUTH_ACCESS_TOKEN_TTL_SECONDS.
    const stored = tenant?.oauth as Record<string, unknown> | null | undefined;
    const ttl = stored?.['accessTokenTtlSeconds'] !== undefined ? readOAuthSettings(stored).accessTokenTtlSeconds : this.options.accessTokenTtlSeconds;
    const refreshToken = randomBytes(32).toString('base64url');
    await this.prisma.$transaction([
      this.prisma.oAuthRefreshToken.create({
        data: { tokenHash: new Uint8Array(tokenHash(refreshToken)), grantId: grant.id, scopes: refreshScopes, expiresAt: new Date(now + this.options.refreshTokenTtlSeconds * 1000) },
      }),
      this.prisma.oAuthGrant.update({ where: { id: grant.id }, data: { lastUsedAt: new Date(now) } }),
    ]);
    const iat = Math.floor(now / 1000);
    const scope = accessScopes.join(' ');
    const claims: AccessTokenClaims = {
      iss: issuer,
      aud: grant.resource,
      sub: grant.subject,
      client_id: grant.clientId,
      scope,
      tenant: grant.tenantId,
      grant: grant.id,
      ...(grant.keyId ? { key: grant.keyId } : {}),
      ...(grant.email ? { email: grant.email } : {}),
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
    };
    return { access_token: signAccessToken(claims, await this.signing.current()), token_type: 'Bearer', expires_in: ttl, refresh_token: refreshToken, scope };
  }

  private async replayed(grantId: string, tenantId: string, reason: 'code_reuse' | 'refresh_reuse', description: string): Promise<OAuthFailure> {
    await this.revokeGrant(grantId, tenantId, reason, 'oauth-server');
    return invalid('invalid_grant', description);
  }

  private async revokeGrant(grantId: string, tenantId: string, reason: string, actor: string): Promise<void> {
    const now = new Date(this.clock.now());
    const revokedNow = await this.prisma.$transaction(async (tx) => {
      const revoked = await tx.oAuthGrant.updateMany({ where: { id: grantId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } });
      if (revoked.count === 0) return false;
      // Its refresh tokens can never be exchanged again.
      await tx.oAuthRefreshToken.updateMany({ where: { grantId, usedAt: null }, data: { usedAt: now } });
      await tx.auditEvent.create({
        data: { actor, action: reason === 'user' ? 'oauth-grant.revoke' : `oauth-grant.${reason.replace('_', '-')}`, targetType: 'oauth-grant', targetId: grantId, tenantId, details: { reason } },
      });
      return true;
    });
    // After the commit: a node hearing the event and reading the table sees the revocation.
    if (revokedNow) await this.options.announce({ type: 'oauth-grant.revoked', tenantId, grantId });
  }

  /** The grant named by one of our access tokens (signature checked), for revocation. */
  private async grantOfAccessToken(issuer: string, token: string): Promise<string | undefined> {
    const kid = accessTokenKid(token);
    if (!kid) return undefined;
    const row = await this.prisma.oAuthSigningKey.findUnique({ where: { id: kid } });
    if (!row) return undefined;
    const publicKey = createPublicKey({ key: row.publicJwk as never, format: 'jwk' });
    const check = verifyAccessToken(token, publicKey, issuer, Math.floor(this.clock.now() / 1000));
    return check.ok ? check.claims.grant : undefined;
  }

  private async keyStillGrants(grant: { keyId: string | null; tenantId: string; subject: string }): Promise<boolean> {
    if (!grant.keyId) {
      // An SSO grant lasts while the tenant keeps that provider: removing or replacing it ends refreshes.
      const tenant = await this.prisma.tenant.findUnique({ where: { id: grant.tenantId }, select: { oauth: true } });
      const sso = tenant ? readSsoSettings(tenant.oauth) : undefined;
      return sso !== undefined && grant.subject.startsWith(`sso:${sso.issuer}#`);
    }
    const resolved = await this.keys.resolveKeyId(grant.keyId);
    return resolved.ok && resolved.principal.tenantId === grant.tenantId;
  }

  /** RFC 6749 §2.3.1: Basic (form-encoded id and secret) or the body; public clients send client_id alone. */
  private async authenticateClient(form: Fields, authorization: string | undefined): Promise<{ ok: true; client: ClientRow } | OAuthFailure> {
    const basic = basicCredentials(authorization);
    if (basic === null) return { ok: false, status: 401, error: 'invalid_client', description: 'malformed Basic credentials' };
    const formId = single(form['client_id']);
    if (basic && formId !== undefined && formId !== basic.id) return invalid('invalid_request', 'client_id differs from the Basic credentials');
    const clientId = basic?.id ?? formId;
    if (!clientId) return { ok: false, status: 401, error: 'invalid_client', description: 'client authentication is required' };
    const client = await this.activeClient(clientId);
    if (!client) return { ok: false, status: 401, error: 'invalid_client', description: 'unknown client' };
    if (client.tokenEndpointAuth === 'none') return { ok: true, client };
    const secret = basic?.secret ?? single(form['client_secret']);
    const hash = client.secretHash;
    const matches = secret !== undefined && hash !== null && [this.peppers.current, ...this.peppers.previous].some((pepper) => verifySecret(secret, hash, pepper.key));
    return matches ? { ok: true, client } : { ok: false, status: 401, error: 'invalid_client', description: 'client authentication failed' };
  }

  /**
   * The client of an authorization request. A URL client_id is a Client ID Metadata Document:
   * fetched (SSRF-guarded, cached) only for a resource of ours, under that tenant's host
   * allowlist, and recorded as a `metadata_document` client so grants can name it.
   */
  private async authorizingClient(issuer: string, clientId: string, resource: string | undefined): Promise<ClientRow | undefined> {
    if (!this.options.metadataDocuments || !isClientMetadataDocumentId(clientId)) return this.activeClient(clientId);
    const target = resource ? tenantResourceOf(resource, issuer) : undefined;
    const tenant = target ? await this.prisma.tenant.findUnique({ where: { slug: target.tenantSlug }, select: { oauth: true } }) : null;
    if (!tenant) return undefined;
    const known = await this.prisma.oAuthClient.findUnique({ where: { id: clientId } });
    if (known?.revokedAt) return undefined;
    const resolved = await this.options.metadataDocuments.resolve(clientId, { allowedHosts: readOAuthSettings(tenant.oauth).metadataDocumentHosts });
    if (!resolved.ok) return undefined;
    const { name, clientUri, redirectUris, metadata } = resolved.client;
    const fields = { name, clientUri, redirectUris, metadata: metadata as Prisma.InputJsonObject, refreshedAt: new Date(this.clock.now()) };
    return this.prisma.oAuthClient.upsert({ where: { id: clientId }, create: { id: clientId, kind: 'metadata_document', tokenEndpointAuth: 'none', ...fields }, update: fields });
  }

  private async activeClient(clientId: string): Promise<ClientRow | undefined> {
    if (clientId.length > 2048) return undefined;
    const client = await this.prisma.oAuthClient.findUnique({ where: { id: clientId } });
    return client && !client.revokedAt ? client : undefined;
  }

  /** The resource (RFC 8707) names the tenant: it must be one of our tenant MCP URLs, and the client allowed there. */
  private async resolveTarget(
    issuer: string,
    resource: string | undefined,
    client: ClientRow,
  ): Promise<{ ok: true; resource: string; tenant: { id: string; name: string; oauth: unknown }; plugins: string[] } | { ok: false; error: OAuthErrorCode; description: string }> {
    if (!resource) return { ok: false, error: 'invalid_target', description: 'resource is required: the tenant MCP URL' };
    const target = tenantResourceOf(resource, issuer);
    if (!target) return { ok: false, error: 'invalid_target', description: 'resource is not an MCP URL of this gateway' };
    const tenant = await this.prisma.tenant.findUnique({ where: { slug: target.tenantSlug }, select: { id: true, name: true, status: true, oauth: true } });
    if (!tenant || tenant.status !== 'active') return { ok: false, error: 'invalid_target', description: 'resource is not an MCP URL of this gateway' };
    if (client.tenantId !== null && client.tenantId !== tenant.id) return { ok: false, error: 'unauthorized_client', description: 'this client is not registered for this tenant' };
    const settings = readOAuthSettings(tenant.oauth);
    if (client.kind === 'dynamic' && !settings.dynamicRegistration)
      return { ok: false, error: 'unauthorized_client', description: 'this tenant does not accept dynamically registered clients' };
    if (client.kind === 'metadata_document' && settings.metadataDocumentHosts.length > 0 && !settings.metadataDocumentHosts.includes(new URL(client.id).hostname.toLowerCase()))
      return { ok: false, error: 'unauthorized_client', description: 'this tenant does not accept clients from this host' };
    // Scopes name installations (`plugin:github`), as keys and URLs do.
    const installed = await this.prisma.pluginInstallation.findMany({ where: { tenantId: tenant.id, enabled: true }, select: { name: true }, orderBy: { name: 'asc' } });
    const reachable = target.virtual === undefined ? undefined : await this.virtualServerSources(tenant.id, target.virtual);
    if (target.virtual !== undefined && reachable === undefined) return { ok: false, error: 'invalid_target', description: 'resource is not an MCP URL of this gateway' };
    // A virtual server reaches the installations its tools come from: those are the scopes to offer.
    const plugins = installed.map((p) => p.name).filter((p) => (target.plugin === undefined || p === target.plugin) && (reachable === undefined || reachable.has(p)));
    if (target.plugin !== undefined && plugins.length === 0) return { ok: false, error: 'invalid_target', description: 'resource is not an MCP URL of this gateway' };
    return { ok: true, resource: target.resource, tenant: { id: tenant.id, name: tenant.name, oauth: tenant.oauth }, plugins };
  }

  /** The installations a tenant's virtual server draws its tools from, or undefined when it has no such server. */
  private async virtualServerSources(tenantId: string, name: string): Promise<Set<string> | undefined> {
    const server = await this.prisma.virtualServer.findUnique({ where: { tenantId_name: { tenantId, name } }, select: { tools: true } });
    return server ? sourceInstallationsOf(virtualToolsOf(server.tools)) : undefined;
  }

  private consentView(client: ClientRow, tenantName: string, request: PendingAuthorization, sealed: string): ConsentView {
    return {
      clientName: client.name,
      clientUri: client.clientUri ?? undefined,
      redirectHost: redirectHostOf(request.redirectUri),
      unverified: client.kind !== 'registered',
      tenantName,
      resource: request.resource,
      plugins: request.offered.map((name) => ({ name, checked: true })),
      sealed,
    };
  }
}

function invalid(error: OAuthErrorCode, description: string): OAuthFailure {
  return { ok: false, status: error === 'invalid_client' ? 401 : 400, error, description };
}

/** The registered redirect URI with our parameters added; never any other place (no open redirect). */
function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** The provider's host in an SSO subject `sso:<issuer>#<sub>` (an issuer has no fragment, so the first `#` ends it). */
function providerHostOf(subject: string): string {
  return new URL(subject.slice('sso:'.length, subject.indexOf('#'))).host;
}

function redirectHostOf(uri: string): string {
  const url = new URL(uri);
  return url.host || `${url.protocol}`;
}

function formList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** undefined = no Basic header; null = a malformed one. */
function basicCredentials(authorization: string | undefined): { id: string; secret: string } | undefined | null {
  if (!authorization || !/^basic /i.test(authorization)) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return null;
  }
}
