import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '../../..');

async function lintAs(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  jest.setTimeout(60_000);

  // The Nx rule skips every check when no project graph is cached (a clean clone).
  beforeAll(() => execFileSync(process.execPath, [path.join(root, 'scripts/nx-graph.js')]));

  it('stops the gateway from importing the admin API app', async () => {
    const messages = await lintAs('apps/gateway/src/probe.ts', "import { startApi } from '../../api/src/main';\nexport const x = startApi;\n");
    expect(messages.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });

  it('stops the admin API from importing the gateway through the launcher alias', async () => {
    const messages = await lintAs('apps/api/src/probe.ts', "import { startGateway } from '@switchboard/gateway-app';\nexport const x = startGateway;\n");
    expect(messages.join('\n')).toMatch(/Only tools\/platform may import an app/);
  });

  it('stops a shared library from importing an app', async () => {
    const messages = await lintAs('libs/config/src/probe.ts', "import { startApi } from '@switchboard/api-app';\nexport const x = startApi;\n");
    expect(messages.length).toBeGreaterThan(0);
  });

  it('lets a plugin import only the plugin SDK', async () => {
    const messages = await lintAs('plugins/echo/probe.ts', "import { openDatabase } from '@switchboard/db';\nexport const x = openDatabase;\n");
    expect(messages.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });

  it('lets the launcher import both apps', async () => {
    const messages = await lintAs(
      'tools/platform/src/probe.ts',
      "import { startApi } from '@switchboard/api-app';\nimport { startGateway } from '@switchboard/gateway-app';\nexport const x = [startApi, startGateway];\n",
    );
    expect(messages).toEqual([]);
  });
});
