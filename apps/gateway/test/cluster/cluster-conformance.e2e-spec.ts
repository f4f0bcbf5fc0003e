import { runConformance, type ConformanceRun } from '../conformance/conformance-harness';
import { expectConformance } from '../conformance/conformance-expectations';
import { GENEROUS_LIMITS, startCluster, type Cluster } from './cluster-harness';

/** Three suite runs (~90 scenario runs) through the Node 22 CLI; about 15 s in all when healthy. */
const SUITE_TIMEOUT_MS = 180_000;

// Issue 14's "done when": the official suite, by requirement set (2026-07-28, 2025-11-25) and
// for the 2025-06-18 wire, against a tenant's conformance endpoint through a non-sticky
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
        const nodes = [await cluster.startNode(0, env), await cluster.startNode(1, env)];
        // The cluster stops its nodes in afterAll.
        return { urls: nodes.map((node) => node.url), close: async () => undefined };
      },
    });
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.close();
  });

  expectConformance(() => run);
});
