import { connect, type Socket } from 'node:net';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

/** Small timeouts, so that the test sees them fire; the defaults are seconds (docs/configuration.md). */
const HEADERS_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 600;

interface RawExchange {
  socket: Socket;
  /** Everything the server sent until it closed the connection. */
  closed: Promise<string>;
  /** Resolves with the first bytes the server sends. */
  firstBytes: Promise<string>;
}

function open(t: TestApi, head: string): RawExchange {
  const url = new URL(t.url);
  const socket = connect(Number(url.port), url.hostname);
  let received = '';
  let first: (text: string) => void = () => undefined;
  const firstBytes = new Promise<string>((resolve) => (first = resolve));
  socket.on('data', (chunk) => {
    received += chunk.toString();
    first(received);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  socket.write(head);
  return { socket, closed, firstBytes };
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

describe('slow and unauthenticated clients', () => {
  let t: TestApi;
  let tenantId: string;
  beforeAll(async () => {
    t = await startTestApi('slow_clients', { API_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), API_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    tenantId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses an unauthenticated POST with 401 before reading its body, and closes the connection', async () => {
    // A body within MAX_BODY_BYTES of which only a few bytes ever arrive: Nest's guard would wait for all of it.
    const exchange = open(t, `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500000\r\n\r\n{"slug":`);
    const response = await exchange.closed;
    expect(statusOf(response)).toBe(401);
    expect(response).toContain('"code":"UNAUTHENTICATED"');
    expect(response.toLowerCase()).toContain('connection: close');
  });

  it('refuses a bad token the same way, before the body, for API key and admin routes alike', async () => {
    for (const [path, token] of [
      ['/v1/tokens', 'sbk_notarealkey_0000000000000000000000'],
      ['/v1/tenants', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
      [`/v1/tenants/${tenantId}/api-keys`, `${t.platformToken} trailing`],
    ]) {
      const exchange = open(t, `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      expect(statusOf(await exchange.closed)).toBe(401);
    }
  });

  it('still reads the body of an authenticated request', async () => {
    const res = await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'globex', name: 'Globex' } });
    expect(res.status).toBe(201);
  });

  it('cuts an authenticated request whose body trickles in for longer than API_REQUEST_TIMEOUT_MS', async () => {
    const exchange = open(
      t,
      `POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.platformToken}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"slug":`,
    );
    // Trickle a byte whenever the server has not answered yet; it must end the exchange on its own.
    const trickle = setInterval(() => exchange.socket.write(' '), 100);
    try {
      const response = await exchange.closed;
      expect(statusOf(response)).toBe(408);
    } finally {
      clearInterval(trickle);
    }
    expect((await t.request('GET', '/v1/tenants/globex', { token: t.platformToken })).status).toBe(200);
  });

  it('cuts a client that never finishes its headers (API_HEADERS_TIMEOUT_MS)', async () => {
    const exchange = open(t, `GET /v1/tenants HTTP/1.1\r\nHost: x\r\nX-Slow: `);
    expect(statusOf(await exchange.closed)).toBe(408);
  });
});
