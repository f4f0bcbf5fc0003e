import { createHash } from 'node:crypto';

/**
 * Whose upstream account a per-user installation uses (docs/upstream-oauth.md "Per-user mode").
 * The person is always the caller's authenticated principal as the gateway bound it to the
 * session or request, never anything a plugin, a tool argument or a link says.
 */

/** What the gateway knows of a caller: its principal's subject and, for an OAuth access token, its grant. */
export interface CallerIdentity {
  subject?: string | undefined;
  grantId?: string | undefined;
}

export type PersonRefusal = 'no_person' | 'not_oauth' | 'unsupported_subject';
export type PersonDecision = { ok: true; subject: string } | { ok: false; reason: PersonRefusal };

/** The credential row's subject column (VarChar(200)). */
export const MAX_PERSON_SUBJECT_CHARS = 200;

/**
 * The person a per-user credential belongs to. Only an OAuth grant's subject counts: an API key
 * names no person, and a tenant token's `sub` is whatever the tenant's backend wrote, which no
 * browser sign-in on the connect page could prove (so the same-person check could never hold).
 */
export function personOf(caller: CallerIdentity): PersonDecision {
  if (caller.subject === undefined || caller.subject === '') return { ok: false, reason: 'no_person' };
  if (caller.grantId === undefined) return { ok: false, reason: 'not_oauth' };
  if (caller.subject.length > MAX_PERSON_SUBJECT_CHARS) return { ok: false, reason: 'unsupported_subject' };
  return { ok: true, subject: caller.subject };
}

/**
 * The subject of an OAuth grant made by signing in with an API key on the consent page; the
 * authorization server writes the same (`key:` and the key's id). The connect page signs a person
 * in the same way and compares.
 */
export function keySignInSubject(keyId: string): string {
  return `key:${keyId}`;
}

/**
 * The connect page's same-person check (MCP 2025-11-25 client/elicitation, Phishing: the server
 * MUST ensure the user who started the elicitation is the one who completes the authorization):
 * the person signed in now must be exactly the one the link was sealed for. A shared ticket
 * ("") never matches: it needs no person.
 */
export function samePerson(linkSubject: string, signedInSubject: string | undefined): boolean {
  return linkSubject !== '' && signedInSubject !== undefined && signedInSubject === linkSubject;
}

/**
 * An opaque key of whose credential a connection carries: remote-mcp keeps one upstream
 * connection per key, so one person's session upstream never carries another's calls. A hash,
 * so the plugin learns nothing of the subject itself.
 */
export function connectionKeyOf(subject: string): string {
  return subject === '' ? 'shared' : `person:${createHash('sha256').update(subject).digest('base64url')}`;
}

/** The tool error an API-key (or tenant token) caller gets on a per-user installation: never anyone else's account. */
export function noPersonMessage(installation: string, reason: PersonRefusal): string {
  const why =
    reason === 'no_person'
      ? 'this call was made with an API key, which names no person'
      : reason === 'not_oauth'
        ? 'this call was made with a tenant token, whose user the gateway cannot confirm in a browser'
        : 'the signed-in identity is too long to store';
  return (
    `Installation "${installation}" uses a personal upstream account for each signed-in person, and ${why}. ` +
    'Connect your MCP client with OAuth (sign in through the gateway: API key or single sign-on) and call the tool again; ' +
    'the first call then gives you a link to connect your own upstream account.'
  );
}

/**
 * How an installation's configuration authenticates to its upstream: `shared` (one account a
 * tenant admin connects), `per-user` (each person's own), or `none` (not OAuth). Read from the
 * validated configuration (remote-mcp's `auth` and `oauthMode`).
 */
export function credentialModeOf(config: Record<string, unknown> | null | undefined): 'none' | 'shared' | 'per-user' {
  if (!config || config['auth'] !== 'oauth') return 'none';
  return config['oauthMode'] === 'per-user' ? 'per-user' : 'shared';
}
