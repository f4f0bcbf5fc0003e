import { spawn, type ChildProcess } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ProcessGroupTracker } from './orphan-guard';

/** After SIGTERM to the process group, how long a server may take to exit before SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** Largest single JSON-RPC line accepted from a server (the SDK's ReadBuffer enforces it). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface ChildProcessParams {
  command: string;
  args: string[];
  /** The COMPLETE environment: nothing of the gateway's own is added. */
  env: Record<string, string>;
  cwd: string;
  /** Raw stderr chunks; the caller limits and redacts before logging. */
  onStderr(chunk: Buffer): void;
  /** Told of the child's process group while it lives (the node's orphan guard). */
  processGroups?: ProcessGroupTracker;
}

/** How a child ended, for crash logs. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * MCP over the stdio of a child process in its own process group. The SDK's StdioClientTransport
 * is not used because it starts no process group (a `npx`/`uvx` wrapper's grandchildren would
 * outlive a kill) and always merges the gateway's HOME, PATH, SHELL and USER into the child's
 * environment. The framing is the SDK's own (ReadBuffer, serializeMessage).
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** How the child ended; set just before onclose. */
  exit: ChildExit | undefined;
  private child: ChildProcess | undefined;
  private readonly buffer = new ReadBuffer({ maxBufferSize: MAX_MESSAGE_BYTES });
  private exited: Promise<void> | undefined;

  constructor(private readonly params: ChildProcessParams) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, this.params.args, {
        env: this.params.env,
        cwd: this.params.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, so killGroup() reaches whatever it spawns too.
        detached: true,
        shell: false,
      });
      this.child = child;
      this.exited = new Promise((done) =>
        child.once('close', (code, signal) => {
          this.exit = { code, signal };
          done();
          this.onclose?.();
        }),
      );
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => {
        this.params.processGroups?.track(child.pid!);
        resolve();
      });
      child.once('exit', () => {
        // The leader is gone (crashed or stopped): whatever it left in its group goes too, and
        // the group number may be reused, so the guard forgets it.
        this.killGroup('SIGKILL');
        this.params.processGroups?.untrack(child.pid!);
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        try {
          this.buffer.append(chunk);
          for (let message = this.buffer.readMessage(); message; message = this.buffer.readMessage()) this.onmessage?.(message);
        } catch (error) {
          // A line that is not JSON-RPC (a server printing logs to stdout): report, keep reading.
          this.onerror?.(error as Error);
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => this.params.onStderr(chunk));
      child.stdin!.on('error', (error) => this.onerror?.(error));
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('the server process is not running');
    await new Promise<void>((resolve, reject) => stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve())));
  }

  /** Ends the whole process group: SIGTERM, then SIGKILL after KILL_GRACE_MS; resolves once reaped. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      this.killGroup('SIGTERM');
      const timer = setTimeout(() => this.killGroup('SIGKILL'), KILL_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  /** Signals every process of the child's group (negative pid). */
  killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
