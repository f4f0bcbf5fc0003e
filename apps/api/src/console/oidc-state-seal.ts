import { hkdfSync } from 'node:crypto';
import type { Clock } from '@switchboard/api-keys';
import { SecretBox, SecretBoxError, type SecretBoxKeys } from '@switchboard/secrets';

/** How long the person may take at the identity provider between /start and /callback. */
export const OIDC_ROUND_TRIP_TTL_MS = 10 * 60_000;
/** A real state is a few hundred characters; anything far longer is not ours and is not decrypted. */
const MAX_STATE_CHARS = 4 * 1024;
/** Its own key, derived from SECRETS_KEY: a state can never be opened as a stored secret's envelope, nor the reverse. */
const KEY_INFO = 'switchboard/console-oidc-state/v1';

/** What one sign-in must remember between /start and /callback. */
export interface RoundTrip {
  nonce: string;
  codeVerifier: string;
}

/**
 * The OAuth `state` of a console sign-in: the nonce and PKCE verifier sealed with AES-GCM under a
 * key derived from SECRETS_KEY, with an expiry, and bound to a random value in a cookie of the
 * browser that started it (the AAD), so nothing is stored per sign-in and any API instance can
 * serve the callback. An altered, expired or other browser's state does not open (RFC 6749
 * §10.12: bind `state` to the user agent).
 */
export class OidcStateSeal {
  private readonly box: SecretBox;

  constructor(
    secretsKeys: SecretBoxKeys,
    private readonly clock: Clock,
  ) {
    const derive = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32));
    this.box = new SecretBox({ current: derive(secretsKeys.current), previous: (secretsKeys.previous ?? []).map(derive) });
  }

  seal(trip: RoundTrip, binding: string): string {
    return this.box.encrypt({ exp: this.clock.now() + OIDC_ROUND_TRIP_TTL_MS, nonce: trip.nonce, codeVerifier: trip.codeVerifier }, aadOf(binding));
  }

  /** The round trip, or undefined when the state is missing, altered, expired or bound to another browser. */
  open(state: string | undefined, binding: string | undefined): RoundTrip | undefined {
    if (!state || !binding || state.length > MAX_STATE_CHARS) return undefined;
    let opened: Record<string, unknown>;
    try {
      opened = this.box.decrypt(state, aadOf(binding));
    } catch (error) {
      // A malformed envelope is as much an attacker's input as a forged one.
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
    const { exp, nonce, codeVerifier } = opened;
    if (typeof exp !== 'number' || this.clock.now() > exp) return undefined;
    if (typeof nonce !== 'string' || typeof codeVerifier !== 'string') return undefined;
    return { nonce, codeVerifier };
  }
}

const aadOf = (binding: string) => `console-oidc/v1:${binding}`;
