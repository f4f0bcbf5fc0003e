import { ApiFailure } from './client';
import { fetchOidcSettings, handoverCodeOf, redeemHandover } from './oidc';

function answering(status: number, body: unknown, seen: { url: string; init?: RequestInit }[] = []): typeof fetch {
  return async (input, init) => {
    seen.push({ url: String(input), init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
}

describe('console OIDC sign-in calls', () => {
  it('reads the handover code from #/signed-in/<code> only', () => {
    expect(handoverCodeOf('#/signed-in/abc_DEF-123')).toBe('abc_DEF-123');
    expect(handoverCodeOf('#/signed-in/')).toBeUndefined();
    expect(handoverCodeOf('#/signed-in/abc/def')).toBeUndefined();
    expect(handoverCodeOf('#/tenants/acme')).toBeUndefined();
    expect(handoverCodeOf('')).toBeUndefined();
  });

  it('offers the provider only when the API says it is configured', async () => {
    expect(await fetchOidcSettings(answering(200, { enabled: true, provider: 'Acme SSO', startUrl: '/console/oidc/start' }))).toEqual({ enabled: true, provider: 'Acme SSO', startUrl: '/console/oidc/start' });
    expect(await fetchOidcSettings(answering(200, { enabled: false }))).toEqual({ enabled: false });
    expect(await fetchOidcSettings(answering(404, { error: { code: 'ROUTE_NOT_FOUND' } }))).toEqual({ enabled: false });
    expect(await fetchOidcSettings(async () => Promise.reject(new TypeError('offline')))).toEqual({ enabled: false });
  });

  it('trades the code for the token in a POST body, never in a URL, without cookies', async () => {
    const seen: { url: string; init?: RequestInit }[] = [];
    expect(await redeemHandover('the-code', answering(200, { token: 'the-token' }, seen))).toBe('the-token');
    expect(seen[0]!.url).toBe('/console/oidc/redeem');
    expect(seen[0]!.init).toMatchObject({ method: 'POST', credentials: 'omit', body: JSON.stringify({ code: 'the-code' }) });
  });

  it("reports the API's refusal of a spent code", async () => {
    const failure = await redeemHandover('spent', answering(401, { error: { code: 'UNAUTHENTICATED', message: 'This sign-in code is unknown, expired or already used. Sign in again.' } })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect(failure).toMatchObject({ status: 401, message: expect.stringContaining('already used') });
  });
});
