import { createHash, hkdfSync } from 'node:crypto';
import { SecretBox, SecretBoxError, type SecretBoxKeys } from '@switchboard/secrets';
import { DEFAULT_REQUEST_STATE_TTL_MS } from '../config/gateway-config';

/**
 * The `requestState` of a 2026-07-28 InputRequiredResult (basic/patterns/mrtr). It travels
 * through the client and comes back as attacker input, so it is sealed with AES-256-GCM under a
 * key derived from SECRETS_KEY (rotation: SECRETS_KEY_PREVIOUS still opens it), and its
 * additional authenticated data is the binding: the tenant, key and end user who asked, and the
 * method, target and arguments of the original request. Replayed by another principal or for
 * another request it does not open; past its deadline it is refused; modified it does not open.
 * Any node with the platform's secrets opens it, so the client's retry may land anywhere.
 */

/** Whose request a state belongs to, and which request. */
export interface RequestStateBinding {
  tenantId: string;
  keyId: string;
  subject: string | undefined;
  /** `tools/call`, `prompts/get` or `resources/read`. */
  method: string;
  /** The tool or prompt name, or the resource URI. */
  target: string;
  /** The request's arguments (canonical JSON digest, see `digestOf`). */
  argumentsDigest: string;
}

export type RequestStateRefusal = 'malformed' | 'invalid' | 'expired';

export type OpenedRequestState<T> = { ok: true; value: T } | { ok: false; reason: RequestStateRefusal };

/** A state string larger than this is refused unread (and a handler cannot seal more). */
export const MAX_REQUEST_STATE_CHARS = 64 * 1024;

const KEY_INFO = 'switchboard/mrtr-request-state/v1';
const AAD_PREFIX = 'request-state/v1';

export interface Clock {
  now(): number;
}

export class RequestStateTooLargeError extends Error {
  constructor() {
    super(`the request state would exceed ${MAX_REQUEST_STATE_CHARS} characters`);
    this.name = 'RequestStateTooLargeError';
  }
}

export class RequestStateCodec {
  private readonly box: SecretBox;

  constructor(
    secretsKeys: SecretBoxKeys,
    private readonly ttlMs: number = DEFAULT_REQUEST_STATE_TTL_MS,
    private readonly clock: Clock = Date,
  ) {
    // Its own key, not SECRETS_KEY itself: a plugin-secrets envelope is never a valid state, nor the reverse.
    const derive = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32));
    this.box = new SecretBox({ current: derive(secretsKeys.current), previous: (secretsKeys.previous ?? []).map(derive) });
  }

  seal(binding: RequestStateBinding, value: Record<string, unknown>): string {
    const sealed = this.box.encrypt({ exp: this.clock.now() + this.ttlMs, value }, aadOf(binding));
    if (sealed.length > MAX_REQUEST_STATE_CHARS) throw new RequestStateTooLargeError();
    return sealed;
  }

  open<T>(state: string, binding: RequestStateBinding): OpenedRequestState<T> {
    if (state.length > MAX_REQUEST_STATE_CHARS) return { ok: false, reason: 'malformed' };
    let opened: Record<string, unknown>;
    try {
      opened = this.box.decrypt(state, aadOf(binding));
    } catch (error) {
      if (error instanceof SecretBoxError) return { ok: false, reason: error.code === 'malformed' ? 'malformed' : 'invalid' };
      throw error;
    }
    const { exp, value } = opened;
    if (typeof exp !== 'number' || typeof value !== 'object' || value === null) return { ok: false, reason: 'invalid' };
    if (this.clock.now() > exp) return { ok: false, reason: 'expired' };
    return { ok: true, value: value as T };
  }
}

/** SHA-256 of a JSON value with object keys sorted, so the same arguments digest alike however ordered. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function aadOf(binding: RequestStateBinding): string {
  // JSON, so no field's content can shift into another's (a ':' in a URI, say).
  return `${AAD_PREFIX}${JSON.stringify([binding.tenantId, binding.keyId, binding.subject ?? null, binding.method, binding.target, binding.argumentsDigest])}`;
}
