import { randomBytes } from 'node:crypto';
import { PendingAuthorizations, CONSENT_TTL_MS, type PendingAuthorization } from './pending-authorization';
import { RegistrationLimiter, REGISTRATION_WINDOW_MS } from './registration-limiter';

const REQUEST: PendingAuthorization = {
  clientId: 'sbc_x',
  redirectUri: 'https://app.example/cb',
  state: 's',
  codeChallenge: 'c'.repeat(43),
  resource: 'https://mcp.example/t/acme/mcp',
  tenantId: '00000000-0000-0000-0000-000000000001',
  offered: ['echo'],
};

describe('pending authorizations (the consent form state)', () => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const keys = { current: randomBytes(32) };

  it('opens with the binding of the browser it was sealed for', () => {
    const codec = new PendingAuthorizations(keys, clock);
    const binding = codec.newBinding();
    expect(codec.open(codec.seal(REQUEST, binding), binding)).toEqual(REQUEST);
  });

  it('does not open with another browser binding, or none (CSRF)', () => {
    const codec = new PendingAuthorizations(keys, clock);
    const sealed = codec.seal(REQUEST, codec.newBinding());
    expect(codec.open(sealed, codec.newBinding())).toBeUndefined();
    expect(codec.open(sealed, undefined)).toBeUndefined();
  });

  it('does not open once tampered with, past its deadline, or under another platform key', () => {
    const codec = new PendingAuthorizations(keys, clock);
    const binding = codec.newBinding();
    const sealed = codec.seal(REQUEST, binding);
    const flipped = sealed.slice(0, 20) + (sealed[20] === 'A' ? 'B' : 'A') + sealed.slice(21);
    expect(codec.open(flipped, binding)).toBeUndefined();
    expect(new PendingAuthorizations({ current: randomBytes(32) }, clock).open(sealed, binding)).toBeUndefined();
    now += CONSENT_TTL_MS + 1;
    expect(codec.open(sealed, binding)).toBeUndefined();
  });

  it('still opens after a key rotation (SECRETS_KEY_PREVIOUS)', () => {
    const old = new PendingAuthorizations(keys, clock);
    const binding = old.newBinding();
    const sealed = old.seal(REQUEST, binding);
    const rotated = new PendingAuthorizations({ current: randomBytes(32), previous: [keys.current] }, clock);
    expect(rotated.open(sealed, binding)).toEqual(REQUEST);
  });
});

describe('registration limiter', () => {
  it('admits a fixed number of registrations per address per window', () => {
    let now = 0;
    const limiter = new RegistrationLimiter(2, { now: () => now });
    expect([limiter.admit('a'), limiter.admit('a')]).toEqual([{ ok: true }, { ok: true }]);
    now += 1_000;
    expect(limiter.admit('a')).toEqual({ ok: false, retryAfterMs: REGISTRATION_WINDOW_MS - 1_000 });
    expect(limiter.admit('b')).toEqual({ ok: true });
    now += REGISTRATION_WINDOW_MS;
    expect(limiter.admit('a')).toEqual({ ok: true });
  });
});
