import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestDatabase, freePort, testRedisUrl, waitForHttp, type TestDatabase } from '@switchboard/testing';
import { parse } from 'yaml';

// docker compose cannot run here (no Docker engine), so this starts what compose would start,
// as processes: the same commands and environment from docker-compose.yml (secrets filled in
// as from .env), the one-shot migration, the API, two gateway replicas, and HAProxy with
// deploy/haproxy/haproxy.cfg in front. Only the addresses differ: loopback ports instead of
// service names, and two `server` lines instead of the DNS-filled `server-template`.

const root = path.resolve(__dirname, '../../..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const HAPROXY = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
// .ci/run installs HAProxy and sets this, so CI can never skip the load-balancer test silently.
// eslint-disable-next-line no-restricted-syntax
const haproxyRequired = process.env['REQUIRE_HAPROXY'] === '1';
const describeWithLb = HAPROXY || haproxyRequired ? describe : describe.skip;

type Env = Record<string, string>;

function composeEnv(service: string, dotenv: Env): Env {
  const env: Env = {};
  for (const [name, value] of Object.entries(compose.services[service].environment as Record<string, string>)) {
    // ${VAR:?message}, ${VAR:-default} and ${VAR}, as docker compose interpolates them.
    env[name] = String(value).replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g, (_m, v: string, op?: string, arg?: string) => {
      if (dotenv[v] !== undefined && dotenv[v] !== '') return dotenv[v];
      if (op === '?') throw new Error(`compose would refuse to start: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    });
  }
  return env;
}



describeWithLb('the compose topology, run as processes behind HAProxy', () => {
  jest.setTimeout(120_000);

  const children: ChildProcess[] = [];
  const logs: string[] = [];
  let database: TestDatabase;
  let workDir: string;
  let lb: string;
  let dotenv: Env;
  // Its own Redis keys and queue, apart from other test files running at the same time.
  const redisPrefix = `sb-compose-${process.pid}`;

  function start(command: string[], env: Env): ChildProcess {
    const [bin, ...args] = command;
    const child = spawn(bin === 'node' ? process.execPath : bin, args, {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', ...env }, // eslint-disable-line no-restricted-syntax
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    children.push(child);
    return child;
  }

  /** The compose environment with compose's service names replaced by this machine's loopback addresses. */
  function local(service: string): Env {
    return { ...composeEnv(service, dotenv), DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), REDIS_PREFIX: redisPrefix, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  }

  beforeAll(async () => {
    try {
      await startTopology();
    } catch (error) {
      // What the processes printed is the only clue to why one did not come up.
      throw new Error(`${(error as Error).message}\n--- process output ---\n${logs.join('').slice(-8000)}`);
    }
  });

  async function startTopology(): Promise<void> {
    if (!HAPROXY) throw new Error('HAProxy is required (REQUIRE_HAPROXY=1) but not installed: apt-get install haproxy');
    database = await createTestDatabase('compose');
    workDir = mkdtempSync(path.join(tmpdir(), 'sb-compose-'));
    const key = () => randomBytes(32).toString('base64');
    const [lbPort, apiPort, gw1, gw2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    lb = `http://127.0.0.1:${lbPort}`;
    dotenv = {
      POSTGRES_PASSWORD: 'unused-here',
      ADMIN_JWT_SECRET: randomBytes(32).toString('hex'),
      SECRETS_KEY: key(),
      KEY_PEPPER: key(),
      CLUSTER_SECRET: key(),
      PUBLIC_GATEWAY_URL: lb,
    };

    // migrate: a one-shot service that must exit 0 before the others start.
    const migrate = start(compose.services.migrate.command, local('migrate'));
    const code = await new Promise<number | null>((resolve) => migrate.once('exit', resolve));
    expect(code).toBe(0);

    const api = start(compose.services.api.command, { ...local('api'), API_PORT: String(apiPort), API_METRICS_PORT: 'off' });
    const gateways = [gw1, gw2].map((port, i) =>
      start(compose.services.gateway.command, { ...local('gateway'), GATEWAY_PORT: String(port), GATEWAY_METRICS_PORT: '0', NODE_ID: `compose-gw-${i + 1}-${process.pid}` }),
    );
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, { process: api }),
      waitForHttp(`http://127.0.0.1:${gw1}/healthz`, { process: gateways[0] }),
      waitForHttp(`http://127.0.0.1:${gw2}/healthz`, { process: gateways[1] }),
    ]);

    const cfg = readFileSync(path.join(root, 'deploy/haproxy/haproxy.cfg'), 'utf8').replace(
      /^\s*server-template gateway .*$/m,
      `  server gateway1 127.0.0.1:${gw1} check\n  server gateway2 127.0.0.1:${gw2} check`,
    );
    const cfgPath = path.join(workDir, 'haproxy.cfg');
    writeFileSync(cfgPath, cfg);
    const haproxy = start([HAPROXY, '-db', '-f', cfgPath], { LB_BIND: `127.0.0.1:${lbPort}`, API_ADDR: `127.0.0.1:${apiPort}`, GATEWAY_ADDR: 'unused:1' });
    await waitForHttp(`${lb}/healthz`, { process: haproxy });
  }

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    await database?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('serves the admin API and the tenant MCP URLs on one public port, across both gateways', async () => {
    // The README's first step for compose: mint an admin token with the CLI in the api service.
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/apps/api/src/cli.js', 'token'], { cwd: root, env: { PATH: '', ...local('api') } });
    const adminToken = stdout.trim().split(/\s+/).find((word) => word.startsWith('eyJ'));
    expect(adminToken).toBeDefined();
    const admin = (method: string, url: string, body?: unknown) =>
      fetch(`${lb}${url}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });

    expect((await admin('POST', '/v1/tenants', { slug: 'compose', name: 'Compose' })).status).toBe(201);
    expect((await admin('PUT', '/v1/tenants/compose/plugins/echo', { enabled: true, config: {} })).status).toBeLessThan(300);
    const issued = (await (await admin('POST', '/v1/tenants/compose/api-keys', { name: 'compose' })).json()) as { secret: string; urls: { sse: string; streamableHttp: string } };
    expect(issued.urls.streamableHttp).toBe(`${lb}/t/compose/mcp`);

    // Round robin without stickiness: consecutive requests of one session land on both gateways.
    const headers = { authorization: `Bearer ${issued.secret}` };
    for (const transport of [
      new StreamableHTTPClientTransport(new URL(issued.urls.streamableHttp), { requestInit: { headers } }),
      new SSEClientTransport(new URL(issued.urls.sse), {
        requestInit: { headers },
        eventSourceInit: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), ...headers } }) },
      }),
    ]) {
      const client = new Client({ name: 'compose-test', version: '1.0.0' });
      await client.connect(transport);
      for (let i = 0; i < 6; i++) {
        const result = await client.callTool({ name: 'echo__echo', arguments: { text: `hello ${i}` } });
        expect(result.content).toEqual([{ type: 'text', text: `hello ${i}` }]);
      }
      if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession();
      await client.close();
    }
  });
});
