import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { StoredSsoSettings } from '@switchboard/oauth-policy';

/**
 * Validation of an OpenID Connect ID token from a tenant's identity provider (OIDC Core 1.0
 * §3.1.3.7), then the tenant's rules for who may sign in. Pure: the JWKS is handed in.
 */

/** Asymmetric algorithms only: an HS256 token "signed" with a public key never verifies. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
const CLOCK_SKEW_SECONDS = 60;

export interface IdTokenExpectation {
  issuer: string;
  clientId: string;
  nonce: string;
  nowSeconds: number;
}

export interface SsoIdentity {
  /** `sso:<iss>#<sub>`: unique across providers. */
  subject: string;
  email: string;
}

export type IdTokenVerdict = { ok: true; identity: SsoIdentity; claims: Record<string, unknown> } | { ok: false; reason: string };

/** The key a JWKS (RFC 7517) holds for a token's header: by `kid`, or the only signing key when the token names none. */
export function keyForToken(jwks: unknown, header: { kid?: string; alg?: string }): KeyObject | undefined {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return undefined;
  const candidates = keys.filter((k): k is Record<string, unknown> => typeof k === 'object' && k !== null && (k as { use?: unknown }).use !== 'enc' && ((k as { kty?: unknown }).kty === 'RSA' || (k as { kty?: unknown }).kty === 'EC'));
  const chosen = header.kid !== undefined ? candidates.filter((k) => k['kid'] === header.kid) : candidates;
  if (chosen.length !== 1) return undefined;
  const jwk = chosen[0]!;
  if ('d' in jwk) return undefined;
  try {
    return createPublicKey({ key: jwk as never, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Signature (asymmetric, by the IdP's JWKS), iss, aud = our client id (azp when several), exp, iat, nonce. */
export function verifyIdToken(token: string, jwks: unknown, expected: IdTokenExpectation): { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string } {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded === 'string' || typeof decoded.payload === 'string') return { ok: false, reason: 'the ID token is not a JWT' };
  const header = decoded.header as { kid?: string; alg?: string };
  if (!(ID_TOKEN_ALGORITHMS as readonly string[]).includes(header.alg ?? '')) return { ok: false, reason: `the ID token's algorithm ${header.alg ?? 'none'} is not accepted` };
  const key = keyForToken(jwks, header);
  if (!key) return { ok: false, reason: 'the ID token is signed by a key the provider does not publish' };
  let claims: Record<string, unknown>;
  try {
    claims = jwt.verify(token, key, {
      algorithms: [...ID_TOKEN_ALGORITHMS],
      issuer: expected.issuer,
      audience: expected.clientId,
      clockTimestamp: expected.nowSeconds,
      clockTolerance: CLOCK_SKEW_SECONDS,
    }) as Record<string, unknown>;
  } catch (error) {
    return { ok: false, reason: `the ID token does not verify: ${error instanceof Error ? error.message : 'invalid'}` };
  }
  // OIDC Core §3.1.3.7 (3): with several audiences, azp should be present and (§2) be our client.
  const aud = claims['aud'];
  if (Array.isArray(aud) && aud.length > 1 && claims['azp'] !== expected.clientId) return { ok: false, reason: 'the ID token is for several audiences and azp is not this client' };
  if (typeof claims['exp'] !== 'number' || typeof claims['iat'] !== 'number') return { ok: false, reason: 'the ID token has no exp or iat' };
  if (claims['iat'] > expected.nowSeconds + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'the ID token was issued in the future' };
  // §3.1.3.7 (11): the nonce sent in the authentication request must come back.
  if (claims['nonce'] !== expected.nonce) return { ok: false, reason: 'the ID token nonce does not match this sign-in' };
  if (typeof claims['sub'] !== 'string' || claims['sub'] === '' || claims['sub'].length > 255) return { ok: false, reason: 'the ID token has no usable sub' };
  return { ok: true, claims };
}

/** The tenant's rules: a verified email, in an allowed domain, and the required group claim. */
export function admitIdentity(claims: Record<string, unknown>, settings: Pick<StoredSsoSettings, 'issuer' | 'allowedEmailDomains' | 'requiredGroup'>): IdTokenVerdict {
  const email = claims['email'];
  if (typeof email !== 'string' || email.length > 320 || !/^[^@\s]+@[^@\s]+$/.test(email)) return { ok: false, reason: 'the provider did not give an email address' };
  // Some providers send "true" as a string (OIDC Core §5.1 says boolean; accept both spellings, nothing else).
  if (claims['email_verified'] !== true && claims['email_verified'] !== 'true') return { ok: false, reason: 'the email address is not verified by the provider' };
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  if (settings.allowedEmailDomains.length > 0 && !settings.allowedEmailDomains.includes(domain)) return { ok: false, reason: `accounts of ${domain} may not sign in to this tenant` };
  if (settings.requiredGroup) {
    const value = claims[settings.requiredGroup.claim];
    const has = Array.isArray(value) ? value.includes(settings.requiredGroup.value) : value === settings.requiredGroup.value;
    if (!has) return { ok: false, reason: 'this account is not in the group this tenant requires' };
  }
  const subject = `sso:${settings.issuer}#${String(claims['sub'])}`;
  if (subject.length > 255) return { ok: false, reason: 'the subject is too long' };
  return { ok: true, identity: { subject, email: email.toLowerCase() }, claims };
}
