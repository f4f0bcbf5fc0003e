import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSecretSchema } from '@switchboard/plugin-sdk';
import remote from './index';

// Federation against a real gateway is tested in apps/gateway/test/remote-mcp.int-spec.ts.
// Here: the published plugin, with no private range opened, refuses loopback and metadata URLs.
describe('remote-mcp plugin', () => {
  let server: Server;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const listTools = (url: string) =>
    remote.listTools!({ tenant: { id: 't1' }, config: { url, transport: 'streamable-http' }, signal: AbortSignal.timeout(5_000), listChanged: () => undefined });

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
});
