import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readSsoSettings, ssoSecretAad, type StoredSsoSettings } from '@switchboard/oauth-policy';
import { SecretBox, SecretBoxError, type SecretBoxKeys } from '@switchboard/secrets';
import { admitIdentity, verifyIdToken, type SsoIdentity, type SsoProviderClient } from '@switchboard/oidc-client';
import type { SealedConnect } from '@switchboard/upstream-auth';
import type { PendingAuthorization } from './pending-authorization';

/**
 * Single sign-on through a tenant's own OpenID Connect provider (docs/oauth.md "Single sign-on"):
 * the consent page sends the browser to the provider (authorization code, PKCE S256, state,
 * nonce), the provider sends it back to /oauth/sso/callback, and this exchanges the code and
 * checks the ID token and the tenant's rules. The round trip's state (the pending authorization,
 * nonce, PKCE verifier) travels sealed in `state` and is bound to a cookie of the browser that
 * started it, so any node serves the callback and a state from another browser, altered or
 * expired does not open.
 *
 * The same round trip also confirms the person on a per-user upstream connect link
 * (docs/upstream-oauth.md "Per-user mode"): the provider has one redirect URI of ours, so both
 * come back to the one callback, and the state says which it was made for. A state made for one
 * purpose never opens for the other: the purpose is in the seal's AAD, not only in its payload.
 */

/** How long the person may take at the provider. */
export const SSO_ROUND_TRIP_TTL_MS = 10 * 60_000;
export const SSO_CALLBACK_PATH = '/oauth/sso/callback';
const KEY_INFO = 'switchboard/oauth-sso/v1';
const MAX_STATE_CHARS = 16 * 1024;

/** What a round trip was started for: a consent (the consent page follows) or a per-user connect link (the same-person check follows). */
export type SsoPurpose = 'consent' | 'connect';

/** What the callback continues with, by purpose. */
type Continuation = { for: 'consent'; pending: PendingAuthorization } | { for: 'connect'; connect: SealedConnect };

interface RoundTrip {
  tenantId: string;
  /** The provider the person was sent to: the callback refuses when the tenant's provider changed since. */
  providerIssuer: string;
  nonce: string;
  codeVerifier: string;
  then: Continuation;
}

export type SsoBegin = { ok: true; location: string; binding: string } | { ok: false; reason: string };
export type SsoCompletion = { ok: true; pending: PendingAuthorization; identity: SsoIdentity } | { ok: false; reason: string };
export type SsoConnectCompletion = { ok: true; connect: SealedConnect; identity: SsoIdentity } | { ok: false; reason: string };
type Completion = { ok: true; then: Continuation; identity: SsoIdentity } | { ok: false; reason: string };
const EXPIRED = 'the sign-in expired or was not started in this browser; start again from the application';

type SsoCallbackQuery = { code?: string; state?: string; error?: string };
type TenantOf = (tenantId: string) => Promise<SsoTenant | undefined>;

/** What the tenant's record gives this class: its id and `Tenant.oauth`. */
export interface SsoTenant {
  id: string;
  oauth: unknown;
}

export class SsoSignIn {
  private readonly states: SecretBox;

  constructor(
    private readonly providers: SsoProviderClient,
    /** Opens the client secrets the admin API sealed. */
    private readonly secrets: SecretBox,
    secretsKeys: SecretBoxKeys,
    private readonly clock: { now(): number } = Date,
  ) {
    const derive = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32));
    this.states = new SecretBox({ current: derive(secretsKeys.current), previous: (secretsKeys.previous ?? []).map(derive) });
  }

  /** The tenant's provider as the consent page offers it (its name, and the origin the form will be sent on to), when SSO is on and reachable. */
  async offer(tenant: SsoTenant): Promise<{ provider: string; formTarget: string; issuer: string } | undefined> {
    const settings = readSsoSettings(tenant.oauth);
    if (!settings) return undefined;
    const discovery = await this.providers.discover(settings.issuer);
    if (!discovery.ok) return undefined;
    return { provider: new URL(settings.issuer).host, formTarget: new URL(discovery.value.authorizationEndpoint).origin, issuer: settings.issuer };
  }

  /** Where to send the browser for a consent: the provider's authorization endpoint, with the sealed state and the cookie value it is bound to. */
  begin(platformIssuer: string, tenant: SsoTenant, pending: PendingAuthorization): Promise<SsoBegin> {
    return this.start(platformIssuer, tenant, { for: 'consent', pending });
  }

  /** The same for a per-user connect link: the callback hands back the sealed connect and the person the provider vouched for. */
  beginConnect(platformIssuer: string, tenant: SsoTenant, connect: SealedConnect): Promise<SsoBegin> {
    if (connect.tenantId !== tenant.id) return Promise.resolve({ ok: false, reason: 'the link is not for this tenant' });
    return this.start(platformIssuer, tenant, { for: 'connect', connect });
  }

  /** Which purpose a state brought back to the callback opens for with this browser's cookie (none: forged, altered, expired or another browser's). */
  purposeOf(state: string | undefined, binding: string | undefined): SsoPurpose | undefined {
    return (['connect', 'consent'] as const).find((purpose) => this.open(purpose, state, binding) !== undefined);
  }

  private async start(platformIssuer: string, tenant: SsoTenant, then: Continuation): Promise<SsoBegin> {
    const settings = readSsoSettings(tenant.oauth);
    if (!settings) return { ok: false, reason: 'single sign-on is not set up for this tenant' };
    const discovery = await this.providers.discover(settings.issuer);
    if (!discovery.ok) return discovery;
    const binding = randomBytes(32).toString('base64url');
    const trip: RoundTrip = { tenantId: tenant.id, providerIssuer: settings.issuer, nonce: randomBytes(24).toString('base64url'), codeVerifier: randomBytes(32).toString('base64url'), then };
    const state = this.states.encrypt({ exp: this.clock.now() + SSO_ROUND_TRIP_TTL_MS, trip }, aadOf(then.for, binding));
    const url = new URL(discovery.value.authorizationEndpoint);
    const params = {
      response_type: 'code',
      client_id: settings.clientId,
      redirect_uri: `${platformIssuer}${SSO_CALLBACK_PATH}`,
      scope: 'openid email profile',
      state,
      nonce: trip.nonce,
      code_challenge: createHash('sha256').update(trip.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return { ok: true, location: url.toString(), binding };
  }

  /** The callback of a consent's round trip: opens the state with the browser's cookie, exchanges the code, checks the ID token and the tenant's rules. */
  async complete(platformIssuer: string, query: SsoCallbackQuery, binding: string | undefined, tenantOf: TenantOf): Promise<SsoCompletion> {
    const done = await this.finish('consent', platformIssuer, query, binding, tenantOf);
    if (!done.ok) return done;
    return done.then.for === 'consent' ? { ok: true, pending: done.then.pending, identity: done.identity } : { ok: false, reason: EXPIRED };
  }

  /** The callback of a connect link's round trip: as `complete`, handing back the connect the state was sealed with. */
  async completeConnect(platformIssuer: string, query: SsoCallbackQuery, binding: string | undefined, tenantOf: TenantOf): Promise<SsoConnectCompletion> {
    const done = await this.finish('connect', platformIssuer, query, binding, tenantOf);
    if (!done.ok) return done;
    return done.then.for === 'connect' ? { ok: true, connect: done.then.connect, identity: done.identity } : { ok: false, reason: EXPIRED };
  }

  private async finish(purpose: SsoPurpose, platformIssuer: string, query: SsoCallbackQuery, binding: string | undefined, tenantOf: TenantOf): Promise<Completion> {
    const trip = this.open(purpose, query.state, binding);
    // Forged, altered, expired, made for the other purpose, or brought back by another browser (no cookie): refused, never redirected.
    if (!trip) return { ok: false, reason: EXPIRED };
    if (query.error !== undefined) return { ok: false, reason: `the identity provider refused the sign-in (${query.error.slice(0, 100)})` };
    if (!query.code) return { ok: false, reason: 'the identity provider sent no code' };
    const tenant = await tenantOf(trip.tenantId);
    const settings = tenant ? readSsoSettings(tenant.oauth) : undefined;
    if (!tenant || !settings || settings.issuer !== trip.providerIssuer) return { ok: false, reason: 'single sign-on changed for this tenant during the sign-in; start again' };
    const discovery = await this.providers.discover(settings.issuer);
    if (!discovery.ok) return discovery;
    const clientSecret = this.clientSecretOf(tenant.id, settings);
    if (clientSecret === undefined) return { ok: false, reason: 'the single sign-on client secret cannot be read; ask the administrator to set it again' };
    const exchanged = await this.providers.exchangeCode({ discovery: discovery.value, clientId: settings.clientId, clientSecret, code: query.code, redirectUri: `${platformIssuer}${SSO_CALLBACK_PATH}`, codeVerifier: trip.codeVerifier });
    if (!exchanged.ok) return exchanged;
    const expected = { issuer: settings.issuer, clientId: settings.clientId, nonce: trip.nonce, nowSeconds: Math.floor(this.clock.now() / 1000) };
    let keys = await this.providers.jwks(discovery.value.jwksUri);
    if (!keys.ok) return keys;
    let verified = verifyIdToken(exchanged.value.idToken, keys.value, expected);
    // The provider may have rotated its keys since we cached them.
    if (!verified.ok && /does not publish/.test(verified.reason)) {
      keys = await this.providers.jwks(discovery.value.jwksUri, { refresh: true });
      if (!keys.ok) return keys;
      verified = verifyIdToken(exchanged.value.idToken, keys.value, expected);
    }
    if (!verified.ok) return verified;
    const admitted = admitIdentity(verified.claims, settings);
    if (!admitted.ok) return admitted;
    return { ok: true, then: trip.then, identity: admitted.identity };
  }

  private open(purpose: SsoPurpose, state: string | undefined, binding: string | undefined): RoundTrip | undefined {
    if (!state || !binding || state.length > MAX_STATE_CHARS) return undefined;
    let opened: Record<string, unknown>;
    try {
      opened = this.states.decrypt(state, aadOf(purpose, binding));
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
    if (typeof opened['exp'] !== 'number' || this.clock.now() > opened['exp']) return undefined;
    const trip = opened['trip'] as RoundTrip;
    return trip.then?.for === purpose ? trip : undefined;
  }

  private clientSecretOf(tenantId: string, settings: StoredSsoSettings): string | undefined {
    try {
      const opened = this.secrets.decrypt(settings.clientSecretSealed, ssoSecretAad(tenantId));
      return typeof opened['clientSecret'] === 'string' ? opened['clientSecret'] : undefined;
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
  }
}

/** The purpose is part of the AAD: a state sealed for a consent does not even decrypt as a connect's, nor the reverse. */
const aadOf = (purpose: SsoPurpose, binding: string) => `oauth-sso/v1/${purpose}:${binding}`;
