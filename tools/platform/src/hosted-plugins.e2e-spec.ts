import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestDatabase, firstText, freePort, waitForHttp, type TestDatabase } from '@switchboard/testing';

// The "done when": through the admin API alone, a tenant hosts
// @modelcontextprotocol/server-memory with its own settings and uses it from an MCP client via
// its tenant URL, alongside notes and http. `npm start` (API + gateway in one process) runs as a
// real process; everything after start-up goes through HTTP.

const root = path.resolve(__dirname, '../../..');
const memoryBin = (() => {
  const dir = path.join(root, 'node_modules/@modelcontextprotocol/server-memory');
  const { bin } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return path.join(dir, Object.values(bin)[0]);
})();



/** The pids of this process's descendants (hosted servers run under the platform process). */
function descendants(pid: number): number[] {
  const children = (readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)).map(Number);
  return children.flatMap((child) => {
    try {
      return [child, ...descendants(child)];
    } catch {
      return [child];
    }
  });
}

const exists = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a tenant hosts server-memory through the admin API and uses it with notes and http', () => {
  jest.setTimeout(90_000);
  let database: TestDatabase;
  let dataDir: string;
  let platform: ChildProcess;
  let api: string;
  let gateway: string;
  let env: Record<string, string>;
  let logs = '';
  let page: Server;
  let pageUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('hosted_e2e');
    dataDir = mkdtempSync(path.join(tmpdir(), 'sb-hosted-e2e-'));
    const [apiPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    env = {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      GATEWAY_PORT: String(gatewayPort),
      API_METRICS_PORT: 'off',
      GATEWAY_METRICS_PORT: 'off',
      ADMIN_JWT_SECRET: randomBytes(32).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: randomBytes(32).toString('base64'),
      PUBLIC_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      LOG_LEVEL: 'warn',
      // The http plugin may reach this test's page on 127.0.0.1, and nothing else private.
      OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32',
    };
    api = `http://127.0.0.1:${apiPort}`;
    gateway = `http://127.0.0.1:${gatewayPort}`;
    await promisify(execFile)(process.execPath, ['dist/apps/api/src/cli.js', 'migrate'], { cwd: root, env });
    platform = spawn(process.execPath, ['dist/tools/platform/src/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    platform.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    platform.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    page = createServer((_req, res) => res.setHeader('content-type', 'text/html').end('<h1>Release notes</h1><p>Version <b>2</b> ships hosted servers.</p>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/release`;
    await Promise.all([waitForHttp(`${api}/readyz`, { process: platform }), waitForHttp(`${gateway}/healthz`, { process: platform })]);
  });

  afterAll(async () => {
    if (platform.exitCode === null) {
      platform.kill('SIGKILL');
      await new Promise((resolve) => platform.once('exit', resolve));
    }
    await new Promise((resolve) => page.close(resolve));
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the template, installs it for the tenant, and an SDK client lists and calls memory, notes and http tools; SIGTERM leaves no child behind', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/apps/api/src/cli.js', 'token'], { cwd: root, env });
    const adminToken = stdout.trim().split('\n').pop()!.trim();
    // Response bodies are untyped JSON, asserted on field by field.
    const admin = async (method: string, route: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${api}${route}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = res.status === 204 ? undefined : await res.json();
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    await admin('POST', '/v1/server-templates', {
      name: 'memory',
      description: 'Knowledge-graph memory (@modelcontextprotocol/server-memory)',
      command: process.execPath,
      args: [memoryBin],
      env: [{ name: 'MEMORY_FILE_PATH', value: '{home}/memory.jsonl' }],
      defaultMode: 'isolated',
    });
    const tenant = await admin('POST', '/v1/tenants', { slug: 'acme', name: 'Acme' });
    await admin('PUT', '/v1/tenants/acme/plugins/memory', { config: { mode: 'shared' } });
    await admin('PUT', '/v1/tenants/acme/plugins/notes', { config: {} });
    await admin('PUT', '/v1/tenants/acme/plugins/http', { config: {} });
    const catalog = await admin('GET', '/v1/plugins');
    expect(catalog.items.map((p: { name: string; kind: string }) => `${p.kind}:${p.name}`)).toEqual(expect.arrayContaining(['server-template:memory', 'plugin:notes', 'plugin:http']));
    const key = await admin('POST', `/v1/tenants/${tenant.id}/api-keys`, { name: 'laptop' });

    const client = new Client({ name: 'e2e', version: '1.0.0' });
    expect(key.urls.streamableHttp).toBe(`${gateway}/t/acme/mcp`);
    await client.connect(new StreamableHTTPClientTransport(new URL(key.urls.streamableHttp), { requestInit: { headers: { authorization: `Bearer ${key.secret}` } } }));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['memory__create_entities', 'memory__read_graph', 'notes__add', 'notes__search', 'http__fetch']));

    await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'Switchboard', entityType: 'project', observations: ['hosts MCP servers'] }] } });
    expect(firstText(await client.callTool({ name: 'memory__read_graph', arguments: {} }))).toContain('hosts MCP servers');

    const fetched = await client.callTool({ name: 'http__fetch', arguments: { url: pageUrl } });
    expect(firstText(fetched)).toBe('# Release notes\n\nVersion **2** ships hosted servers.');
    await client.callTool({ name: 'notes__add', arguments: { title: 'Release', body: firstText(fetched) } });
    const found = await client.callTool({ name: 'notes__search', arguments: { query: 'hosted servers' } });
    expect(firstText(found)).toContain('Release');
    // The SSRF guard still refuses what the operator did not open.
    expect(firstText(await client.callTool({ name: 'http__fetch', arguments: { url: 'http://[::1]:9/' } }))).toMatch(/Refusing to connect.*loopback/);

    const hostedPids = descendants(platform.pid!);
    expect(hostedPids.length).toBeGreaterThan(0);
    await client.close();

    // SIGTERM: the platform stops its hosted servers before it exits.
    platform.kill('SIGTERM');
    expect(await new Promise((resolve) => platform.once('exit', (code) => resolve(code)))).toBe(0);
    expect(hostedPids.filter(exists)).toEqual([]);
    expect(logs).not.toMatch(/Switchboard failed to start/);
  });
});
