import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { testRedisUrl } from '@switchboard/testing';
import { z } from 'zod';
import type { Cluster } from './cluster-harness';
import { startRoundRobinProxy, type ObservedRequest, type RoundRobinProxy } from '../round-robin-proxy';

/** The issue tracker's own description of create_issue, which the virtual server keeps. */
export const CREATE_ISSUE_DESCRIPTION = 'Creates an issue in the tracker';

export interface TrackerUpstream {
  url: string;
  /** Titles of the issues created, in order. */
  created: string[];
  close(): Promise<void>;
}

/**
 * A Linear-like upstream made with the official SDK: stateless Streamable HTTP (a server and a
 * transport per request, the SDK's stateless pattern) with three tools, of which the virtual
 * server offers one under another name.
 */
export async function startTrackerUpstream(): Promise<TrackerUpstream> {
  const created: string[] = [];
  const newServer = () => {
    const server = new McpServer({ name: 'tracker', version: '1.0.0' });
    server.registerTool('create_issue', { description: CREATE_ISSUE_DESCRIPTION, inputSchema: { title: z.string() } }, ({ title }) => {
      created.push(title);
      return { content: [{ type: 'text', text: `Created LIN-${created.length}: ${title}` }] };
    });
    server.registerTool('list_issues', { description: 'Lists the open issues' }, () => ({ content: [{ type: 'text', text: created.join('\n') }] }));
    server.registerTool('delete_issue', { description: 'Deletes an issue', inputSchema: { id: z.string() } }, ({ id }) => ({ content: [{ type: 'text', text: `Deleted ${id}` }] }));
    return server;
  };
  const http: Server = createServer((req, res) => {
    void (async () => {
      if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== '/mcp') return void res.writeHead(404).end();
      // Stateless: no session, so GET (a standalone stream) and DELETE have nothing to serve.
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
      const server = newServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void Promise.all([transport.close(), server.close()]).catch(() => undefined));
      await server.connect(transport);
      await transport.handleRequest(req, res, await readJson(req));
    })().catch(() => res.headersSent || res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    created,
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The environment of the admin API as a third process (libs/testing's startApiProcess), in
 * cluster mode on the cluster's database, Redis prefix and secret, sealing with the nodes'
 * SECRETS_KEY (plugin secrets, hosted servers' variables, connect tickets) and naming the
 * balancer in connect URLs.
 */
export function adminApiEnv(cluster: Cluster, options: { adminSecret: string; dataDir: string; secretsKey: Buffer; publicGatewayUrl: string }): Record<string, string> {
  return {
    DATABASE_URL: cluster.databaseUrl,
    DATA_DIR: options.dataDir,
    // Keys issued by the API must open on the gateways: the same pepper.
    KEY_PEPPER: cluster.peppers.current.key.toString('base64'),
    SECRETS_KEY: options.secretsKey.toString('base64'),
    PUBLIC_GATEWAY_URL: options.publicGatewayUrl,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: cluster.prefix,
    CLUSTER_SECRET: cluster.secret.toString('base64'),
    ADMIN_JWT_SECRET: options.adminSecret,
    NODE_ID: `${cluster.prefix}-api`,
    HOST: '127.0.0.1',
    API_PORT: '0',
    API_METRICS_PORT: 'off',
  };
}

/** A request that passed a tap: the bearer token it carried and, for a POST, its body as sent. */
/** What a tap saw go by (round-robin-proxy.ts's record). */
export type TappedRequest = ObservedRequest;

export type Tap = Pick<RoundRobinProxy, 'url' | 'close'>;

/**
 * A pass-through in front of one gateway node that writes down every request into `seen`, so a
 * test reads whom an upstream endpoint of the cluster saw: the bearer token its gateway verified
 * and acted as. The round-robin proxy with one upstream: it streams both ways, SSE included.
 */
export function startTap(target: string, seen: TappedRequest[]): Promise<Tap> {
  return startRoundRobinProxy(() => [target], undefined, seen);
}

/** The `sub` of a JWT bearer token (the platform's access tokens are JWTs), read without verifying: the tap only reports what went by. */
export function bearerSubject(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Bearer ')) return undefined;
  const payload = authorization.slice('Bearer '.length).split('.')[1];
  if (!payload) return undefined;
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: string }).sub;
}
