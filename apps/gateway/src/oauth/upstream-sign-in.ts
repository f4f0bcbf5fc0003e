import type { ResolveResult } from '@switchboard/api-keys';
import { keySignInSubject, samePerson, type SealedConnect } from '@switchboard/upstream-auth';

/**
 * The same-person proof of a per-user connect link (docs/upstream-oauth.md "Per-user mode";
 * MCP 2025-11-25 client/elicitation, Phishing): the person who opens the link signs in on the
 * gateway, as on the consent page, and the subject that sign-in gives must be the one sealed in
 * the link. Person A sending their link to person B gets nowhere: B signs in as B and is refused,
 * so B's upstream account is never stored under A.
 */
export type SignInDecision =
  | { ok: true }
  /** The key is not one of this tenant's (or not a key): the form again, one message for every case. */
  | { ok: false; reason: 'not_signed_in' }
  /** A real person of the tenant, but not the one the link is for: refused, nothing stored. */
  | { ok: false; reason: 'other_person' };

export function decideSignIn(connect: SealedConnect, resolved: ResolveResult | undefined): SignInDecision {
  // One answer for unknown, revoked and other tenants' keys: the page does not tell which keys exist.
  if (!resolved?.ok || resolved.principal.tenantId !== connect.tenantId) return { ok: false, reason: 'not_signed_in' };
  return samePerson(connect.subject, keySignInSubject(resolved.principal.keyId)) ? { ok: true } : { ok: false, reason: 'other_person' };
}
