import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LastUsedTracker, Principal } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { publicBaseUrl, resourceMetadataUrl, wwwAuthenticate } from '../auth/auth-challenge';
import type { BearerAuthenticator } from '../auth/bearer-authenticator';
import type { GatewayLimits } from '../limits/gateway-limits';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry';
import { refuse } from './jsonrpc-errors';
import type { OriginPolicy } from './origin-policy';

/** The endpoint a request addressed: `/t/{tenant}/…` or `/t/{tenant}/p/{plugin}/…`. */
export interface EndpointAddress {
  tenantSlug: string;
  plugin: string | undefined;
  /** The path clients connect to (`/t/acme/mcp`), named in auth challenges. */
  path: string;
}

/** What the gate needs besides authentication: request limits, metrics, key last-use. */
export interface RequestGateAccounting {
  limits: GatewayLimits;
  telemetry: GatewayTelemetry;
  lastUsed: Pick<LastUsedTracker, 'touch'>;
}

/**
 * What every MCP request passes before anything else: Origin check, bearer authentication, the
 * principal's right to this tenant and plugin, and the requests-per-minute limit (counted where
 * the request lands, whichever node owns its session). Refusals are written here; callers get a
 * principal or nothing.
 */
export class RequestGate {
  constructor(
    private readonly origins: OriginPolicy,
    private readonly authenticator: BearerAuthenticator,
    private readonly publicUrl: string | undefined,
    private readonly logger: Logger,
    private readonly accounting: RequestGateAccounting,
  ) {}

  async admit(req: IncomingMessage, res: ServerResponse, address: EndpointAddress): Promise<Principal | undefined> {
    if (!this.origins.allows(req.headers.origin)) {
      refuse(res, 'origin_forbidden');
      return undefined;
    }
    let outcome;
    try {
      outcome = await this.authenticator.authenticate(req.headers);
    } catch (error) {
      // The key store is unreachable: not the client's fault, and no credential detail leaves.
      this.logger.error({ err: error }, 'authentication failed');
      this.accounting.telemetry.authFailed('unavailable');
      refuse(res, 'unavailable', { message: 'Service Unavailable: authentication is unavailable' });
      return undefined;
    }
    if (!outcome.ok) {
      this.logger.debug({ reason: outcome.reason, tenant: address.tenantSlug }, 'authentication refused');
      this.accounting.telemetry.authFailed(outcome.reason);
      if (outcome.reason === 'tenant_suspended') {
        refuse(res, 'forbidden', { message: 'Forbidden: the tenant is suspended' });
        return undefined;
      }
      const metadata = resourceMetadataUrl(publicBaseUrl(req, this.publicUrl), address.path);
      refuse(res, 'unauthorized', { headers: { 'www-authenticate': wwwAuthenticate(outcome.reason, metadata) } });
      return undefined;
    }
    const principal = outcome.principal;
    // Another tenant's key answers exactly like an unknown tenant: which tenants exist stays hidden.
    if (principal.tenantSlug !== address.tenantSlug) {
      this.accounting.telemetry.authFailed('wrong_tenant');
      refuse(res, 'not_found');
      return undefined;
    }
    if (address.plugin !== undefined && principal.plugins.length > 0 && !principal.plugins.includes(address.plugin)) {
      this.accounting.telemetry.authFailed('plugin_forbidden');
      refuse(res, 'forbidden', { message: `Forbidden: this key may not use plugin ${address.plugin}` });
      return undefined;
    }
    // lastUsedAt moves for every use of a key, not only tool calls (those also move it through
    // metering): a Set insert here, one UPDATE per node per minute.
    this.accounting.lastUsed.touch(principal.keyId);
    // Every POST and stream open counts. A DELETE does not: ending a session must stay possible
    // for a client over its limit, and it frees a session slot.
    if (req.method !== 'DELETE' && !(await this.accounting.limits.admitRequest(principal, res))) return undefined;
    return principal;
  }
}
