import type { Principal } from '@switchboard/api-keys';
import type { LimitOverrides } from '@switchboard/limits';

/**
 * Who a session belongs to. Any request to the session must present a credential with the same
 * binding; otherwise the gateway answers as if the session did not exist.
 */
export interface CredentialBinding {
  tenantId: string;
  keyId: string;
  /** The end user of a tenant token or OAuth access token; undefined for API keys. */
  subject: string | undefined;
  /** The OAuth grant of the access token that opened the session: revoked, the session closes. */
  grantId?: string | undefined;
  /** The plugins the credential may use (a key's, narrowed by a token's); empty = every plugin. */
  plugins: readonly string[];
  /**
   * Limit overrides as they were when the session opened: the session's tool calls are limited
   * with them on whichever node the session lives (new overrides apply to new sessions).
   */
  tenantLimits: LimitOverrides;
  keyLimits: LimitOverrides;
  /** When the credential stops being valid (epoch ms); the session sweeper closes the session then. */
  expiresAt: number | undefined;
}

export function bindingOf(principal: Principal): CredentialBinding {
  return {
    tenantId: principal.tenantId,
    keyId: principal.keyId,
    subject: principal.subject,
    grantId: principal.grantId,
    plugins: principal.plugins,
    tenantLimits: principal.tenantLimits,
    keyLimits: principal.keyLimits,
    // An OAuth session lives as long as the key; its requests each need a live token (the gate).
    expiresAt: principal.kind === 'oauth' ? principal.keyExpiresAt : principal.expiresAt,
  };
}

/** Who is asking: a principal authenticated here, or the identity a peer node authenticated and forwarded. */
export type Caller = Pick<CredentialBinding, 'tenantId' | 'keyId' | 'plugins'> & { subject?: string | undefined };

/**
 * Whether `caller` may use a session bound to `session`: the same tenant, key and subject, and a
 * grant that covers the session's, so a request never does more than its own credential allows
 * (a token narrowed to one plugin cannot borrow a broader session of the same user).
 */
export function sameBinding(session: CredentialBinding, caller: Caller): boolean {
  if (session.tenantId !== caller.tenantId || session.keyId !== caller.keyId || session.subject !== caller.subject) return false;
  return grantCovers(caller.plugins, session.plugins);
}

/** Whether a credential granted `outer` may do everything one granted `inner` may (empty = all plugins). */
function grantCovers(outer: readonly string[], inner: readonly string[]): boolean {
  if (outer.length === 0) return true;
  return inner.length > 0 && inner.every((plugin) => outer.includes(plugin));
}
