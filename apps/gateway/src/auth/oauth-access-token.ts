import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/**
 * The platform authorization server's access tokens (docs/oauth.md): ES256 JWTs with a `kid`,
 * signed by the authorization server (oauth/) and verified by every gateway node from the
 * published public keys, with no database read per request. The format lives here, on the floor
 * both sides build on, so signer and verifier cannot drift apart.
 */

export const ACCESS_TOKEN_ALGORITHM = 'ES256';
/** RFC 9068 §2.1: the `typ` of a JWT access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Access to the tenant's MCP URL; `plugin:<name>` scopes narrow it to those plugins. */
export const MCP_SCOPE = 'mcp';
export const PLUGIN_SCOPE_PREFIX = 'plugin:';

export interface AccessTokenClaims {
  iss: string;
  /** The RFC 8707 resource: the tenant MCP URL the client asked for. */
  aud: string;
  /** Who signed in: `key:<apiKeyId>` or the SSO subject. */
  sub: string;
  client_id: string;
  /** Space-separated: `mcp` and any `plugin:<name>`. */
  scope: string;
  /** The tenant's id (the resource names its slug). */
  tenant: string;
  /** The grant the token belongs to: revoking it ends the token on every node. */
  grant: string;
  /** The API key the person signed in with, when they did; the grant inherits its plugins and limits. */
  key?: string;
  email?: string;
  iat: number;
  exp: number;
  jti: string;
}

/** One signing key: its `kid`, and the private key (signer) or public key (verifier). */
export interface SigningKey {
  kid: string;
  key: KeyObject;
}

export function signAccessToken(claims: AccessTokenClaims, signing: SigningKey): string {
  return jwt.sign(claims, signing.key, { algorithm: ACCESS_TOKEN_ALGORITHM, keyid: signing.kid, header: { alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYPE, kid: signing.kid } });
}

/** The `kid` a token names, without verifying it; undefined when it is not a JWT of ours. */
export function accessTokenKid(token: string): string | undefined {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded === 'string') return undefined;
  const { alg, typ, kid } = decoded.header as { alg?: string; typ?: string; kid?: string };
  return alg === ACCESS_TOKEN_ALGORITHM && typ === ACCESS_TOKEN_TYPE && typeof kid === 'string' ? kid : undefined;
}

export type AccessTokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'malformed' | 'unknown' | 'expired' };

/** Verifies signature (ES256 only), issuer and expiry; the audience is the caller's to compare. */
export function verifyAccessToken(token: string, publicKey: KeyObject, issuer: string, nowSeconds: number): AccessTokenCheck {
  let payload: unknown;
  try {
    payload = jwt.verify(token, publicKey, { algorithms: [ACCESS_TOKEN_ALGORITHM], issuer, clockTimestamp: nowSeconds });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'unknown' };
  }
  const claims = payload as Partial<AccessTokenClaims>;
  const strings = [claims.aud, claims.sub, claims.client_id, claims.scope, claims.tenant, claims.grant, claims.jti];
  if (strings.some((value) => typeof value !== 'string') || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return { ok: false, reason: 'malformed' };
  return { ok: true, claims: claims as AccessTokenClaims };
}

/** A public key as published in the JWKS (RFC 7517), with its `kid`, `alg` and `use`. */
export function publicJwkOf(signing: SigningKey): Record<string, unknown> {
  const publicKey = signing.key.type === 'private' ? createPublicKey(signing.key) : signing.key;
  return { ...publicKey.export({ format: 'jwk' }), kid: signing.kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
}

/** The plugins a scope string grants; undefined = no plugin scope, so every plugin the key allows. */
export function pluginsOfScope(scope: string): string[] | undefined {
  const plugins = scope
    .split(' ')
    .filter((s) => s.startsWith(PLUGIN_SCOPE_PREFIX))
    .map((s) => s.slice(PLUGIN_SCOPE_PREFIX.length));
  return plugins.length > 0 ? plugins : undefined;
}
