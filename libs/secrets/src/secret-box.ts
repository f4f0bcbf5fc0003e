import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { keyIdOf } from './key-id';

/**
 * AES-256-GCM envelopes for small JSON objects (plugin secrets), in one string:
 *
 *   v1.<keyId>.<iv>.<tag>.<ciphertext>      (iv, tag and ciphertext base64url)
 *
 * The key id says which SECRETS_KEY sealed it, so after a rotation old envelopes still open
 * with SECRETS_KEY_PREVIOUS and can be re-encrypted lazily. The additional authenticated data
 * (for example `${tenantId}:${plugin}`) binds an envelope to its row: copied to another tenant's
 * row it no longer opens.
 */

export const SECRET_BOX_VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
/** 96-bit IVs are GCM's native size; random per envelope. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export type SecretBoxErrorCode = 'malformed' | 'unknown_key' | 'tampered';

export class SecretBoxError extends Error {
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export interface SecretBoxKeys {
  /** Encrypts new envelopes. */
  current: Buffer;
  /** Still decrypt envelopes sealed before a rotation. */
  previous?: readonly Buffer[];
}

interface ParsedEnvelope {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export class SecretBox {
  /** Id of the key new envelopes are sealed with (store it beside the envelope). */
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(keys: SecretBoxKeys) {
    for (const key of [keys.current, ...(keys.previous ?? [])]) {
      if (key.length !== KEY_BYTES) throw new RangeError(`secret box keys must be ${KEY_BYTES} bytes`);
      const id = keyIdOf(key);
      // The current key wins a (practically impossible) id clash with a previous one.
      if (!this.keys.has(id)) this.keys.set(id, key);
    }
    this.currentKeyId = keyIdOf(keys.current);
  }

  encrypt(value: Record<string, unknown>, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [SECRET_BOX_VERSION, this.currentKeyId, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Opens an envelope sealed with the current or a previous key; throws SecretBoxError otherwise. */
  decrypt(envelope: string, aad: string): Record<string, unknown> {
    const { keyId, iv, tag, ciphertext } = parseEnvelope(envelope);
    const key = this.keys.get(keyId);
    if (!key) throw new SecretBoxError('unknown_key', `no configured secrets key has id ${keyId}`);
    let plaintext: string;
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('tampered', 'envelope failed authentication (wrong key, wrong context or modified)');
    }
    return JSON.parse(plaintext) as Record<string, unknown>;
  }

  /** The key id an envelope names, without decrypting it. */
  keyIdOf(envelope: string): string {
    return parseEnvelope(envelope).keyId;
  }

  /** True when the envelope was sealed with a key other than the current one. */
  needsReencrypt(envelope: string): boolean {
    return this.keyIdOf(envelope) !== this.currentKeyId;
  }

  /** Opens and re-seals under the current key (a no-op copy when already current). */
  reencrypt(envelope: string, aad: string): string {
    return this.encrypt(this.decrypt(envelope, aad), aad);
  }
}

function parseEnvelope(envelope: string): ParsedEnvelope {
  const parts = envelope.split('.');
  if (parts.length !== 5 || parts[0] !== SECRET_BOX_VERSION) {
    throw new SecretBoxError('malformed', `not a ${SECRET_BOX_VERSION} secret envelope`);
  }
  const [, keyId, iv, tag, ciphertext] = parts;
  const decoded = { keyId, iv: fromBase64url(iv), tag: fromBase64url(tag), ciphertext: fromBase64url(ciphertext) };
  if (decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    throw new SecretBoxError('malformed', 'secret envelope has a wrong iv or tag length');
  }
  return decoded;
}

function fromBase64url(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new SecretBoxError('malformed', 'secret envelope is not base64url');
  return Buffer.from(text, 'base64url');
}

/**
 * The AAD that binds a plugin installation's secrets envelope to its tenant and installation name
 * (the plugin's name for a default installation), so an envelope copied onto another tenant's or
 * installation's row does not decrypt. The API seals with it and the
 * gateway opens with it: both must call this one function.
 */
export function pluginSecretsAad(tenantId: string, installation: string): string {
  return `${tenantId}:${installation}`;
}
