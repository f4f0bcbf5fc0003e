import type { PluginLogger, PluginSetupContext } from '@switchboard/plugin-sdk';
import type { OutboundNetwork } from '@switchboard/plugin-net';
import type { PluginCatalog } from './plugin-catalog';
import { PluginLoadError } from './plugin-load.errors';

/** A plugin's `setup` longer than this stops start-up: a gateway that cannot start should say so. */
export const PLUGIN_SETUP_TIMEOUT_MS = 10_000;
/** A plugin's `close` longer than this is given up on, so one plugin cannot hold up shutdown. */
export const PLUGIN_CLOSE_TIMEOUT_MS = 5_000;

/** What the platform offers every plugin's `setup`; each plugin gets its own tagged logger. */
export interface PluginPlatform {
  outbound: OutboundNetwork;
  loggerFor(plugin: string): PluginLogger;
  /** PLUGIN_SETUP_TIMEOUT_MS and PLUGIN_CLOSE_TIMEOUT_MS unless given (tests). */
  timeouts?: { setupMs?: number; closeMs?: number };
}

/** The plugins of one gateway after `setup`: their state, until `close`. */
export interface RunningPlugins {
  /** What this plugin's `setup` returned; undefined without `setup` or for a name not loaded. */
  stateOf(plugin: string): unknown;
  /**
   * Calls every `close`, last set up first, each bounded by PLUGIN_CLOSE_TIMEOUT_MS; a failing
   * or hanging close is logged and the others still run. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

interface Started {
  name: string;
  state: unknown;
  close: ((state: unknown) => void | Promise<void>) | undefined;
  logger: PluginLogger;
}

/**
 * Runs each plugin's `setup` once, in catalog order, with the platform's context. A setup that
 * throws or times out closes the plugins already set up and throws a PluginLoadError naming it.
 */
export async function startPlugins(catalog: PluginCatalog, platform: PluginPlatform): Promise<RunningPlugins> {
  const setupMs = platform.timeouts?.setupMs ?? PLUGIN_SETUP_TIMEOUT_MS;
  const closeMs = platform.timeouts?.closeMs ?? PLUGIN_CLOSE_TIMEOUT_MS;
  const started: Started[] = [];
  for (const descriptor of catalog.list()) {
    const { plugin } = descriptor;
    const logger = platform.loggerFor(descriptor.name);
    const close = plugin.close?.bind(plugin);
    if (!plugin.setup) {
      started.push({ name: descriptor.name, state: undefined, close, logger });
      continue;
    }
    const context: PluginSetupContext = { logger, outbound: platform.outbound };
    try {
      const state = await within(setupMs, () => plugin.setup!(context), 'setup');
      started.push({ name: descriptor.name, state, close, logger });
    } catch (error) {
      await closeAll(started, closeMs);
      throw new PluginLoadError(descriptor.name, descriptor.source, [`setup failed: ${(error as Error)?.message ?? String(error)}`]);
    }
  }
  const states = new Map(started.map((entry) => [entry.name, entry.state]));
  let closing: Promise<void> | undefined;
  return {
    stateOf: (name) => states.get(name),
    close: () => (closing ??= closeAll(started, closeMs)),
  };
}

async function closeAll(started: readonly Started[], closeMs: number): Promise<void> {
  for (const { name, state, close, logger } of [...started].reverse()) {
    if (!close) continue;
    try {
      await within(closeMs, () => close(state), 'close');
    } catch (error) {
      logger.error('plugin close failed', { plugin: name, error: (error as Error)?.message ?? String(error) });
    }
  }
}

async function within<T>(ms: number, run: () => T | Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(run), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
