import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './network';

/**
 * A loopback TCP relay to simulate an outage of a service (Redis) for the test's own clients
 * only, without touching the shared server: `cut()`
 * drops every connection and refuses new ones, `restore()` accepts again on the same port.
 */
export interface TcpProxy {
  /** e.g. redis://127.0.0.1:<port> for a target of redis://127.0.0.1:6379 */
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const newServer = () =>
    createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  const listen = (server: Server, port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  let server: Server | undefined = newServer();
  // Below the ephemeral range (see freePort), so no outgoing connection takes the port while
  // the relay is cut and restore() can listen on it again.
  const port = await freePort();
  await listen(server, port);
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  const cut = async () => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  return {
    url: url.toString().replace(/\/$/, ''),
    cut,
    async restore() {
      if (server) return;
      server = newServer();
      await listen(server, port);
    },
    close: cut,
  };
}
