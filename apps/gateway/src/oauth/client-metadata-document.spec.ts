import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundNetwork, type GuardedFetchHandle } from '@switchboard/plugin-net';
import {
  CLIENT_METADATA_DOCUMENT_MAX_BYTES,
  ClientMetadataDocuments,
  FAILED_DOCUMENT_CACHE_MS,
  cacheSecondsOf,
  clientIdUrlProblem,
  isClientMetadataDocumentId,
  validateClientMetadataDocument,
} from './client-metadata-document';

const ID = 'https://client.example/oauth/metadata.json';
const doc = (overrides: Record<string, unknown> = {}) => ({
  client_id: ID,
  client_name: 'Example Client',
  client_uri: 'https://client.example',
  redirect_uris: ['https://client.example/callback', 'http://127.0.0.1:3000/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  ...overrides,
});

/** A fetch that must never be called: the decision was made before any connection. */
function noNetwork(): GuardedFetchHandle & { calls: number } {
  const handle = {
    calls: 0,
    fetch: async () => {
      handle.calls += 1;
      throw new Error('no network in this test');
    },
    close: async () => undefined,
  };
  return handle;
}

describe('client metadata document ids', () => {
  it('takes https URLs as metadata document ids, and nothing else', () => {
    expect(isClientMetadataDocumentId(ID)).toBe(true);
    expect(isClientMetadataDocumentId('sbc_abc')).toBe(false);
    expect(isClientMetadataDocumentId('http://client.example/metadata.json')).toBe(false);
  });

  it.each([
    ['http://client.example/m.json', /https/],
    ['https://client.example', /path/],
    ['https://client.example/', /path/],
    ['https://client.example/a/../m.json', /"\."/],
    ['https://client.example/a/%2E%2e/m.json', /"\."/],
    ['https://client.example/./m.json', /"\."/],
    ['https://client.example/m.json#x', /fragment/],
    ['https://user:pw@client.example/m.json', /user name/],
    ['https://client.example/m .json', /whitespace/],
  ])('refuses %s as a client_id URL (draft §3)', (clientId, reason) => {
    expect(clientIdUrlProblem(clientId)).toMatch(reason);
  });

  it('accepts a URL with a port and a query', () => {
    expect(clientIdUrlProblem('https://client.example:8443/m.json?v=2')).toBeUndefined();
  });
});

describe('validating a client metadata document', () => {
  it('accepts a public client and returns what the consent page and redirect check need', () => {
    expect(validateClientMetadataDocument(ID, doc())).toEqual({
      ok: true,
      client: { id: ID, name: 'Example Client', clientUri: 'https://client.example', redirectUris: doc().redirect_uris, metadata: doc() },
    });
  });

  it('refuses a document whose client_id is not exactly its URL (no normalisation)', () => {
    for (const other of [`${ID}/`, ID.toUpperCase(), 'https://client.example/oauth/metadata.json?x', 'https://evil.example/oauth/metadata.json']) {
      expect(validateClientMetadataDocument(ID, doc({ client_id: other }))).toEqual({ ok: false, reason: expect.stringMatching(/client_id/) });
    }
    expect(validateClientMetadataDocument(ID, doc({ client_id: undefined })).ok).toBe(false);
  });

  it('refuses missing, empty or unsafe redirect URIs', () => {
    expect(validateClientMetadataDocument(ID, doc({ redirect_uris: undefined }))).toMatchObject({ ok: false, reason: expect.stringMatching(/redirect_uris/) });
    expect(validateClientMetadataDocument(ID, doc({ redirect_uris: [] })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ redirect_uris: ['https://ok.example/cb', 'http://evil.example/cb'] }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/redirect_uris\[1\].*loopback/),
    });
    expect(validateClientMetadataDocument(ID, doc({ redirect_uris: ['javascript:alert(1)'] })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ redirect_uris: [42] })).ok).toBe(false);
  });

  it('refuses shared-secret auth methods and a client_secret, and says private_key_jwt is not supported', () => {
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt']) {
      expect(validateClientMetadataDocument(ID, doc({ token_endpoint_auth_method: method }))).toMatchObject({ ok: false, reason: expect.stringMatching(/must be none/) });
    }
    expect(validateClientMetadataDocument(ID, doc({ token_endpoint_auth_method: 'private_key_jwt' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/private_key_jwt is not supported/) });
    expect(validateClientMetadataDocument(ID, doc({ client_secret: 'shh' })).ok).toBe(false);
  });

  it('takes a missing auth method as none and a missing name as the host, and refuses odd names, URIs and grant types', () => {
    const minimal = validateClientMetadataDocument(ID, { client_id: ID, redirect_uris: ['https://client.example/cb'] });
    expect(minimal).toMatchObject({ ok: true, client: { name: 'client.example', clientUri: null } });
    expect(validateClientMetadataDocument(ID, doc({ client_name: '' })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ client_name: 'x'.repeat(201) })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ client_name: 'Bank\u0000' })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ client_uri: 'javascript:alert(1)' })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ grant_types: ['client_credentials'] })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, doc({ response_types: ['token'] })).ok).toBe(false);
    expect(validateClientMetadataDocument(ID, ['not', 'an', 'object']).ok).toBe(false);
  });
});

describe('cache lifetimes', () => {
  it('honours max-age within bounds, no-store and no-cache, and has a default', () => {
    expect(cacheSecondsOf('public, max-age=600')).toBe(600);
    expect(cacheSecondsOf('max-age=0')).toBe(60);
    expect(cacheSecondsOf('max-age=99999999')).toBe(86_400);
    expect(cacheSecondsOf('no-store')).toBe(0);
    expect(cacheSecondsOf('no-cache, max-age=600')).toBe(0);
    expect(cacheSecondsOf(null)).toBe(300);
  });
});

describe('the SSRF guard and the tenant host allowlist', () => {
  // The platform's default policy: nothing private is allowed. Each refusal happens before any
  // connection (an IP literal is judged on the URL, a name on its resolved addresses).
  const documents = ClientMetadataDocuments.over(outboundNetwork());
  afterAll(() => documents.close());

  it.each([
    'https://127.0.0.1/client.json',
    'https://169.254.169.254/latest/meta-data/client.json',
    'https://10.0.0.7/client.json',
    'https://[::1]/client.json',
    'https://[::ffff:192.168.1.1]/client.json',
    'https://[fd00:ec2::254]/client.json',
    'https://localhost/client.json',
  ])('refuses a document at %s', async (clientId) => {
    expect(await documents.resolve(clientId)).toEqual({ ok: false, reason: 'the document URL resolves to an address this server may not reach' });
  });

  it('refuses a host outside the tenant allowlist without fetching anything', async () => {
    const http = noNetwork();
    const guarded = new ClientMetadataDocuments(http);
    expect(await guarded.resolve(ID, { allowedHosts: ['claude.ai', 'chatgpt.com'] })).toEqual({
      ok: false,
      reason: 'client metadata documents from client.example are not allowed for this tenant',
    });
    expect(await guarded.resolve('http://client.example/m.json')).toMatchObject({ ok: false, reason: 'client_id must use https' });
    expect(http.calls).toBe(0);
  });
});

describe('fetching documents from a server (on loopback, allowed through the policy for this test only)', () => {
  let server: Server;
  let base: string;
  const hits = new Map<string, number>();
  let now = 1_000_000;
  const clock = { now: () => now };
  let failNext = true;

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, id: string) => void> = {
    '/ok.json': (_req, res, id) => json(res, doc({ client_id: id }), { 'cache-control': 'max-age=120' }),
    '/no-store.json': (_req, res, id) => json(res, doc({ client_id: id }), { 'cache-control': 'no-store' }),
    '/vendor.json': (_req, res, id) => json(res, doc({ client_id: id }), { 'content-type': 'application/oauth-client+json; charset=utf-8' }),
    '/mismatch.json': (_req, res) => json(res, doc({ client_id: 'https://elsewhere.example/client.json' })),
    '/html.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    },
    '/redirect.json': (_req, res) => {
      res.writeHead(302, { location: '/ok.json' }).end();
    },
    '/big.json': (_req, res, id) => {
      // Streamed without a Content-Length: the limit must hold while reading.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify(doc({ client_id: id })).slice(0, -1));
      res.end(`, "padding": "${'x'.repeat(2 * CLIENT_METADATA_DOCUMENT_MAX_BYTES)}"}`);
    },
    '/declared-big.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1_000_000) });
      res.write('{');
    },
    '/slow.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":'); // and never the rest
    },
    '/hang.json': () => undefined,
    '/flaky.json': (_req, res, id) => {
      if (failNext) {
        failNext = false;
        res.writeHead(500).end();
      } else json(res, doc({ client_id: id }));
    },
  };

  function json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const route = routes[path];
      if (!route) return void res.writeHead(404).end();
      route(req, res, `https://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /**
   * The platform's guarded fetch with 127.0.0.1 allowed, redirects refused, as over() builds it.
   * The test server speaks plain http (no certificate to trust), so the https client_id is sent
   * to it as http; everything else (guard, limits, headers) is the production path.
   */
  function documentsOnLoopback(options: { timeoutMs?: number } = {}): ClientMetadataDocuments {
    const guarded = outboundNetwork({ allow: ['127.0.0.1/32'] }).createFetch({ maxRedirects: 0 });
    const overHttp: GuardedFetchHandle = { fetch: (url, init) => guarded.fetch(String(url).replace(/^https:/, 'http:'), init), close: guarded.close };
    return new ClientMetadataDocuments(overHttp, { clock, ...options });
  }

  let documents: ClientMetadataDocuments;
  beforeEach(() => {
    documents = documentsOnLoopback({ timeoutMs: 500 });
  });
  afterEach(() => documents.close());

  it('fetches and validates a document, then serves it from the cache until max-age passes', async () => {
    const id = `${base}/ok.json`;
    const first = await documents.resolve(id);
    expect(first).toMatchObject({ ok: true, client: { id, name: 'Example Client' } });
    now += 119_000;
    expect(await documents.resolve(id)).toEqual(first);
    expect(hits.get('/ok.json')).toBe(1);
    now += 2_000;
    await documents.resolve(id);
    expect(hits.get('/ok.json')).toBe(2);
  });

  it('shares one fetch between concurrent sign-ins, and applies the tenant allowlist to cached documents too', async () => {
    const id = `${base}/ok.json`;
    const before = hits.get('/ok.json') ?? 0;
    const [a, b] = await Promise.all([documents.resolve(id), documents.resolve(id)]);
    expect(a.ok && b.ok).toBe(true);
    expect(hits.get('/ok.json')).toBe(before + 1);
    expect(await documents.resolve(id, { allowedHosts: ['claude.ai'] })).toMatchObject({ ok: false, reason: expect.stringMatching(/not allowed for this tenant/) });
    expect((await documents.resolve(id, { allowedHosts: ['127.0.0.1'] })).ok).toBe(true);
  });

  it('does not cache a document served with no-store', async () => {
    const id = `${base}/no-store.json`;
    await documents.resolve(id);
    await documents.resolve(id);
    expect(hits.get('/no-store.json')).toBe(2);
  });

  it('accepts a more specific +json content type', async () => {
    expect((await documents.resolve(`${base}/vendor.json`)).ok).toBe(true);
  });

  it('refuses a document whose client_id names another URL', async () => {
    expect(await documents.resolve(`${base}/mismatch.json`)).toMatchObject({ ok: false, reason: expect.stringMatching(/client_id in the document/) });
  });

  it('refuses a document that is not served as JSON', async () => {
    expect(await documents.resolve(`${base}/html.json`)).toMatchObject({ ok: false, reason: expect.stringMatching(/text\/html/) });
  });

  it('does not follow a redirect', async () => {
    const before = hits.get('/ok.json') ?? 0;
    expect(await documents.resolve(`${base}/redirect.json`)).toMatchObject({ ok: false, reason: expect.stringMatching(/redirects are not followed/) });
    expect(hits.get('/ok.json') ?? 0).toBe(before);
  });

  it('refuses a document over the size limit, whether it says so up front or streams it', async () => {
    for (const path of ['/big.json', '/declared-big.json']) {
      expect(await documents.resolve(`${base}${path}`)).toMatchObject({ ok: false, reason: `the document is larger than ${CLIENT_METADATA_DOCUMENT_MAX_BYTES} bytes` });
    }
  });

  it('gives up on a server that answers too slowly, or not at all', async () => {
    for (const path of ['/slow.json', '/hang.json']) {
      const started = Date.now();
      expect(await documents.resolve(`${base}${path}`)).toMatchObject({ ok: false, reason: 'fetching the document took longer than 500 ms' });
      expect(Date.now() - started).toBeLessThan(3_000);
    }
  });

  it('remembers a failed fetch only briefly', async () => {
    const id = `${base}/flaky.json`;
    expect(await documents.resolve(id)).toMatchObject({ ok: false, reason: 'fetching the document answered HTTP 500' });
    expect((await documents.resolve(id)).ok).toBe(false);
    expect(hits.get('/flaky.json')).toBe(1);
    now += FAILED_DOCUMENT_CACHE_MS + 1;
    expect((await documents.resolve(id)).ok).toBe(true);
    expect(hits.get('/flaky.json')).toBe(2);
  });

  it('refuses loopback when the policy does not allow it, even for this server', async () => {
    const strict = ClientMetadataDocuments.over(outboundNetwork(), { clock });
    try {
      const before = hits.get('/ok.json') ?? 0;
      expect((await strict.resolve(`${base}/ok.json`)).ok).toBe(false);
      expect(hits.get('/ok.json') ?? 0).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
