import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// Ports handed to child processes are taken below Linux's ephemeral range (32768-60999 by
// default). A port the kernel picked with listen(0) and then released sits in that range, where
// an outgoing connection of another test (to Postgres, Redis, a gateway) may take it as its
// source port before the child binds it, and the child fails with EADDRINUSE.
const CHILD_PORT_MIN = 20_000;
const CHILD_PORT_MAX = 32_000;
const CHILD_PORT_ATTEMPTS = 50;

/** Ports this process handed out: a child may not have bound its port yet when the next is asked for. */
const handedOut = new Set<number>();

/** A loopback port that was free a moment ago and not handed out before, for a process the test starts next. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < CHILD_PORT_ATTEMPTS; attempt++) {
    const port = CHILD_PORT_MIN + Math.floor(Math.random() * (CHILD_PORT_MAX - CHILD_PORT_MIN));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the check, so concurrent calls never pick the same one
    if (await canListen(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free loopback port in ${CHILD_PORT_MIN}-${CHILD_PORT_MAX} after ${CHILD_PORT_ATTEMPTS} attempts`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const POLL_MS = 100;

export interface WaitForHttpOptions {
  timeoutMs?: number;
  /** The process expected to answer: if it exits first, fail at once instead of at the deadline. */
  process?: ChildProcess;
}

/**
 * Resolves once `url` answers 2xx. Another process's start-up has no event a test can await,
 * so this polls, with a deadline.
 */
export async function waitForHttp(url: string, options: WaitForHttpOptions = {}): Promise<void> {
  const { timeoutMs = 30_000, process: child } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${url}: its process exited (${child.exitCode ?? child.signalCode}) before answering`);
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export type McpTransportName = 'streamable-http' | 'sse';

/**
 * The official SDK client connected to `{baseUrl}{endpointPath}/mcp` (or `/sse`) with a bearer
 * token on every request, as a user's client would be configured.
 */
export async function connectMcpClient(
  baseUrl: string,
  endpointPath: string,
  token: string,
  transport: McpTransportName,
  capabilities: Record<string, unknown> = {},
): Promise<Client> {
  const client = new Client({ name: 'switchboard-test', version: '1.0.0' }, { capabilities });
  const headers = { authorization: `Bearer ${token}` };
  const url = new URL(`${endpointPath}/${transport === 'sse' ? 'sse' : 'mcp'}`, baseUrl);
  await client.connect(
    transport === 'sse'
      ? new SSEClientTransport(url, {
          requestInit: { headers },
          eventSourceInit: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), ...headers } }) },
        })
      : new StreamableHTTPClientTransport(url, { requestInit: { headers } }),
  );
  return client;
}
