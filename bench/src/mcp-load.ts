// Drives MCP servers with the official SDK client: N concurrent sessions each calling `echo`
// back to back until the deadline; records per-call latency.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { setMaxListeners } from 'node:events';
import { percentile } from './stats';

// The SDK client adds one abort listener per request to a long-lived signal; a benchmark makes
// thousands of requests per session, which is expected here and not a leak worth warning about.
setMaxListeners(0);

export type TransportKind = 'sse' | 'streamable-http';

export interface Endpoint {
  /** Full URL of the SSE endpoint (…/sse) or the Streamable HTTP endpoint (…/mcp). */
  url: string;
  kind: TransportKind;
  /** Authorization header value, if the server needs one. */
  authorization?: string;
  /** Tool to call (the gateway namespaces it, e.g. `echo__echo` tenant-wide or `echo` per plugin). */
  tool: string;
  /**
   * Where POSTs go when not the stream's node (cross-node runs): rewrites the origin of every
   * POST/GET after the first stream was opened.
   */
  postOrigin?: string;
}

export interface LoadResult {
  calls: number;
  errors: number;
  seconds: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function connect(endpoint: Endpoint): Promise<Client> {
  const headers: Record<string, string> = endpoint.authorization ? { Authorization: endpoint.authorization } : {};
  const withHeaders: typeof fetch = (input, init) => {
    let target = input;
    if (endpoint.postOrigin && init?.method === 'POST') {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const origin = new URL(endpoint.postOrigin);
      url.protocol = origin.protocol;
      url.host = origin.host;
      target = url.toString();
    }
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(headers)) merged.set(name, value);
    return fetch(target, { ...init, headers: merged });
  };
  const client = new Client({ name: 'switchboard-bench', version: '1.0.0' });
  const url = new URL(endpoint.url);
  const transport =
    endpoint.kind === 'sse'
      ? new SSEClientTransport(url, { eventSourceInit: { fetch: withHeaders }, requestInit: { headers }, fetch: withHeaders })
      : new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: withHeaders });
  await client.connect(transport);
  return client;
}

export interface LoadHooks {
  /** Called right before the timed loop starts (after connecting and warming up). */
  beforeMeasure?: () => Promise<void>;
  /** Called right after the timed loop ends (before the clients disconnect). */
  afterMeasure?: () => Promise<void>;
}

export async function runLoad(endpoint: Endpoint, sessions: number, durationMs: number, hooks: LoadHooks = {}, warmupCalls = 200): Promise<LoadResult> {
  const clients = await Promise.all(Array.from({ length: sessions }, () => connect(endpoint)));
  const latencies: number[] = [];
  let errors = 0;
  try {
    // Warm-up: JIT, connection pools, caches.
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < Math.ceil(warmupCalls / sessions); i++) await client.callTool({ name: endpoint.tool, arguments: { text: 'warm' } });
    }));
    await hooks.beforeMeasure?.();
    const started = performance.now();
    const deadline = started + durationMs;
    await Promise.all(
      clients.map(async (client, i) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            const result = await client.callTool({ name: endpoint.tool, arguments: { text: `hello ${i}` } });
            if (result.isError) errors++;
            else latencies.push(performance.now() - t0);
          } catch {
            errors++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await hooks.afterMeasure?.();
    return {
      calls: latencies.length,
      errors,
      seconds,
      callsPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  }
}
