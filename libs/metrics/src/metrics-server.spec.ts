import { createMetricsRegistry } from './metrics-registry';
import { startMetricsServer } from './metrics-server';

describe('startMetricsServer', () => {
  it('serves /metrics in the Prometheus text format, 404 elsewhere, and closes', async () => {
    const metrics = createMetricsRegistry({ app: 'gateway', nodeId: 'gw-test', processMetrics: false });
    metrics.toolCalls.inc({ plugin: 'echo', tool: 'echo', outcome: 'ok' }, 3);
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await res.text()).toContain('switchboard_gateway_tool_calls_total{plugin="echo",tool="echo",outcome="ok",node="gw-test"} 3');
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });
});
