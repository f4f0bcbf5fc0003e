import { z } from 'zod';
import { definePlugin, definePrompt, defineTool } from '@switchboard/plugin-sdk';
import { inputRequiredPrompts, inputRequiredTools } from './input-required';

// Everything the official MCP conformance suite's server scenarios call, with the names and
// results its scenario sources expect (node_modules/@modelcontextprotocol/conformance).

/** A 1×1 red PNG. */
const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
/** A 44-byte WAV header with no samples: the smallest valid audio/wav. */
const EMPTY_WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';

/** The scenarios expect ~50 ms between notifications, so clients see them arrive one by one. */
const NOTIFICATION_GAP_MS = 50;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

const noArgs = z.object({});

// json-schema-2020-12 (SEP-1613, SEP-2106): a schema reused under `$defs` with an `$anchor`, and
// composition and conditional keywords that must reach tools/list intact. zod has no if/then/else,
// so those travel as metadata (zod copies it into the JSON Schema) and are enforced by refinements.
const address = z.object({ street: z.string(), city: z.string() }).partial().meta({ id: 'address', $anchor: 'addressDef' });
const contactSchema = z
  .strictObject({
    name: z.string().optional(),
    address: address.optional(),
    contactMethod: z.enum(['phone', 'email']).optional(),
    phone: z.string().optional(),
    email: z.string().optional(),
  })
  .meta({
    allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
    if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
    then: { required: ['phone'] },
    else: { required: ['email'] },
  })
  .refine((args) => args.phone !== undefined || args.email !== undefined, { message: 'give a phone or an email' })
  .refine((args) => (args.contactMethod === 'phone' ? args.phone !== undefined : args.email !== undefined), {
    message: 'contactMethod phone needs a phone; otherwise an email',
  });

const ARG1_SUGGESTIONS = ['paris', 'park', 'party', 'test', 'testing'];

export default definePlugin({
  name: 'conformance',
  version: '1.0.0',
  description: 'Tools, resources and prompts of the official MCP conformance suite.',
  tools: [
    defineTool({
      name: 'test_simple_text',
      description: 'Returns a simple text response',
      input: noArgs,
      handler: () => 'This is a simple text response for testing.',
    }),
    defineTool({
      name: 'test_image_content',
      description: 'Returns an image',
      input: noArgs,
      handler: () => ({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] }),
    }),
    defineTool({
      name: 'test_audio_content',
      description: 'Returns audio',
      input: noArgs,
      handler: () => ({ content: [{ type: 'audio', data: EMPTY_WAV, mimeType: 'audio/wav' }] }),
    }),
    defineTool({
      name: 'test_embedded_resource',
      description: 'Returns an embedded resource',
      input: noArgs,
      handler: () => ({
        content: [
          {
            type: 'resource',
            resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
          },
        ],
      }),
    }),
    defineTool({
      name: 'test_multiple_content_types',
      description: 'Returns text, an image and a resource',
      input: noArgs,
      handler: () => ({
        content: [
          { type: 'text', text: 'Multiple content types test:' },
          { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: {
              uri: 'test://mixed-content-resource',
              mimeType: 'application/json',
              text: JSON.stringify({ test: 'data', value: 123 }),
            },
          },
        ],
      }),
    }),
    defineTool({
      name: 'test_tool_with_logging',
      description: 'Sends three log notifications while it runs',
      input: noArgs,
      handler: async (_args, ctx) => {
        await ctx.log('info', 'Tool execution started');
        await pause(NOTIFICATION_GAP_MS, ctx.signal);
        await ctx.log('info', 'Tool processing data');
        await pause(NOTIFICATION_GAP_MS, ctx.signal);
        await ctx.log('info', 'Tool execution completed');
        return 'Logging test completed';
      },
    }),
    defineTool({
      name: 'test_error_handling',
      description: 'Always fails',
      input: noArgs,
      handler: () => {
        throw new Error('This tool intentionally returns an error for testing');
      },
    }),
    defineTool({
      name: 'test_tool_with_progress',
      description: 'Reports progress 0, 50 and 100 of 100',
      input: noArgs,
      handler: async (_args, ctx) => {
        await ctx.progress(0, 100);
        await pause(NOTIFICATION_GAP_MS, ctx.signal);
        await ctx.progress(50, 100);
        await pause(NOTIFICATION_GAP_MS, ctx.signal);
        await ctx.progress(100, 100);
        return 'Progress test completed';
      },
    }),
    defineTool({
      name: 'test_sampling',
      description: "Asks the client's LLM to answer a prompt",
      input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
      handler: async ({ prompt }, ctx) => {
        const result = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 });
        const answer = result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
        return `LLM response: ${answer}`;
      },
    }),
    defineTool({
      name: 'test_elicitation',
      description: 'Asks the user for a username and an email address',
      input: z.object({ message: z.string().describe('The message to show the user') }),
      handler: async ({ message }, ctx) => {
        const result = await ctx.elicit({
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        });
        return `User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
      },
    }),
    defineTool({
      name: 'test_elicitation_sep1034_defaults',
      description: 'Elicits fields of every primitive type, each with a default (SEP-1034)',
      input: noArgs,
      handler: async (_args, ctx) => {
        const result = await ctx.elicit({
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
            required: [],
          },
        });
        return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
      },
    }),
    defineTool({
      name: 'test_elicitation_sep1330_enums',
      description: 'Elicits the five enum forms of SEP-1330',
      input: noArgs,
      handler: async (_args, ctx) => {
        const result = await ctx.elicit({
          message: 'Please select options from the enum fields',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
              titledSingle: {
                type: 'string',
                description: 'Titled single-select',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Legacy titled enum',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Untitled multi-select',
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Titled multi-select',
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
            required: [],
          },
        });
        return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
      },
    }),
    defineTool({
      name: 'json_schema_2020_12_tool',
      description: 'Tool with JSON Schema 2020-12 features',
      input: contactSchema,
      handler: (args) => `Received: ${JSON.stringify(args)}`,
    }),
    // server-stateless (SEP-2575): the suite calls these while a subscriptions/listen stream is open
    // and expects the matching list_changed on it, and none on a stream that did not ask for it.
    defineTool({
      name: 'test_trigger_tool_change',
      description: 'Announces that the tool list changed',
      input: noArgs,
      handler: async (_args, ctx) => {
        await ctx.listChanged('tools');
        return 'Tool list change announced';
      },
    }),
    defineTool({
      name: 'test_trigger_prompt_change',
      description: 'Announces that the prompt list changed',
      input: noArgs,
      handler: async (_args, ctx) => {
        await ctx.listChanged('prompts');
        return 'Prompt list change announced';
      },
    }),
    // http-custom-header-server-validation (SEP-2243): the suite looks for a string argument
    // annotated with x-mcp-header and sends it as Mcp-Param-Region; zod's meta lands in the schema.
    defineTool({
      name: 'test_mcp_param_header',
      description: 'Takes a region mirrored into the Mcp-Param-Region header',
      input: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }), query: z.string().optional() }),
      handler: (args) => `region=${args.region}`,
    }),
    ...inputRequiredTools,
  ],
  resources: [
    {
      uri: 'test://static-text',
      name: 'Static text resource',
      description: 'A static text resource for testing',
      mimeType: 'text/plain',
      read: () => [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    },
    {
      uri: 'test://static-binary',
      name: 'Static binary resource',
      description: 'A static binary resource (PNG) for testing',
      mimeType: 'image/png',
      read: () => [{ uri: 'test://static-binary', mimeType: 'image/png', blob: RED_PIXEL_PNG }],
    },
    {
      uri: 'test://watched-resource',
      name: 'Watched resource',
      description: 'A resource clients may subscribe to',
      mimeType: 'text/plain',
      read: () => [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content.' }],
    },
  ],
  resourceTemplates: [
    {
      uriTemplate: 'test://template/{id}/data',
      name: 'Template resource',
      description: 'A resource template with an id parameter',
      mimeType: 'application/json',
      read: (uri, { id }) => [
        { uri, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) },
      ],
      complete: { id: (value) => ['1', '2', '3', '123'].filter((id) => id.startsWith(value)) },
    },
  ],
  prompts: [
    definePrompt({
      name: 'test_simple_prompt',
      description: 'A simple prompt without arguments',
      get: () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] }),
    }),
    definePrompt({
      name: 'test_prompt_with_arguments',
      description: 'A prompt with two required arguments',
      arguments: z.object({ arg1: z.string().describe('First test argument'), arg2: z.string().describe('Second test argument') }),
      get: ({ arg1, arg2 }) => ({
        messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
      }),
      complete: { arg1: (value) => ARG1_SUGGESTIONS.filter((s) => s.startsWith(value)) },
    }),
    definePrompt({
      name: 'test_prompt_with_embedded_resource',
      description: 'A prompt that embeds a resource',
      arguments: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
      get: ({ resourceUri }) => ({
        messages: [
          {
            role: 'user',
            content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } },
          },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ],
      }),
    }),
    definePrompt({
      name: 'test_prompt_with_image',
      description: 'A prompt with an image',
      get: () => ({
        messages: [
          { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
          { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
        ],
      }),
    }),
    ...inputRequiredPrompts,
  ],
});
