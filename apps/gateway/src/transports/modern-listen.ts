import type { ServerResponse } from 'node:http';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { systemClock, type Clock, type Principal } from '@switchboard/api-keys';
import type { SessionCatalog } from '../catalog/session-catalog';
import { JSON_RPC_INVALID_PARAMS, refuse } from '../protocol/jsonrpc-errors';
import { META_SERVER_INFO, META_SUBSCRIPTION_ID, type ModernMessage } from '../protocol/modern-wire';
import type { GatewayTelemetry } from '../accounting/gateway-telemetry';
import { honoredFilter, isEmptyFilter, type ListenerRegistry, type ListenNotification } from '../sessions/listener-registry';
import { GATEWAY_SERVER_INFO } from '../sessions/session-server';
import { capabilitiesOf } from '../sessions/stateless-server';
import { catalogScopeOf, type TenantPluginsService } from '../tenants/tenant-plugins';
import { ModernResponse } from './modern-response';
import type { EndpointAddress } from './request-gate';

export const LISTEN_METHOD = 'subscriptions/listen';
/** Past this a timer fires at once (setTimeout's 32-bit limit): such a far expiry is left to revocation. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** SubscriptionsListenRequestParams: `notifications` is required (unknown keys are dropped, as the SDK's schema strips them). */
const ListenParamsSchema = z.object({
  notifications: z.object({
    toolsListChanged: z.boolean().optional(),
    promptsListChanged: z.boolean().optional(),
    resourcesListChanged: z.boolean().optional(),
    resourceSubscriptions: z.array(z.string()).optional(),
  }),
});

export interface ModernListenParts {
  listeners: ListenerRegistry;
  tenantPlugins: TenantPluginsService;
  telemetry: GatewayTelemetry;
  /** SSE_KEEPALIVE_MS: a listen stream is quiet for long stretches, keep-alives keep proxies from cutting it. */
  keepAliveMs: number;
  /** SESSION_MAX_BUFFERED_BYTES: a listener that stops reading is cut, as any other stream. */
  maxBufferedBytes: number;
  clock?: Clock;
}

/**
 * `subscriptions/listen` (MCP 2026-07-28): a POST answered with an event stream that stays open.
 * Its first message acknowledges the filter the gateway honours; then come the change
 * notifications the node hears for it (listener-registry.ts), each tagged with the listen
 * request's id; a graceful end (shutdown, revoked key, suspended tenant, expired credential) sends the request's
 * result and ends the stream. A client that closes the stream removes its listener.
 */
export class ModernListen {
  private readonly clock: Clock;

  constructor(private readonly parts: ModernListenParts) {
    this.clock = parts.clock ?? systemClock;
  }

  async serve(res: ServerResponse, principal: Principal, address: EndpointAddress, message: ModernMessage & { id: RequestId }): Promise<void> {
    const { id } = message;
    const params = ListenParamsSchema.safeParse(message.params);
    if (!params.success) {
      // In-band, as the stateless server answers invalid params of any other method.
      const error = { code: JSON_RPC_INVALID_PARAMS, message: "Invalid params: 'notifications' is required and must be a SubscriptionFilter" };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error }));
      return;
    }
    let gone = false;
    res.once('close', () => (gone = true));
    const scope = catalogScopeOf(principal, address.plugin, address.virtual);
    const catalog = await this.parts.tenantPlugins.catalogFor(principal.tenantId, scope);
    // SubscriptionFilter: only what the principal's catalog has and this gateway can deliver.
    const filter = honoredFilter(params.data.notifications, capabilitiesOf(catalog), (uri) => serves(catalog, uri));
    if (gone) return;

    const response = new ModernResponse(res, {
      keepAliveMs: this.parts.keepAliveMs,
      maxBufferedBytes: this.parts.maxBufferedBytes,
      onSlowReader: () => this.parts.telemetry.streamCutSlowReader(),
    });
    const stamped = (notification: { method: string; params: Record<string, unknown> }) => ({
      method: notification.method,
      params: { ...notification.params, _meta: { [META_SUBSCRIPTION_ID]: id } },
    });
    const acknowledged = stamped({ method: 'notifications/subscriptions/acknowledged', params: { notifications: filter } });
    // The SubscriptionsListenResult: "sent only when the server tears the subscription down".
    const complete = () => response.answer(200, completeResult(id));
    if (isEmptyFilter(filter)) {
      // Nothing to listen for: acknowledged, and ended at once (as the SDK's listen router does).
      response.notify(acknowledged);
      complete();
      return;
    }
    const admission = this.parts.listeners.add({
      tenantId: principal.tenantId,
      keyId: principal.keyId,
      grantId: principal.grantId,
      scope,
      filter,
      deliver: (notification: ListenNotification) => response.notify(stamped(notification)),
      end: complete,
    });
    if (!admission.ok) return refuse(res, admission.refusal.code, admission.refusal);
    res.once('close', admission.remove);
    // SubscriptionsAcknowledgedNotification: "sent by the server as the first message on a subscriptions/listen stream".
    response.notify(acknowledged);
    this.endAtExpiry(principal, res, () => {
      admission.remove();
      complete();
    });
  }

  /** A credential that expires ends its stream then, as its sessions close (the sweep in session-manager.ts). */
  private endAtExpiry(principal: Principal, res: ServerResponse, end: () => void): void {
    if (principal.expiresAt === undefined) return;
    const delay = principal.expiresAt - this.clock.now();
    if (delay > MAX_TIMER_MS) return;
    const timer = setTimeout(end, Math.max(0, delay));
    timer.unref();
    res.once('close', () => clearTimeout(timer));
  }
}

/** Whether the catalog reads `uri`: a resource of its own, or a template that matches it. */
function serves(catalog: SessionCatalog, uri: string): boolean {
  return catalog.resources.has(uri) || catalog.templates.some((entry) => entry.matcher.match(uri) !== null);
}

function completeResult(id: RequestId): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    result: { resultType: 'complete', _meta: { [META_SUBSCRIPTION_ID]: id, [META_SERVER_INFO]: GATEWAY_SERVER_INFO } },
  });
}
