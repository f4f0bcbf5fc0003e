import http from 'node:http';
import net from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { latch } from './fixtures/latch-plugin';
import { connectClient, disconnect, eventually, LATCH_PLUGIN, startHarness, TESTKIT_PLUGIN, type GatewayHarness } from './gateway-harness';

/** Small bounds, so each attack is cheap to mount and its refusal quick to see. */
const MAX_IN_PROGRESS_PER_TENANT = 4;
const MAX_BUFFERED_BYTES = 64 * 1024;
const TIMEOUTS = { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' };

const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping' });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

interface RawSse {
  /** The `…/messages?sessionId=` path the session announced. */
  endpoint: string;
  response: http.IncomingMessage;
  request: http.ClientRequest;
}

/** A legacy SSE stream read by hand: after its endpoint event, the test decides whether to read on. */
function openRawSse(baseUrl: string, slug: string, token: string): Promise<RawSse> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(`/t/${slug}/sse`, baseUrl), { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (response) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const match = /event: endpoint\ndata: (\S+)\n/.exec(text);
        if (!match) return;
        response.off('data', onData);
        response.pause();
        resolve({ endpoint: match[1]!, response, request });
      };
      response.on('data', onData);
    });
    request.on('error', reject);
  });
}

/** Sends raw bytes on a fresh socket; resolves with everything the server sent until it closed. */
function rawExchange(port: number, send: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => send(socket));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('close', () => resolve(received));
    socket.on('error', (error) => (received ? resolve(received) : reject(error)));
  });
}

describe('one tenant cannot hurt another, or do more than its credential allows (attacker side)', () => {
  let h: GatewayHarness;
  let attacker: { id: string; token: string; keyId: string };
  let victim: { id: string; token: string };
  const clients: Client[] = [];

  const tenant = async (slug: string, limits: Record<string, number> = {}) => {
    const row = await h.prisma.tenant.create({ data: { slug, name: slug, limits }, select: { id: true } });
    await h.install(row.id, 'latch');
    await h.install(row.id, 'testkit');
    const key = await h.issueKey(row.id);
    return { id: row.id, token: key.token, keyId: key.id };
  };
  const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(new URL(path, h.gateway.url), { method: 'POST', headers: { authorization: `Bearer ${token}`, ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
  const errorOf = async (response: Response) => ((await response.json()) as { error: { code: number; message: string } }).error;

  beforeAll(async () => {
    h = await startHarness('gw_hostile', {
      PLUGINS: `${TESTKIT_PLUGIN},${LATCH_PLUGIN}`,
      MAX_IN_PROGRESS_PER_TENANT: String(MAX_IN_PROGRESS_PER_TENANT),
      SESSION_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
      LIMIT_REQUESTS_PER_MINUTE: '100000',
      ...TIMEOUTS,
    });
    attacker = await tenant('attacker');
    victim = await tenant('victim');
  });
  afterEach(async () => {
    latch.open();
    await Promise.all(clients.splice(0).map((c) => disconnect(c)));
  });
  afterAll(async () => {
    await h.close();
  });

  describe('batches and message shape', () => {
    it('refuses a legacy SSE batch of 90,000 pings before handling any of them', async () => {
      const sse = await openRawSse(h.gateway.url, 'attacker', attacker.token);
      try {
        const response = await post(sse.endpoint, attacker.token, Array.from({ length: 90_000 }, (_, i) => ping(i)));
        expect(response.status).toBe(400);
        expect(await errorOf(response)).toMatchObject({ code: -32600, message: expect.stringContaining('at most 100') });
        // Nothing reached the session: one ping afterwards is answered as the first message.
        expect((await post(sse.endpoint, attacker.token, ping(1))).status).toBe(202);
      } finally {
        sse.request.destroy();
      }
    });

    it('counts every message of a batch against requests per minute', async () => {
      const small = await tenant('batch-counted', { requestsPerMinute: 5 });
      const sse = await openRawSse(h.gateway.url, 'batch-counted', small.token);
      try {
        // The stream open counted one; a batch of 3 pings counts three.
        expect((await post(sse.endpoint, small.token, [ping(1), ping(2), ping(3)])).status).toBe(202);
        // Two requests so far, but 4 messages: a batch of 2 more does not fit.
        const refused = await post(sse.endpoint, small.token, [ping(100), ping(101)]);
        expect(refused.status).toBe(429);
        await refused.body?.cancel();
        // ... and the refused batch used up nothing: one message still fits.
        expect((await post(sse.endpoint, small.token, ping(102))).status).toBe(202);
      } finally {
        sse.request.destroy();
      }
    });

    it('refuses a tool argument nested 20,000 deep without running the tool', async () => {
      const client = await connectClient(h.gateway.url, '/t/attacker', attacker.token, 'streamable-http');
      clients.push(client);
      const sessionId = (client.transport as { sessionId?: string }).sessionId!;
      // Written by hand: JSON.stringify itself overflows the stack on this value.
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      const response = await fetch(new URL('/t/attacker/mcp', h.gateway.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${attacker.token}`, ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
        body: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"latch__hold","arguments":{"deep":${deep}}}}`,
      });
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatchObject({ code: -32600, message: expect.stringContaining('nest') });
      expect(latch.holding).toBe(0);
    });
  });

  describe('sessions bound to the full grant', () => {
    it('does not let a token narrowed to one plugin use the same user’s broader session', async () => {
      const broad = h.tokens.mint({ tenantId: attacker.id, keyId: attacker.keyId, subject: 'mallory' }).token;
      const narrow = h.tokens.mint({ tenantId: attacker.id, keyId: attacker.keyId, subject: 'mallory', plugins: ['latch'] }).token;
      for (const transport of ['streamable-http', 'sse'] as const) {
        const client = await connectClient(h.gateway.url, '/t/attacker', broad, transport);
        clients.push(client);
        const call = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'testkit__whoami', arguments: {} } };
        const refused =
          transport === 'sse'
            ? await post(`/t/attacker/messages?sessionId=${(client.transport as { _endpoint?: URL })._endpoint!.searchParams.get('sessionId')}`, narrow, call)
            : await post('/t/attacker/mcp', narrow, call, { 'mcp-session-id': (client.transport as { sessionId?: string }).sessionId!, 'mcp-protocol-version': '2025-06-18' });
        expect(refused.status).toBe(404);
        await refused.body?.cancel();
        // The broad credential still uses its own session.
        await expect(client.callTool({ name: 'testkit__whoami', arguments: {} })).resolves.toBeDefined();
      }
    });
  });

  describe('requests in progress', () => {
    it('refuses a second request with an id already in progress on the session, at once', async () => {
      latch.close();
      const client = await connectClient(h.gateway.url, '/t/attacker', attacker.token, 'streamable-http');
      clients.push(client);
      const headers = { 'mcp-session-id': (client.transport as { sessionId?: string }).sessionId!, 'mcp-protocol-version': '2025-06-18' };
      const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'latch__hold', arguments: {} } };
      const first = post('/t/attacker/mcp', attacker.token, call, headers);
      await latch.held(1);
      const second = await post('/t/attacker/mcp', attacker.token, call, headers);
      expect(second.status).toBe(400);
      expect(await errorOf(second)).toMatchObject({ code: -32600, message: expect.stringContaining('already in progress') });
      latch.open();
      const answered = await first;
      expect(answered.status).toBe(200);
      expect(await answered.text()).toContain('released');
    });

    it('refuses a tenant’s requests past its share of the node while another tenant’s calls are all answered', async () => {
      latch.close();
      const flood: Promise<unknown>[] = [];
      for (let i = 0; i < MAX_IN_PROGRESS_PER_TENANT; i++) {
        const client = await connectClient(h.gateway.url, '/t/attacker', attacker.token, 'streamable-http');
        clients.push(client);
        flood.push(client.callTool({ name: 'latch__hold', arguments: {} }).catch(() => undefined));
      }
      await latch.held(MAX_IN_PROGRESS_PER_TENANT);
      const excess = await connectClient(h.gateway.url, '/t/attacker', attacker.token, 'streamable-http');
      clients.push(excess);
      const refused = await excess.callTool({ name: 'latch__ping', arguments: {} }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(String((refused as Error | undefined)?.message)).toMatch(/429|Too Many Requests/);

      const other = await connectClient(h.gateway.url, '/t/victim', victim.token, 'streamable-http');
      clients.push(other);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => other.callTool({ name: 'latch__ping', arguments: { text: String(i) } })));
      expect(answers).toHaveLength(10);
      latch.open();
      await Promise.all(flood);
    });
  });

  describe('backpressure', () => {
    it('closes a legacy SSE session whose client stops reading, and frees its slot', async () => {
      const reader = await tenant('slow-reader');
      const sse = await openRawSse(h.gateway.url, 'slow-reader', reader.token);
      const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'testkit__blob', arguments: { bytes: 256 * 1024 } } });
      // The stream is paused: answers pile up in the kernel's buffers, then in the gateway's.
      let status = 202;
      for (let round = 0; round < 200 && status === 202; round++) {
        const response = await post(sse.endpoint, reader.token, call(round));
        status = response.status;
        await response.body?.cancel();
      }
      expect(status).toBe(404);
      await eventually(() => h.gateway.activeSessions({ tenant: 'slow-reader' }) === 0);
      const metrics = await (await fetch(h.gateway.metricsUrl!)).text();
      expect(metrics).toMatch(/switchboard_gateway_sessions_closed_total\{reason="slow_reader"[^}]*\} [1-9]/);
      sse.request.destroy();
    });
  });

  describe('ambiguous credentials', () => {
    it('refuses a request with two Authorization headers, even when both are valid keys', async () => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
      const received = await rawExchange(h.gateway.port, (socket) => {
        socket.end(
          `POST /t/victim/mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${victim.token}\r\nAuthorization: Bearer ${victim.token}\r\n` +
            `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
      expect(received).toMatch(/^HTTP\/1\.1 401/);
      expect(received).toContain('invalid_token');
    });
  });

  describe('slow and idle clients', () => {
    it('answers an unauthenticated POST without reading its body', async () => {
      const received = await rawExchange(h.gateway.port, (socket) => {
        // Headers promise a megabyte that never comes.
        socket.write('POST /t/victim/mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{');
      });
      expect(received).toMatch(/^HTTP\/1\.1 401/);
    });

    it('cuts a body trickled slower than the request timeout', async () => {
      let timer: NodeJS.Timeout | undefined;
      const received = await rawExchange(h.gateway.port, (socket) => {
        socket.write(`POST /t/victim/mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${victim.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
        // One byte a second, for at most 20 s: the 1.5 s request timeout must end it first.
        let sent = 0;
        timer = setInterval(() => {
          if (socket.destroyed || ++sent > 20) return clearInterval(timer);
          socket.write(' ');
        }, 1000);
      });
      clearInterval(timer);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    });

    it('closes a connection that never sends its headers, and an idle keep-alive connection', async () => {
      const silent = await rawExchange(h.gateway.port, () => undefined);
      // Node answers 408 to a request whose headers did not arrive in time, or just closes.
      expect(silent === '' || /^HTTP\/1\.1 408/.test(silent)).toBe(true);
      const idle = await rawExchange(h.gateway.port, (socket) => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      // One answer, then the server closed the idle connection by itself.
      expect(idle).toMatch(/^HTTP\/1\.1 200/);
    });
  });
});
