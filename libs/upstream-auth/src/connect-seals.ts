import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError, type SecretBoxKeys } from '@switchboard/secrets';

/**
 * The two things of a connect round trip that travel through a browser and come back as attacker
 * input (docs/upstream-oauth.md):
 *
 * - the connect ticket, made by the admin API and opened by the gateway's `/oauth/upstream/connect`;
 * - the OAuth `state` the upstream's authorization server hands back to `/oauth/upstream/callback`,
 *   bound also to a random value the browser that started holds in a cookie (login CSRF: a callback
 *   opened in another browser does not complete);
 * - for a per-user ticket, the sign-in form of the connect page, bound the same way.
 *
 * Both are sealed (AES-256-GCM under a key derived from SECRETS_KEY, a purpose of their own in the
 * AAD so one is never accepted as the other), expire, and name their tenant, installation and
 * subject; each carries a nonce whose hash the credential row holds until it is used, so each is
 * single-use and only the newest connect of an installation can complete.
 */
export interface ConnectBinding {
  tenantId: string;
  installationId: string;
  /** "" for the shared credential. */
  subject: string;
}

export interface SealedConnect extends ConnectBinding {
  nonce: string;
}

/** How long an admin has from asking for a connect URL to finishing the upstream's consent page. */
export const CONNECT_TTL_MS = 10 * 60_000;
const KEY_INFO = 'switchboard/upstream-oauth/v1';
const MAX_SEALED_CHARS = 4 * 1024;

type Purpose = 'ticket' | 'state' | 'sign-in';

export class ConnectSeals {
  private readonly box: SecretBox;

  constructor(
    secretsKeys: SecretBoxKeys,
    private readonly clock: { now(): number } = Date,
  ) {
    const derive = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32));
    this.box = new SecretBox({ current: derive(secretsKeys.current), previous: (secretsKeys.previous ?? []).map(derive) });
  }

  /** A fresh random value: a nonce, or a browser binding (the cookie's value). */
  static random(): string {
    return randomBytes(32).toString('base64url');
  }

  /** What the credential row keeps of a nonce: its hash, so a database reader cannot complete a connect. */
  static nonceHash(nonce: string): string {
    return createHash('sha256').update(nonce).digest('base64url');
  }

  sealTicket(connect: SealedConnect): string {
    return this.seal('ticket', connect, '');
  }

  openTicket(sealed: string | undefined): SealedConnect | undefined {
    return this.open('ticket', sealed, '');
  }

  sealState(connect: SealedConnect, browserBinding: string): string {
    return this.seal('state', connect, browserBinding);
  }

  openState(sealed: string | undefined, browserBinding: string | undefined): SealedConnect | undefined {
    if (!browserBinding) return undefined;
    return this.open('state', sealed, browserBinding);
  }

  /**
   * The per-user connect page's sign-in form (docs/upstream-oauth.md "Per-user mode"): the opened
   * ticket, bound to a cookie of the browser that opened the link, so a form posted from another
   * site (which carries no SameSite cookie) or with another browser's cookie does not open.
   */
  sealSignIn(connect: SealedConnect, browserBinding: string): string {
    return this.seal('sign-in', connect, browserBinding);
  }

  openSignIn(sealed: string | undefined, browserBinding: string | undefined): SealedConnect | undefined {
    if (!browserBinding) return undefined;
    return this.open('sign-in', sealed, browserBinding);
  }

  private seal(purpose: Purpose, connect: SealedConnect, binding: string): string {
    const { tenantId, installationId, subject, nonce } = connect;
    return this.box.encrypt({ exp: this.clock.now() + CONNECT_TTL_MS, t: tenantId, i: installationId, s: subject, n: nonce }, `upstream-oauth/${purpose}/v1:${binding}`);
  }

  private open(purpose: Purpose, sealed: string | undefined, binding: string): SealedConnect | undefined {
    if (!sealed || sealed.length > MAX_SEALED_CHARS) return undefined;
    let opened: Record<string, unknown>;
    try {
      opened = this.box.decrypt(sealed, `upstream-oauth/${purpose}/v1:${binding}`);
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
    const { exp, t, i, s, n } = opened;
    if (typeof exp !== 'number' || this.clock.now() > exp) return undefined;
    if (typeof t !== 'string' || typeof i !== 'string' || typeof s !== 'string' || typeof n !== 'string') return undefined;
    return { tenantId: t, installationId: i, subject: s, nonce: n };
  }
}
