import type { ResolveResult } from '@switchboard/api-keys';
import type { SsoIdentity } from '@switchboard/oidc-client';
import { keySignInSubject, samePerson, type SealedConnect } from '@switchboard/upstream-auth';

/**
 * The same-person proof of a per-user connect link (docs/upstream-oauth.md "Per-user mode";
 * MCP 2025-11-25 client/elicitation, Phishing): the person who opens the link signs in on the
 * gateway, as on the consent page (an API key, or the tenant's single sign-on), and the subject
 * that sign-in gives must be the one sealed in the link. Person A sending their link to person B
 * gets nowhere: B signs in as B and is refused, so B's upstream account is never stored under A.
 */
export type SignInDecision =
  | { ok: true }
  /** The key is not one of this tenant's (or not a key): the form again, one message for every case. */
  | { ok: false; reason: 'not_signed_in' }
  /** A real person of the tenant, but not the one the link is for: refused, nothing stored. */
  | { ok: false; reason: 'other_person' };

/**
 * Which sign-in the connect page offers for a link: the only one whose subject could equal the
 * link's. A key's grant is `key:<id>`; a single sign-on grant is `sso:<issuer>#<sub>`, so only the
 * tenant's provider of now can give it, and none can when the tenant has turned SSO off or moved
 * to another provider since the person signed their MCP client in.
 */
export type SignInMethod = 'api-key' | 'sso' | 'none';

const KEY_SUBJECT_PREFIX = keySignInSubject('');

export function signInMethodFor(linkSubject: string, tenantSsoIssuer: string | undefined): SignInMethod {
  if (linkSubject.startsWith(KEY_SUBJECT_PREFIX)) return 'api-key';
  // An issuer has no fragment, so `#` ends it (authorization-server.ts writes the subject the same way).
  if (tenantSsoIssuer !== undefined && linkSubject.startsWith(`sso:${tenantSsoIssuer}#`)) return 'sso';
  return 'none';
}

export function decideSignIn(connect: SealedConnect, resolved: ResolveResult | undefined): SignInDecision {
  // One answer for unknown, revoked and other tenants' keys: the page does not tell which keys exist.
  if (!resolved?.ok || resolved.principal.tenantId !== connect.tenantId) return { ok: false, reason: 'not_signed_in' };
  return samePerson(connect.subject, keySignInSubject(resolved.principal.keyId)) ? { ok: true } : { ok: false, reason: 'other_person' };
}

/**
 * The single sign-on side: `identity` is the person the tenant's provider vouched for and the
 * tenant's rules admitted (SsoSignIn.completeConnect, whose round trip was begun for this
 * connect's tenant), so every identity here is a real person of the tenant.
 */
export function decideSsoSignIn(connect: SealedConnect, identity: SsoIdentity): SignInDecision {
  return samePerson(connect.subject, identity.subject) ? { ok: true } : { ok: false, reason: 'other_person' };
}
