import { ApiFailure, apiPath, createApiClient } from './client';

function answering(status: number, body: unknown): typeof fetch {
  return async () => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('console API client', () => {
  it("turns the API's validation error into field errors keyed by field", async () => {
    const api = createApiClient({
      token: 't',
      onUnauthorized: () => undefined,
      fetch: answering(400, { error: { code: 'INVALID_PLUGIN_CONFIG', message: 'The plugin configuration is invalid.', details: { issues: [{ path: 'config.url', message: 'Invalid URL' }, { path: 'config', message: 'whole' }] } } }),
    });
    const failure = await api.send('PUT', '/v1/x', {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect((failure as ApiFailure).fieldErrors('config')).toEqual({ url: 'Invalid URL', '': 'whole' });
    expect((failure as ApiFailure).fieldErrors()).toEqual({ 'config.url': 'Invalid URL', config: 'whole' });
  });

  it('reports every 401 so the console can return to sign-in', async () => {
    const seen: ApiFailure[] = [];
    const api = createApiClient({ token: 'expired', onUnauthorized: (failure) => seen.push(failure), fetch: answering(401, { error: { code: 'UNAUTHENTICATED', message: 'A valid admin bearer token is required.' } }) });
    await expect(api.get('/v1/tenants')).rejects.toThrow('A valid admin bearer token is required.');
    expect(seen.map((failure) => failure.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('sends the token as a bearer header, never in the URL', async () => {
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const api = createApiClient({
      token: 'secret-token',
      onUnauthorized: () => undefined,
      fetch: async (url, init) => {
        calls.push({ url: String(url), headers: init?.headers as Record<string, string> });
        return new Response('{"items":[]}', { status: 200 });
      },
    });
    await api.get('/v1/tenants');
    expect(calls[0].url).toBe('/v1/tenants');
    expect(calls[0].headers['authorization']).toBe('Bearer secret-token');
  });

  it('encodes path segments that come from input', () => {
    expect(apiPath('tenants', 'a/b', 'plugins')).toBe('/v1/tenants/a%2Fb/plugins');
  });
});
