// The benchmark's baseline: a bare @modelcontextprotocol/sdk server with the same `echo` tool
// the gateway's echo plugin exposes, written the way the SDK's own examples write one (McpServer
// per session, the SDK's transports on node:http). No auth, limits, metrics or metering.
// Usage: node dist/bench/src/baseline-server.js <port>   (prints "listening <port>")
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

function createServer(): McpServer {
  const server = new McpServer({ name: 'baseline', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given.', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

const sseTransports = new Map<string, SSEServerTransport>();
const httpTransports = new Map<string, StreamableHTTPServerTransport>();

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/sse') {
    const transport = new SSEServerTransport('/messages', res);
    sseTransports.set(transport.sessionId, transport);
    res.on('close', () => sseTransports.delete(transport.sessionId));
    await createServer().connect(transport);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/messages') {
    const transport = sseTransports.get(url.searchParams.get('sessionId') ?? '');
    if (!transport) return void res.writeHead(404).end();
    await transport.handlePostMessage(req, res);
    return;
  }
  if (url.pathname === '/mcp') {
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? httpTransports.get(sessionId) : undefined;
    if (!transport) {
      if (req.method !== 'POST' || sessionId) return void res.writeHead(404).end();
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void httpTransports.set(id, transport!),
      });
      transport.onclose = () => {
        if (transport!.sessionId) httpTransports.delete(transport!.sessionId);
      };
      await createServer().connect(transport);
    }
    await transport.handleRequest(req, res);
    return;
  }
  res.writeHead(404).end();
}

const port = Number(process.argv[2] ?? 0);
const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (!res.headersSent) res.writeHead(500).end(String(error));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
