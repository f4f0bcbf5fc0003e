import { randomBytes } from 'node:crypto';
import { keyIdOf } from '@switchboard/secrets';
import { generateApiKey, hashSecret, looksLikeApiKey, parseApiKey, verifySecret } from './api-key-format';

const pepper = randomBytes(32);
const peppers = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };

describe('API key format', () => {
  it('has a typed prefix, a 12-character public id, a 30-character secret and a 6-character checksum', () => {
    const { token, publicId, pepperId } = generateApiKey(peppers);
    expect(token).toMatch(/^sbk_[0-9A-Za-z]{12}_[0-9A-Za-z]{36}$/);
    expect(token.split('_')[1]).toBe(publicId);
    expect(pepperId).toBe(peppers.current.id);
  });

  it('carries at least 160 bits of randomness in the secret', () => {
    expect(30 * Math.log2(62)).toBeGreaterThanOrEqual(160);
    const secrets = new Set(Array.from({ length: 200 }, () => parseApiKey(generateApiKey(peppers).token)!.secret));
    expect(secrets.size).toBe(200);
  });

  it('parses its own keys and stores only an HMAC of the secret', () => {
    const key = generateApiKey(peppers);
    const parsed = parseApiKey(key.token)!;
    expect(parsed.publicId).toBe(key.publicId);
    expect(Buffer.from(key.secretHash)).toEqual(hashSecret(parsed.secret, pepper));
    expect(Buffer.from(key.secretHash).toString('latin1')).not.toContain(parsed.secret);
  });

  it('rejects a key with one changed character through the checksum, without a lookup', () => {
    const { token } = generateApiKey(peppers);
    const i = token.length - 10;
    const tampered = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
    expect(parseApiKey(tampered)).toBeNull();
    expect(looksLikeApiKey(token)).toBe(true);
  });

  it('rejects garbage, other prefixes and wrong lengths', () => {
    const { token } = generateApiKey(peppers);
    for (const bad of ['', 'sbk_', 'Bearer ' + token, token + 'x', token.replace('sbk_', 'ghp_'), token.slice(0, -1), 'sbk_short_key']) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it('verifies a secret only with the right pepper and rejects a wrong secret of the same length', () => {
    const key = generateApiKey(peppers);
    const { secret } = parseApiKey(key.token)!;
    expect(verifySecret(secret, key.secretHash, pepper)).toBe(true);
    expect(verifySecret(secret, key.secretHash, randomBytes(32))).toBe(false);
    const wrong = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    expect(verifySecret(wrong, key.secretHash, pepper)).toBe(false);
  });

  it('never matches a stored hash of the wrong length instead of throwing', () => {
    const key = generateApiKey(peppers);
    const { secret } = parseApiKey(key.token)!;
    expect(verifySecret(secret, key.secretHash.subarray(0, 16), pepper)).toBe(false);
  });
});
