// The modern-era baseline: a bare `createMcpHandler` server (the v2 SDK,
// @modelcontextprotocol/server) with the same `echo` tool as the gateway's echo plugin (same
// input schema, same text result), written the way the SDK documents it: one factory, a fresh
// McpServer per request, no auth, limits, metrics or metering. The SDK leaves Node wiring to
// @modelcontextprotocol/node's `toNodeHandler`, which is not installed here, so `serve` below
// does that one job: the body read whole into a web `Request`, the `Response` written back
// (a JSON answer in one write, a stream as it comes).
// Usage: node dist/bench/src/modern-baseline-server.js <port>   (prints "listening <port>")
import http from 'node:http';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

function createServer(): McpServer {
  const server = new McpServer({ name: 'modern-baseline', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the given text unchanged.', inputSchema: z.object({ text: z.string().describe('Text to send back') }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

// Modern-only, like the gateway's stateless leg: 2025 traffic is the v1 baseline's job.
const handler = createMcpHandler(createServer, { legacy: 'reject' });

async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = req.method ?? 'GET';
  const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
  });
  const response = await handler.fetch(request);
  const responseHeaders = Object.fromEntries(response.headers);
  if (!response.body) return void res.writeHead(response.status, responseHeaders).end();
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    // A JSON answer goes out in one write with its length, as the gateway writes its own.
    const body = Buffer.from(await response.arrayBuffer());
    return void res.writeHead(response.status, { ...responseHeaders, 'content-length': String(body.length) }).end(body);
  }
  res.writeHead(response.status, responseHeaders);
  for await (const chunk of response.body) res.write(chunk);
  res.end();
}

const port = Number(process.argv[2] ?? 0);
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/mcp') return void res.writeHead(404).end();
  serve(req, res).catch((error) => {
    if (!res.headersSent) res.writeHead(500).end(String(error));
    else res.destroy();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
