import jwt from 'jsonwebtoken';
import { freePort, startMiniOidcProvider, type MiniOidcProvider } from '@switchboard/testing';
import { startTestApi, type TestApi } from '../testing/api-test-harness';
import { MAX_CONSOLE_SUBJECT_LENGTH } from './console-oidc-sign-in';
import { HANDOVER_TTL_MS } from './handover-codes';
import { OIDC_ROUND_TRIP_TTL_MS } from './oidc-state-seal';

// Operator sign-in to the console through OpenID Connect, against the test provider on loopback:
// the whole round trip over HTTP as a browser makes it (redirects followed by hand, the cookie
// carried by hand), then every way an attacker could bend it.

const CLIENT_ID = 'switchboard-console';
const CLIENT_SECRET = 'console-secret';
/** Another client of the same provider: the attacker's own application. */
const OTHER_CLIENT_ID = 'attacker-app';
const ADA = { sub: 'user-ada', email: 'ada@acme.test', email_verified: true };

interface RoundTrip {
  /** The provider's authorization URL /start sent the browser to. */
  authorize: URL;
  /** `name=value` of the round trip's cookie. */
  cookie: string;
  setCookie: string;
}

async function startOidcApi(label: string, idp: MiniOidcProvider, options: { redis?: boolean } = {}): Promise<{ api: TestApi; origin: string }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const api = await startTestApi(
    label,
    {
      API_PORT: String(port),
      CONSOLE_OIDC_ISSUER: idp.issuer,
      CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
      CONSOLE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      CONSOLE_OIDC_REDIRECT_URI: `${origin}/console/oidc/callback`,
      CONSOLE_OIDC_PLATFORM_ADMINS: 'ada@acme.test, group:platform-ops',
      CONSOLE_OIDC_PROVIDER_NAME: 'Acme SSO',
      // The test provider listens on loopback, which the SSRF guard refuses unless allowed.
      CONSOLE_OIDC_ALLOW_CIDRS: '127.0.0.1/32',
    },
    { redis: options.redis },
  );
  return { api, origin };
}

function flow(api: TestApi, idp: MiniOidcProvider) {
  async function begin(): Promise<RoundTrip> {
    const response = await fetch(`${api.url}/console/oidc/start`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const setCookie = response.headers.get('set-cookie') ?? '';
    return { authorize: new URL(response.headers.get('location')!), cookie: setCookie.split(';')[0]!, setCookie };
  }
  /** The provider signs `idp.nextUser` in and redirects back: the callback URL it sends the browser to. */
  async function atProvider(authorize: URL): Promise<URL> {
    const response = await fetch(authorize, { redirect: 'manual' });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location')!);
  }
  async function callback(url: URL | string, cookie: string | undefined): Promise<Response> {
    return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  }
  /** A whole sign-in of `idp.nextUser`: the callback's answer. */
  async function signIn(): Promise<Response> {
    const trip = await begin();
    return callback(await atProvider(trip.authorize), trip.cookie);
  }
  function handoverCodeOf(response: Response): string {
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    const match = /#\/signed-in\/([A-Za-z0-9_-]+)$/.exec(location);
    expect(match).not.toBeNull();
    return match![1]!;
  }
  const redeem = (code: string) => api.request('POST', '/console/oidc/redeem', { body: { code } });
  return { begin, atProvider, callback, signIn, handoverCodeOf, redeem, idp };
}

describe('console sign-in through OpenID Connect', () => {
  let idp: MiniOidcProvider;
  let api: TestApi;
  let origin: string;
  let f: ReturnType<typeof flow>;

  beforeAll(async () => {
    idp = await startMiniOidcProvider();
    idp.clients.set(CLIENT_ID, CLIENT_SECRET);
    idp.clients.set(OTHER_CLIENT_ID, 'attacker-secret');
    ({ api, origin } = await startOidcApi('console_oidc', idp));
    f = flow(api, idp);
  });
  afterAll(async () => {
    await api?.close();
    await idp?.close();
  });
  beforeEach(() => {
    idp.nextUser = ADA;
    idp.nextIdTokenClaims = undefined;
  });

  /** Moves the API's clock for one step, then back: the test provider's ID tokens follow the real clock. */
  async function later<T>(ms: number, step: () => Promise<T>): Promise<T> {
    api.clock.advance(ms);
    try {
      return await step();
    } finally {
      api.clock.advance(-ms);
    }
  }

  it('tells the sign-in page that it can sign in through the provider', async () => {
    const settings = await api.request('GET', '/console/oidc');
    expect(settings.status).toBe(200);
    expect(settings.body).toEqual({ enabled: true, provider: 'Acme SSO', startUrl: '/console/oidc/start' });
  });

  it('sends the browser to the provider with PKCE S256, a sealed state and a nonce, the state bound to an HttpOnly cookie', async () => {
    const { authorize, setCookie } = await f.begin();
    expect(authorize.origin + authorize.pathname).toBe(`${idp.issuer}/authorize`);
    const q = authorize.searchParams;
    expect(Object.fromEntries(['response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge_method'].map((name) => [name, q.get(name)]))).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${origin}/console/oidc/callback`,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
    });
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')!.length).toBeGreaterThanOrEqual(32);
    expect(q.get('state')!.length).toBeGreaterThan(100);
    expect(setCookie).toMatch(/^sb_console_oidc=[A-Za-z0-9_-]{43}; Path=\/console\/oidc; HttpOnly; SameSite=Lax; Max-Age=600$/);
  });

  it('signs a listed person in: a handover code in the fragment buys an admin token whose subject the audit log names', async () => {
    const answer = await f.signIn();
    expect(answer.headers.get('location')).toMatch(new RegExp(`^${origin}/console/#/signed-in/`));
    // The round trip's cookie is spent.
    expect(answer.headers.get('set-cookie')).toMatch(/^sb_console_oidc=; Path=\/console\/oidc; HttpOnly; SameSite=Lax; Max-Age=0$/);
    const code = f.handoverCodeOf(answer);
    const redeemed = await f.redeem(code);
    expect(redeemed.status).toBe(200);
    expect(redeemed.headers.get('cache-control')).toBe('no-store');
    const token = redeemed.body.token as string;
    const subject = `oidc:${idp.issuer}#${ADA.sub}`;
    const claims = jwt.verify(token, api.adminSecret, { algorithms: ['HS256'], issuer: 'switchboard', audience: 'switchboard-admin' }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: subject, role: 'admin' });
    expect(claims.exp! - claims.iat!).toBe(3600);

    const created = await api.request('POST', '/v1/tenants', { token, body: { slug: 'oidc-made', name: 'Made through OIDC' } });
    expect(created.status).toBe(201);
    const audit = await api.request('GET', `/v1/audit?action=tenant.create&targetId=${created.body.id}`, { token });
    expect(audit.body.items.map((event: { actor: string }) => event.actor)).toEqual([subject]);
    // The log names the person, never the token or the code.
    expect(api.logs()).toContain(subject);
    expect(api.logs()).not.toContain(token);
    expect(api.logs()).not.toContain(code);
  });

  it('signs in a member of a listed group', async () => {
    idp.nextUser = { sub: 'user-bob', email: 'bob@acme.test', email_verified: true, groups: ['staff', 'platform-ops'] };
    const redeemed = await f.redeem(f.handoverCodeOf(await f.signIn()));
    expect(jwt.decode(redeemed.body.token)).toMatchObject({ sub: `oidc:${idp.issuer}#user-bob` });
  });

  it('answers a person not on the list with a 403 page under the console CSP, and no code', async () => {
    idp.nextUser = { sub: 'user-eve', email: 'eve@acme.test', email_verified: true, groups: ['staff'] };
    const answer = await f.signIn();
    expect(answer.status).toBe(403);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await answer.text();
    expect(page).toContain('eve@acme.test');
    expect(page).toContain('CONSOLE_OIDC_PLATFORM_ADMINS');
  });

  it('does not take a listed email the provider has not verified', async () => {
    idp.nextUser = { ...ADA, email_verified: false };
    expect((await f.signIn()).status).toBe(403);
  });

  it('refuses a tampered state, and never asks the provider about its code', async () => {
    const trip = await f.begin();
    const back = await f.atProvider(trip.authorize);
    const state = back.searchParams.get('state')!;
    const flipped = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
    back.searchParams.set('state', flipped);
    const answer = await f.callback(back, trip.cookie);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('expired or was started in another browser');
    // The code was never exchanged: it still works with the genuine state.
    back.searchParams.set('state', state);
    f.handoverCodeOf(await f.callback(back, trip.cookie));
  });

  it('refuses a state after ten minutes', async () => {
    const trip = await f.begin();
    const back = await f.atProvider(trip.authorize);
    const answer = await later(OIDC_ROUND_TRIP_TTL_MS + 1_000, () => f.callback(back, trip.cookie));
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('expired or was started in another browser');
  });

  it('refuses a state brought back to another browser: without the cookie, or with the cookie of another sign-in (login CSRF)', async () => {
    // The attacker starts a sign-in as themselves and sends the victim the callback URL.
    const attacker = await f.begin();
    const back = await f.atProvider(attacker.authorize);
    const victim = await f.begin();
    expect((await f.callback(back, undefined)).status).toBe(400);
    expect((await f.callback(back, victim.cookie)).status).toBe(400);
  });

  it("refuses a code the provider issued to another client, even with this sign-in's PKCE challenge", async () => {
    const trip = await f.begin();
    // The attacker's app obtains a code for our redirect URI and our challenge, under its own client id.
    const forged = new URL(trip.authorize);
    forged.searchParams.set('client_id', OTHER_CLIENT_ID);
    const back = await f.atProvider(forged);
    const answer = await f.callback(back, trip.cookie);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toMatch(/audience/);
  });

  it('refuses an ID token whose nonce is not this sign-in’s', async () => {
    idp.nextIdTokenClaims = { nonce: 'a-nonce-of-another-sign-in' };
    const answer = await f.signIn();
    expect(answer.status).toBe(400);
    expect(await answer.text()).toMatch(/nonce/);
  });

  it('refuses an ID token for another audience, and one of another issuer', async () => {
    idp.nextIdTokenClaims = { aud: 'some-other-client' };
    const answer = await f.signIn();
    expect(answer.status).toBe(400);
    expect(await answer.text()).toMatch(/audience/);
    idp.nextIdTokenClaims = { iss: 'https://login.evil.example' };
    expect((await f.signIn()).status).toBe(400);
  });

  it('refuses a subject too long for the audit log to name', async () => {
    idp.nextIdTokenClaims = { sub: 'x'.repeat(MAX_CONSOLE_SUBJECT_LENGTH) };
    const answer = await f.signIn();
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('too long');
  });

  it('refuses when the provider reports an error, and when it sends no code', async () => {
    const trip = await f.begin();
    const back = new URL(`${origin}/console/oidc/callback`);
    back.searchParams.set('state', trip.authorize.searchParams.get('state')!);
    back.searchParams.set('error', 'access_denied');
    const denied = await f.callback(back, trip.cookie);
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('access_denied');
    back.searchParams.delete('error');
    expect((await f.callback(back, trip.cookie)).status).toBe(400);
  });

  it('escapes what the provider sends into the page', async () => {
    const trip = await f.begin();
    const back = new URL(`${origin}/console/oidc/callback`);
    back.searchParams.set('state', trip.authorize.searchParams.get('state')!);
    back.searchParams.set('error', '<script>alert(1)</script>');
    const page = await (await f.callback(back, trip.cookie)).text();
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;');
  });

  it('hands the token over once: a handover code redeemed twice is refused the second time', async () => {
    const code = f.handoverCodeOf(await f.signIn());
    expect((await f.redeem(code)).status).toBe(200);
    const again = await f.redeem(code);
    expect(again.status).toBe(401);
    expect(again.body.token).toBeUndefined();
  });

  it('refuses a handover code after 60 seconds', async () => {
    const code = f.handoverCodeOf(await f.signIn());
    const late = await later(HANDOVER_TTL_MS + 1_000, () => f.redeem(code));
    expect(late.status).toBe(401);
  });

  it('refuses an unknown code and a malformed redeem body', async () => {
    expect((await f.redeem('A'.repeat(43))).status).toBe(401);
    expect((await api.request('POST', '/console/oidc/redeem', { body: { code: 'x', token: 'y' } })).status).toBe(400);
    expect((await api.request('POST', '/console/oidc/redeem', { body: {} })).status).toBe(400);
  });
});

describe('console sign-in through OpenID Connect, in cluster mode (handover codes in Redis)', () => {
  let idp: MiniOidcProvider;
  let api: TestApi;
  let f: ReturnType<typeof flow>;

  beforeAll(async () => {
    idp = await startMiniOidcProvider();
    idp.clients.set(CLIENT_ID, CLIENT_SECRET);
    idp.nextUser = ADA;
    ({ api } = await startOidcApi('console_oidc_cluster', idp, { redis: true }));
    f = flow(api, idp);
  });
  afterAll(async () => {
    await api?.close();
    await idp?.close();
  });

  it('hands a working token over once', async () => {
    const code = f.handoverCodeOf(await f.signIn());
    const redeemed = await f.redeem(code);
    expect(redeemed.status).toBe(200);
    expect((await api.request('GET', '/v1/tenants', { token: redeemed.body.token })).status).toBe(200);
    expect((await f.redeem(code)).status).toBe(401);
  });

  it('refuses a handover code after 60 seconds by the API clock', async () => {
    const code = f.handoverCodeOf(await f.signIn());
    api.clock.advance(HANDOVER_TTL_MS + 1_000);
    try {
      expect((await f.redeem(code)).status).toBe(401);
    } finally {
      api.clock.advance(-(HANDOVER_TTL_MS + 1_000));
    }
  });
});

describe('console sign-in without OpenID Connect configured', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('console_oidc_off');
  });
  afterAll(async () => {
    await api?.close();
  });

  it('tells the sign-in page there is no provider, and has no sign-in routes', async () => {
    expect((await api.request('GET', '/console/oidc')).body).toEqual({ enabled: false });
    expect((await fetch(`${api.url}/console/oidc/start`, { redirect: 'manual' })).status).toBe(404);
    expect((await api.request('POST', '/console/oidc/redeem', { body: { code: 'x' } })).status).toBe(404);
  });
});
