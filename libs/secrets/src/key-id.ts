import { createHash } from 'node:crypto';

/** Length of a key id in hex characters: enough to tell a handful of rotated keys apart. */
export const KEY_ID_HEX_LENGTH = 8;

/**
 * A short, stable, non-secret name for a key: the first 8 hex characters of sha256(key).
 * Stored next to ciphertexts and key hashes so the right key is found after a rotation.
 */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, KEY_ID_HEX_LENGTH);
}
