import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy that sends each request to the next upstream in turn (round robin, no
 * stickiness, as a plain load balancer in front of gateway nodes). Both directions stream (SSE
 * included) and a client that goes away ends the upstream request. It can add an Authorization
 * header to every request (the conformance suite sends none); nothing else is altered, so the
 * Origin a client sends reaches the gateway as sent.
 */
/** A request the proxy forwarded, as it went by (with `seen`): whom the node behind it saw. */
export interface ObservedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** POST bodies only, as sent (complete once the request ended). */
  body: string;
}

export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Requests sent to each upstream so far, by origin. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

/** With `seen`, every request forwarded is written down there, in arrival order. */
export async function startRoundRobinProxy(upstreams: () => string[], authorization?: () => string, seen?: ObservedRequest[]): Promise<RoundRobinProxy> {
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
    const observed: ObservedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization, body: '' };
    seen?.push(observed);
    if (seen && req.method === 'POST') req.on('data', (chunk: Buffer) => (observed.body += chunk.toString('utf8')));
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
