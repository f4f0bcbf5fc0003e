/**
 * Test helper: a redis-server of the test's own on a free loopback port, for what the shared
 * Redis must not be put through (persistence switched off, eviction, a restart). Its data
 * directory is a temporary one; `close()` ends the server by its pid and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '@switchboard/testing';

const READY_LINE = 'Ready to accept connections';
/** Redis refuses a SIGTERM while it writes its first AOF (after CONFIG SET appendonly yes); then it is killed. */
const STOP_GRACE_MS = 10_000;

export interface PrivateRedis {
  url: string;
  /** Ends the server (SIGTERM: it writes its AOF/RDB as on a clean shutdown) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory, as after a restart. */
  start(): Promise<void>;
  /** stop() and the data directory removed. */
  close(): Promise<void>;
}

/** `config`: redis.conf directives as arguments, e.g. `['--appendonly', 'yes']`. */
export async function startPrivateRedis(config: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'sb-redis-'));
  // Nothing on disk unless the test asks for it: Redis's built-in default saves RDB snapshots.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...config];
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child) return;
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const lines = createInterface({ input: started.stdout! });
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        output.push(line);
        if (line.includes(READY_LINE)) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output.join('\n')}`)));
      started.once('error', reject);
    });
    started.stdout!.resume(); // keep reading: a full pipe would stall the server's log writes
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const killer = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
