import type { Principal, ResolveResult } from '@switchboard/api-keys';
import { decideSignIn, decideSsoSignIn, signInMethodFor } from './upstream-sign-in';

const link = { tenantId: 't-1', installationId: 'i-1', subject: 'key:k-a', nonce: 'n' };
const signedIn = (keyId: string, tenantId = 't-1'): ResolveResult => ({
  ok: true,
  principal: { kind: 'api-key', tenantId, tenantSlug: 'acme', keyId, plugins: [], keyLimits: {}, tenantLimits: {} } as Principal,
});

describe('decideSignIn (the same-person check of a per-user connect link)', () => {
  it('lets through the person the link was sealed for', () => {
    expect(decideSignIn(link, signedIn('k-a'))).toEqual({ ok: true });
  });

  it('refuses another person of the same tenant: the phished link stores nothing under its maker', () => {
    expect(decideSignIn(link, signedIn('k-b'))).toEqual({ ok: false, reason: 'other_person' });
  });

  it('treats a key of another tenant like no sign-in at all, so the page tells nothing about it', () => {
    expect(decideSignIn(link, signedIn('k-a', 't-2'))).toEqual({ ok: false, reason: 'not_signed_in' });
    expect(decideSignIn(link, { ok: false, reason: 'revoked' })).toEqual({ ok: false, reason: 'not_signed_in' });
    expect(decideSignIn(link, undefined)).toEqual({ ok: false, reason: 'not_signed_in' });
  });

  it('never passes a shared ticket as a person\'s, whoever signs in', () => {
    expect(decideSignIn({ ...link, subject: '' }, signedIn('k-a'))).toEqual({ ok: false, reason: 'other_person' });
  });
});

describe('decideSsoSignIn (the same check for a person who signed in through single sign-on)', () => {
  const ssoLink = { ...link, subject: 'sso:https://login.acme.example#u-a' };

  it('lets through the provider\'s person the link was sealed for', () => {
    expect(decideSsoSignIn(ssoLink, { subject: 'sso:https://login.acme.example#u-a', email: 'a@acme.example' })).toEqual({ ok: true });
  });

  it('attacker: refuses another person of the provider, and the same sub at another provider', () => {
    expect(decideSsoSignIn(ssoLink, { subject: 'sso:https://login.acme.example#u-b', email: 'b@acme.example' })).toEqual({ ok: false, reason: 'other_person' });
    expect(decideSsoSignIn(ssoLink, { subject: 'sso:https://login.evil.example#u-a', email: 'a@acme.example' })).toEqual({ ok: false, reason: 'other_person' });
  });

  it('never passes a shared ticket, nor a key person\'s link, through single sign-on', () => {
    expect(decideSsoSignIn({ ...link, subject: '' }, { subject: '', email: 'x@acme.example' })).toEqual({ ok: false, reason: 'other_person' });
    expect(decideSsoSignIn(link, { subject: 'sso:https://login.acme.example#k-a', email: 'a@acme.example' })).toEqual({ ok: false, reason: 'other_person' });
  });
});

describe('signInMethodFor (the one sign-in the connect page offers for a link)', () => {
  const issuer = 'https://login.acme.example';

  it('asks a key person for an API key, whatever the tenant\'s single sign-on', () => {
    expect(signInMethodFor('key:k-a', undefined)).toBe('api-key');
    expect(signInMethodFor('key:k-a', issuer)).toBe('api-key');
  });

  it('sends a single sign-on person to the tenant\'s provider when the subject is that provider\'s', () => {
    expect(signInMethodFor(`sso:${issuer}#u-a`, issuer)).toBe('sso');
  });

  it('offers nothing when no sign-in could give the link\'s subject: SSO off, another provider now, or a prefix of the issuer', () => {
    expect(signInMethodFor(`sso:${issuer}#u-a`, undefined)).toBe('none');
    expect(signInMethodFor(`sso:${issuer}#u-a`, 'https://login.other.example')).toBe('none');
    expect(signInMethodFor(`sso:${issuer}.evil#u-a`, issuer)).toBe('none');
    expect(signInMethodFor('tenant-token-user', issuer)).toBe('none');
  });
});
