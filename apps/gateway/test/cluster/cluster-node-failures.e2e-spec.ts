import { randomBytes } from 'node:crypto';
import { SignedEnvelopeCodec } from '@switchboard/coordination';
import { testRedisUrl } from '@switchboard/testing';
import { Redis } from 'ioredis';
import {
  connectClient,
  eventually,
  GENEROUS_LIMITS,
  openGetStream,
  openRawSession,
  rawPost,
  sessionHeaders,
  startCluster,
  type Cluster,
} from './cluster-harness';

/** Short, so the stalled-owner case is quick to test (production default: 10 s). */
const FORWARD_TIMEOUT_MS = 1_000;
/** The issue's bound for a dead node's sessions to leave the registry (the node TTL is 9 s). */
const REGISTRY_CLEANUP_MS = 10_000;
const TOOLS_LIST = { jsonrpc: '2.0', id: 7, method: 'tools/list' };

describe('gateway nodes failing, revocations and forged messages (cluster mode)', () => {
  let cluster: Cluster;
  let tenantId: string;
  let token: string;
  const mcpUrl = (node: number) => `${cluster.nodes[node]!.url}/t/acme/mcp`;

  beforeAll(async () => {
    cluster = await startCluster('fail', { nodes: 3, env: { ...GENEROUS_LIMITS, FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS) } });
    const tenant = await cluster.createTenant('acme');
    tenantId = tenant.id;
    await cluster.install(tenant.id, 'echo');
    token = (await cluster.issueKey(tenant.id)).token;
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('lets a client whose GET-stream node died resume through another node and get what it missed', async () => {
    const bus = await cluster.controlBus();
    const sessionId = await openRawSession(mcpUrl(2), token);
    const stream = await openGetStream(mcpUrl(1), token, sessionId);
    expect(stream.status).toBe(200);
    // A plugin change makes the owner announce three list changes on the GET stream.
    await bus.publish({ type: 'plugins.changed', tenantId });
    const seen = await stream.received(3);
    const lastSeen = seen[2]!.id!;

    cluster.nodes[1]!.kill('SIGKILL');
    await cluster.nodes[1]!.exited;
    await stream.ended;
    await bus.publish({ type: 'plugins.changed', tenantId });

    // Through the remaining non-owner node: the owner replays from Redis, then keeps streaming.
    let resumedStream: Awaited<ReturnType<typeof openGetStream>> | undefined;
    const resumed = await eventually(async () => {
      const attempt = await openGetStream(mcpUrl(0), token, sessionId, lastSeen);
      if (attempt.status === 200) {
        resumedStream = attempt;
        return true;
      }
      // 409 while the owner has not yet noticed the dead node's stream is gone (≤ 1 s).
      attempt.close();
      return false;
    });
    expect(resumed).toBeLessThan(2_000);
    const replayed = await resumedStream!.received(3);
    expect(replayed.map((event) => JSON.parse(event.data).method)).toEqual([
      'notifications/tools/list_changed',
      'notifications/prompts/list_changed',
      'notifications/resources/list_changed',
    ]);
    expect(replayed.every((event) => !seen.some((old) => old.id === event.id))).toBe(true);
    resumedStream!.close();
    await cluster.startNode(1, { ...GENEROUS_LIMITS, FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS) });
  }, 30_000);

  it('answers 404 promptly for a killed node’s sessions, ends its tunnels, drops it from the registry, and never resurrects them', async () => {
    const victim = cluster.nodes[0]!;
    const streamable = await openRawSession(mcpUrl(0), token);
    const tunnel = await openGetStream(mcpUrl(2), token, streamable);
    expect(tunnel.status).toBe(200);
    const sse = await connectClient(victim.url, '/t/acme', token, 'sse', { postOrigin: cluster.nodes[1]!.url });
    const survivor = await openRawSession(mcpUrl(1), token);
    await eventually(async () => (await cluster.redis.hlen(cluster.keys.nodeSessions(victim.nodeId))) >= 2);

    victim.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();

    const answer = await rawPost(mcpUrl(1), token, TOOLS_LIST, sessionHeaders(streamable));
    // 404, not the forward timeout's 504: the receiving node saw the owner gone. The time bound
    // only rules out a hang; it leaves room for a loaded machine.
    expect(answer.status).toBe(404);
    expect(Date.now() - killedAt).toBeLessThan(3_000);
    await tunnel.ended;
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    await expect(sse.callTool({ name: 'echo__echo', arguments: { text: 'x' } })).rejects.toThrow();
    await sse.close();

    // Other nodes are unaffected.
    const fine = await rawPost(mcpUrl(2), token, TOOLS_LIST, sessionHeaders(survivor));
    expect(fine.status).toBe(200);
    await fine.body?.cancel();

    const cleanedAfter = await eventually(async () => (await cluster.redis.exists(cluster.keys.nodeSessions(victim.nodeId))) === 0, REGISTRY_CLEANUP_MS + 2_000, 250);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(REGISTRY_CLEANUP_MS);
    expect(cleanedAfter).toBeGreaterThan(0);

    const restarted = await cluster.startNode(0, { ...GENEROUS_LIMITS, FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS) });
    const stale = await rawPost(`${restarted.url}/t/acme/mcp`, token, TOOLS_LIST, sessionHeaders(streamable));
    expect(stale.status).toBe(404);
    expect((await cluster.directory.listTenant(tenantId)).some((entry) => entry.sessionId === streamable)).toBe(false);
  }, 40_000);

  it('answers 504 with a JSON-RPC error when the owner does not answer in time', async () => {
    const owner = cluster.nodes[2]!;
    const sessionId = await openRawSession(mcpUrl(2), token);
    // A stalled process keeps its Redis subscription but answers nothing.
    owner.kill('SIGSTOP');
    try {
      const started = Date.now();
      const answer = await rawPost(mcpUrl(1), token, TOOLS_LIST, sessionHeaders(sessionId));
      expect(answer.status).toBe(504);
      expect(((await answer.json()) as { error: { code: number; message: string } }).error.message).toMatch(/did not answer in time/);
      expect(Date.now() - started).toBeLessThan(FORWARD_TIMEOUT_MS + 3_000);
    } finally {
      owner.kill('SIGCONT');
    }
  });

  it('closes a revoked key’s sessions on every node within a second', async () => {
    const key = await cluster.issueKey(tenantId);
    const onNode1 = await connectClient(cluster.nodes[1]!.url, '/t/acme', key.token, 'sse');
    const onNode2 = await connectClient(cluster.nodes[2]!.url, '/t/acme', key.token, 'sse', { postOrigin: cluster.nodes[1]!.url });
    const streamable = await openRawSession(mcpUrl(1), key.token);
    await eventually(async () => (await cluster.directory.listTenant(tenantId)).filter((entry) => entry.keyId === key.id).length === 3);

    const bus = await cluster.controlBus();
    await cluster.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    // The clock starts where the admin API's part ends: it publishes once the revocation is committed.
    const publishedAt = Date.now();
    await bus.publish({ type: 'api-key.revoked', tenantId, keyId: key.id });
    // Each node removes a session from the registry as it closes it.
    await eventually(async () => (await cluster.directory.listTenant(tenantId)).every((entry) => entry.keyId !== key.id));
    expect(Date.now() - publishedAt).toBeLessThan(1_000);
    const gone = await rawPost(mcpUrl(1), key.token, TOOLS_LIST, sessionHeaders(streamable));
    expect(gone.status).toBe(401);
    // The SSE clients would reconnect (EventSource does) and be refused; stop them.
    await Promise.all([onNode1.close(), onNode2.close()]);
  });

  it('rejects a forged inter-node message and a replayed genuine one', async () => {
    const owner = cluster.nodes[2]!;
    const sessionId = await openRawSession(mcpUrl(2), token);
    const spy = new Redis(testRedisUrl());
    const attacker = new Redis(testRedisUrl());
    try {
      const captured = new Promise<string>((resolve) => spy.on('message', (_channel, raw: string) => resolve(raw)));
      await spy.subscribe(cluster.keys.nodeChannel(owner.nodeId));
      // A genuine forwarded request (node 1 → owner), captured on the wire.
      const genuine = await rawPost(mcpUrl(1), token, TOOLS_LIST, sessionHeaders(sessionId));
      expect(genuine.status).toBe(200);
      await genuine.body?.cancel();
      const raw = await captured;

      const replayed = owner.logLine((line) => line['msg'] === 'rejected a message on the node channel' && line['reason'] === 'replayed');
      await attacker.publish(cluster.keys.nodeChannel(owner.nodeId), raw);
      await replayed;

      const forger = new SignedEnvelopeCodec({ secret: randomBytes(32), nodeId: cluster.nodes[1]!.nodeId });
      const payload = JSON.parse(raw.slice(raw.indexOf('.') + 1)).payload as { fwd: { request: { method: string } } };
      payload.fwd.request.method = 'DELETE';
      const forged = owner.logLine((line) => line['msg'] === 'rejected a message on the node channel' && line['reason'] === 'bad-signature');
      await attacker.publish(cluster.keys.nodeChannel(owner.nodeId), forger.encode(payload));
      await forged;

      // The forged DELETE did nothing: the session still answers.
      const still = await rawPost(mcpUrl(2), token, TOOLS_LIST, sessionHeaders(sessionId));
      expect(still.status).toBe(200);
      await still.body?.cancel();
    } finally {
      spy.disconnect();
      attacker.disconnect();
    }
  });
});
