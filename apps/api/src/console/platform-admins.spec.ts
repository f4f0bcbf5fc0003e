import { platformAdminOf } from './platform-admins';

const admins = { emails: ['ada@acme.test'], groups: ['platform-ops'] };
const claims = (overrides: Record<string, unknown>) => ({ sub: 'user-42', email: 'ada@acme.test', email_verified: true, ...overrides });

describe('platformAdminOf', () => {
  it('admits a listed email the provider verified, whatever its case', () => {
    expect(platformAdminOf(claims({}), admins, 'groups')).toEqual({ admitted: true, via: 'email' });
    expect(platformAdminOf(claims({ email: 'Ada@ACME.test' }), admins, 'groups')).toEqual({ admitted: true, via: 'email' });
    expect(platformAdminOf(claims({ email_verified: 'true' }), admins, 'groups')).toEqual({ admitted: true, via: 'email' });
  });

  it('does not admit a listed email the provider did not verify', () => {
    expect(platformAdminOf(claims({ email_verified: false }), admins, 'groups')).toEqual({ admitted: false, who: 'ada@acme.test' });
    expect(platformAdminOf(claims({ email_verified: undefined }), admins, 'groups').admitted).toBe(false);
    expect(platformAdminOf(claims({ email_verified: 'yes' }), admins, 'groups').admitted).toBe(false);
  });

  it('does not admit an email that only resembles a listed one', () => {
    for (const email of ['ada@acme.test.evil', 'eve+ada@acme.test', 'ada@acme.tes', ' ada@acme.test']) {
      expect(platformAdminOf(claims({ email }), admins, 'groups')).toEqual({ admitted: false, who: email });
    }
  });

  it('admits a member of a listed group, from a list or a single string, in the configured claim', () => {
    const bob = { sub: 'user-7', email: 'bob@acme.test', email_verified: true };
    expect(platformAdminOf({ ...bob, groups: ['staff', 'platform-ops'] }, admins, 'groups')).toEqual({ admitted: true, via: 'group' });
    expect(platformAdminOf({ ...bob, roles: 'platform-ops' }, admins, 'roles')).toEqual({ admitted: true, via: 'group' });
    // The same membership in another claim than the configured one counts for nothing.
    expect(platformAdminOf({ ...bob, roles: ['platform-ops'] }, admins, 'groups')).toEqual({ admitted: false, who: 'bob@acme.test' });
  });

  it('does not admit a group that only resembles a listed one, nor a group list with non-strings', () => {
    const bob = { sub: 'user-7', email: 'bob@acme.test', email_verified: true };
    expect(platformAdminOf({ ...bob, groups: ['Platform-Ops', 'platform-ops-readers', 'group:platform-ops'] }, admins, 'groups').admitted).toBe(false);
    expect(platformAdminOf({ ...bob, groups: [{ name: 'platform-ops' }] }, admins, 'groups').admitted).toBe(false);
  });

  it('names the subject when the provider sent no email', () => {
    expect(platformAdminOf({ sub: 'user-9' }, admins, 'groups')).toEqual({ admitted: false, who: 'user-9' });
  });
});
