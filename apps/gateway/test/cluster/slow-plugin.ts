import { z } from 'zod';
import { definePlugin, defineTool } from '@switchboard/plugin-sdk';

/**
 * A tool that takes as long as the test asks, for answers that outlast a short forward timeout
 * and owners that die mid-call. Loaded by the cluster's gateway processes (PLUGINS), compiled
 * to dist/ by the Jest global setup. testkit's `wait` cannot serve: its plugin times out at 300 ms.
 */
export default definePlugin({
  name: 'slow',
  version: '1.0.0',
  description: 'Tools that take their time, for cluster tests',
  timeoutMs: 60_000,
  tools: [
    defineTool({
      name: 'sleep',
      description: 'Reports progress once (the call has started), then waits ms milliseconds',
      input: z.object({ ms: z.number().int().min(0).max(30_000) }),
      handler: async ({ ms }, ctx) => {
        await ctx.progress(0, 1, 'started');
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(ctx.signal.reason)), { once: true });
        });
        return `slept ${ms}`;
      },
    }),
  ],
});
