import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { KeyRing } from '@switchboard/secrets';

/**
 * API keys look like GitHub's tokens: a typed prefix, a public id, the secret and a checksum,
 *
 *   sbk_<publicId: 12 base62>_<secret: 30 base62><checksum: 6 base62>
 *
 * - the prefix makes leaked keys recognisable by secret scanners;
 * - the public id finds the row (and is shown in listings), the secret is only ever hashed;
 * - 30 base62 characters carry ~178 bits of randomness (≥ 160 required);
 * - the CRC32 checksum lets scanners and `parseApiKey()` reject typos and garbage without a
 *   database lookup. It is not a security feature: the HMAC check is.
 */

export const API_KEY_PREFIX = 'sbk';
export const PUBLIC_ID_LENGTH = 12;
export const SECRET_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Largest multiple of 62 below 256: bytes at or above it are dropped so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 248;

const API_KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}_([0-9A-Za-z]{${PUBLIC_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);

export interface ParsedApiKey {
  publicId: string;
  secret: string;
}

export interface GeneratedApiKey {
  /** The full key, shown to the user exactly once. */
  token: string;
  publicId: string;
  /** HMAC-SHA-256 of the secret under the current pepper: what is stored (Prisma `Bytes`). */
  secretHash: Uint8Array<ArrayBuffer>;
  pepperId: string;
}

export function generateApiKey(peppers: KeyRing): GeneratedApiKey {
  const publicId = randomBase62(PUBLIC_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  return {
    token: formatApiKey(publicId, secret),
    publicId,
    secretHash: new Uint8Array(hashSecret(secret, peppers.current.key)),
    pepperId: peppers.current.id,
  };
}

/** Assembles prefix, public id, secret and checksum into a key. */
export function formatApiKey(publicId: string, secret: string): string {
  const body = `${API_KEY_PREFIX}_${publicId}_${secret}`;
  return body + checksumOf(body);
}

/** Splits a presented key, or returns null when its shape or checksum is wrong. */
export function parseApiKey(token: string): ParsedApiKey | null {
  const match = API_KEY_PATTERN.exec(token);
  if (!match) return null;
  const [, publicId, secret, checksum] = match;
  if (checksumOf(`${API_KEY_PREFIX}_${publicId}_${secret}`) !== checksum) return null;
  return { publicId, secret };
}

/** True when the string has the shape and a valid checksum of a Switchboard key (no lookup). */
export function looksLikeApiKey(token: string): boolean {
  return parseApiKey(token) !== null;
}

export function hashSecret(secret: string, pepper: Buffer): Buffer {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest();
}

/** Checks a presented secret against a stored hash in constant time. */
export function verifySecret(secret: string, storedHash: Uint8Array, pepper: Buffer): boolean {
  const presented = hashSecret(secret, pepper);
  const stored = Buffer.from(storedHash);
  // Both are SHA-256 outputs; a wrong length means a corrupt row, never a match.
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

function checksumOf(body: string): string {
  return toBase62(crc32(body), CHECKSUM_LENGTH);
}

function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < UNBIASED_BYTE_LIMIT && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}
