import { randomBytes } from 'node:crypto';
import { SignedEnvelopeCodec } from './signed-envelope';

const secret = randomBytes(32);
const WINDOW_MS = 30_000;

function codecAt(clock: { now: number }, key = secret) {
  return new SignedEnvelopeCodec({ secret: key, nodeId: 'node-a', replayWindowMs: WINDOW_MS, now: () => clock.now });
}

describe('SignedEnvelopeCodec', () => {
  it('accepts a message signed with the cluster secret, once', () => {
    const clock = { now: 1_000_000 };
    const sender = codecAt(clock);
    const receiver = codecAt(clock);
    const raw = sender.encode({ type: 'tenant.changed', tenantId: 't1' });
    expect(receiver.decode(raw)).toEqual({ ok: true, payload: { type: 'tenant.changed', tenantId: 't1' }, sender: 'node-a', sentAt: 1_000_000 });
    expect(receiver.decode(raw)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('rejects a message signed with another secret', () => {
    const clock = { now: 1_000_000 };
    const forger = codecAt(clock, randomBytes(32));
    expect(codecAt(clock).decode(forger.encode({ type: 'session.terminate', sessionId: 's' }))).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a payload altered after signing', () => {
    const clock = { now: 1_000_000 };
    const raw = codecAt(clock).encode({ type: 'tenant.changed', tenantId: 't1' });
    expect(codecAt(clock).decode(raw.replace('t1', 't2'))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(codecAt(clock).decode('no-dot-here')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects a message replayed after the window, when its nonce is no longer remembered', () => {
    const clock = { now: 1_000_000 };
    const raw = codecAt(clock).encode({ type: 'tenant.changed', tenantId: 't1' });
    const receiver = codecAt(clock);
    expect(receiver.decode(raw).ok).toBe(true);
    clock.now += WINDOW_MS + 1;
    expect(receiver.decode(raw)).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses a short cluster secret', () => {
    expect(() => new SignedEnvelopeCodec({ secret: Buffer.alloc(16), nodeId: 'n' })).toThrow(/at least 32 bytes/);
  });
});
