import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundNetwork } from './outbound-network';

// Live server on loopback only; other ranges are judged on the guard itself (address-guard.spec.ts).
describe('outboundNetwork', () => {
  let server: Server;
  let origin: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses a malformed range when it is built, at start-up', () => {
    expect(() => outboundNetwork({ allow: ['10.0.0.0/not-a-prefix'] })).toThrow(/not a CIDR range/);
  });

  it('opens no range by default: its fetches refuse loopback without sending a request', async () => {
    const network = outboundNetwork();
    const { fetch, close } = network.createFetch();
    try {
      expect(network.policy.allow).toEqual([]);
      await expect(fetch(`${origin}/`)).rejects.toThrow(/Refusing to connect.*loopback/);
      expect(hits).toBe(0);
    } finally {
      await close();
    }
  });

  it('binds every fetch it creates to the policy it was given, which cannot be changed afterwards', async () => {
    const allow = ['127.0.0.1/32'];
    const network = outboundNetwork({ allow });
    allow.push('10.0.0.0/8');
    expect(network.policy.allow).toEqual(['127.0.0.1/32']);
    expect(Object.isFrozen(network.policy.allow)).toBe(true);
    const { fetch, close } = network.createFetch();
    try {
      expect(await (await fetch(`${origin}/`)).text()).toBe('ok');
    } finally {
      await close();
    }
  });
});
