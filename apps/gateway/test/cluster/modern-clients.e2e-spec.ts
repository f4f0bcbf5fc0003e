import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport, type McpSubscription } from '@modelcontextprotocol/client';
import { createTempDataDir, node22Binary, startApiProcess, testRedisUrl, type ApiProcess } from '@switchboard/testing';
import jwt from 'jsonwebtoken';
import { eventually, GENEROUS_LIMITS, startCluster, startRoundRobinProxy, type Cluster, type GatewayProcess, type RoundRobinProxy } from './cluster-harness';

// Issue 14: real modern clients (the official v2 SDK client and the MCP Inspector CLI, both on
// the 2026-07-28 wire) against two gateway processes behind a non-sticky round-robin balancer,
// with the admin API as a third process enabling a plugin on the same database and Redis.

const MODERN = '2026-07-28';
const ROOT = path.resolve(__dirname, '../../../..');
const INSPECTOR = path.join(ROOT, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
/** A deadline for one Inspector CLI run (Node 22 start-up, discover, one request), not a measurement. */
const INSPECTOR_TIMEOUT_MS = 30_000;
/** Room for three processes to start, a tenant to be set up and the Node 22 binary to be installed on a first run. */
const SETUP_TIMEOUT_MS = 120_000;
/** Bounds the rounds one call may take: the multi-round tool needs two answers, then completes. */
const MAX_INPUT_ROUNDS = 3;
const MODERN_MESSAGES = /^switchboard_gateway_messages_total\{[^}]*era="2026-07-28"[^}]*\} (\d+)/;

/** The admin API's environment as production runs it, in cluster mode on the cluster's database, Redis prefix and secret. */
function apiEnv(cluster: Cluster, adminSecret: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: cluster.databaseUrl,
    DATA_DIR: dataDir,
    // Keys issued by the API must open on the gateways: the same pepper.
    KEY_PEPPER: cluster.peppers.current.key.toString('base64'),
    // The echo plugin has no secret fields, so nothing is sealed with this key.
    SECRETS_KEY: randomBytes(32).toString('base64'),
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: cluster.prefix,
    CLUSTER_SECRET: cluster.secret.toString('base64'),
    ADMIN_JWT_SECRET: adminSecret,
    NODE_ID: `${cluster.prefix}-api`,
    HOST: '127.0.0.1',
    API_PORT: '0',
    API_METRICS_PORT: 'off',
    LOG_LEVEL: 'info',
  };
}

/** The sum of one node's 2026-07-28 message counters (all routes and outcomes). */
async function modernMessages(node: GatewayProcess): Promise<number> {
  const listening = await node.logLine((line) => line['msg'] === 'gateway listening');
  const page = await (await fetch(String(listening['metricsUrl']))).text();
  return page.split('\n').reduce((total, line) => total + Number(MODERN_MESSAGES.exec(line)?.[1] ?? 0), 0);
}

describe('real modern clients through a round-robin balancer over two gateway nodes', () => {
  let cluster: Cluster;
  let proxy: RoundRobinProxy;
  let api: ApiProcess;
  let adminToken: string;
  let key: string;
  let otherTenantKey: string;
  let removeApiData: () => void;
  let node22: string;

  async function admin(method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(api.url + route, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** Each node's 2026-07-28 message count, in node order. */
  const perNode = () => Promise.all(cluster.nodes.map(modernMessages));
  /** How much each node's count grew since `before`. */
  const growthSince = async (before: number[]) => (await perNode()).map((count, i) => count - before[i]!);
  /**
   * The growth once it adds up to `total`: a node counts a message when its response has ended,
   * which another process sees a moment after the client has the answer.
   */
  async function messagesSince(before: number[], total: number): Promise<number[]> {
    let growth: number[] = [];
    await eventually(async () => (growth = await growthSince(before)).reduce((sum, n) => sum + n, 0) >= total);
    return growth;
  }
  /** Resolves once both nodes have answered at least one 2026-07-28 message since `before`. */
  const bothNodesAnsweredSince = (before: number[]) => eventually(async () => (await growthSince(before)).every((n) => n > 0));

  /**
   * The official v2 client pinned to 2026-07-28 (no session), declaring elicitation and answering
   * it with `answer`; `manual` hands input_required results back instead of answering them.
   */
  async function modernClient(
    answer: (message: string) => Record<string, string>,
    options: { tenant?: string; token?: string; manual?: boolean } = {},
  ) {
    const client = new Client(
      { name: 'modern-clients-e2e', version: '1.0.0' },
      {
        capabilities: { elicitation: {} },
        versionNegotiation: { mode: { pin: MODERN } },
        inputRequired: { maxRounds: MAX_INPUT_ROUNDS, autoFulfill: !options.manual },
      },
    );
    const asked: string[] = [];
    const heard: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      const message = 'message' in request.params ? request.params.message : '';
      asked.push(message);
      return { action: 'accept', content: answer(message) };
    });
    client.setNotificationHandler('notifications/tools/list_changed', () => void heard.push('tools'));
    const url = new URL(`/t/${options.tenant ?? 'acme'}/mcp`, proxy.url);
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${options.token ?? key}` } } }));
    return { client, asked, heard };
  }

  /** One Inspector CLI run through the balancer in modern mode; the parsed JSON it printed. */
  function inspector(...args: string[]): Promise<{ code: number; output: Record<string, unknown> | undefined; stdout: string; stderr: string }> {
    const home = createTempDataDir('inspector-home');
    const argv = [INSPECTOR, '--cli', `${proxy.url}/t/acme/mcp`, '--transport', 'http', '--protocol-era', 'modern', '--header', `Authorization: Bearer ${key}`];
    return new Promise((resolve) => {
      // Its own HOME: the CLI's catalog and client config stay out of the machine's.
      execFile(node22, [...argv, ...args, '--format', 'json'], { cwd: ROOT, env: { HOME: home.dir }, timeout: INSPECTOR_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
        home.remove();
        let output: Record<string, unknown> | undefined;
        try {
          output = JSON.parse(stdout) as Record<string, unknown>;
        } catch {
          output = undefined;
        }
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    node22 = node22Binary();
    cluster = await startCluster('modern-clients', { nodes: 2, env: GENEROUS_LIMITS });
    proxy = await startRoundRobinProxy(() => cluster.nodes.map((node) => node.url));
    const adminSecret = randomBytes(32).toString('base64');
    adminToken = jwt.sign({ role: 'admin' }, adminSecret, { algorithm: 'HS256', issuer: 'switchboard', audience: 'switchboard-admin', subject: 'admin', expiresIn: 600 });
    const data = createTempDataDir('modern-clients-api');
    removeApiData = data.remove;
    api = await startApiProcess(apiEnv(cluster, adminSecret, data.dir));
    expect((await admin('POST', '/v1/tenants', { slug: 'acme', name: 'Acme' })).status).toBe(201);
    expect((await admin('PUT', '/v1/tenants/acme/plugins/conformance', { config: {} })).status).toBe(200);
    const issued = await admin('POST', '/v1/tenants/acme/api-keys', { name: 'modern-clients' });
    expect(issued.status).toBe(201);
    key = String(issued.body['secret']);
    // Another tenant with the same plugin: the attacker holding a valid key of its own.
    expect((await admin('POST', '/v1/tenants', { slug: 'globex', name: 'Globex' })).status).toBe(201);
    expect((await admin('PUT', '/v1/tenants/globex/plugins/conformance', { config: {} })).status).toBe(200);
    otherTenantKey = String((await admin('POST', '/v1/tenants/globex/api-keys', { name: 'attacker' })).body['secret']);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await proxy?.close();
    await api?.close();
    removeApiData?.();
    await cluster?.close();
  });

  describe('the official v2 client (@modelcontextprotocol/client) on 2026-07-28', () => {
    it('lists and calls tools, its requests answered by both nodes', async () => {
      const before = await perNode();
      const { client } = await modernClient(() => ({}));
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        expect(names).toEqual(expect.arrayContaining(['conformance__test_simple_text', 'conformance__test_input_required_result_elicitation']));
        expect(names.some((name) => name.startsWith('echo__'))).toBe(false);
        const result = await client.callTool({ name: 'conformance__test_simple_text', arguments: {} });
        expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
      } finally {
        await client.close();
      }
      await bothNodesAnsweredSince(before);
    });

    it('answers an elicitation, the retry carrying the sealed request state to the other node', async () => {
      const { client, asked } = await modernClient(() => ({ name: 'Ada' }));
      try {
        const before = await perNode();
        const result = await client.callTool({ name: 'conformance__test_input_required_result_elicitation', arguments: {} });
        expect(result.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
        expect(asked).toEqual(['What is your name?']);
        // Two requests in a row through the balancer: the first round on one node, the retry on the other.
        expect(await messagesSince(before, 2)).toEqual([1, 1]);
      } finally {
        await client.close();
      }
    });

    it('answers two rounds of elicitation, each round on another node than the one before', async () => {
      const { client, asked } = await modernClient((message): Record<string, string> => (message.includes('color') ? { color: 'teal' } : { name: 'Ada' }));
      try {
        const before = await perNode();
        const result = await client.callTool({ name: 'conformance__test_input_required_result_multi_round', arguments: {} });
        expect(result.content).toEqual([{ type: 'text', text: 'Ada likes teal' }]);
        expect(asked).toEqual(['Step 1: What is your name?', 'Step 2: What is your favorite color?']);
        // Three requests alternating over two nodes: each node opened a state the other one sealed.
        expect((await messagesSince(before, 3)).sort()).toEqual([1, 2]);
      } finally {
        await client.close();
      }
    });

    it("refuses on both nodes a retry that replays a tenant's sealed request state with another tenant's key", async () => {
      const victim = await modernClient(() => ({}), { manual: true });
      const attacker = await modernClient(() => ({}), { tenant: 'globex', token: otherTenantKey });
      try {
        const before = await perNode();
        // Which node answered each request, in order (one request at a time, nothing else in flight).
        const servedBy: number[] = [];
        let counted = before.map(() => 0);
        const noteNode = async () => {
          const growth = await messagesSince(before, servedBy.length + 1);
          servedBy.push(growth.findIndex((n, i) => n > counted[i]!));
          counted = growth;
        };
        const first = (await victim.client.callTool(
          { name: 'conformance__test_input_required_result_request_state', arguments: {} },
          { allowInputRequired: true },
        )) as unknown as { resultType?: string; requestState?: string };
        expect(first).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
        await noteNode();
        // The retry fields are not in the SDK's CallToolRequest params type, but travel as sent.
        const retry = {
          name: 'conformance__test_input_required_result_request_state',
          arguments: {},
          inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
          requestState: first.requestState,
        };
        // Tried on the other node, then on the node that sealed the state.
        for (let attempt = 0; attempt < cluster.nodes.length; attempt++) {
          await expect(attacker.client.callTool(retry)).rejects.toMatchObject({
            code: -32602,
            message: expect.stringContaining('params.requestState is not valid for this request'),
          });
          await noteNode();
        }
        expect(attacker.asked).toEqual([]);
        // With its own key the same state completes (on the other node again), so the refusals were the key's.
        const completed = await victim.client.callTool(retry);
        expect(completed.content).toEqual([{ type: 'text', text: 'state-ok: confirmed=true' }]);
        await noteNode();
        const [sealer, other] = [servedBy[0]!, 1 - servedBy[0]!];
        expect(servedBy).toEqual([sealer, other, sealer, other]);
      } finally {
        await victim.client.close();
        await attacker.client.close();
      }
    });

    it('hears tools/list_changed on listen streams held by both nodes when an admin enables a plugin, then lists its tools', async () => {
      const listeners = [await modernClient(() => ({})), await modernClient(() => ({}))];
      const lister = await modernClient(() => ({}));
      const subscriptions: McpSubscription[] = [];
      try {
        // Nothing else in flight: the one request the balancer routes during listen() is the stream.
        // (The gateway's messages_total counts a listen stream only when it ends.)
        const heldBy: string[][] = [];
        for (const { client } of listeners) {
          const before = new Map(proxy.counts);
          subscriptions.push(await client.listen({ toolsListChanged: true }));
          heldBy.push([...proxy.counts].filter(([origin, count]) => count > (before.get(origin) ?? 0)).map(([origin]) => origin));
        }
        expect(subscriptions.map((subscription) => subscription.honoredFilter)).toEqual([{ toolsListChanged: true }, { toolsListChanged: true }]);
        expect(heldBy.flat().sort()).toEqual(cluster.nodes.map((node) => new URL(node.url).origin).sort());
        expect((await admin('PUT', '/v1/tenants/acme/plugins/echo', { config: {} })).status).toBe(200);
        await eventually(() => listeners.every(({ heard }) => heard.length > 0));
        expect(listeners.map(({ heard }) => heard)).toEqual([['tools'], ['tools']]);
        // Two requests in a row, one per node: both list the new plugin's tools, and they run.
        for (let i = 0; i < cluster.nodes.length; i++) expect((await lister.client.listTools()).tools.map((tool) => tool.name)).toContain('echo__echo');
        const echoed = await lister.client.callTool({ name: 'echo__echo', arguments: { text: 'across nodes' } });
        expect(echoed.content).toEqual([{ type: 'text', text: 'across nodes' }]);
      } finally {
        await Promise.all(subscriptions.map((subscription) => subscription.close()));
        await Promise.all([...listeners, lister].map(({ client }) => client.close()));
      }
    });
  });

  describe('the MCP Inspector CLI in modern mode (Node 22)', () => {
    it('lists and calls tools, its requests answered by both nodes', async () => {
      const before = await perNode();
      const listed = await inspector('--method', 'tools/list');
      expect(listed).toMatchObject({ code: 0 });
      const tools = (listed.output?.['result'] as { tools?: { name: string }[] } | undefined)?.tools ?? [];
      expect(tools.map((tool) => tool.name)).toContain('conformance__test_simple_text');
      const called = await inspector('--method', 'tools/call', '--tool-name', 'conformance__test_simple_text');
      expect(called).toMatchObject({ code: 0, output: { result: { content: [{ type: 'text', text: 'This is a simple text response for testing.' }] } } });
      await bothNodesAnsweredSince(before);
    }, 2 * INSPECTOR_TIMEOUT_MS);

    // The CLI runs its client with elicitation off and has no way to answer one: the gateway must
    // not ask a client for what it did not declare (2026-07-28: -32021 MissingRequiredClientCapability).
    it('is refused with -32021 rather than asked, when it calls a tool that elicits without declaring elicitation', async () => {
      const asked = await inspector('--method', 'tools/call', '--tool-name', 'conformance__test_input_required_result_elicitation');
      expect(asked.code).not.toBe(0);
      expect(asked.stderr).toContain('MCP error -32021: The client does not support elicitation');
    }, INSPECTOR_TIMEOUT_MS);
  });
});
