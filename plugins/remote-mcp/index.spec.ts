import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundNetwork } from '@switchboard/plugin-net';
import { isSecretSchema } from '@switchboard/plugin-sdk';
import remote, { MAX_UPSTREAM_HEADERS, Upstreams } from './index';

const logger = { debug() {}, info() {}, warn() {}, error() {} };

// Federation against a real gateway is tested in apps/gateway/test/remote-mcp.int-spec.ts.
// Here: the published plugin, on a platform that opened no private range, refuses loopback and
// metadata URLs; and what its setup opens, its close releases.
describe('remote-mcp plugin', () => {
  let server: Server;
  let hits = 0;
  let lastHeaders: IncomingHttpHeaders = {};
  let upstreams: Upstreams;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      lastHeaders = req.headers;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstreams = await remote.setup!({ logger, outbound: outboundNetwork() });
  });
  afterAll(async () => {
    await remote.close!(upstreams);
    await new Promise((resolve) => server.close(resolve));
  });

  const listTools = (url: string, state = upstreams) =>
    remote.listTools!({ tenant: { id: 't1' }, config: { url, transport: 'streamable-http', auth: 'static' }, state, signal: AbortSignal.timeout(5_000), listChanged: () => undefined });

  it('refuses an upstream on 127.0.0.1 without connecting to it', async () => {
    await expect(listTools(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)).rejects.toThrow(/Refusing to connect.*loopback/);
    expect(hits).toBe(0);
  });

  it('refuses the cloud metadata address (decided before any connection)', async () => {
    await expect(listTools('http://169.254.169.254/latest/meta-data')).rejects.toThrow(/metadata/);
  });

  it('declares no tools of its own: every tool it shows is the upstream\'s', () => {
    expect(remote.tools).toEqual([]);
  });

  it('declares the bearer token secret, so it is stored encrypted and never returned', () => {
    expect(isSecretSchema(remote.config!.shape.bearerToken)).toBe(true);
  });

  it('keeps its upstream connections in the state setup made, and connects nowhere once closed', async () => {
    const own = await remote.setup!({ logger, outbound: outboundNetwork({ allow: ['127.0.0.1/32'] }) });
    expect(own).not.toBe(upstreams);
    await remote.close!(own);
    expect(own.size).toBe(0);
    await expect(listTools(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, own)).rejects.toThrow(/shutting down/);
    expect(hits).toBe(0);
  });

  describe('static headers', () => {
    const url = 'https://mcp.example.test/mcp';
    const parse = (extra: Record<string, unknown>) => remote.config!.safeParse({ url, ...extra });
    const problems = (extra: Record<string, unknown>) => {
      const result = parse(extra);
      return result.success ? [] : result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    };

    it('declares the headers secret, so they are stored encrypted and never returned', () => {
      expect(isSecretSchema(remote.config!.shape.headers)).toBe(true);
    });

    it('accepts ordinary headers, Authorization included when no bearer token is set', () => {
      expect(parse({ headers: { 'X-Api-Key': 'k-123', Authorization: 'Basic dTpw' } }).success).toBe(true);
    });

    it('refuses hop-by-hop, framing and MCP transport headers, naming the header', () => {
      for (const name of ['Connection', 'transfer-encoding', 'Host', 'Content-Length', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Upgrade', 'traceparent']) {
        expect(problems({ headers: { [name]: 'x' } })).toEqual([{ path: `headers.${name}`, message: expect.stringMatching(new RegExp(`^${name} cannot be configured`)) }]);
      }
    });

    it('refuses names that are not HTTP tokens and values that could inject a header', () => {
      expect(problems({ headers: { 'X Bad': 'x' } })).toEqual([{ path: 'headers.X Bad', message: expect.stringMatching(/token characters/) }]);
      expect(problems({ headers: { 'X-Evil': 'a\r\nX-Injected: 1' } })).toEqual([{ path: 'headers.X-Evil', message: expect.stringMatching(/control characters/) }]);
      expect(problems({ headers: { 'X-A': 'x', 'x-a': 'y' } })).toEqual([{ path: 'headers.x-a', message: expect.stringMatching(/given twice/) }]);
    });

    it('caps the number and the size of the headers', () => {
      const many = Object.fromEntries(Array.from({ length: MAX_UPSTREAM_HEADERS + 1 }, (_, i) => [`X-H${i}`, 'v']));
      expect(problems({ headers: many })).toEqual([{ path: 'headers', message: `at most ${MAX_UPSTREAM_HEADERS} headers` }]);
      expect(problems({ headers: { 'X-Big': 'v'.repeat(9_000) } })).toEqual([{ path: 'headers.X-Big', message: 'at most 8192 characters' }]);
      const large = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`X-L${i}`, 'v'.repeat(8_000)]));
      expect(problems({ headers: large })).toEqual([{ path: 'headers', message: expect.stringMatching(/together at most/) }]);
    });

    it('refuses an Authorization header beside a bearer token', () => {
      expect(problems({ bearerToken: 't', headers: { authorization: 'Basic dTpw' } })).toEqual([{ path: 'headers', message: expect.stringMatching(/bearerToken/) }]);
    });

    it('sends the headers and the bearer token on the upstream requests', async () => {
      const own = await remote.setup!({ logger, outbound: outboundNetwork({ allow: ['127.0.0.1/32'] }) });
      try {
        const config = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, transport: 'streamable-http' as const, auth: 'static' as const, bearerToken: 'tok', headers: { 'X-Api-Key': 'k-123' } };
        await expect(remote.listTools!({ tenant: { id: 't1' }, config, state: own, signal: AbortSignal.timeout(5_000), listChanged: () => undefined })).rejects.toThrow(/Upstream MCP server error/);
        expect(lastHeaders).toMatchObject({ 'x-api-key': 'k-123', authorization: 'Bearer tok' });
      } finally {
        await remote.close!(own);
      }
    });
  });

  describe('auth oauth', () => {
    const url = 'https://mcp.example.com/mcp';
    const issuesOf = (config: Record<string, unknown>) => {
      const parsed = remote.config!.safeParse(config);
      return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };

    it('accepts auth oauth (shared by default) with static headers beside it', () => {
      expect(issuesOf({ url, auth: 'oauth', headers: { 'X-Team': 'a' } })).toEqual([]);
      expect(issuesOf({ url, auth: 'oauth', oauthMode: 'shared' })).toEqual([]);
    });

    it('refuses a static bearer token or Authorization header with auth oauth, naming the field', () => {
      expect(issuesOf({ url, auth: 'oauth', bearerToken: 't' })).toEqual([expect.stringMatching(/^bearerToken: .*auth oauth/)]);
      expect(issuesOf({ url, auth: 'oauth', headers: { authorization: 'Basic x' } })).toEqual([expect.stringMatching(/^headers: .*auth oauth/)]);
    });

    it('refuses oauthMode without auth oauth, and an unknown auth', () => {
      expect(issuesOf({ url, oauthMode: 'shared' })).toEqual([expect.stringMatching(/^oauthMode: .*only with auth oauth/)]);
      expect(issuesOf({ url, auth: 'basic' })).toEqual([expect.stringMatching(/^auth: /)]);
    });

    describe('per-user', () => {
      const declaredTools = [{ name: 'whoami', description: 'Who the upstream sees' }];

      it('accepts oauthMode per-user with a declared tool list', () => {
        expect(issuesOf({ url, auth: 'oauth', oauthMode: 'per-user', declaredTools })).toEqual([]);
      });

      it('requires the declared tool list, and refuses one anywhere else (the upstream lists its own there)', () => {
        expect(issuesOf({ url, auth: 'oauth', oauthMode: 'per-user' })).toEqual([expect.stringMatching(/^declaredTools: required with oauthMode per-user/)]);
        expect(issuesOf({ url, auth: 'oauth', declaredTools })).toEqual([expect.stringMatching(/^declaredTools: .*only with oauthMode per-user/)]);
        expect(issuesOf({ url, declaredTools })).toEqual([expect.stringMatching(/^declaredTools: .*only with oauthMode per-user/)]);
      });

      it('refuses a declared tool named twice, or named outside the tool name pattern', () => {
        expect(issuesOf({ url, auth: 'oauth', oauthMode: 'per-user', declaredTools: [...declaredTools, ...declaredTools] })).toEqual([expect.stringMatching(/^declaredTools\.1\.name: .*twice/)]);
        expect(issuesOf({ url, auth: 'oauth', oauthMode: 'per-user', declaredTools: [{ name: 'a b' }] })).toEqual([expect.stringMatching(/^declaredTools\.0\.name: /)]);
      });

      it('lists the declared tools without asking the upstream or any credential', async () => {
        const before = hits;
        const config = remote.config!.parse({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, auth: 'oauth', oauthMode: 'per-user', declaredTools });
        const upstreamCredentials = { accessToken: async () => { throw new Error('listing must not ask for a token'); } };
        const listed = await remote.listTools!({ tenant: { id: 't1' }, config, state: upstreams, signal: AbortSignal.timeout(5_000), listChanged: () => undefined, upstreamCredentials });
        expect(listed.map((tool) => [tool.name, tool.description, tool.inputSchema])).toEqual([['whoami', 'Who the upstream sees', { type: 'object' }]]);
        expect(hits).toBe(before);
      });

      it('calls the upstream with the token of the accessor the platform bound, under that accessor\'s connection key', async () => {
        const config = remote.config!.parse({ url, auth: 'oauth', oauthMode: 'per-user', declaredTools });
        const [tool] = await remote.listTools!({ tenant: { id: 't1' }, config, state: upstreams, signal: AbortSignal.timeout(5_000), listChanged: () => undefined });
        const targets: unknown[] = [];
        const state = { call: async (_tenant: string, target: unknown) => (targets.push(target), { content: [{ type: 'text' as const, text: 'ok' }] }) };
        const upstreamCredentials = { connectionKey: 'person:abc', accessToken: async () => 'token-of-a' };
        const ctx = { tenant: { id: 't1', slug: 't1' }, config, state, signal: AbortSignal.timeout(5_000), progress: async () => undefined, upstreamCredentials };
        expect(await tool!.handler({}, ctx as never)).toEqual({ content: [{ type: 'text', text: 'ok' }] });
        expect(targets).toEqual([expect.objectContaining({ bearerToken: 'token-of-a', connectionKey: 'person:abc' })]);
      });
    });

    it('says the installation is not connected when the platform offers no credential', async () => {
      const config = { url, transport: 'streamable-http' as const, auth: 'oauth' as const };
      await expect(remote.listTools!({ tenant: { id: 't1' }, config, state: upstreams, signal: AbortSignal.timeout(5_000), listChanged: () => undefined })).rejects.toThrow(/no upstream OAuth credentials/);
    });

    it('sends the platform\'s token, and on a 401 asks once for a new one and sends the request again with it', async () => {
      const seen: (string | undefined)[] = [];
      const upstream = createServer((req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(req.headers.authorization === 'Bearer old' ? 401 : 500).end();
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const own = await remote.setup!({ logger, outbound: outboundNetwork({ allow: ['127.0.0.1/32'] }) });
      const asked: ({ rejected?: string } | undefined)[] = [];
      const upstreamCredentials = { accessToken: async (options?: { rejected?: string }) => (asked.push(options), options?.rejected ? 'new' : 'old') };
      try {
        const config = { url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`, transport: 'streamable-http' as const, auth: 'oauth' as const };
        await expect(remote.listTools!({ tenant: { id: 't1' }, config, state: own, signal: AbortSignal.timeout(5_000), listChanged: () => undefined, upstreamCredentials })).rejects.toThrow(/Upstream MCP server error/);
        expect(asked).toEqual([undefined, { rejected: 'old' }]);
        expect(seen[0]).toBe('Bearer old');
        expect(seen.slice(1).every((header) => header === 'Bearer new')).toBe(true);
      } finally {
        await remote.close!(own);
        await new Promise((resolve) => upstream.close(resolve));
      }
    });
  });
});
