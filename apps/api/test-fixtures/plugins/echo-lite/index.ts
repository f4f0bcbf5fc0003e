import { z } from 'zod';
import { definePlugin, defineTool } from '@switchboard/plugin-sdk';

/** A test plugin without configuration. */
export default definePlugin({
  name: 'echo-lite',
  version: '0.1.0',
  description: 'Test fixture: echoes text.',
  tools: [
    defineTool({
      name: 'echo',
      description: 'Returns the text.',
      input: z.object({ text: z.string() }),
      handler: ({ text }) => text,
    }),
  ],
});
