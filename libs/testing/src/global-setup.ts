import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { node22Binary } from './node22';
import { testAdminDatabaseUrl } from './test-env';

const root = path.resolve(__dirname, '../../..');

/**
 * Runs once before all test files:
 * - fails at once, with the fix, when the Postgres the tests need is not reachable;
 * - compiles the tree into dist/ (SWC, about a second) so end-to-end tests can start the real
 *   entry points (`node dist/apps/gateway/src/main.js`) as processes, exactly as production does,
 *   and builds the web console into dist/console (Vite, under a second) for the browser tests;
 * - fetches the Node 22 binary the conformance suite needs, once (cached in .cache/node22).
 */
export default async function globalSetup(): Promise<void> {
  const client = new Client({ connectionString: testAdminDatabaseUrl() });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `Tests need Postgres at ${testAdminDatabaseUrl()} (set TEST_DATABASE_URL): ${(error as Error).message}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  execFileSync(process.execPath, [path.join(root, 'node_modules/@swc/cli/bin/swc.js'), ...buildArgs('swc')], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), ...buildArgs('vite')], { cwd: root, stdio: 'inherit' });
  node22Binary();
}

/** The arguments of one step of `npm run build` (the SWC or the Vite step; Prisma generation runs on install). */
function buildArgs(tool: 'swc' | 'vite'): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const command = pkg.scripts.build.split('&&').map((part) => part.trim()).find((part) => part.startsWith(`${tool} `));
  if (!command) throw new Error(`package.json build script has no ${tool} step`);
  // Split on spaces outside double quotes: `--ignore "a,b"` stays one argument.
  return (command.match(/"[^"]*"|\S+/g) ?? []).slice(1).map((arg) => arg.replace(/^"|"$/g, ''));
}
