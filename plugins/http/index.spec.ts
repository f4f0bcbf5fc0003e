import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundNetwork } from '@switchboard/plugin-net';
import type { PluginSetupContext, ToolResult } from '@switchboard/plugin-sdk';
import http from './index';

// Live servers on loopback only. Refusals of other ranges are unit-tested on the guard itself
// (libs/plugin-net), never by sending traffic there.
function serve(host: string, handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
    }),
  );
}

const logger = { debug() {}, info() {}, warn() {}, error() {} };
/** The plugin as a gateway sets it up, with the platform's outbound policy on the setup context. */
const platform = (allow: string[] = []): PluginSetupContext => ({ logger, outbound: outboundNetwork({ allow }) });
type Running = Awaited<ReturnType<NonNullable<typeof http.setup>>>;

const call = async (state: Running, url: string, format?: 'markdown' | 'text'): Promise<ToolResult> => {
  const tool = http.tools.find((t) => t.name === 'fetch')!;
  return (await tool.handler(tool.input.parse({ url, format }), { signal: AbortSignal.timeout(5_000), state } as never)) as ToolResult;
};
const text = (result: ToolResult) => (result.content[0] as { text: string }).text;

describe('http plugin', () => {
  let v4: { server: Server; origin: string };
  let v6: { server: Server; origin: string };
  let hits = 0;
  // The published plugin on a platform that opened no range, as every gateway runs it by default.
  let published: Running;
  beforeAll(async () => {
    published = await http.setup!(platform());
    const handler: Parameters<typeof createServer>[1] = (req, res) => {
      hits++;
      if (req.url === '/page') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end('<html><head><script>steal()</script></head><body><h1>Title</h1><p>Some <b>bold</b> text</p></body></html>');
      } else if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: new URL(req.url, 'http://x').searchParams.get('to')! }).end();
      } else if (req.url === '/big') {
        res.setHeader('content-type', 'text/plain');
        res.end('x'.repeat(3 * 1024 * 1024));
      } else if (req.url === '/binary') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(Buffer.alloc(10));
      } else res.writeHead(404, { 'content-type': 'text/plain' }).end('missing');
    };
    v4 = await serve('127.0.0.1', handler);
    v6 = await serve('::1', handler);
  });
  afterAll(async () => {
    await http.close!(published);
    await new Promise((resolve) => v4.server.close(resolve));
    await new Promise((resolve) => v6.server.close(resolve));
  });

  it('refuses a live server on 127.0.0.1 without sending it a request', async () => {
    const before = hits;
    const result = await call(published, `${v4.origin}/page`);
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/Refusing to connect.*loopback/);
    expect(hits).toBe(before);
  });

  it('refuses a live server on ::1 and "localhost" resolved to loopback', async () => {
    const before = hits;
    expect(text(await call(published, `${v6.origin}/page`))).toMatch(/Refusing to connect.*loopback/);
    const port = new URL(v4.origin).port;
    expect(text(await call(published, `http://localhost:${port}/page`))).toMatch(/Refusing to connect to localhost \(.*\): loopback/);
    expect(hits).toBe(before);
  });

  it('refuses schemes other than http and https', async () => {
    expect(text(await call(published, 'file:///etc/passwd'))).toMatch(/scheme file: is not allowed/);
  });

  describe('with 127.0.0.1 allowed by the platform for the test', () => {
    let allowed: Running;
    beforeAll(async () => {
      allowed = await http.setup!(platform(['127.0.0.1/32']));
    });
    afterAll(() => http.close!(allowed));

    it('returns HTML as markdown without scripts', async () => {
      const result = await call(allowed, `${v4.origin}/page`);
      expect(text(result)).toBe('# Title\n\nSome **bold** text');
      expect(result.structuredContent).toMatchObject({ status: 200, truncated: false });
    });

    it('refuses a redirect from the allowed server to ::1, and to another loopback address', async () => {
      const before = hits;
      const toV6 = await call(allowed, `${v4.origin}/redirect?to=${encodeURIComponent(`${v6.origin}/page`)}`);
      expect([toV6.isError, text(toV6)]).toEqual([true, expect.stringMatching(/Refusing to connect to http:\/\/\[::1\].*loopback/)]);
      const toOther = await call(allowed, `${v4.origin}/redirect?to=${encodeURIComponent(`http://127.0.0.2:${new URL(v4.origin).port}/page`)}`);
      expect(text(toOther)).toMatch(/Refusing to connect to http:\/\/127\.0\.0\.2.*loopback/);
      // Only the two redirecting requests reached a server.
      expect(hits).toBe(before + 2);
    });

    it('stops downloading at the size limit and refuses binary content', async () => {
      const big = await call(allowed, `${v4.origin}/big`, 'text');
      expect(big.structuredContent).toMatchObject({ truncated: true });
      expect(text(await call(allowed, `${v4.origin}/binary`))).toMatch(/not text/);
    });

    it('reports an error status as an error result', async () => {
      expect((await call(allowed, `${v4.origin}/nope`)).isError).toBe(true);
    });
  });

  it('closes its connection pool in close: nothing is fetched with it afterwards', async () => {
    const closed = await http.setup!(platform(['127.0.0.1/32']));
    expect((await call(closed, `${v4.origin}/page`)).isError).toBeFalsy();
    await http.close!(closed);
    const before = hits;
    const after = await call(closed, `${v4.origin}/page`);
    expect(after.isError).toBe(true);
    expect(hits).toBe(before);
  });
});
