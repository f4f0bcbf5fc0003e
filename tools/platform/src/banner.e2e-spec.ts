import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTempDataDir, eventually, freePort, waitForHttp } from '@switchboard/testing';

// The `npm start` banner, from the real process on embedded PGlite (no DATABASE_URL, no secrets
// in the environment): every start tells the person at the terminal how to sign in to the
// console, with a token on the first start and with the command that mints one on later starts.

const root = path.resolve(__dirname, '../../..');
const run = promisify(execFile);
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;

describe('npm start banner (embedded PGlite, real process)', () => {
  let data: { dir: string; remove(): void };
  let env: Record<string, string>;
  let api: string;
  let running: ChildProcess | undefined;
  /** Everything the running process printed, stdout and stderr (its logs included). */
  let output = '';

  /** Starts `npm start`'s process, waits for the whole banner and returns what it printed so far. */
  async function start(): Promise<string> {
    output = '';
    const child = spawn(process.execPath, ['dist/tools/platform/src/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForHttp(`${api}/readyz`, { process: child, timeoutMs: 60_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    await eventually(() => /^ {2}Metrics/m.test(output), 20_000);
    return output;
  }

  async function stop(): Promise<void> {
    const child = running;
    running = undefined;
    if (!child || child.exitCode !== null) return;
    // 'close', not 'exit': the last of its output (logs flushed on exit) has been read by then.
    const exited = new Promise((resolve) => child.once('close', resolve));
    process.kill(child.pid!, 'SIGTERM');
    await exited;
  }

  const consoleLine = (output: string) => output.split('\n').find((line) => line.trimStart().startsWith('Console'));
  const accepted = async (token: string) => (await fetch(`${api}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } })).status;

  beforeAll(async () => {
    data = createTempDataDir('platform_banner');
    const [apiPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    api = `http://127.0.0.1:${apiPort}`;
    env = {
      DATA_DIR: data.dir,
      HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      GATEWAY_PORT: String(gatewayPort),
      API_METRICS_PORT: 'off',
      GATEWAY_METRICS_PORT: 'off',
      // Start-up logs on the same stdout: the token must appear only where the banner put it.
      LOG_LEVEL: 'info',
    };
  });

  afterEach(stop, 60_000);
  afterAll(() => data?.remove());

  it('prints a working admin token once on the first start and points the console line at it', async () => {
    const output = await start();
    const tokens = output.match(JWT) ?? [];
    expect(tokens).toHaveLength(1);
    expect(consoleLine(output)).toContain(`${api}/console/`);
    expect(consoleLine(output)).toContain('(sign in with the admin token printed above)');
    expect(await accepted(tokens[0]!)).toBe(200);
  }, 120_000);

  it('prints no token on a later start and names the command, which mints one the running platform accepts', async () => {
    const output = await start();
    expect(output).not.toMatch(JWT);
    expect(output).not.toContain('First start');
    const line = consoleLine(output);
    expect(line).toContain(`${api}/console/`);
    expect(line).toContain('`npm run admin -- token` mints one');

    // `npm run admin -- token` is the build, then this: the same secrets file, no server needed.
    const { stdout } = await run(process.execPath, ['dist/apps/api/src/cli.js', 'token'], { cwd: root, env });
    const token = stdout.trim().split('\n').pop()!.trim();
    expect(token).toMatch(JWT);
    expect(await accepted(token)).toBe(200);
  }, 120_000);
});
