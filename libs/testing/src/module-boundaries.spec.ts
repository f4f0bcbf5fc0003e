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

  it('stops the browser console from importing server code', async () => {
    const messages = await lintAs('apps/console/src/probe.tsx', "import { openDatabase } from '@switchboard/db';\nexport const x = openDatabase;\n");
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

describe("the gateway's floors", () => {
  jest.setTimeout(60_000);

  it('stops a lower floor from importing a higher one', async () => {
    const messages = await lintAs('apps/gateway/src/protocol/probe.ts', "import { McpSession } from '../sessions/mcp-session';\nexport const x = McpSession;\n");
    expect(messages.join('\n')).toMatch(/no-restricted-imports: .*protocol\/ may import only the floors below it/);
  });

  it('stops sessions from importing the accounting above them, and any floor from importing main', async () => {
    const upward = await lintAs('apps/gateway/src/sessions/probe.ts', "import { GatewayLimits } from '../accounting/gateway-limits';\nexport const x = GatewayLimits;\n");
    expect(upward.join('\n')).toMatch(/no-restricted-imports/);
    const root = await lintAs('apps/gateway/src/transports/probe.ts', "import { startGateway } from '../main';\nexport const x = startGateway;\n");
    expect(root.join('\n')).toMatch(/no-restricted-imports/);
  });

  it('keeps the authorization server (oauth/) under transports/, the only floor writing HTTP', async () => {
    const upward = await lintAs('apps/gateway/src/oauth/probe.ts', "import { registerOAuthRoutes } from '../transports/oauth-routes';\nexport const x = registerOAuthRoutes;\n");
    expect(upward.join('\n')).toMatch(/no-restricted-imports: .*oauth\/ may import only the floors below it/);
    const down = await lintAs('apps/gateway/src/transports/probe.ts', "import { AuthorizationServer } from '../oauth/authorization-server';\nexport const x = AuthorizationServer;\n");
    expect(down).toEqual([]);
  });

  it('lets a floor import the floors below it and its own folder', async () => {
    const messages = await lintAs(
      'apps/gateway/src/cluster/probe.ts',
      "import { McpSession } from '../sessions/mcp-session';\nimport { refuse } from '../protocol/jsonrpc-errors';\nimport { NodeLink } from './node-link';\nexport const x = [McpSession, refuse, NodeLink];\n",
    );
    expect(messages).toEqual([]);
  });

  it('still keeps the app aliases out of the gateway floors', async () => {
    const messages = await lintAs('apps/gateway/src/sessions/probe.ts', "import { startApi } from '@switchboard/api-app';\nexport const x = startApi;\n");
    expect(messages.join('\n')).toMatch(/Only tools\/platform may import an app/);
  });
});
