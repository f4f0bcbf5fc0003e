import type { AggregationResult } from '../src/usage-aggregator';
import type { UsageWorker } from '../src/usage-worker';

/** Resolves once the workers' completed jobs have handled `count` events in all (counted or duplicate). */
export function eventsHandled(workers: UsageWorker | UsageWorker[], count: number): Promise<void> {
  return new Promise((resolve) => {
    let handled = 0;
    for (const { worker } of Array.isArray(workers) ? workers : [workers]) {
      worker.on('completed', (_job, result: AggregationResult) => {
        handled += result.applied + result.duplicates;
        if (handled >= count) resolve();
      });
    }
  });
}
