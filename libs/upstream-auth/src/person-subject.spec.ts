import { connectionKeyOf, credentialModeOf, keySignInSubject, MAX_PERSON_SUBJECT_CHARS, noPersonMessage, personOf, samePerson } from './person-subject';

describe('per-user subject rules', () => {
  describe('personOf', () => {
    it('takes the person from an OAuth grant\'s subject (a key sign-in or single sign-on)', () => {
      expect(personOf({ subject: 'key:k-1', grantId: 'g-1' })).toEqual({ ok: true, subject: 'key:k-1' });
      expect(personOf({ subject: 'sso:https://idp.example#42', grantId: 'g-2' })).toEqual({ ok: true, subject: 'sso:https://idp.example#42' });
    });

    it('finds no person behind an API key, so no account of anyone is used for it', () => {
      expect(personOf({ subject: undefined, grantId: undefined })).toEqual({ ok: false, reason: 'no_person' });
      expect(personOf({ subject: '', grantId: 'g-1' })).toEqual({ ok: false, reason: 'no_person' });
    });

    it('refuses a tenant token\'s subject: no browser sign-in could prove it on the connect page', () => {
      expect(personOf({ subject: 'user-1', grantId: undefined })).toEqual({ ok: false, reason: 'not_oauth' });
    });

    it('refuses a subject longer than the credential row holds, rather than cutting it into someone else\'s', () => {
      expect(personOf({ subject: `sso:${'x'.repeat(MAX_PERSON_SUBJECT_CHARS)}`, grantId: 'g' })).toEqual({ ok: false, reason: 'unsupported_subject' });
    });
  });

  describe('samePerson', () => {
    it('holds only for exactly the subject the link was sealed for', () => {
      expect(samePerson('key:k-a', keySignInSubject('k-a'))).toBe(true);
      expect(samePerson('key:k-a', keySignInSubject('k-b'))).toBe(false);
      expect(samePerson('key:k-a', 'key:k-A')).toBe(false);
      expect(samePerson('key:k-a', undefined)).toBe(false);
    });

    it('never holds for the shared subject, whatever signs in', () => {
      expect(samePerson('', '')).toBe(false);
      expect(samePerson('', keySignInSubject('k-a'))).toBe(false);
    });

    it('matches the subject the authorization server gives a key sign-in', () => {
      expect(keySignInSubject('0b9c')).toBe('key:0b9c');
    });
  });

  it('keys connections by person without revealing the subject', () => {
    const a = connectionKeyOf('key:k-a');
    expect(a).not.toContain('k-a');
    expect(a).not.toBe(connectionKeyOf('key:k-b'));
    expect(a).toBe(connectionKeyOf('key:k-a'));
    expect(connectionKeyOf('')).toBe('shared');
  });

  it('reads the credential mode from the configuration', () => {
    expect(credentialModeOf({ auth: 'oauth', oauthMode: 'per-user' })).toBe('per-user');
    expect(credentialModeOf({ auth: 'oauth' })).toBe('shared');
    expect(credentialModeOf({ auth: 'static', oauthMode: 'per-user' })).toBe('none');
    expect(credentialModeOf(null)).toBe('none');
  });

  it('tells an API-key caller how to get a personal connection, naming the installation', () => {
    expect(noPersonMessage('crm', 'no_person')).toMatch(/^Installation "crm" uses a personal upstream account .* API key.*OAuth/);
  });
});
