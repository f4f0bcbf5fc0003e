import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { freePort, waitForHttp } from './network';

describe('freePort', () => {
  it('hands out a loopback port below the ephemeral range that a process can listen on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThan(32_768);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('never hands out the same port twice in one process, even while it is still unbound', async () => {
    const ports = await Promise.all(Array.from({ length: 1_000 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe('waitForHttp', () => {
  it('fails at once, not at the deadline, when the process expected to answer has exited', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    // The deadline would fail with a timeout message, not this one.
    await expect(waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: child, timeoutMs: 20_000 })).rejects.toThrow('its process exited (3)');
  });

  it('resolves once the url answers 2xx', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await expect(waitForHttp(`http://127.0.0.1:${port}/`)).resolves.toBeUndefined();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
