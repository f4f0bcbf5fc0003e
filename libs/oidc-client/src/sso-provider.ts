import { readLimited, type GuardedFetchHandle, type OutboundNetwork } from '@switchboard/plugin-net';
import { ssoIssuerProblem } from '@switchboard/oauth-policy';

/**
 * The client side of a tenant's OpenID Connect provider: discovery, its JWKS and the token
 * endpoint. Every fetch goes through the platform's SSRF guard (the gateway's outbound policy,
 * OUTBOUND_ALLOW_CIDRS): an admin names the issuer, and an issuer on a private address is refused
 * unless the operator allowed it. No redirects, bounded size and time.
 */

export const SSO_FETCH_TIMEOUT_MS = 5_000;
export const SSO_MAX_DOCUMENT_BYTES = 64 * 1024;
/** Discovery documents and key sets are cached this long; an unknown `kid` refetches the keys at most every SSO_JWKS_REFETCH_MS. */
export const SSO_CACHE_MS = 5 * 60_000;
export const SSO_JWKS_REFETCH_MS = 10_000;
/** A provider that failed discovery is not asked again for this long: every consent page would otherwise wait for it. */
export const SSO_FAILED_DISCOVERY_CACHE_MS = 10_000;

export interface OidcDiscovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** client_secret_basic unless the provider lists only client_secret_post. */
  tokenEndpointAuth: 'client_secret_basic' | 'client_secret_post';
}

export type SsoResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface CodeExchange {
  discovery: OidcDiscovery;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
}

interface Cached<T> {
  value: T;
  at: number;
}

/** What the authorization server needs of the provider side (a fake in specs). */
export interface SsoProviderClient {
  discover(issuer: string): Promise<SsoResult<OidcDiscovery>>;
  jwks(jwksUri: string, options?: { refresh?: boolean }): Promise<SsoResult<unknown>>;
  exchangeCode(exchange: CodeExchange): Promise<SsoResult<{ idToken: string }>>;
}

export class OidcProviders implements SsoProviderClient {
  private readonly discoveries = new Map<string, Cached<SsoResult<OidcDiscovery>>>();
  private readonly keySets = new Map<string, Cached<unknown>>();

  static over(outbound: OutboundNetwork): OidcProviders {
    return new OidcProviders(outbound.createFetch({ maxRedirects: 0 }));
  }

  constructor(
    private readonly http: GuardedFetchHandle,
    private readonly clock: { now(): number } = Date,
  ) {}

  /** OpenID Connect Discovery 1.0 §4: `<issuer>/.well-known/openid-configuration`, whose `issuer` MUST be identical. */
  async discover(issuer: string): Promise<SsoResult<OidcDiscovery>> {
    const cached = this.discoveries.get(issuer);
    if (cached && this.clock.now() - cached.at < (cached.value.ok ? SSO_CACHE_MS : SSO_FAILED_DISCOVERY_CACHE_MS)) return cached.value;
    const result = await this.fetchDiscovery(issuer);
    this.discoveries.set(issuer, { value: result, at: this.clock.now() });
    // Bounded: one entry per tenant provider in practice; dropped oldest first past a thousand.
    if (this.discoveries.size > 1_000) this.discoveries.delete(this.discoveries.keys().next().value as string);
    return result;
  }

  private async fetchDiscovery(issuer: string): Promise<SsoResult<OidcDiscovery>> {
    const fetched = await this.getJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    if (!fetched.ok) return fetched;
    const doc = fetched.value as Record<string, unknown>;
    // §4.3: "The issuer value returned MUST be identical to the Issuer URL that was used as the prefix".
    if (doc['issuer'] !== issuer) return { ok: false, reason: 'the provider names another issuer in its discovery document' };
    const endpoints = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;
    for (const name of endpoints) {
      const value = doc[name];
      if (typeof value !== 'string' || ssoIssuerProblem(value) !== undefined) return { ok: false, reason: `the discovery document's ${name} is missing or not https` };
    }
    const methods = Array.isArray(doc['token_endpoint_auth_methods_supported']) ? (doc['token_endpoint_auth_methods_supported'] as unknown[]) : ['client_secret_basic'];
    const value: OidcDiscovery = {
      issuer,
      authorizationEndpoint: doc['authorization_endpoint'] as string,
      tokenEndpoint: doc['token_endpoint'] as string,
      jwksUri: doc['jwks_uri'] as string,
      tokenEndpointAuth: !methods.includes('client_secret_basic') && methods.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic',
    };
    return { ok: true, value };
  }

  async jwks(jwksUri: string, options: { refresh?: boolean } = {}): Promise<SsoResult<unknown>> {
    const cached = this.keySets.get(jwksUri);
    const age = cached ? this.clock.now() - cached.at : Infinity;
    if (cached && age < SSO_CACHE_MS && !(options.refresh && age >= SSO_JWKS_REFETCH_MS)) return { ok: true, value: cached.value };
    const fetched = await this.getJson(jwksUri);
    if (!fetched.ok) return fetched;
    this.keySets.set(jwksUri, { value: fetched.value, at: this.clock.now() });
    if (this.keySets.size > 1_000) this.keySets.delete(this.keySets.keys().next().value as string);
    return fetched;
  }

  /** OIDC Core §3.1.3.1: the code for tokens, with our client secret and the PKCE verifier. */
  async exchangeCode(exchange: CodeExchange): Promise<SsoResult<{ idToken: string }>> {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: exchange.code, redirect_uri: exchange.redirectUri, code_verifier: exchange.codeVerifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (exchange.discovery.tokenEndpointAuth === 'client_secret_basic') {
      // RFC 6749 §2.3.1: each part form-encoded before Basic.
      headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(exchange.clientId)}:${encodeURIComponent(exchange.clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', exchange.clientId);
      form.set('client_secret', exchange.clientSecret);
    }
    const answered = await this.request(exchange.discovery.tokenEndpoint, { method: 'POST', headers, body: form.toString() });
    if (!answered.ok) return answered;
    const idToken = (answered.value as Record<string, unknown>)['id_token'];
    return typeof idToken === 'string' ? { ok: true, value: { idToken } } : { ok: false, reason: 'the provider answered without an ID token' };
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private getJson(url: string): Promise<SsoResult<unknown>> {
    return this.request(url, { method: 'GET', headers: { accept: 'application/json' } });
  }

  private async request(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<SsoResult<unknown>> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SSO_FETCH_TIMEOUT_MS);
    timer.unref();
    try {
      const response = await this.http.fetch(url, { ...init, signal: abort.signal });
      const { bytes, truncated } = await readLimited(response, SSO_MAX_DOCUMENT_BYTES);
      if (truncated) return { ok: false, reason: 'the provider answered with too large a document' };
      if (response.status !== 200) return { ok: false, reason: `the provider answered HTTP ${response.status}` };
      const value: unknown = JSON.parse(bytes.toString('utf8'));
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'the provider answered something other than a JSON object' };
      return { ok: true, value };
    } catch {
      // Blocked addresses (SSRF guard), timeouts, redirects and bad JSON alike: the page says the provider cannot be reached.
      return { ok: false, reason: abort.signal.aborted ? 'the provider did not answer in time' : 'the provider could not be reached' };
    } finally {
      clearTimeout(timer);
    }
  }
}
