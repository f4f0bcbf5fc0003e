import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@switchboard/logger';
import type { HostedInstall } from './hosted-server';
import { HostedServerPool, HostedStartBackoffError } from './hosted-server-pool';

const BACKOFF = { initialMs: 300, maxMs: 1_000 };

describe('HostedServerPool with a server whose command fails to start', () => {
  let dir: string;
  let pool: HostedServerPool;
  let attemptsFile: string;

  /** A command that records each attempt in a file, then exits before answering `initialize`. */
  const install = (fingerprint: string): HostedInstall => ({
    tenantId: 'tenant-1',
    name: 'broken',
    spec: {
      name: 'broken',
      description: 'exits at once',
      command: process.execPath,
      args: ['-e', "require('node:fs').appendFileSync(process.argv[1], 'x'); process.exit(3)", attemptsFile],
      env: [],
      defaultMode: 'isolated',
    },
    config: {},
    mode: 'isolated',
    fingerprint,
    secretValues: [],
  });
  const attempts = () => {
    try {
      return readFileSync(attemptsFile, 'utf8').length;
    } catch {
      return 0;
    }
  };
  const session = () => ({ id: `s-${Math.random()}`, closed: new AbortController().signal });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sb-pool-'));
    attemptsFile = path.join(dir, 'attempts');
    pool = new HostedServerPool(
      { dataDir: dir, maxPerNode: 5, maxPerTenant: 5, idleTimeoutMs: 60_000, startTimeoutMs: 5_000, restartBackoff: BACKOFF },
      createLogger({ name: 'test', level: 'silent' }),
      () => undefined,
    );
  });
  afterEach(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses at once, without starting it again, until the backoff ran out, and counts the failures', async () => {
    await expect(pool.acquire(install('v1'), session())).rejects.toThrow(/did not start/);
    expect(attempts()).toBe(1);
    // A new session's slot, as an isolated server gets: the failure count is the installation's.
    await expect(pool.acquire(install('v1'), session())).rejects.toThrow(HostedStartBackoffError);
    expect(attempts()).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, BACKOFF.initialMs + 50));
    await expect(pool.acquire(install('v1'), session())).rejects.toThrow(/did not start/);
    expect(attempts()).toBe(2);
    await expect(pool.acquire(install('v1'), session())).rejects.toThrow(/failed to start 2 time\(s\) in a row/);
    expect(attempts()).toBe(2);
  });

  it('tries a reconfigured installation at once', async () => {
    await expect(pool.acquire(install('v1'), session())).rejects.toThrow(/did not start/);
    await expect(pool.acquire(install('v2'), session())).rejects.toThrow(/did not start/);
    expect(attempts()).toBe(2);
  });
});
