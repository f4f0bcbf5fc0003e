import type { Principal } from '@switchboard/api-keys';
import type { LimitOverrides } from '@switchboard/limits';

/**
 * Who a session belongs to. Any request to the session must present a credential with the same
 * binding; otherwise the gateway answers as if the session did not exist.
 */
export interface CredentialBinding {
  tenantId: string;
  keyId: string;
  /** The end user of a tenant token; undefined for API keys. */
  subject: string | undefined;
  /**
   * Limit overrides as they were when the session opened: the session's tool calls are limited
   * with them on whichever node the session lives (new overrides apply to new sessions).
   */
  tenantLimits: LimitOverrides;
  keyLimits: LimitOverrides;
}

export function bindingOf(principal: Principal): CredentialBinding {
  return {
    tenantId: principal.tenantId,
    keyId: principal.keyId,
    subject: principal.subject,
    tenantLimits: principal.tenantLimits,
    keyLimits: principal.keyLimits,
  };
}

/** Who is asking: a principal authenticated here, or the identity a peer node authenticated and forwarded. */
export type Caller = Pick<CredentialBinding, 'tenantId' | 'keyId'> & { subject?: string | undefined };

export function sameBinding(a: CredentialBinding, b: Caller): boolean {
  return a.tenantId === b.tenantId && a.keyId === b.keyId && a.subject === b.subject;
}
