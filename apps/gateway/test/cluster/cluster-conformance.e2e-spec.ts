import { CONFORMANCE_SPEC_VERSIONS, listServerScenarios, runConformance, type ConformanceRun } from '../conformance/conformance-harness';
import { GENEROUS_LIMITS, startCluster, type Cluster } from './cluster-harness';

/** The suite runs ~60 scenario runs through the Node 22 CLI. */
const SUITE_TIMEOUT_MS = 300_000;

// The "done when": the official suite against a tenant's conformance endpoint through a
// round-robin balancer over two nodes, so nearly every request after initialize is forwarded.
describe('official MCP conformance suite through a round-robin balancer over two gateway nodes', () => {
  let run: ConformanceRun;
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster('conf', { nodes: 0, env: GENEROUS_LIMITS });
    run = await runConformance({
      env: {},
      prisma: cluster.prisma,
      peppers: cluster.peppers,
      startGateways: async (env) => {
        const allowed = { ALLOWED_ORIGINS: env['ALLOWED_ORIGINS']! };
        const nodes = [await cluster.startNode(0, allowed), await cluster.startNode(1, allowed)];
        // The cluster stops its nodes in afterAll.
        return { urls: nodes.map((node) => node.url), close: async () => undefined };
      },
    });
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.close();
  });

  it.each(CONFORMANCE_SPEC_VERSIONS)('runs every active server scenario of %s', async (version) => {
    const pending = run.results.filter((r) => r.specVersion === version && r.suite === 'pending').map((r) => r.scenario);
    const expected = (await listServerScenarios(version)).filter((name) => !pending.includes(name));
    expect(run.results.filter((r) => r.specVersion === version && r.suite === 'active').map((r) => r.scenario)).toEqual(expected);
  });

  it('passes every active scenario', () => {
    const failed = run.results.filter((r) => r.suite === 'active' && !r.passed).map((r) => `${r.specVersion} ${r.scenario}: ${r.failures.join('; ')}`);
    expect(failed).toEqual([]);
  });
});
