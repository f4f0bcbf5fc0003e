import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { firstText, startTcpProxy, testRedisUrl, type TcpProxy } from '@switchboard/testing';
import {
  connectClient,
  disconnect,
  GENEROUS_LIMITS,
  openGetStream,
  openRawSession,
  SLOW_PLUGIN_JS,
  startCluster,
  type Cluster,
  type EventStreamReader,
  type GatewayProcess,
} from './cluster-harness';

/**
 * Short, so answers and streams outlast it several times over (production default: 10 s), yet
 * long enough for a quick answer's head on a loaded machine (500 ms was not, at times).
 */
const FORWARD_TIMEOUT_MS = 1_000;
const SLOW_CALL_MS = FORWARD_TIMEOUT_MS * 3;
/** The bound for "promptly": a hung call would end with the client's own timeout instead. */
const CLIENT_TIMEOUT_MS = 20_000;
const SESSIONS = 12;
/** Many at once: a stream's head crossing back before its request's PUBLISH reply is read is the race once lost. */
const STREAMS = 24;
const ENV = { ...GENEROUS_LIMITS, FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS), PLUGINS: SLOW_PLUGIN_JS };

const timedOut = (line: Record<string, unknown>) => line['msg'] === 'owner node did not answer a forwarded request in time';

/** A call of slow__sleep that resolves `started` once its answer is streaming (first progress). */
function slowCall(client: Client, ms: number): { started: Promise<void>; outcome: Promise<unknown> } {
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const outcome = client
    .callTool({ name: 'slow__sleep', arguments: { ms } }, undefined, { timeout: CLIENT_TIMEOUT_MS, onprogress: () => started() })
    .catch((error: unknown) => error);
  return { started: startedPromise, outcome };
}

describe('forwarded calls in flight (cluster mode)', () => {
  let cluster: Cluster;
  let tenantId: string;
  let token: string;

  beforeAll(async () => {
    cluster = await startCluster('inflight', { nodes: 2, env: ENV });
    const tenant = await cluster.createTenant('acme');
    tenantId = tenant.id;
    await cluster.install(tenant.id, 'echo');
    await cluster.install(tenant.id, 'slow');
    token = (await cluster.issueKey(tenant.id)).token;
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('relays answers and GET streams that outlast the forward timeout to their end, with no fault', async () => {
    const pair = (i: number) => ({ owner: cluster.nodes[i % 2]!, via: cluster.nodes[(i + 1) % 2]! });
    const clients: Client[] = [];
    const streams: { reader: EventStreamReader; ended: boolean }[] = [];
    try {
      for (let i = 0; i < SESSIONS; i++) {
        const { owner, via } = pair(i);
        const client = await connectClient(via.url, '/t/acme', token, 'streamable-http', { openOn: owner.url });
        clients.push(client);
        expect(client.transport!.sessionId!.endsWith(`.${owner.nodeId}`)).toBe(true);
      }
      // Raw GET streams, each of its own session opened on one node and read through the other.
      const rawSessions = await Promise.all(Array.from({ length: STREAMS }, (_, i) => openRawSession(`${pair(i).owner.url}/t/acme/mcp`, token)));
      const readers = await Promise.all(rawSessions.map((sessionId, i) => openGetStream(`${pair(i).via.url}/t/acme/mcp`, token, sessionId)));
      for (const reader of readers) {
        const stream = { reader, ended: false };
        void reader.ended.then(() => (stream.ended = true));
        streams.push(stream);
      }
      expect(readers.map((reader) => reader.status)).toEqual(readers.map(() => 200));

      const results: string[] = [];
      await Promise.all(
        clients.map(async (client, i) => {
          for (let round = 0; round < 2; round++) {
            const [slow, quick] = await Promise.all([
              client.callTool({ name: 'slow__sleep', arguments: { ms: SLOW_CALL_MS } }, undefined, { timeout: CLIENT_TIMEOUT_MS }),
              client.callTool({ name: 'echo__echo', arguments: { text: `echo ${i} ${round}` } }),
            ]);
            results.push(firstText(slow), firstText(quick));
          }
        }),
      );
      expect(results.filter((result) => result === `slept ${SLOW_CALL_MS}`)).toHaveLength(SESSIONS * 2);
      expect(results.filter((result) => result.startsWith('echo '))).toHaveLength(SESSIONS * 2);

      // Open all along (several forward timeouts), and still carrying what the owner sends.
      expect(streams.filter((stream) => stream.ended)).toHaveLength(0);
      const bus = await cluster.controlBus();
      await bus.publish({ type: 'plugins.changed', tenantId });
      await Promise.all(streams.map((stream) => stream.reader.received(3)));
      expect(streams.filter((stream) => stream.ended)).toHaveLength(0);
      // Nothing was cut by a forward timeout, not even the SDK clients' own GET streams.
      expect(cluster.nodes.flatMap((node) => node.logs.filter(timedOut))).toEqual([]);
    } finally {
      for (const stream of streams) stream.reader.close();
      await Promise.all(clients.map((client) => disconnect(client)));
    }
  }, 60_000);

  it('ends a forwarded call with an outcome-unknown error when the receiving node loses Redis while its answer streams', async () => {
    // A third node whose Redis connections run through a relay the test can cut.
    const relay: TcpProxy = await startTcpProxy(testRedisUrl());
    let via: GatewayProcess | undefined;
    let client: Client | undefined;
    try {
      via = await cluster.startNode(2, { ...ENV, REDIS_URL: relay.url });
      client = await connectClient(via.url, '/t/acme', token, 'streamable-http', { openOn: cluster.nodes[0]!.url });
      const call = slowCall(client, SLOW_CALL_MS * 10);
      await call.started;
      await relay.cut();
      const error = await call.outcome;
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).code).not.toBe(ErrorCode.RequestTimeout);
      expect((error as McpError).message).toMatch(/may have run \(outcome unknown\)/);
    } finally {
      await client?.close();
      // Back first: the node's shutdown deregisters in Redis.
      await relay.restore();
      await via?.stop();
      await relay.close();
    }
  }, 60_000);

  it('rejects a forwarded call at once, not at its own timeout, when the node holding its session is killed mid-answer', async () => {
    const [via, owner] = cluster.nodes as [GatewayProcess, GatewayProcess];
    const client = await connectClient(via.url, '/t/acme', token, 'streamable-http', { openOn: owner.url });
    try {
      const call = slowCall(client, SLOW_CALL_MS * 10);
      // The answer's head (an event stream) and a progress event have crossed back: it streams.
      await call.started;
      owner.kill('SIGKILL');
      await owner.exited;
      const error = await call.outcome;
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).code).not.toBe(ErrorCode.RequestTimeout);
      expect((error as McpError).message).toMatch(/stopped or became unreachable.*outcome unknown/);
    } finally {
      await client.close();
    }
  }, 60_000);
});
