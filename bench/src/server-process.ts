import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface Probe {
  memory: NodeJS.MemoryUsage;
  /** Microseconds of CPU since the process started, after the probe's GC. */
  cpu: { user: number; system: number };
  /** The same, read before the probe's GC. */
  cpuBeforeGc: { user: number; system: number };
}

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** Full GC, then memory and CPU counters of the process. */
  probe(): Promise<Probe>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../../..');
const PROBE = path.join(ROOT, 'dist/bench/src/memory-probe.js');
const START_TIMEOUT_MS = 30_000;

/**
 * Starts a compiled entry point under the memory probe and waits until `readUrl` finds its
 * URL in a stdout line.
 */
export async function startServer(
  entry: string,
  args: string[],
  env: Record<string, string>,
  readUrl: (line: string) => string | undefined,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--expose-gc', '-r', PROBE, path.join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const probeWaiters: ((probe: Probe) => void)[] = [];
  let resolveUrl!: (url: string) => void;
  const urlFound = new Promise<string>((resolve) => (resolveUrl = resolve));
  lines.on('line', (line) => {
    if (line.startsWith('probe ')) {
      probeWaiters.shift()?.(JSON.parse(line.slice('probe '.length)) as Probe);
      return;
    }
    const url = readUrl(line);
    if (url) resolveUrl(url);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let url: string;
  try {
    url = await Promise.race([
      urlFound,
      exited.then((code) => Promise.reject(new Error(`${entry} exited (${code}) before listening: ${stderr.join('').slice(-2000)}`))),
      delay(START_TIMEOUT_MS).then(() => Promise.reject(new Error(`${entry} did not start within ${START_TIMEOUT_MS} ms`))),
    ]);
  } catch (error) {
    // A server that never became ready must not outlive the run.
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid!,
    url,
    probe: () =>
      new Promise<Probe>((resolve) => {
        probeWaiters.push(resolve);
        child.kill('SIGUSR2');
      }),
    stop: () => stop(child, exited),
  };
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** CPU microseconds used between two probes, neither probe's own GC included. */
export function cpuMicros(before: Probe, after: Probe): number {
  return after.cpuBeforeGc.user - before.cpu.user + (after.cpuBeforeGc.system - before.cpu.system);
}

