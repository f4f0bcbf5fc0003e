import { digestOf, MAX_REQUEST_STATE_CHARS, RequestStateCodec, RequestStateTooLargeError, type RequestStateBinding } from './request-state';

const KEY = Buffer.alloc(32, 3);
const OTHER_KEY = Buffer.alloc(32, 4);
const binding: RequestStateBinding = { tenantId: 't1', keyId: 'k1', subject: undefined, method: 'tools/call', target: 'notes__delete', argumentsDigest: digestOf({ id: 1 }) };

describe('RequestStateCodec', () => {
  const clock = { at: 0, now: () => clock.at };
  const codec = new RequestStateCodec({ current: KEY }, 1_000, clock);

  it('opens what it sealed for the same binding, on any node with the same secrets', () => {
    const state = codec.seal(binding, { rounds: [1, 2] });
    expect(new RequestStateCodec({ current: KEY }, 1_000, clock).open(state, binding)).toEqual({ ok: true, value: { rounds: [1, 2] } });
  });

  it.each([
    ['another tenant', { tenantId: 't2' }],
    ['another key', { keyId: 'k2' }],
    ['another end user', { subject: 'mallory' }],
    ['another method', { method: 'prompts/get' }],
    ['another tool', { target: 'notes__list' }],
    ['other arguments', { argumentsDigest: digestOf({ id: 2 }) }],
  ])('does not open for %s', (_what, change) => {
    const state = codec.seal(binding, { rounds: [] });
    expect(codec.open(state, { ...binding, ...change })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('does not open a modified state, nor one sealed under another SECRETS_KEY', () => {
    const state = codec.seal(binding, { rounds: [] });
    const parts = state.split('.');
    parts[4] = `${parts[4][0] === 'A' ? 'B' : 'A'}${parts[4].slice(1)}`;
    expect(codec.open(parts.join('.'), binding)).toEqual({ ok: false, reason: 'invalid' });
    expect(codec.open(`${state}x`, binding).ok).toBe(false);
    expect(codec.open('not-a-state', binding)).toEqual({ ok: false, reason: 'malformed' });
    expect(new RequestStateCodec({ current: OTHER_KEY }).open(state, binding).ok).toBe(false);
  });

  it('keeps opening states sealed before a rotation of SECRETS_KEY', () => {
    const state = codec.seal(binding, { rounds: [] });
    expect(new RequestStateCodec({ current: OTHER_KEY, previous: [KEY] }, 1_000, clock).open(state, binding).ok).toBe(true);
  });

  it('refuses a state past its lifetime', () => {
    clock.at = 0;
    const state = codec.seal(binding, { rounds: [] });
    clock.at = 1_000;
    expect(codec.open(state, binding).ok).toBe(true);
    clock.at = 1_001;
    expect(codec.open(state, binding)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses an oversized state unread, and will not seal one', () => {
    expect(codec.open('v1.'.padEnd(MAX_REQUEST_STATE_CHARS + 1, 'A'), binding)).toEqual({ ok: false, reason: 'malformed' });
    expect(() => codec.seal(binding, { blob: 'x'.repeat(MAX_REQUEST_STATE_CHARS) })).toThrow(RequestStateTooLargeError);
  });
});

describe('digestOf', () => {
  it('digests the same arguments alike in any key order, and different ones differently', () => {
    expect(digestOf({ a: 1, b: { c: [1, 'x'], d: null } })).toBe(digestOf({ b: { d: null, c: [1, 'x'] }, a: 1 }));
    expect(digestOf({ a: 1 })).not.toBe(digestOf({ a: '1' }));
    expect(digestOf({ a: [1, 2] })).not.toBe(digestOf({ a: [2, 1] }));
  });
});
