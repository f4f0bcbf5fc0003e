import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from './secret-box';
import { keyIdOf } from './key-id';

const AAD = 'tenant-1:github';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox({ current: key });

  it('round-trips a JSON object and names the key that sealed it', () => {
    const envelope = box.encrypt({ token: 'ghp_secret', nested: { n: 1 } }, AAD);
    expect(envelope).toMatch(/^v1\.[0-9a-f]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(box.keyIdOf(envelope)).toBe(keyIdOf(key));
    expect(box.decrypt(envelope, AAD)).toEqual({ token: 'ghp_secret', nested: { n: 1 } });
  });

  it('never shows the plaintext in the envelope and uses a fresh iv each time', () => {
    const a = box.encrypt({ token: 'ghp_secret' }, AAD);
    const b = box.encrypt({ token: 'ghp_secret' }, AAD);
    expect(a).not.toContain('ghp_secret');
    expect(a).not.toBe(b);
  });

  it('refuses an envelope moved to another tenant or plugin (different AAD)', () => {
    const envelope = box.encrypt({ token: 'x' }, AAD);
    expect(() => box.decrypt(envelope, 'tenant-2:github')).toThrow(expect.objectContaining({ code: 'tampered' }));
  });

  it('refuses a modified ciphertext', () => {
    const parts = box.encrypt({ token: 'x' }, AAD).split('.');
    const ct = Buffer.from(parts[4], 'base64url');
    ct[0] ^= 1;
    parts[4] = ct.toString('base64url');
    expect(() => box.decrypt(parts.join('.'), AAD)).toThrow(SecretBoxError);
  });

  it('rejects garbage as malformed', () => {
    for (const bad of ['', 'v1.abc', 'v2.a.b.c.d', 'v1.abcd1234.!!.??.xx']) {
      expect(() => box.decrypt(bad, AAD)).toThrow(expect.objectContaining({ code: 'malformed' }));
    }
  });

  it('opens envelopes of a previous key after rotation and flags them for re-encryption', () => {
    const oldBox = new SecretBox({ current: key });
    const envelope = oldBox.encrypt({ token: 'old' }, AAD);
    const rotated = new SecretBox({ current: randomBytes(32), previous: [key] });
    expect(rotated.needsReencrypt(envelope)).toBe(true);
    expect(rotated.decrypt(envelope, AAD)).toEqual({ token: 'old' });
    const fresh = rotated.reencrypt(envelope, AAD);
    expect(rotated.needsReencrypt(fresh)).toBe(false);
    expect(rotated.decrypt(fresh, AAD)).toEqual({ token: 'old' });
  });

  it('reports an envelope sealed by a key it does not have', () => {
    const envelope = new SecretBox({ current: randomBytes(32) }).encrypt({ a: 1 }, AAD);
    expect(() => box.decrypt(envelope, AAD)).toThrow(expect.objectContaining({ code: 'unknown_key' }));
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => new SecretBox({ current: randomBytes(16) })).toThrow(RangeError);
  });
});
