import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { verifyIdToken, type SsoProviderClient } from '@switchboard/oidc-client';
import { z } from 'zod';
import type { ConsoleOidcConfig } from '../config/api-config';
import type { HandoverCodes } from './handover-codes';
import type { OidcStateSeal } from './oidc-state-seal';
import { platformAdminOf } from './platform-admins';

/**
 * Operator sign-in to the console through the operator's OpenID Connect provider
 * (docs/console.md): authorization code with PKCE S256, `state` and `nonce`; the API is the
 * confidential client and does the code exchange. A person the operator listed becomes a
 * platform admin for the length of a short admin token whose subject names them
 * (`oidc:<iss>#<sub>`), handed to the console under a single-use code.
 */

/** The audit log's actor column (AuditEvent.actor, VarChar(200)): a longer subject could sign in but record nothing. */
export const MAX_CONSOLE_SUBJECT_LENGTH = 200;

/** What /callback receives from the provider; anything else in the query is ignored. */
const callbackQuerySchema = z.object({
  code: z.string().max(4096).optional(),
  state: z.string().max(8192).optional(),
  error: z.string().max(200).optional(),
});

export type SignInStart = { ok: true; location: string; binding: string } | SignInRefusal;
export type SignInCompletion = { ok: true; handoverCode: string; subject: string } | SignInRefusal;
/** `status`: 400 the request (state, code, token), 403 not a platform admin, 502 the provider failed. */
export interface SignInRefusal {
  ok: false;
  status: 400 | 403 | 502;
  message: string;
}

/** Mints the console's admin token for a subject; the token's lifetime is the minter's business. */
export type ConsoleTokenMinter = (subject: string) => string;

export class ConsoleOidcSignIn {
  constructor(
    private readonly config: ConsoleOidcConfig,
    private readonly providers: SsoProviderClient,
    private readonly seal: OidcStateSeal,
    private readonly handovers: HandoverCodes,
    private readonly mint: ConsoleTokenMinter,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The provider's authorization URL for a new sign-in, and the cookie value its state is bound to. */
  async start(): Promise<SignInStart> {
    const discovery = await this.providers.discover(this.config.issuer);
    if (!discovery.ok) return this.providerFailed(discovery.reason);
    const binding = randomBytes(32).toString('base64url');
    const trip = { nonce: randomBytes(24).toString('base64url'), codeVerifier: randomBytes(32).toString('base64url') };
    const url = new URL(discovery.value.authorizationEndpoint);
    const params = {
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: this.config.redirectUri,
      scope: this.config.scopes,
      state: this.seal.seal(trip, binding),
      nonce: trip.nonce,
      // RFC 7636 §4.2: S256 only; `plain` would hand the verifier to whoever sees this URL.
      code_challenge: createHash('sha256').update(trip.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return { ok: true, location: url.toString(), binding };
  }

  /** The provider's redirect back: opens the state with this browser's cookie, exchanges the code, checks the ID token and the list. */
  async complete(query: unknown, binding: string | undefined): Promise<SignInCompletion> {
    const parsed = callbackQuerySchema.safeParse(query);
    if (!parsed.success) return this.refuse(400, 'The sign-in response is malformed. Start again from the console.');
    const { code, state, error } = parsed.data;
    const trip = this.seal.open(state, binding);
    // Forged, altered, expired, or brought back to another browser (no cookie): refused before the provider is asked anything.
    if (!trip) return this.refuse(400, 'This sign-in expired or was started in another browser. Start again from the console.');
    if (error !== undefined) return this.refuse(400, `The identity provider did not sign you in (${error}). Start again from the console.`);
    if (!code) return this.refuse(400, 'The identity provider sent no authorization code. Start again from the console.');

    const discovery = await this.providers.discover(this.config.issuer);
    if (!discovery.ok) return this.providerFailed(discovery.reason);
    const exchanged = await this.providers.exchangeCode({
      discovery: discovery.value,
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      code,
      redirectUri: this.config.redirectUri,
      codeVerifier: trip.codeVerifier,
    });
    // A 4xx is the provider refusing this code (spent, another client's, PKCE mismatch): the request's fault, not an outage.
    if (!exchanged.ok) return /HTTP 4\d\d/.test(exchanged.reason) ? this.refuse(400, `The identity provider refused the authorization code (${exchanged.reason}). Start again from the console.`) : this.providerFailed(exchanged.reason);

    const expected = { issuer: this.config.issuer, clientId: this.config.clientId, nonce: trip.nonce, nowSeconds: Math.floor(this.clock.now() / 1000) };
    let keys = await this.providers.jwks(discovery.value.jwksUri);
    if (!keys.ok) return this.providerFailed(keys.reason);
    let verified = verifyIdToken(exchanged.value.idToken, keys.value, expected);
    // The provider may have rotated its keys since we cached them.
    if (!verified.ok && /does not publish/.test(verified.reason)) {
      keys = await this.providers.jwks(discovery.value.jwksUri, { refresh: true });
      if (!keys.ok) return this.providerFailed(keys.reason);
      verified = verifyIdToken(exchanged.value.idToken, keys.value, expected);
    }
    if (!verified.ok) return this.refuse(400, `The identity provider's answer was refused: ${verified.reason}. Start again from the console.`);

    const subject = `oidc:${this.config.issuer}#${String(verified.claims['sub'])}`;
    if (subject.length > MAX_CONSOLE_SUBJECT_LENGTH) return this.refuse(400, `The identity provider's subject for you is too long to be named in the audit log (${MAX_CONSOLE_SUBJECT_LENGTH} characters with the issuer).`);
    const verdict = platformAdminOf(verified.claims, this.config.platformAdmins, this.config.groupsClaim);
    if (!verdict.admitted) {
      this.logger.warn({ subject }, 'console sign-in refused: not on CONSOLE_OIDC_PLATFORM_ADMINS');
      return { ok: false, status: 403, message: `You signed in as ${verdict.who}, who is not a platform admin of this Switchboard. Ask its operator to add you to CONSOLE_OIDC_PLATFORM_ADMINS.` };
    }
    const handoverCode = await this.handovers.issue(this.mint(subject));
    this.logger.info({ subject, via: verdict.via }, 'console sign-in through OpenID Connect');
    return { ok: true, handoverCode, subject };
  }

  /** The admin token behind a handover code, once. */
  redeem(code: string): Promise<string | undefined> {
    return this.handovers.redeem(code);
  }

  private refuse(status: 400, message: string): SignInRefusal {
    this.logger.warn({ reason: message }, 'console sign-in refused');
    return { ok: false, status, message };
  }

  private providerFailed(reason: string): SignInRefusal {
    this.logger.warn({ reason, issuer: this.config.issuer }, 'console sign-in: the identity provider failed');
    return { ok: false, status: 502, message: `The identity provider could not complete the sign-in: ${reason}. Try again later.` };
  }
}
