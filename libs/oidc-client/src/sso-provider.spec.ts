import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundNetwork } from '@switchboard/plugin-net';
import { OidcProviders } from './sso-provider';

/** A discovery document on loopback; `issuerOverride` makes it name another issuer. */
async function serve(issuerOverride?: string): Promise<{ issuer: string; server: Server }> {
  const server = createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration')
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: issuerOverride ?? issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('OidcProviders', () => {
  const servers: Server[] = [];
  afterAll(async () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  it('refuses a provider on a loopback address unless the operator allowed it (SSRF guard)', async () => {
    const { issuer, server } = await serve();
    servers.push(server);
    const guarded = OidcProviders.over(outboundNetwork({ allow: [] }));
    const allowed = OidcProviders.over(outboundNetwork({ allow: ['127.0.0.1/32'] }));
    try {
      expect(await guarded.discover(issuer)).toEqual({ ok: false, reason: 'the provider could not be reached' });
      expect(await allowed.discover(issuer)).toEqual({ ok: true, value: { issuer, authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token`, jwksUri: `${issuer}/jwks`, tokenEndpointAuth: 'client_secret_basic' } });
    } finally {
      await guarded.close();
      await allowed.close();
    }
  });

  it('refuses a discovery document that names another issuer', async () => {
    const { issuer, server } = await serve('https://login.other.example');
    servers.push(server);
    const providers = OidcProviders.over(outboundNetwork({ allow: ['127.0.0.1/32'] }));
    try {
      expect(await providers.discover(issuer)).toEqual({ ok: false, reason: 'the provider names another issuer in its discovery document' });
    } finally {
      await providers.close();
    }
  });
});
