import { z } from 'zod';
import { definePlugin, defineTool, secret } from '@switchboard/plugin-sdk';

/** A test plugin with a secret config field, for the admin API's plugin tests. */
export default definePlugin({
  name: 'weather',
  version: '0.1.0',
  description: 'Test fixture: a plugin that needs an upstream API key.',
  config: z.object({
    units: z.enum(['metric', 'imperial']).default('metric'),
    apiKey: secret(z.string().min(8)),
    region: z.object({ country: z.string().length(2) }).optional(),
  }),
  tools: [
    defineTool({
      name: 'forecast',
      description: 'Forecast for a city.',
      input: z.object({ city: z.string() }),
      handler: ({ city }) => `sunny in ${city}`,
    }),
  ],
});
