import { randomBytes } from 'node:crypto';
import { keyIdOf } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir } from '@switchboard/testing';
import { runConformance, type ConformanceRun } from './conformance-harness';
import { expectConformance } from './conformance-expectations';

/** Three suite runs (~90 scenario runs) through the Node 22 CLI; about 10 s in all when healthy. */
const SUITE_TIMEOUT_MS = 180_000;

// One gateway in this process without Redis: the single-node deployment (local session registry,
// no forwarding), which the two-node run in cluster/cluster-conformance.e2e-spec.ts does not take.
describe('official MCP conformance suite against /t/{tenant}/p/conformance/mcp on one gateway', () => {
  let run: ConformanceRun;

  beforeAll(async () => {
    const database = await createMigratedDatabase('conformance');
    const dataDir = createTempDataDir('conformance');
    const pepper = randomBytes(32);
    try {
      run = await runConformance({
        env: {
          DATABASE_URL: database.test.url,
          DATA_DIR: dataDir.dir,
          SECRETS_KEY: randomBytes(32).toString('base64'),
          KEY_PEPPER: pepper.toString('base64'),
          LOG_LEVEL: 'silent',
        },
        prisma: database.db.prisma,
        peppers: { current: { id: keyIdOf(pepper), key: pepper }, previous: [] },
      });
    } finally {
      await database.close();
      dataDir.remove();
    }
  }, SUITE_TIMEOUT_MS);

  expectConformance(() => run);
});
