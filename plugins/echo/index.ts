import { z } from 'zod';
import { definePlugin, defineTool } from '@switchboard/plugin-sdk';

/** The smallest useful plugin: benchmarks compare the gateway with a bare SDK server on this tool. */
export default definePlugin({
  name: 'echo',
  version: '1.0.0',
  description: 'Returns the text it is given. Used by benchmarks and smoke tests.',
  tools: [
    defineTool({
      name: 'echo',
      description: 'Returns the given text unchanged.',
      input: z.object({ text: z.string().describe('Text to send back') }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: ({ text }) => text,
    }),
  ],
});
