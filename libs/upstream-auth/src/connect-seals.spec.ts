import { randomBytes } from 'node:crypto';
import { CONNECT_TTL_MS, ConnectSeals } from './connect-seals';

describe('ConnectSeals', () => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const key = randomBytes(32);
  const seals = new ConnectSeals({ current: key }, clock);
  const connect = { tenantId: 't-b', installationId: 'i-1', subject: '', nonce: 'n-1' };

  beforeEach(() => (now = 1_000_000));

  it('opens a ticket it sealed, with its tenant, installation, subject and nonce', () => {
    expect(seals.openTicket(seals.sealTicket(connect))).toEqual(connect);
  });

  it('refuses a ticket once its TTL has passed', () => {
    const ticket = seals.sealTicket(connect);
    now += CONNECT_TTL_MS + 1;
    expect(seals.openTicket(ticket)).toBeUndefined();
  });

  it('refuses a tampered ticket, a truncated one and an oversized one', () => {
    const ticket = seals.sealTicket(connect);
    const flipped = ticket.slice(0, -2) + (ticket.endsWith('A') ? 'B' : 'A') + ticket.slice(-1);
    expect(seals.openTicket(flipped)).toBeUndefined();
    expect(seals.openTicket(ticket.slice(0, 40))).toBeUndefined();
    expect(seals.openTicket('x'.repeat(5_000))).toBeUndefined();
    expect(seals.openTicket(undefined)).toBeUndefined();
  });

  it('never takes a ticket for a state or a state for a ticket (purpose in the AAD)', () => {
    const binding = ConnectSeals.random();
    expect(seals.openState(seals.sealTicket(connect), binding)).toBeUndefined();
    expect(seals.openTicket(seals.sealState(connect, binding))).toBeUndefined();
  });

  it('opens a state only with the browser binding it was sealed with (another browser cannot finish the connect)', () => {
    const binding = ConnectSeals.random();
    const state = seals.sealState(connect, binding);
    expect(seals.openState(state, binding)).toEqual(connect);
    expect(seals.openState(state, ConnectSeals.random())).toBeUndefined();
    expect(seals.openState(state, undefined)).toBeUndefined();
  });

  it('does not open what another platform (another SECRETS_KEY) sealed', () => {
    const other = new ConnectSeals({ current: randomBytes(32) }, clock);
    expect(seals.openTicket(other.sealTicket(connect))).toBeUndefined();
  });

  it('still opens what the previous SECRETS_KEY sealed after a rotation', () => {
    const rotated = new ConnectSeals({ current: randomBytes(32), previous: [key] }, clock);
    expect(rotated.openTicket(seals.sealTicket(connect))).toEqual(connect);
  });

  it('keeps only a hash of a nonce, the same for the same nonce', () => {
    const nonce = ConnectSeals.random();
    expect(ConnectSeals.nonceHash(nonce)).toBe(ConnectSeals.nonceHash(nonce));
    expect(ConnectSeals.nonceHash(nonce)).not.toContain(nonce);
    expect(ConnectSeals.nonceHash(nonce)).not.toBe(ConnectSeals.nonceHash(ConnectSeals.random()));
  });
  describe('the per-user sign-in form', () => {
    const person = { ...connect, subject: 'key:k-a' };

    it('opens only with the cookie of the browser it was sealed for', () => {
      const sealed = seals.sealSignIn(person, 'cookie-1');
      expect(seals.openSignIn(sealed, 'cookie-1')).toEqual(person);
      expect(seals.openSignIn(sealed, 'cookie-2')).toBeUndefined();
      expect(seals.openSignIn(sealed, undefined)).toBeUndefined();
    });

    it('is never accepted as a ticket or a state, nor they as it', () => {
      const sealed = seals.sealSignIn(person, 'cookie-1');
      expect(seals.openTicket(sealed)).toBeUndefined();
      expect(seals.openState(sealed, 'cookie-1')).toBeUndefined();
      expect(seals.openSignIn(seals.sealState(person, 'cookie-1'), 'cookie-1')).toBeUndefined();
      expect(seals.openSignIn(seals.sealTicket(person), 'cookie-1')).toBeUndefined();
    });

    it('expires with the connect', () => {
      const sealed = seals.sealSignIn(person, 'cookie-1');
      now += CONNECT_TTL_MS + 1;
      expect(seals.openSignIn(sealed, 'cookie-1')).toBeUndefined();
    });
  });
});
