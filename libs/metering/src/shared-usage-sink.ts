import type { InProcessUsageSink } from './in-process-usage-sink';
import type { UsageSink } from './usage-event';

/** The view a gateway gets of the sink another part of the process owns. */
export interface SharedUsageSink extends UsageSink {
  /** Resolves when everything recorded so far is written. */
  flush(): Promise<void>;
}

let registered: InProcessUsageSink | undefined;

/**
 * Embedded mode (no REDIS_URL): the API owns the process's in-process usage sink and registers it
 * here; a gateway started in the same process (`npm start`) records into it. Returns the
 * function that withdraws it, which the API calls when it shuts down (after the gateway).
 */
export function registerInProcessUsageSink(sink: InProcessUsageSink): () => void {
  // Last one wins: two APIs in one process only happen in tests, and each withdraws its own.
  registered = sink;
  return () => {
    if (registered === sink) registered = undefined;
  };
}

/**
 * The sink registered by an API in this process, or undefined (a gateway running alone then
 * creates its own InProcessUsageSink). Its close() only flushes: the API closes the real sink.
 */
export function sharedInProcessUsageSink(): SharedUsageSink | undefined {
  const sink = registered;
  if (!sink) return undefined;
  return {
    record: (event) => sink.record(event),
    stats: () => sink.stats(),
    flush: () => sink.flush(),
    close: () => sink.flush(),
  };
}
