// `npm run test:conformance [-- --requirements 2026-07-28 | --spec-version 2025-06-18 ...]`: the
// official MCP conformance suite against a throwaway gateway with an embedded database, for the
// targets named (all of CONFORMANCE_TARGETS by default). Prints one line per scenario run and
// exits non-zero when a required scenario fails or does not run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate, openDatabase } from '@switchboard/db';
import { keyIdOf } from '@switchboard/secrets';
import { CONFORMANCE_TARGETS, formatReport, requiredProblems, runConformance, type ConformanceTarget } from './conformance-harness';

const USAGE = 'usage: run-conformance [--requirements <revision> | --spec-version <version>]...';

function targetsFrom(args: string[]): ConformanceTarget[] {
  const targets: ConformanceTarget[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (!value || !/^\d{4}-\d\d-\d\d$/.test(value)) throw new Error(USAGE);
    if (flag === '--requirements') targets.push({ requirements: value });
    else if (flag === '--spec-version') targets.push({ specVersion: value });
    else throw new Error(USAGE);
  }
  return targets.length > 0 ? targets : [...CONFORMANCE_TARGETS];
}

async function main(): Promise<number> {
  const targets = targetsFrom(process.argv.slice(2));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-conformance-data-'));
  const pepper = randomBytes(32);
  const db = openDatabase({ dataDir });
  try {
    await migrate(db);
    const run = await runConformance(
      {
        env: { DATA_DIR: dataDir, SECRETS_KEY: randomBytes(32).toString('base64'), KEY_PEPPER: pepper.toString('base64'), LOG_LEVEL: 'warn' },
        prisma: db.prisma,
        peppers: { current: { id: keyIdOf(pepper), key: pepper }, previous: [] },
      },
      targets,
    );
    process.stdout.write(`${formatReport(run, { verbose: true })}\n`);
    // Unscored scenarios (extensions, pending) are reported but, as in the suite itself, never fail the run.
    return run.runs.some((targetRun) => requiredProblems(targetRun).length > 0) ? 1 : 0;
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
