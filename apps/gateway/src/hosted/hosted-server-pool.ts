import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@switchboard/logger';
import type { ServerMode } from '@switchboard/hosted-servers';
import type { ChildExit } from './child-process-transport';
import { HostedServer, type HostedInstall } from './hosted-server';
import type { ProcessGroupTracker } from './orphan-guard';

/** How often idle hosted servers are looked for, at most. */
const MAX_REAP_INTERVAL_MS = 5_000;
/** A child that ran this long before dying starts its crash count afresh. */
const STABLE_RUN_MS = 60_000;

export interface HostedServerPoolOptions {
  /** Installations get private directories (HOME, cwd) under `{dataDir}/hosted/`. */
  dataDir: string;
  maxPerNode: number;
  maxPerTenant: number;
  /** A server with no call for this long is stopped (a later call starts it again). */
  idleTimeoutMs: number;
  startTimeoutMs: number;
  /** Wait before restarting after a crash: initial, doubling per consecutive crash, up to max. */
  restartBackoff: { initialMs: number; maxMs: number };
  /** Ends the servers' process groups if the node dies without stopping them. */
  processGroups?: ProcessGroupTracker;
}

/**
 * Counters for the metrics engineer to hook (libs/metrics); the default does nothing. Called
 * synchronously, so implementations must be cheap.
 */
export interface HostedServerEvents {
  started(template: string, mode: ServerMode, startupMs: number): void;
  crashed(template: string, exit: ChildExit): void;
  reaped(template: string): void;
  refused(template: string, reason: HostedCapacityError['limit']): void;
}

export const NO_HOSTED_SERVER_EVENTS: HostedServerEvents = { started() {}, crashed() {}, reaped() {}, refused() {} };

/** A node or tenant has as many hosted servers as it may; the call gets an error result. */
export class HostedCapacityError extends Error {
  constructor(readonly limit: 'node' | 'tenant', max: number) {
    super(`Hosted server capacity reached (${max} per ${limit}); try again when another server is idle`);
    this.name = 'HostedCapacityError';
  }
}

/**
 * A server whose command failed to start is not tried again before its backoff ran out; the call
 * gets an error result at once instead of another doomed start.
 */
export class HostedStartBackoffError extends Error {
  constructor(template: string, failures: number, retryInMs: number) {
    super(`Hosted server ${template} failed to start ${failures} time(s) in a row; next attempt in ${Math.ceil(retryInMs / 1000)} s`);
    this.name = 'HostedStartBackoffError';
  }
}

/** Where one server runs: a shared slot per tenant and template, or one per session (isolated). */
interface Slot {
  key: string;
  install: HostedInstall;
  server: HostedServer | undefined;
  starting: Promise<HostedServer> | undefined;
  crashes: number;
  lastCrashAt: number;
  retired: boolean;
}

export interface HostedServerInfo {
  pid: number;
  tenantId: string;
  template: string;
  mode: ServerMode;
  sessionId: string | undefined;
}

/**
 * Every hosted server on this node: starts them on demand, one per session (isolated) or one per
 * tenant and template (shared), within the node and tenant caps; restarts after a crash with
 * backoff; stops idle ones; stops all of them (whole process groups) on close.
 */
export class HostedServerPool {
  private readonly slots = new Map<string, Slot>();
  /**
   * Consecutive failed starts per installation version, kept here rather than on the slot: an
   * isolated server's slot lives for one session (or one tool listing), so a per-slot count would
   * start from zero on every attempt.
   */
  private readonly failedStarts = new Map<string, { tenantId: string; fingerprint: string; count: number; lastAt: number }>();
  private readonly reaper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly options: HostedServerPoolOptions,
    private readonly logger: Logger,
    private readonly onListChanged: (install: HostedInstall) => void,
    private readonly events: HostedServerEvents = NO_HOSTED_SERVER_EVENTS,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), Math.min(MAX_REAP_INTERVAL_MS, Math.max(options.idleTimeoutMs / 2, 10)));
    this.reaper.unref();
  }

  /** The server a call of this session uses, started if needed. */
  async acquire(install: HostedInstall, session: { id: string; closed: AbortSignal } | undefined): Promise<HostedServer> {
    if (this.closed) throw new Error('the gateway is shutting down');
    // Per installation, not per template: two installations of one template are two servers.
    const base = `${install.tenantId}/${install.name}`;
    const key = install.mode === 'shared' || !session ? base : `${base}/${session.id}`;
    let slot = this.slots.get(key);
    if (slot && slot.install.fingerprint !== install.fingerprint) {
      // Reconfigured: the old server must not answer with the old environment.
      void this.retire(slot);
      slot = undefined;
    }
    if (!slot) {
      const created: Slot = { key, install, server: undefined, starting: undefined, crashes: 0, lastCrashAt: 0, retired: false };
      this.slots.set(key, created);
      if (install.mode === 'isolated' && session) {
        if (session.closed.aborted) void this.retire(created);
        else session.closed.addEventListener('abort', () => void this.retire(created), { once: true });
      }
      slot = created;
    }
    if (slot.server?.alive) return slot.server;
    const current = slot;
    current.starting ??= this.startIn(current).finally(() => (current.starting = undefined));
    return current.starting;
  }

  /** Stops servers of this tenant whose installation is gone or changed. */
  reconcile(tenantId: string, activeFingerprints: ReadonlySet<string>): void {
    for (const slot of this.slots.values()) {
      if (slot.install.tenantId === tenantId && !activeFingerprints.has(slot.install.fingerprint)) void this.retire(slot);
    }
    for (const [key, failed] of this.failedStarts) {
      if (failed.tenantId === tenantId && !activeFingerprints.has(failed.fingerprint)) this.failedStarts.delete(key);
    }
  }

  /** Runs `work` on a throwaway server of this installation (isolated templates' tool listing). */
  async withProbe<T>(install: HostedInstall, work: (server: HostedServer) => Promise<T>): Promise<T> {
    const probe = new AbortController();
    try {
      const server = await this.acquire({ ...install, mode: 'isolated' }, { id: `probe-${install.fingerprint}`, closed: probe.signal });
      return await server.use(() => work(server));
    } finally {
      probe.abort();
    }
  }

  list(): HostedServerInfo[] {
    return [...this.slots.values()]
      .filter((slot) => slot.server?.alive)
      .map((slot) => ({
        pid: slot.server!.pid,
        tenantId: slot.install.tenantId,
        template: slot.install.spec.name,
        mode: slot.install.mode,
        sessionId: slot.key.split('/')[2],
      }));
  }

  /** Stops every server (process groups) and waits until each is reaped. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    await Promise.all([...this.slots.values()].map((slot) => this.retire(slot)));
  }

  private async startIn(slot: Slot): Promise<HostedServer> {
    const { install } = slot;
    const template = install.spec.name;
    this.checkCapacity(slot);
    const wait = this.backoffLeft(slot);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (slot.retired || this.closed) throw new Error(`hosted server ${template} was stopped`);
    // A crashed server is waited for (it started before, it likely starts again); one that failed
    // to start is refused until its backoff ran out (it likely fails again): no request waits.
    const failuresKey = `${install.tenantId}/${install.name}/${install.fingerprint}`;
    const failures = this.failedStarts.get(failuresKey);
    const retryInMs = failures ? failures.lastAt + this.backoffDelay(failures.count) - Date.now() : 0;
    if (failures && retryInMs > 0) throw new HostedStartBackoffError(template, failures.count, retryInMs);
    // Per installation: two installations of one template keep their files apart (the default name is the template's).
    const home = path.join(this.options.dataDir, 'hosted', install.tenantId, install.name);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    let server: HostedServer;
    try {
      server = await HostedServer.start(install, {
        home,
        logger: this.logger,
        startTimeoutMs: this.options.startTimeoutMs,
        onListChanged: () => this.onListChanged(install),
        processGroups: this.options.processGroups,
      });
    } catch (error) {
      const count = (failures?.count ?? 0) + 1;
      this.failedStarts.set(failuresKey, { tenantId: install.tenantId, fingerprint: install.fingerprint, count, lastAt: Date.now() });
      this.logger.warn({ err: error, tenantId: install.tenantId, template, failures: count, retryInMs: this.backoffDelay(count) }, 'hosted server did not start');
      throw error;
    }
    this.failedStarts.delete(failuresKey);
    this.events.started(template, install.mode, server.startupMs);
    if (slot.retired || this.closed) {
      await server.close();
      throw new Error(`hosted server ${template} was stopped`);
    }
    slot.server = server;
    const startedAt = Date.now();
    void server.exited.then((exit) => {
      if (slot.server === server) slot.server = undefined;
      if (server.closing) return;
      slot.crashes = Date.now() - startedAt > STABLE_RUN_MS ? 1 : slot.crashes + 1;
      slot.lastCrashAt = Date.now();
      this.events.crashed(template, exit);
      this.logger.warn({ tenantId: install.tenantId, template, pid: server.pid, ...exit, crashes: slot.crashes }, 'hosted server exited unexpectedly; restarts on next use');
    });
    return server;
  }

  private checkCapacity(slot: Slot): void {
    const running = [...this.slots.values()].filter((s) => s !== slot && (s.server?.alive || s.starting));
    const template = slot.install.spec.name;
    if (running.length >= this.options.maxPerNode) {
      this.events.refused(template, 'node');
      throw new HostedCapacityError('node', this.options.maxPerNode);
    }
    if (running.filter((s) => s.install.tenantId === slot.install.tenantId).length >= this.options.maxPerTenant) {
      this.events.refused(template, 'tenant');
      throw new HostedCapacityError('tenant', this.options.maxPerTenant);
    }
  }

  private backoffLeft(slot: Slot): number {
    if (slot.crashes === 0) return 0;
    return Math.max(0, slot.lastCrashAt + this.backoffDelay(slot.crashes) - Date.now());
  }

  /** Initial, doubling per consecutive failure, up to the maximum. */
  private backoffDelay(failures: number): number {
    const { initialMs, maxMs } = this.options.restartBackoff;
    return Math.min(initialMs * 2 ** (failures - 1), maxMs);
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const slot of this.slots.values()) {
      const server = slot.server;
      if (server?.alive && server.inFlight === 0 && now - server.lastUsedAt > this.options.idleTimeoutMs) {
        this.logger.debug({ tenantId: slot.install.tenantId, template: slot.install.spec.name, pid: server.pid }, 'stopping idle hosted server');
        this.events.reaped(slot.install.spec.name);
        void this.retire(slot);
      }
    }
  }

  private async retire(slot: Slot): Promise<void> {
    slot.retired = true;
    if (this.slots.get(slot.key) === slot) this.slots.delete(slot.key);
    const server = slot.server ?? (await slot.starting?.catch(() => undefined));
    await server?.close();
  }
}
