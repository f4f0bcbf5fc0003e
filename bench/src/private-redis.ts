import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '@switchboard/testing';

export interface PrivateRedis {
  url: string;
  /** Ends the server by its pid and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * A redis-server of the bench's own on a loopback port, without persistence, so INFO
 * commandstats sees only the commands of the run.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (attempt > 100) {
        process.kill(child.pid!, 'SIGKILL');
        throw new Error('redis-server did not start');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, 'SIGTERM');
    await exited;
  };
  return { url, stop };
}

/** Calls per command since the last CONFIG RESETSTAT, commands run inside scripts included. */
export async function commandStats(admin: Redis): Promise<Map<string, number>> {
  const stats = await admin.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of stats.matchAll(/^cmdstat_([a-z_|-]+):calls=(\d+)/gm)) calls.set(match[1], Number(match[2]));
  return calls;
}
