import { generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createLogger } from '@switchboard/logger';
import type { SsoProviderClient, SsoResult } from '@switchboard/oidc-client';
import type { ConsoleOidcConfig } from '../config/api-config';
import { ConsoleOidcSignIn } from './console-oidc-sign-in';
import { HandoverCodes, InMemoryHandoverStore } from './handover-codes';
import { OidcStateSeal } from './oidc-state-seal';

const ISSUER = 'https://login.acme.example';
const config: ConsoleOidcConfig = {
  issuer: ISSUER,
  clientId: 'switchboard-console',
  clientSecret: 'shh',
  redirectUri: 'https://admin.acme.example/console/oidc/callback',
  platformAdmins: { emails: ['ada@acme.example'], groups: [] },
  providerName: 'Acme',
  scopes: 'openid email profile',
  groupsClaim: 'groups',
  allowCidrs: [],
};
const oldKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const newKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (pair: typeof oldKey, kid: string) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' });

/** A provider whose parts a test can make fail; the ID token carries the nonce it was last asked for. */
function fakeProvider() {
  const state = {
    nonce: '',
    /** A reason makes discovery fail. */
    discoveryFailure: undefined as string | undefined,
    exchange: undefined as SsoResult<{ idToken: string }> | undefined,
    signer: { pair: oldKey, kid: 'k-old' },
    published: [jwk(oldKey, 'k-old')],
    jwksAsked: [] as boolean[],
  };
  const provider: SsoProviderClient = {
    discover: async (issuer) =>
      state.discoveryFailure === undefined
        ? { ok: true, value: { issuer, authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token`, jwksUri: `${issuer}/jwks`, tokenEndpointAuth: 'client_secret_basic' } }
        : { ok: false, reason: state.discoveryFailure },
    jwks: async (_uri, options) => {
      state.jwksAsked.push(options?.refresh ?? false);
      // A cache that still holds the old key set until asked to refresh.
      return { ok: true, value: { keys: options?.refresh ? state.published : [jwk(oldKey, 'k-old')] } };
    },
    exchangeCode: async () => {
      if (state.exchange) return state.exchange;
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: ISSUER, aud: config.clientId, sub: 'u1', email: 'ada@acme.example', email_verified: true, nonce: state.nonce, iat: now, exp: now + 60 };
      return { ok: true, value: { idToken: jwt.sign(claims, state.signer.pair.privateKey, { algorithm: 'RS256', keyid: state.signer.kid }) } };
    },
  };
  return { provider, state };
}

function setup() {
  const { provider, state } = fakeProvider();
  const minted: string[] = [];
  const clock = { now: () => Date.now() };
  const signIn = new ConsoleOidcSignIn(
    config,
    provider,
    new OidcStateSeal({ current: randomBytes(32) }, clock),
    new HandoverCodes(new InMemoryHandoverStore(clock), clock),
    (subject) => {
      minted.push(subject);
      return `token-for:${subject}`;
    },
    clock,
    createLogger({ name: 'test', level: 'silent' }),
  );
  async function roundTrip(): Promise<ReturnType<ConsoleOidcSignIn['complete']>> {
    const started = await signIn.start();
    if (!started.ok) throw new Error(started.message);
    const q = new URL(started.location).searchParams;
    state.nonce = q.get('nonce')!;
    return signIn.complete({ code: 'the-code', state: q.get('state')!, session_state: 'ignored' }, started.binding);
  }
  return { signIn, state, minted, roundTrip };
}

describe('ConsoleOidcSignIn', () => {
  it('mints the token for oidc:<iss>#<sub> and hands it over under a code', async () => {
    const { signIn, minted, roundTrip } = setup();
    const done = await roundTrip();
    expect(done).toMatchObject({ ok: true, subject: `oidc:${ISSUER}#u1` });
    expect(minted).toEqual([`oidc:${ISSUER}#u1`]);
    expect(await signIn.redeem((done as { handoverCode: string }).handoverCode)).toBe(`token-for:oidc:${ISSUER}#u1`);
  });

  it('refetches the key set once when the provider signs with a key it rotated in since', async () => {
    const { state, roundTrip } = setup();
    state.signer = { pair: newKey, kid: 'k-new' };
    state.published = [jwk(oldKey, 'k-old'), jwk(newKey, 'k-new')];
    expect(await roundTrip()).toMatchObject({ ok: true });
    expect(state.jwksAsked).toEqual([false, true]);
  });

  it('refuses a token signed by a key the provider does not publish even after a refetch', async () => {
    const { state, roundTrip, minted } = setup();
    state.signer = { pair: newKey, kid: 'k-new' };
    expect(await roundTrip()).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/does not publish/) });
    expect(minted).toEqual([]);
  });

  it('answers 502 when the provider cannot be reached, and 400 when it refuses the code', async () => {
    const { signIn, state, roundTrip } = setup();
    state.discoveryFailure = 'the provider could not be reached';
    expect(await signIn.start()).toMatchObject({ ok: false, status: 502 });
    state.discoveryFailure = undefined;
    state.exchange = { ok: false, reason: 'the provider answered HTTP 400' };
    expect(await roundTrip()).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/refused the authorization code/) });
    state.exchange = { ok: false, reason: 'the provider answered HTTP 503' };
    expect(await roundTrip()).toMatchObject({ ok: false, status: 502 });
  });

  it('refuses a malformed callback query before opening anything', async () => {
    const { signIn } = setup();
    expect(await signIn.complete({ code: ['a', 'b'], state: 's' }, 'cookie')).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/malformed/) });
    expect(await signIn.complete({ code: 'c', state: 'x'.repeat(9000) }, 'cookie')).toMatchObject({ ok: false, status: 400 });
  });
});
