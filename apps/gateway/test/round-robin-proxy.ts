import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy that sends each request to the next upstream in turn (round robin, no
 * stickiness, as a plain load balancer in front of gateway nodes). Both directions stream (SSE
 * included) and a client that goes away ends the upstream request. It can add an Authorization
 * header to every request (the conformance suite sends none); nothing else is altered, so the
 * Origin a client sends reaches the gateway as sent.
 */
export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Requests sent to each upstream so far, by origin. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(upstreams: () => string[], authorization?: () => string): Promise<RoundRobinProxy> {
  let next = 0;
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const targets = upstreams();
    if (targets.length === 0) {
      res.writeHead(503).end('proxy has no upstream');
      return;
    }
    const target = new URL(targets[next++ % targets.length]!);
    counts.set(target.origin, (counts.get(target.origin) ?? 0) + 1);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, ...(authorization ? { authorization: authorization() } : {}) },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
