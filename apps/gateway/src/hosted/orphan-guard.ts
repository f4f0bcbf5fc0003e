import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@switchboard/logger';

/** How long the guard gives the process groups after SIGTERM before SIGKILL. */
export const ORPHAN_KILL_GRACE_SECONDS = 2;

/**
 * The guard: a POSIX shell reading "+<pgid>" and "-<pgid>" lines on stdin. Its stdin is a pipe
 * from the gateway, so it reaches end of file however the gateway ends, SIGKILL and OOM kill
 * included; it then ends the groups still listed and exits. It ignores INT, TERM and HUP so that
 * a signal meant for the gateway's group does not stop it before it has done its job.
 */
const GUARD_SCRIPT = `
trap '' INT TERM HUP
groups=' '
while IFS= read -r line; do
  id=\${line#?}
  case $id in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) groups="$groups$id " ;;
    -*) case $groups in *" $id "*) groups="\${groups%% $id *} \${groups#* $id }" ;; esac ;;
  esac
done
[ -z "\${groups# }" ] && exit 0
for id in $groups; do kill -s TERM -- "-$id" 2>/dev/null; done
sleep ${ORPHAN_KILL_GRACE_SECONDS}
for id in $groups; do kill -s KILL -- "-$id" 2>/dev/null; done
`;

/** What a child transport tells the guard. */
export interface ProcessGroupTracker {
  track(pgid: number): void;
  untrack(pgid: number): void;
}

/**
 * Ends the hosted servers' process groups if the gateway dies without stopping them (SIGKILL,
 * OOM killer), so they never outlive their node as orphans. A graceful stop still stops them
 * itself; this covers the death that runs no code. Linux has PR_SET_PDEATHSIG for this, but it
 * reaches only the group leader (`npx` rather than the server it started) and Node cannot set
 * it; a separate watcher sees the whole group. The watcher is `/bin/sh`, not a second Node
 * process: about 1 MB instead of 40.
 */
export class OrphanGuard implements ProcessGroupTracker {
  private guard: ChildProcess | undefined;
  private broken = false;

  constructor(private readonly logger: Logger) {}

  /** The guard's pid once it runs (started with the first tracked group). */
  get pid(): number | undefined {
    return this.guard?.pid;
  }

  track(pgid: number): void {
    this.write(`+${pgid}\n`);
  }

  untrack(pgid: number): void {
    if (this.guard) this.write(`-${pgid}\n`);
  }

  /** After every group was stopped: the guard reads end of file with nothing listed, and exits. */
  async close(): Promise<void> {
    const guard = this.guard;
    if (!guard || guard.exitCode !== null || guard.signalCode !== null) return;
    const exited = new Promise((resolve) => guard.once('exit', resolve));
    guard.stdin?.end();
    await exited;
  }

  private write(line: string): void {
    if (this.broken) return;
    const stdin = (this.guard ??= this.start()).stdin;
    if (!stdin || stdin.destroyed) return this.fail(new Error('the orphan guard is not running'));
    stdin.write(line);
  }

  private start(): ChildProcess {
    const guard = spawn('/bin/sh', ['-c', GUARD_SCRIPT], {
      stdio: ['pipe', 'ignore', 'ignore'],
      // Its own process group: a signal to the gateway's group (Ctrl-C) leaves it running.
      detached: true,
      env: { PATH: '/usr/bin:/bin' },
    });
    guard.on('error', (error) => this.fail(error));
    guard.stdin!.on('error', (error) => this.fail(error));
    // Neither the process nor its pipe keeps the gateway's event loop alive.
    guard.unref();
    (guard.stdin as unknown as { unref?: () => void }).unref?.();
    return guard;
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.logger.warn({ err: error }, 'orphan guard unavailable: hosted servers may outlive this node if it is killed');
  }
}
