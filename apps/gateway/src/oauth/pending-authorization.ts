import { hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError, type SecretBoxKeys } from '@switchboard/secrets';

/**
 * The authorization request the consent page is answering, carried through the browser in a
 * hidden form field. It comes back as attacker input, so it is sealed (AES-256-GCM under a key
 * derived from SECRETS_KEY), expires, and is bound to a random value the same browser holds in a
 * cookie: a form posted without that cookie, or with another request's sealed field, does not open.
 * Any node opens it, so the person's POST may land on another node than the GET.
 */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  tenantId: string;
  /** The plugins the page offers (the client's request, narrowed to what the resource reaches). */
  offered: string[];
  /** Set once the person signed in through the tenant's identity provider: the page then asks for no key. */
  sso?: { subject: string; email: string };
}

/** How long the person has to paste a key and approve. */
export const CONSENT_TTL_MS = 10 * 60_000;
const KEY_INFO = 'switchboard/oauth-consent/v1';
const MAX_SEALED_CHARS = 16 * 1024;

export class PendingAuthorizations {
  private readonly box: SecretBox;

  constructor(
    secretsKeys: SecretBoxKeys,
    private readonly clock: { now(): number } = Date,
  ) {
    const derive = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32));
    this.box = new SecretBox({ current: derive(secretsKeys.current), previous: (secretsKeys.previous ?? []).map(derive) });
  }

  /** A fresh browser binding (the cookie's value). */
  newBinding(): string {
    return randomBytes(32).toString('base64url');
  }

  seal(pending: PendingAuthorization, binding: string): string {
    return this.box.encrypt({ exp: this.clock.now() + CONSENT_TTL_MS, pending }, `oauth-consent/v1:${binding}`);
  }

  open(sealed: string | undefined, binding: string | undefined): PendingAuthorization | undefined {
    if (!sealed || !binding || sealed.length > MAX_SEALED_CHARS) return undefined;
    let opened: Record<string, unknown>;
    try {
      opened = this.box.decrypt(sealed, `oauth-consent/v1:${binding}`);
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
    if (typeof opened['exp'] !== 'number' || this.clock.now() > opened['exp']) return undefined;
    return opened['pending'] as PendingAuthorization;
  }
}
