import { randomBytes } from 'node:crypto';
import { keyIdOf } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir } from '@switchboard/testing';
import { CONFORMANCE_SPEC_VERSIONS, listServerScenarios, runConformance, type ConformanceRun } from './conformance-harness';

/** The suite runs ~60 scenario runs against a real gateway through the Node 22 CLI. */
const SUITE_TIMEOUT_MS = 240_000;

describe('official MCP conformance suite against /t/{tenant}/p/conformance/mcp', () => {
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

  it.each(CONFORMANCE_SPEC_VERSIONS)('runs every active server scenario of %s', async (version) => {
    const pending = run.results.filter((r) => r.specVersion === version && r.suite === 'pending').map((r) => r.scenario);
    const expected = (await listServerScenarios(version)).filter((name) => !pending.includes(name));
    expect(expected.length).toBeGreaterThan(0);
    expect(run.results.filter((r) => r.specVersion === version && r.suite === 'active').map((r) => r.scenario)).toEqual(expected);
  });

  it('passes every active scenario', () => {
    const failed = run.results.filter((r) => r.suite === 'active' && !r.passed).map((r) => `${r.specVersion} ${r.scenario}: ${r.failures.join('; ')}`);
    expect(failed).toEqual([]);
  });
});
