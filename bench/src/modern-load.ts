// Drives the MCP 2026-07-28 (stateless) wire by hand: raw HTTP POSTs over keep-alive undici
// pools, no session, each a `tools/call` of `echo` with the per-request `_meta` envelope and the
// standard headers, as apps/gateway/test/modern-era.int-spec.ts writes them. Every answer is
// checked (HTTP 200, JSON, the request's id, the text echoed back): anything else is an error,
// and a run with errors measures nothing worth reporting.
import { Pool } from 'undici';

export const MODERN_PROTOCOL_VERSION = '2026-07-28';
const WARMUP_CALLS = 200;
/** Idle keep-alive sockets outlive a round pause; the servers' own timeouts are longer still. */
const KEEP_ALIVE_MS = 60_000;

export interface ModernEndpoint {
  /** Full URL of the MCP endpoint, e.g. `http://127.0.0.1:4000/t/bench/p/echo/mcp`. */
  url: string;
  /** Authorization header value, if the server needs one. */
  authorization?: string;
  /** Tool to call. */
  tool: string;
}

/** What one timed stretch of modern load produced. */
export interface ModernSample {
  latencies: number[];
  errors: number;
  seconds: number;
}

interface Target {
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  tool: string;
}

/**
 * `connections` workers calling back to back, each over its own keep-alive connection per
 * endpoint. With several endpoints a worker sends its calls to them in turn (A, B, A, B…), which
 * is what a stateless client behind a round-robin load balancer does.
 */
export class ModernLoad {
  private readonly targets: Target[];
  private nextId = 1;
  /** The first wrong answer, kept to say what went wrong. */
  firstError: string | undefined;

  constructor(
    endpoints: ModernEndpoint[],
    private readonly connections: number,
  ) {
    this.targets = endpoints.map((endpoint) => {
      const url = new URL(endpoint.url);
      return {
        pool: new Pool(url.origin, { connections, keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS }),
        path: url.pathname,
        tool: endpoint.tool,
        headers: {
          ...(endpoint.authorization ? { authorization: endpoint.authorization } : {}),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': MODERN_PROTOCOL_VERSION,
          'mcp-method': 'tools/call',
          'mcp-name': endpoint.tool,
        },
      };
    });
  }

  /** Calls until every connection is open and warm (JIT, pools, caches); throws on a wrong answer. */
  async warmUp(calls = WARMUP_CALLS): Promise<void> {
    const sample = await this.drive((_, n) => n < Math.ceil(calls / this.connections));
    if (sample.errors > 0) throw new Error(`modern warm-up failed: ${this.firstError}`);
  }

  /** Calls back to back for `durationMs`. */
  run(durationMs: number): Promise<ModernSample> {
    const deadline = performance.now() + durationMs;
    return this.drive(() => performance.now() < deadline);
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((target) => target.pool.close()));
  }

  private async drive(more: (worker: number, calls: number) => boolean): Promise<ModernSample> {
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: this.connections }, async (_, worker) => {
        for (let n = 0; more(worker, n); n++) {
          const target = this.targets[n % this.targets.length];
          const t0 = performance.now();
          const problem = await this.call(target, `hello ${worker} ${n}`);
          if (problem === undefined) latencies.push(performance.now() - t0);
          else {
            errors++;
            this.firstError ??= problem;
          }
        }
      }),
    );
    return { latencies, errors, seconds: (performance.now() - started) / 1000 };
  }

  /** One `tools/call`; undefined when answered correctly, else what was wrong. */
  private async call(target: Target, text: string): Promise<string | undefined> {
    const id = this.nextId++;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name: target.tool,
        arguments: { text },
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    });
    try {
      const response = await target.pool.request({ path: target.path, method: 'POST', headers: target.headers, body });
      const answer = await response.body.text();
      if (response.statusCode !== 200) return `HTTP ${response.statusCode}: ${answer.slice(0, 300)}`;
      const contentType = String(response.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/json')) return `content-type ${contentType}: ${answer.slice(0, 300)}`;
      const message = JSON.parse(answer) as { id?: unknown; error?: unknown; result?: { isError?: boolean; content?: { type?: string; text?: string }[] } };
      if (message.id !== id) return `answer for id ${String(message.id)}, expected ${id}`;
      if (message.error !== undefined) return `JSON-RPC error ${JSON.stringify(message.error)}`;
      if (message.result?.isError) return `tool error ${JSON.stringify(message.result)}`;
      const echoed = message.result?.content?.[0];
      if (echoed?.type !== 'text' || echoed.text !== text) return `wrong result ${JSON.stringify(message.result)}`;
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}
