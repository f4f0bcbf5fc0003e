import http from 'node:http';

// Opens many idle legacy-SSE sessions with plain HTTP (an SDK client per session would make
// the benchmark process, not the server, the bottleneck): GET the stream, read the `endpoint`
// event, POST initialize and the initialized notification, then leave the stream open.

export interface IdleSessionTarget {
  /** Origin, e.g. http://127.0.0.1:8080 */
  origin: string;
  /** Path of the SSE endpoint, e.g. /t/bench/p/echo/sse or /sse */
  ssePath: string;
  authorization?: string;
}

export interface IdleSessions {
  opened: number;
  close(): Promise<void>;
}

const OPEN_CONCURRENCY = 100;
const OPEN_TIMEOUT_MS = 20_000;

export async function openIdleSessions(target: IdleSessionTarget, count: number): Promise<IdleSessions> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: OPEN_CONCURRENCY });
  const streams: http.ClientRequest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      streams.push(await openOne(target, agent));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  } catch (error) {
    for (const stream of streams) stream.destroy();
    agent.destroy();
    throw error;
  }
  agent.destroy();
  return {
    opened: streams.length,
    async close() {
      await Promise.all(
        streams.map(
          (stream) =>
            new Promise<void>((resolve) => {
              stream.once('close', () => resolve());
              stream.destroy();
            }),
        ),
      );
    },
  };
}

function openOne(target: IdleSessionTarget, agent: http.Agent): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { accept: 'text/event-stream' };
    if (target.authorization) headers.authorization = target.authorization;
    const req = http.get(`${target.origin}${target.ssePath}`, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${target.ssePath}: ${res.statusCode}`));
      let buffer = '';
      let endpoint: string | undefined;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (endpoint) return; // idle from here on; the server's keep-alives are ignored
        buffer += chunk;
        const match = /event: endpoint\ndata: ([^\n]+)\n/.exec(buffer);
        if (!match) return;
        endpoint = match[1];
        initialize(target, agent, endpoint).then(() => resolve(req), reject);
      });
    });
    req.on('error', reject);
    req.setTimeout(OPEN_TIMEOUT_MS, () => req.destroy(new Error('timed out opening a session')));
  });
}

async function initialize(target: IdleSessionTarget, agent: http.Agent, endpoint: string): Promise<void> {
  await post(target, agent, endpoint, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'bench-idle', version: '1.0.0' } },
  });
  await post(target, agent, endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' });
}

function post(target: IdleSessionTarget, agent: http.Agent, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    if (target.authorization) headers.authorization = target.authorization;
    const req = http.request(`${target.origin}${path}`, { method: 'POST', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`POST ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
