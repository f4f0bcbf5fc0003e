import type { IncomingMessage } from 'node:http';
import type { LastUsedTracker, Principal } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { insufficientScope, platformIssuer, publicBaseUrl, requiredScopes, resourceMetadataUrl, wwwAuthenticate } from '../auth/auth-challenge';
import type { ExpectedResource } from '../auth/access-token-verifier';
import type { BearerAuthenticator } from '../auth/bearer-authenticator';
import type { GatewayTelemetry } from '../accounting/gateway-telemetry';
import type { Refusal } from '../protocol/jsonrpc-errors';
import type { OriginPolicy } from './origin-policy';
import { Tracing } from '@switchboard/tracing';

/** The endpoint a request addressed: `/t/{tenant}/…`, `/t/{tenant}/p/{plugin}/…` or `/t/{tenant}/v/{virtual}/…`. */
export interface EndpointAddress {
  tenantSlug: string;
  plugin: string | undefined;
  /** A virtual server's name; never set with `plugin`. */
  virtual?: string | undefined;
  /** The path clients connect to (`/t/acme/mcp`), named in auth challenges. */
  path: string;
}

/** What the gate needs besides the authenticator: metrics and key last-use. */
export interface RequestGateAccounting {
  telemetry: GatewayTelemetry;
  lastUsed: Pick<LastUsedTracker, 'touch'>;
}

export type Admission = { ok: true; principal: Principal } | { ok: false; refusal: Refusal };

/**
 * What every MCP request passes before its body is read: Origin check, bearer authentication
 * (an OAuth access token must name this endpoint's URL as its audience), and the principal's
 * right to this tenant and plugin. Returns the principal or the refusal;
 * the route writes refusals. Request limits come after the body is read, so they can count its
 * messages (GatewayLimits.admitRequest).
 */
export class RequestGate {
  constructor(
    private readonly origins: OriginPolicy,
    private readonly authenticator: BearerAuthenticator,
    private readonly publicUrl: string | undefined,
    private readonly logger: Logger,
    private readonly accounting: RequestGateAccounting,
    /** OpenTelemetry: an `auth` span around authentication (never the credential itself). */
    private readonly tracing: Tracing = Tracing.disabled(),
  ) {}

  private authenticate(req: IncomingMessage, base: string, address: EndpointAddress): ReturnType<BearerAuthenticator['authenticate']> {
    const authenticate = () => this.authenticator.authenticate(req.headers, expectedResource(base, address.path));
    if (!this.tracing.enabled) return authenticate();
    return this.tracing.inSpan('auth', {}, async (span) => {
      const outcome = await authenticate();
      span?.setAttributes(authOutcomeAttributes(outcome));
      return outcome;
    });
  }

  async admit(req: IncomingMessage, address: EndpointAddress): Promise<Admission> {
    if (!this.origins.allows(req.headers.origin)) return refused({ code: 'origin_forbidden' });
    const base = publicBaseUrl(req, this.publicUrl);
    let outcome: Awaited<ReturnType<BearerAuthenticator['authenticate']>>;
    try {
      // Node keeps the first of repeated Authorization headers, and a proxy in front may read
      // another one: two credentials are refused as malformed, whatever they hold.
      outcome = repeatsAuthorization(req) ? { ok: false, reason: 'malformed' } : await this.authenticate(req, base, address);
    } catch (error) {
      // The key store is unreachable: not the client's fault, and no credential detail leaves.
      this.logger.error({ err: error }, 'authentication failed');
      this.accounting.telemetry.authFailed('unavailable');
      return refused({ code: 'unavailable', message: 'Service Unavailable: authentication is unavailable', headers: { 'retry-after': '1' } });
    }
    if (!outcome.ok) {
      this.logger.debug({ reason: outcome.reason, tenant: address.tenantSlug }, 'authentication refused');
      this.accounting.telemetry.authFailed(outcome.reason);
      if (outcome.reason === 'tenant_suspended') return refused({ code: 'forbidden', message: 'Forbidden: the tenant is suspended' });
      const metadata = resourceMetadataUrl(base, address.path);
      const challenge = wwwAuthenticate(outcome.reason, metadata, requiredScopes(address.plugin));
      return refused({ code: 'unauthorized', headers: { 'www-authenticate': challenge } });
    }
    const principal = outcome.principal;
    // Another tenant's key answers exactly like an unknown tenant: which tenants exist stays hidden.
    if (principal.tenantSlug !== address.tenantSlug) {
      this.accounting.telemetry.authFailed('wrong_tenant');
      return refused({ code: 'not_found' });
    }
    if (!virtualServersAllow(principal, address)) {
      // Counted with the plugin refusals: a key's allowlist refused the endpoint.
      this.accounting.telemetry.authFailed('plugin_forbidden');
      // 403 for every other URL of the tenant, whether a server of that name exists or not: the
      // answer tells the key nothing about the tenant's other virtual servers.
      return refused({ code: 'forbidden', message: 'Forbidden: this key may use only its virtual servers' });
    }
    if (address.plugin !== undefined && principal.plugins.length > 0 && !principal.plugins.includes(address.plugin)) {
      this.accounting.telemetry.authFailed('plugin_forbidden');
      if (principal.kind === 'oauth' && principal.keyPlugins !== undefined && allows(principal.keyPlugins, address.plugin)) {
        // The key allows the plugin, the token's scopes do not: a new consent can grant it (step-up).
        // MCP 2025-11-25 "Runtime Insufficient Scope Errors": 403, the scopes needed, resource_metadata.
        const metadata = resourceMetadataUrl(base, address.path);
        const challenge = insufficientScope(metadata, requiredScopes(address.plugin), `This token is not granted plugin ${address.plugin}`);
        return refused({ code: 'forbidden', message: `Forbidden: this token is not granted plugin ${address.plugin}`, headers: { 'www-authenticate': challenge } });
      }
      return refused({ code: 'forbidden', message: `Forbidden: this key may not use plugin ${address.plugin}` });
    }
    // lastUsedAt moves for every use of a key, not only tool calls (those also move it through
    // metering): a Set insert here, one UPDATE per node per minute.
    this.accounting.lastUsed.touch(principal.keyId);
    return { ok: true, principal };
  }
}

/** The authenticator's verdict, inside an `auth` span when tracing is on: its result is the credential kind or the refusal reason. */
function authOutcomeAttributes(outcome: Awaited<ReturnType<BearerAuthenticator['authenticate']>>): Record<string, string> {
  return outcome.ok ? { 'switchboard.auth.outcome': 'ok', 'switchboard.auth.kind': outcome.principal.kind } : { 'switchboard.auth.outcome': outcome.reason };
}

/** What an access token must name here; undefined when the Host header makes no URL (then no token can match). */
function expectedResource(base: string, path: string): ExpectedResource | undefined {
  try {
    return { issuer: platformIssuer(base), audience: `${base}${path}` };
  } catch {
    return undefined;
  }
}

/**
 * A key restricted to virtual servers is admitted only on their URLs: not on the tenant-wide or
 * an installation's URL, where the source tools are (docs/virtual-servers.md).
 */
function virtualServersAllow(principal: Pick<Principal, 'virtualServers'>, address: EndpointAddress): boolean {
  const only = principal.virtualServers;
  return only === undefined || only.length === 0 || (address.virtual !== undefined && only.includes(address.virtual));
}

/** Whether a plugin list (empty = every plugin) includes `plugin`. */
function allows(plugins: readonly string[], plugin: string): boolean {
  return plugins.length === 0 || plugins.includes(plugin);
}

function repeatsAuthorization(req: IncomingMessage): boolean {
  return (req.headersDistinct?.['authorization']?.length ?? 0) > 1;
}

function refused(refusal: Refusal): Admission {
  return { ok: false, refusal };
}
