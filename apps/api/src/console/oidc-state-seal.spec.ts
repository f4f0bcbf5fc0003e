import { randomBytes } from 'node:crypto';
import { SecretBox } from '@switchboard/secrets';
import { OIDC_ROUND_TRIP_TTL_MS, OidcStateSeal } from './oidc-state-seal';

const trip = { nonce: 'n-0S6_WzA2Mj', codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' };

function setup() {
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const key = randomBytes(32);
  return { clock, key, seal: new OidcStateSeal({ current: key }, clock) };
}

describe('OidcStateSeal', () => {
  it('opens its own state in the browser that started the sign-in', () => {
    const { seal } = setup();
    expect(seal.open(seal.seal(trip, 'cookie-a'), 'cookie-a')).toEqual(trip);
  });

  it('does not put the nonce or verifier in the clear into the state', () => {
    const { seal } = setup();
    const state = seal.seal(trip, 'cookie-a');
    expect(state).not.toContain(trip.codeVerifier);
    expect(Buffer.from(state.split('.').pop()!, 'base64url').toString('latin1')).not.toContain(trip.nonce);
  });

  it('does not open a state brought back to another browser (another cookie, or none)', () => {
    const { seal } = setup();
    const state = seal.seal(trip, 'cookie-a');
    expect(seal.open(state, 'cookie-b')).toBeUndefined();
    expect(seal.open(state, undefined)).toBeUndefined();
  });

  it('does not open a tampered state, whichever part was changed', () => {
    const { seal } = setup();
    const state = seal.seal(trip, 'cookie-a');
    const parts = state.split('.');
    for (let i = 1; i < parts.length; i++) {
      const changed = [...parts];
      const bytes = Buffer.from(changed[i]!, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      changed[i] = bytes.toString('base64url');
      expect(seal.open(changed.join('.'), 'cookie-a')).toBeUndefined();
    }
    expect(seal.open('not-a-state', 'cookie-a')).toBeUndefined();
    expect(seal.open(`${state}x`.repeat(1000), 'cookie-a')).toBeUndefined();
  });

  it('does not open a state after ten minutes', () => {
    const { seal, clock } = setup();
    const state = seal.seal(trip, 'cookie-a');
    clock.advance(OIDC_ROUND_TRIP_TTL_MS);
    expect(seal.open(state, 'cookie-a')).toEqual(trip);
    clock.advance(1);
    expect(seal.open(state, 'cookie-a')).toBeUndefined();
  });

  it('does not open a state of another installation, and opens one sealed before a key rotation', () => {
    const { seal, clock, key } = setup();
    const state = seal.seal(trip, 'cookie-a');
    expect(new OidcStateSeal({ current: randomBytes(32) }, clock).open(state, 'cookie-a')).toBeUndefined();
    expect(new OidcStateSeal({ current: randomBytes(32), previous: [key] }, clock).open(state, 'cookie-a')).toEqual(trip);
  });

  it('uses a key of its own: a state does not open as a stored secret sealed with SECRETS_KEY itself', () => {
    const { seal, key } = setup();
    const state = seal.seal(trip, 'cookie-a');
    expect(() => new SecretBox({ current: key }).decrypt(state, 'console-oidc/v1:cookie-a')).toThrow();
  });
});
