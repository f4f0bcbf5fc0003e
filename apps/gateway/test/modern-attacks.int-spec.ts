import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { MAX_MIRRORED_HEADER_LENGTH } from '../src/protocol/modern-wire';
import { waitStarts } from './fixtures/testkit-plugin';
import { startHarness, type GatewayHarness } from './gateway-harness';

// The 2026-07-28 wire from the attacker's side: raw HTTP (node:http, and node:net where Node's
// client would refuse to send the bytes), so headers can be repeated, oversized or malformed.
// What modern-era.int-spec.ts already covers (version / Mcp-Method / Mcp-Name mismatches, bad
// padding) is not repeated here.

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'modern-attacks-test', version: '1.0.0' },
};
const PARAM_TOOL = 'test_mcp_param_header';
const PARAM_PATH = '/t/acme/p/conformance/mcp';
/** Over Node's default 16 KiB for all request headers together. */
const OVERSIZED_HEADER = 20_000;

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { id?: unknown; result?: Record<string, any>; error?: { code: number; message: string; data?: any } } | undefined;
  text: string;
}

function base64(value: string | Buffer): string {
  return `=?base64?${Buffer.from(value).toString('base64')}?=`;
}

describe('the 2026-07-28 wire under attack', () => {
  let h: GatewayHarness;
  let port: number;
  let token: string;
  let otherToken: string;
  let tightToken: string;
  let callsToken: string;

  /** One POST through node:http: header values may be arrays (sent as repeated lines). */
  function post(path: string, headers: OutgoingHttpHeaders, body: string): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: RawAnswer['body'];
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A modern request with the standard headers; `headers` adds to or (with undefined) removes them. */
  function modern(path: string, method: string, params: Record<string, unknown>, headers: OutgoingHttpHeaders = {}, options: { id?: number; token?: string } = {}) {
    const named = method === 'tools/call' || method === 'prompts/get' ? params['name'] : method === 'resources/read' ? params['uri'] : undefined;
    const all: OutgoingHttpHeaders = {
      authorization: `Bearer ${options.token ?? token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(typeof named === 'string' ? { 'mcp-name': named } : {}),
      ...headers,
    };
    const defined = Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
    const body = JSON.stringify({ jsonrpc: '2.0', id: options.id ?? 1, method, params: { ...params, _meta: META } });
    return post(path, defined, body);
  }

  /** A tools/call of the conformance tool whose `region` is annotated `x-mcp-header: Region`. */
  function paramCall(args: Record<string, unknown>, headers: OutgoingHttpHeaders = {}, id = 1) {
    return modern(PARAM_PATH, 'tools/call', { name: PARAM_TOOL, arguments: args }, headers, { id });
  }

  /** Bytes straight onto a socket: what the server answers before it closes (or after `waitMs`). */
  function rawExchange(bytes: Buffer, waitMs = 5_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => socket.destroy(), waitMs);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('latin1'));
      });
      socket.write(bytes);
    });
  }

  /** A modern tools/call of testkit__wait written by hand, with `extraHeaderLines` (raw) in its head. */
  function rawWaitCall(extraHeaderLines: string): Buffer {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'testkit__wait', arguments: { ms: 1 }, _meta: META } });
    const head = [
      'POST /t/acme/mcp HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      'Accept: application/json, text/event-stream',
      `MCP-Protocol-Version: ${MODERN}`,
      'Mcp-Method: tools/call',
      'Connection: close',
      `Content-Length: ${Buffer.byteLength(body)}`,
    ].join('\r\n');
    return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), Buffer.from(extraHeaderLines, 'latin1'), Buffer.from(`\r\n${body}`, 'latin1')]);
  }

  /** The node is still up and serving modern requests. */
  async function stillServes(): Promise<void> {
    const answer = await modern('/t/acme/mcp', 'tools/call', { name: 'echo__echo', arguments: { text: 'still here' } });
    expect([answer.status, answer.body?.result?.['content']]).toEqual([200, [{ type: 'text', text: 'still here' }]]);
  }

  beforeAll(async () => {
    h = await startHarness('gw_modern_attacks');
    port = Number(new URL(h.gateway.url).port);
    const acme = await h.createTenant('acme');
    for (const plugin of ['testkit', 'echo', 'conformance']) await h.install(acme.id, plugin);
    token = (await h.issueKey(acme.id)).token;
    const globex = await h.createTenant('globex');
    for (const plugin of ['echo', 'conformance']) await h.install(globex.id, plugin);
    otherToken = (await h.issueKey(globex.id)).token;
    const tight = await h.prisma.tenant.create({ data: { slug: 'tight', name: 'tight', limits: { requestsPerMinute: 2 } }, select: { id: true } });
    await h.install(tight.id, 'echo');
    tightToken = (await h.issueKey(tight.id)).token;
    const calls = await h.prisma.tenant.create({ data: { slug: 'calls', name: 'calls', limits: { toolCallsPerMinute: 1 } }, select: { id: true } });
    await h.install(calls.id, 'echo');
    callsToken = (await h.issueKey(calls.id)).token;
  });

  afterAll(async () => {
    await h.close();
  });

  describe('another tenant’s credential', () => {
    it('gets the same 404 for a modern tool call with Mcp-Param headers as for a 2025 request, and runs nothing', async () => {
      const started = waitStarts.count;
      const modernAnswer = await modern('/t/acme/p/conformance/mcp', 'tools/call', { name: PARAM_TOOL, arguments: { region: 'r' } }, { 'mcp-param-region': 'r' }, { token: otherToken });
      const legacy = await post(
        '/t/acme/p/conformance/mcp',
        { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: PARAM_TOOL, arguments: { region: 'r' } } }),
      );
      expect(modernAnswer.status).toBe(404);
      expect([modernAnswer.status, modernAnswer.text]).toEqual([legacy.status, legacy.text]);
      expect(modernAnswer.text).not.toMatch(/acme|globex|region|test_mcp/);
      expect(waitStarts.count).toBe(started);
    });

    it('cannot tell an existing tenant from an unknown one on the modern wire', async () => {
      const existing = await modern('/t/acme/mcp', 'tools/list', {}, {}, { token: otherToken });
      const unknown = await modern('/t/no-such-tenant/mcp', 'tools/list', {}, {}, { token: otherToken });
      expect(existing.status).toBe(404);
      expect([existing.status, existing.text]).toEqual([unknown.status, unknown.text]);
    });

    it('does not learn a tenant’s tools from a header mismatch: the credential is refused first', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/call', { name: 'testkit__whoami', arguments: {} }, { 'mcp-name': 'wrong' }, { token: otherToken });
      expect(answer.status).toBe(404);
      expect(answer.body?.error?.code).not.toBe(-32020);
    });
  });

  describe('repeated mirrored headers', () => {
    it('refuses an Mcp-Name sent twice with 400 -32020, even when the joined values spell the body’s uri', async () => {
      // Node joins repeats with ", ": a proxy routing on the first line would see another resource.
      const answer = await modern('/t/acme/p/conformance/mcp', 'resources/read', { uri: 'test://static-text, x' }, { 'mcp-name': ['test://static-text', 'x'] }, { id: 31 });
      expect([answer.status, answer.body?.id, answer.body?.error?.code]).toEqual([400, 31, -32020]);
    });

    it('refuses a repeated MCP-Protocol-Version or Mcp-Method with 400 -32020', async () => {
      const version = await modern('/t/acme/mcp', 'tools/list', {}, { 'mcp-protocol-version': [MODERN, MODERN] }, { id: 32 });
      expect([version.status, version.body?.id, version.body?.error?.code]).toEqual([400, 32, -32020]);
      const method = await modern('/t/acme/mcp', 'tools/list', {}, { 'mcp-method': ['tools/list', 'tools/list'] }, { id: 33 });
      expect([method.status, method.body?.error?.code]).toEqual([400, -32020]);
    });

    it('refuses a repeated Mcp-Param header with 400 -32020', async () => {
      const answer = await paramCall({ region: 'a, b' }, { 'mcp-param-region': ['a', 'b'] }, 34);
      expect([answer.status, answer.body?.id, answer.body?.error?.code]).toEqual([400, 34, -32020]);
    });
  });

  describe('Mcp-Param-* against the tool’s x-mcp-header (SEP-2243)', () => {
    it('lists the annotation the client mirrors from', async () => {
      const list = await modern(PARAM_PATH, 'tools/list', {});
      const tool = list.body?.result?.['tools'].find((t: { name: string }) => t.name === PARAM_TOOL);
      expect(tool.inputSchema.properties.region).toMatchObject({ type: 'string', 'x-mcp-header': 'Region' });
    });

    it('serves a call whose header mirrors the body, literally or as a Base64 sentinel, on both endpoints', async () => {
      const plain = await paramCall({ region: 'us-west1' }, { 'mcp-param-region': 'us-west1' });
      expect([plain.status, plain.body?.result?.['content']]).toEqual([200, [{ type: 'text', text: 'region=us-west1' }]]);
      const unicode = await paramCall({ region: 'Zürich, 世界' }, { 'mcp-param-region': base64('Zürich, 世界') });
      expect(unicode.status).toBe(200);
      const tenantWide = await modern('/t/acme/mcp', 'tools/call', { name: `conformance__${PARAM_TOOL}`, arguments: { region: 'eu' } }, { 'MCP-PARAM-REGION': 'eu' });
      expect(tenantWide.status).toBe(200);
    });

    it('refuses a value in the body without its Mcp-Param header with 400 -32020 and does not run the tool', async () => {
      const answer = await paramCall({ region: 'us-west1' }, {}, 41);
      expect([answer.status, answer.body?.id, answer.body?.error?.code]).toEqual([400, 41, -32020]);
      expect(answer.body?.error?.message).toMatch(/Mcp-Param-Region/);
    });

    it('refuses a header that routes on another value than the body’s, or on a value the body does not have', async () => {
      const other = await paramCall({ region: 'us-west1' }, { 'mcp-param-region': 'eu-west1' }, 42);
      expect([other.status, other.body?.error?.code]).toEqual([400, -32020]);
      const absent = await paramCall({ query: 'q' }, { 'mcp-param-region': 'eu-west1' }, 43);
      expect([absent.status, absent.body?.error?.code]).toEqual([400, -32020]);
    });

    it('does not expect the header when the body has no value', async () => {
      // region is required by the tool: the call reaches it and is refused as invalid params (-32602), not -32020.
      const answer = await paramCall({ query: 'q' }, {}, 44);
      expect(answer.body?.error?.code).toBe(-32602);
    });

    it.each([
      ['bad padding', '=?base64?SGVsbG8?='],
      ['characters outside the alphabet', '=?base64?SGVs!!!bG8=?='],
      ['bytes that are not UTF-8', base64(Buffer.from([0xc3, 0x28]))],
    ])('refuses a Base64 sentinel with %s with 400 -32020', async (_why, value) => {
      const answer = await paramCall({ region: 'Hello' }, { 'mcp-param-region': value }, 45);
      expect([answer.status, answer.body?.id, answer.body?.error?.code]).toEqual([400, 45, -32020]);
    });

    it('refuses an Mcp-Name sentinel that decodes to bytes that are not UTF-8 with 400 -32020', async () => {
      const answer = await modern('/t/acme/mcp', 'tools/call', { name: 'echo__echo', arguments: { text: 'x' } }, { 'mcp-name': base64(Buffer.from([0xff, 0xfe, 0xfd])) }, { id: 46 });
      expect([answer.status, answer.body?.id, answer.body?.error?.code]).toEqual([400, 46, -32020]);
    });
  });

  describe('header injection and size', () => {
    it.each([
      ['a bare CR', 'Mcp-Name: testkit__wait\rX-Injected: 1\r\n'],
      ['a bare LF', 'Mcp-Name: testkit__wait\nX-Injected: 1\r\n'],
      ['a NUL byte', 'Mcp-Name: testkit__wait\u0000\r\n'],
      ['an obsolete line folding', 'Mcp-Name: testkit__wait\r\n X-Injected: 1\r\n'],
    ])('answers a header with %s in its value with 400, runs nothing, and keeps serving', async (_why, line) => {
      const started = waitStarts.count;
      const answer = await rawExchange(rawWaitCall(line));
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(waitStarts.count).toBe(started);
      await stillServes();
    });

    it('takes the same raw request without the injection (the harness is sound)', async () => {
      const started = waitStarts.count;
      const answer = await rawExchange(rawWaitCall('Mcp-Name: testkit__wait\r\n'));
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(waitStarts.count).toBe(started + 1);
    });

    it('refuses raw non-ASCII bytes in Mcp-Name or Mcp-Param (which Node lets through as latin1) with 400 -32020', async () => {
      const started = waitStarts.count;
      const name = await rawExchange(rawWaitCall('Mcp-Name: testkit__w\u00e4it\r\n'));
      expect(name).toMatch(/^HTTP\/1\.1 400 /);
      expect(name).toContain('-32020');
      expect(waitStarts.count).toBe(started);
      const param = await paramCall({ region: 'Zürich' }, { 'mcp-param-region': Buffer.from('Zürich', 'utf8').toString('latin1') }, 51);
      expect([param.status, param.body?.error?.code]).toEqual([400, -32020]);
    });

    it('answers headers over Node’s 16 KiB with 431 and keeps serving', async () => {
      const answer = await rawExchange(rawWaitCall(`Mcp-Name: ${'n'.repeat(OVERSIZED_HEADER)}\r\n`));
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      await stillServes();
    });

    it(`refuses an Mcp-Name or Mcp-Param value over ${MAX_MIRRORED_HEADER_LENGTH} characters with 400 -32020`, async () => {
      const long = 'n'.repeat(MAX_MIRRORED_HEADER_LENGTH + 1);
      const name = await modern('/t/acme/mcp', 'tools/call', { name: long, arguments: {} }, {}, { id: 52 });
      expect([name.status, name.body?.id, name.body?.error?.code]).toEqual([400, 52, -32020]);
      const param = await paramCall({ region: long }, { 'mcp-param-region': long }, 53);
      expect([param.status, param.body?.id, param.body?.error?.code]).toEqual([400, 53, -32020]);
    });
  });

  describe('limit refusals carry codes 2026-07-28 allows', () => {
    it('answers a modern request over the requests-per-minute limit with 429, Retry-After and -31429; a 2025 one keeps -32000', async () => {
      const list = () => modern('/t/tight/mcp', 'tools/list', {}, {}, { token: tightToken });
      expect((await list()).status).toBe(200);
      expect((await list()).status).toBe(200);
      const refused = await list();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.body?.error?.code).toBe(-31429);
      const legacy = await post(
        '/t/tight/mcp',
        { authorization: `Bearer ${tightToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'l', version: '1' } } }),
      );
      expect([legacy.status, legacy.body?.error?.code]).toEqual([429, -32000]);
    });

    it('answers a modern tool call over the tool-calls limit with -31429 in place of the 2025 -32029', async () => {
      const call = (id: number) => modern('/t/calls/mcp', 'tools/call', { name: 'echo__echo', arguments: { text: 'x' } }, {}, { id, token: callsToken });
      expect((await call(1)).body?.result).toBeDefined();
      const refused = await call(2);
      expect(refused.body).toMatchObject({ id: 2, error: { code: -31429, data: { limit: 'toolCallsPerMinute' } } });
    });
  });
});
