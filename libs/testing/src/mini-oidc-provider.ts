import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

/**
 * A small OpenID Connect provider for tests, on loopback: discovery, JWKS, an authorization
 * endpoint that signs in `nextUser` without asking, and a token endpoint issuing RS256 ID tokens.
 * It checks the client secret, the redirect URI and PKCE as a real provider would, and puts the
 * code's client into `aud`, so a code obtained for another client yields a token for that client.
 * `nextIdTokenClaims` lets a test play a provider that misbehaves once (another `nonce`, `aud`…).
 */
export interface TestUser {
  sub: string;
  email: string;
  email_verified?: boolean;
  groups?: string[];
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  nonce: string | undefined;
  challenge: string;
  user: TestUser;
}

export interface MiniOidcProvider {
  issuer: string;
  /** Who the authorization endpoint signs in next. */
  nextUser: TestUser;
  /** client_id → client_secret */
  clients: Map<string, string>;
  /** The authorization requests received (their query), newest last. */
  authorizations: URLSearchParams[];
  /** Claims laid over the next ID token issued (then cleared): a provider that gets one token wrong. */
  nextIdTokenClaims: Record<string, unknown> | undefined;
  close(): Promise<void>;
}

export async function startMiniOidcProvider(): Promise<MiniOidcProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-rsa-1';
  const codes = new Map<string, IssuedCode>();
  const provider: MiniOidcProvider = { issuer: '', nextUser: { sub: 'user-1', email: 'ada@acme.test', email_verified: true }, clients: new Map(), authorizations: [], nextIdTokenClaims: undefined, close: async () => undefined };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', provider.issuer);
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/.well-known/openid-configuration')
        return json(200, {
          issuer: provider.issuer,
          authorization_endpoint: `${provider.issuer}/authorize`,
          token_endpoint: `${provider.issuer}/token`,
          jwks_uri: `${provider.issuer}/jwks`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
        });
      if (url.pathname === '/jwks') return json(200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
      if (url.pathname === '/authorize') {
        provider.authorizations.push(url.searchParams);
        const q = url.searchParams;
        const redirectUri = q.get('redirect_uri')!;
        if (!provider.clients.has(q.get('client_id') ?? '') || q.get('code_challenge_method') !== 'S256') return json(400, { error: 'invalid_request' });
        const code = randomBytes(16).toString('base64url');
        codes.set(code, { clientId: q.get('client_id')!, redirectUri, nonce: q.get('nonce') ?? undefined, challenge: q.get('code_challenge')!, user: provider.nextUser });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        return res.writeHead(302, { location: back.toString() }).end();
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(await bodyOf(req));
        const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
        if (!id || provider.clients.get(id) !== secret) return json(401, { error: 'invalid_client' });
        const issued = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        if (!issued || issued.redirectUri !== form.get('redirect_uri')) return json(400, { error: 'invalid_grant' });
        if (createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') !== issued.challenge) return json(400, { error: 'invalid_grant', error_description: 'PKCE' });
        const now = Math.floor(Date.now() / 1000);
        const { user } = issued;
        const overrides = provider.nextIdTokenClaims ?? {};
        provider.nextIdTokenClaims = undefined;
        const idToken = jwt.sign(
          { iss: provider.issuer, aud: issued.clientId, sub: user.sub, email: user.email, email_verified: user.email_verified ?? true, ...(user.groups ? { groups: user.groups } : {}), nonce: issued.nonce, iat: now, exp: now + 300, ...overrides },
          privateKey,
          { algorithm: 'RS256', keyid: kid },
        );
        return json(200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 300, id_token: idToken });
      }
      json(404, { error: 'not_found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return provider;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
