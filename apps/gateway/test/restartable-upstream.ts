import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** One tool call the upstream ran: which tool, in which generation of the server. */
export interface Execution {
  tool: string;
  generation: number;
  text: string;
}

/** How the upstream answers a Streamable HTTP request whose session id it does not know. */
export type UnknownSessionAnswer =
  /** 404, as 2025-06-18 streamable-http requires. */
  | 'not-found'
  /**
   * 400, as the official SDK's example servers (simpleStreamableHttp.ts) answer an id missing from
   * their map of transports: a JSON-RPC error on POST, plain text on GET and DELETE.
   */
  | 'bad-request';

/** The SDK examples' answer to a POST whose session id is not in their map. */
export const NO_VALID_SESSION_ERROR = { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null } as const;

/**
 * An upstream MCP server made with the official SDK, on loopback, serving Streamable HTTP
 * (`/mcp`, stateful sessions) and legacy SSE (`/sse` + `/messages`). `restart()` does what a
 * process restart does to its clients: every session is forgotten (their ids answer 404, as the
 * spec requires, or 400 with `unknownSession: 'bad-request'`) and every open connection is cut;
 * the listening port stays the same.
 */
export class RestartableUpstream {
  generation = 0;
  readonly executions: Execution[] = [];
  /** Headers of the last request, to check what the gateway sends. */
  lastHeaders: IncomingHttpHeaders = {};
  /** Streamable HTTP requests refused for an unknown session id: HTTP method and status. */
  readonly sessionRefusals: { method: string; status: number }[] = [];
  private held: Promise<void> = Promise.resolve();
  private onHeld: (() => void) | undefined;
  private sessions = new Map<string, StreamableHTTPServerTransport | SSEServerTransport>();
  private servers: McpServer[] = [];
  private readonly extraTools: string[] = [];
  private readonly server: Server = createServer((req, res) => void this.handle(req, res).catch(() => res.headersSent || res.writeHead(500).end()));

  constructor(private readonly options: { unknownSession?: UnknownSessionAnswer } = {}) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Forgets every session and cuts every connection, as a restarted process would. */
  restart(): void {
    this.generation++;
    const old = this.servers;
    this.sessions = new Map();
    this.servers = [];
    this.server.closeAllConnections();
    for (const server of old) void server.close().catch(() => undefined);
  }

  /** Adds a tool to every session (each announces tools/list_changed) and to later ones. */
  addTool(name: string): void {
    this.extraTools.push(name);
    for (const server of this.servers) this.register(server, name);
  }

  /** Makes the next `hold` calls wait; resolves once one of them ran. Call the returned `release` to let them answer. */
  holdNext(): { ran: Promise<void>; release: () => void } {
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    const ran = new Promise<void>((resolve) => (this.onHeld = resolve));
    return { ran, release };
  }

  /** Sessions the server knows now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    this.restart();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private newServer(): McpServer {
    const server = new McpServer({ name: 'restartable-upstream', version: '1.0.0' });
    const generation = this.generation;
    server.registerTool('whoami', { description: 'Says which generation of the server ran the call', inputSchema: { tag: z.string() } }, ({ tag }) => {
      const text = `${tag} ran in generation ${generation}`;
      this.executions.push({ tool: 'whoami', generation, text });
      return { content: [{ type: 'text', text }] };
    });
    // Runs (and says so in `executions`), then answers only once `release()` is called.
    server.registerTool('hold', { description: 'Runs, then waits for the test before answering', inputSchema: { tag: z.string() } }, async ({ tag }) => {
      this.executions.push({ tool: 'hold', generation, text: tag });
      this.onHeld?.();
      await this.held;
      return { content: [{ type: 'text', text: `${tag} held` }] };
    });
    for (const name of this.extraTools) this.register(server, name);
    this.servers.push(server);
    return server;
  }

  private register(server: McpServer, name: string): void {
    server.registerTool(name, { description: `Added later: ${name}` }, () => ({ content: [{ type: 'text', text: name }] }));
  }

  private refuseUnknownSession(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    if (this.options.unknownSession === 'bad-request') {
      this.sessionRefusals.push({ method, status: 400 });
      if (method !== 'POST') return void res.writeHead(400).end('Invalid or missing session ID');
      return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(NO_VALID_SESSION_ERROR));
    }
    this.sessionRefusals.push({ method, status: 404 });
    // 2025-06-18 streamable-http: a terminated session's id MUST get 404 Not Found.
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.lastHeaders = req.headers;
    const url = new URL(req.url ?? '/', this.url);
    if (url.pathname === '/sse' && req.method === 'GET') {
      const transport = new SSEServerTransport('/messages', res);
      this.sessions.set(transport.sessionId, transport);
      const sessions = this.sessions;
      transport.onclose = () => sessions.delete(transport.sessionId);
      await this.newServer().connect(transport);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') {
      const transport = this.sessions.get(url.searchParams.get('sessionId') ?? '');
      if (!(transport instanceof SSEServerTransport)) return void res.writeHead(404).end('Session not found');
      await transport.handlePostMessage(req, res);
      return;
    }
    if (url.pathname !== '/mcp') return void res.writeHead(404).end();
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = this.sessions.get(sessionId);
      if (!(transport instanceof StreamableHTTPServerTransport)) return this.refuseUnknownSession(req, res);
      await transport.handleRequest(req, res);
      return;
    }
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (!isInitializeRequest(body)) return void res.writeHead(400).end('initialize first');
    const sessions = this.sessions;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
    await this.newServer().connect(transport);
    await transport.handleRequest(req, res, body);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
