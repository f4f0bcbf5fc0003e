import type { Principal, ResolveResult } from '@switchboard/api-keys';
import { decideSignIn } from './upstream-sign-in';

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
