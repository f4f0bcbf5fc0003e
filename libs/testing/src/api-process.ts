import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

// libs/testing/src from the sources (Jest), dist/libs/testing/src once built (the benchmarks): the repository either way.
const above = path.resolve(__dirname, '../../..');
const root = path.basename(above) === 'dist' ? path.dirname(above) : above;
/** The compiled admin API, as production starts it (`npm run start:api`). */
export const API_MAIN = path.join(root, 'dist/apps/api/src/main.js');
/** A bound on start-up (migrations, plugin catalog), not a measurement: a busy machine needs the room. */
const API_START_TIMEOUT_MS = 30_000;
/** SIGTERM lets the API drain; one that has not exited by then is killed. */
const API_STOP_TIMEOUT_MS = 15_000;
const LISTENING_MESSAGE = 'admin API listening';
/** The listening line is an info line: below that level it is never written and start-up could only time out. */
const QUIET_LOG_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);
/** output() keeps this much of the end: a long benchmark run logs far more than any test reads. */
const MAX_OUTPUT_CHARS = 1024 * 1024;

export interface ApiProcess {
  /** `http://host:port` from the API's "listening" line. */
  url: string;
  pid: number;
  /** What the process wrote so far, stdout and stderr (the last megabyte). */
  output(): string;
  /** SIGTERM to this pid and wait for the exit (SIGKILL after API_STOP_TIMEOUT_MS); a no-op once it has exited. */
  close(): Promise<void>;
}

/**
 * Starts the built admin API (dist/apps/api/src/main.js; `npm run build`) as a child process with
 * exactly `env` (plus PATH, and LOG_LEVEL=info unless given) and waits for its "listening" log
 * line. A process that exits or stays silent is killed and the error carries its last output.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const level = env['LOG_LEVEL'] ?? 'info';
  if (QUIET_LOG_LEVELS.has(level)) throw new Error(`startApiProcess needs LOG_LEVEL info or lower to see the "${LISTENING_MESSAGE}" line, not ${level}`);
  const child = spawn(process.execPath, [API_MAIN], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env, LOG_LEVEL: level },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (text: string) => {
    output = (output + text).slice(-MAX_OUTPUT_CHARS);
  };
  child.stderr.on('data', (chunk: Buffer) => keep(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  let timer: NodeJS.Timeout | undefined;
  const listening = new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).on('line', (text) => {
      keep(`${text}\n`);
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line['msg'] === LISTENING_MESSAGE) resolve(String(line['url']));
      } catch {
        // Not a log line (the first-start token, say).
      }
    }),
  );
  let url: string;
  try {
    url = await Promise.race([
      listening,
      exited.then(() => Promise.reject(new Error(`the admin API exited before listening: ${output.slice(-2000)}`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the admin API did not listen within ${API_START_TIMEOUT_MS} ms: ${output.slice(-2000)}`)), API_START_TIMEOUT_MS))),
    ]);
  } catch (error) {
    // A process that never became ready must not outlive the test.
    if (!hasExited()) child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    pid: child.pid!,
    output: () => output,
    close: () =>
      (closing ??= (async () => {
        if (hasExited()) return;
        process.kill(child.pid!, 'SIGTERM');
        const killer = setTimeout(() => !hasExited() && process.kill(child.pid!, 'SIGKILL'), API_STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(killer);
      })()),
  };
}
