import { randomBytes } from 'node:crypto';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../otlp-receiver';
import { GENEROUS_LIMITS, openRawSession, rawPost, sessionHeaders, startCluster, type Cluster } from './cluster-harness';

describe('tracing across two gateway nodes (cluster mode)', () => {
  let receiver: OtlpReceiver;
  let cluster: Cluster;
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  let owner: string;
  let landing: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    cluster = await startCluster('trace', { nodes: 2, env: { ...GENEROUS_LIMITS, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    const tenant = await cluster.createTenant('acme');
    await cluster.install(tenant.id, 'echo');
    const { token } = await cluster.issueKey(tenant.id);
    const [ownerNode, landingNode] = cluster.nodes;
    owner = ownerNode!.nodeId;
    landing = landingNode!.nodeId;
    const sessionId = await openRawSession(`${ownerNode!.url}/t/acme/mcp`, token);
    // The session lives on the first node; its tools/call lands on the second and is forwarded.
    const call = await rawPost(
      `${landingNode!.url}/t/acme/mcp`,
      token,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo__echo', arguments: { text: 'traced' } } },
      { ...sessionHeaders(sessionId), traceparent: `00-${traceId}-${parentId}-01` },
    );
    expect(call.status).toBe(200);
    expect(await call.text()).toContain('traced');
    // Stopping the nodes (SIGTERM, graceful close) flushes their batch processors.
    await cluster.close();
  }, 90_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('records one trace: request on the landing node → forward → forwarded on the owner → tool call', () => {
    const spans = receiver.spans.filter((span) => span.traceId === traceId);
    const find = (name: string, node: string): ReceivedSpan => {
      const span = spans.find((s) => s.name === name && s.node === node);
      if (!span) throw new Error(`no span ${name} on ${node} in ${spans.map((s) => `${s.name}@${s.node}`).join(', ')}`);
      return span;
    };
    const request = find('POST /t/:tenant/mcp', landing);
    const forward = find('forward', landing);
    const forwarded = find('forwarded', owner);
    const tool = find('tools/call echo__echo', owner);
    expect(request.parentSpanId).toBe(parentId);
    expect(find('admission', landing).parentSpanId).toBe(request.spanId);
    expect(forward.parentSpanId).toBe(request.spanId);
    expect(forward.kind).toBe(3); // CLIENT
    expect(forward.attributes['switchboard.owner_node']).toBe(owner);
    expect(forwarded.parentSpanId).toBe(forward.spanId);
    expect(forwarded.kind).toBe(2); // SERVER
    expect(forwarded.attributes['switchboard.from_node']).toBe(landing);
    expect(tool.parentSpanId).toBe(forwarded.spanId);
  });
});
