import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { admitIdentity, verifyIdToken } from './id-token';

const ISSUER = 'https://idp.example.com';
const CLIENT_ID = 'switchboard-acme';
const NONCE = 'n-0S6_WzA2Mj';
const NOW = 1_800_000_000;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = {
  keys: [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ],
};

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, aud: CLIENT_ID, sub: 'user-42', nonce: NONCE, iat: NOW - 10, exp: NOW + 300, email: 'ada@acme.test', email_verified: true, ...overrides };
}

const signRs = (payload: Record<string, unknown>, kid = 'rsa-1') => jwt.sign(payload, rsa.privateKey, { algorithm: 'RS256', keyid: kid });
const expected = { issuer: ISSUER, clientId: CLIENT_ID, nonce: NONCE, nowSeconds: NOW };

describe('verifyIdToken', () => {
  it('accepts an RS256 token of the provider for this client', () => {
    const verdict = verifyIdToken(signRs(claims()), jwks, expected);
    expect(verdict).toEqual({ ok: true, claims: expect.objectContaining({ sub: 'user-42' }) });
  });

  it('accepts an ES256 token', () => {
    const token = jwt.sign(claims(), ec.privateKey, { algorithm: 'ES256', keyid: 'ec-1' });
    expect(verifyIdToken(token, jwks, expected).ok).toBe(true);
  });

  it('refuses a token of another issuer', () => {
    expect(verifyIdToken(signRs(claims({ iss: 'https://evil.example.com' })), jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/issuer/) });
  });

  it('refuses a token for another client (another tenant’s provider configuration)', () => {
    expect(verifyIdToken(signRs(claims({ aud: 'switchboard-globex' })), jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/audience/) });
  });

  it('refuses several audiences when azp is not this client', () => {
    expect(verifyIdToken(signRs(claims({ aud: [CLIENT_ID, 'other'], azp: 'other' })), jwks, expected).ok).toBe(false);
    expect(verifyIdToken(signRs(claims({ aud: [CLIENT_ID, 'other'], azp: CLIENT_ID })), jwks, expected).ok).toBe(true);
  });

  it('refuses a token whose nonce is not this sign-in’s (replayed from another)', () => {
    expect(verifyIdToken(signRs(claims({ nonce: 'another' })), jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/nonce/) });
    expect(verifyIdToken(signRs(claims({ nonce: undefined })), jwks, expected).ok).toBe(false);
  });

  it('refuses an expired token', () => {
    expect(verifyIdToken(signRs(claims({ exp: NOW - 120 })), jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
  });

  it('refuses an unsigned token (alg none)', () => {
    const unsigned = jwt.sign(claims(), '', { algorithm: 'none' });
    expect(verifyIdToken(unsigned, jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/algorithm none/) });
  });

  it('refuses an HS256 token whose secret is the provider’s public key', () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    const forged = jwt.sign(claims(), pem, { algorithm: 'HS256', keyid: 'rsa-1' });
    expect(verifyIdToken(forged, jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/HS256/) });
  });

  it('refuses a token signed by a key the provider does not publish', () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign(claims(), stranger.privateKey, { algorithm: 'RS256', keyid: 'rsa-1' });
    expect(verifyIdToken(token, jwks, expected).ok).toBe(false);
    expect(verifyIdToken(signRs(claims(), 'unknown-kid'), jwks, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not publish/) });
  });

  it('refuses a token issued in the future and one without a subject', () => {
    expect(verifyIdToken(signRs(claims({ iat: NOW + 3600, exp: NOW + 7200 })), jwks, expected).ok).toBe(false);
    expect(verifyIdToken(signRs(claims({ sub: undefined })), jwks, expected).ok).toBe(false);
  });
});

describe('admitIdentity', () => {
  const settings = { issuer: ISSUER, allowedEmailDomains: ['acme.test'], requiredGroup: { claim: 'groups', value: 'mcp-users' } };

  it('admits a verified email of an allowed domain in the required group, as sso:<iss>#<sub>', () => {
    expect(admitIdentity(claims({ groups: ['staff', 'mcp-users'] }), settings)).toEqual({ ok: true, identity: { subject: `sso:${ISSUER}#user-42`, email: 'ada@acme.test' }, claims: expect.any(Object) });
  });

  it('refuses an unverified email', () => {
    expect(admitIdentity(claims({ email_verified: false, groups: ['mcp-users'] }), settings)).toMatchObject({ ok: false, reason: expect.stringMatching(/not verified/) });
    expect(admitIdentity(claims({ email_verified: undefined, groups: ['mcp-users'] }), settings).ok).toBe(false);
  });

  it('refuses an email of another domain, also one that only ends like an allowed one', () => {
    expect(admitIdentity(claims({ email: 'eve@evil.test', groups: ['mcp-users'] }), settings)).toMatchObject({ ok: false, reason: expect.stringMatching(/evil\.test/) });
    expect(admitIdentity(claims({ email: 'eve@notacme.test', groups: ['mcp-users'] }), settings).ok).toBe(false);
  });

  it('refuses a person outside the required group', () => {
    expect(admitIdentity(claims({ groups: ['staff'] }), settings)).toMatchObject({ ok: false, reason: expect.stringMatching(/group/) });
    expect(admitIdentity(claims(), settings).ok).toBe(false);
    expect(admitIdentity(claims({ groups: 'mcp-users' }), settings).ok).toBe(true);
  });

  it('admits any domain when none is listed, and refuses a missing email', () => {
    expect(admitIdentity(claims({ email: 'bob@anywhere.test' }), { issuer: ISSUER, allowedEmailDomains: [] }).ok).toBe(true);
    expect(admitIdentity(claims({ email: undefined }), { issuer: ISSUER, allowedEmailDomains: [] }).ok).toBe(false);
  });
});
