import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundNetwork } from '@switchboard/plugin-net';
import { isSecretSchema } from '@switchboard/plugin-sdk';
import remote, { Upstreams } from './index';

const logger = { debug() {}, info() {}, warn() {}, error() {} };

// Federation against a real gateway is tested in apps/gateway/test/remote-mcp.int-spec.ts.
// Here: the published plugin, on a platform that opened no private range, refuses loopback and
// metadata URLs; and what its setup opens, its close releases.
describe('remote-mcp plugin', () => {
  let server: Server;
  let hits = 0;
  let upstreams: Upstreams;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
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
    remote.listTools!({ tenant: { id: 't1' }, config: { url, transport: 'streamable-http' }, state, signal: AbortSignal.timeout(5_000), listChanged: () => undefined });

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
});
