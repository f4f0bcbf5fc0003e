import { z } from 'zod';
import { definePrompt, defineTool, type ElicitationRequest, type InputRequest } from '@switchboard/plugin-sdk';

// The 2026-07-28 scenarios of the conformance suite that ask the client for input
// (input-required-result-*, and the diagnostic tools of server-stateless), with the keys,
// questions and results their sources expect. Each handler only asks: the gateway turns an ask
// into an InputRequiredResult on the stateless wire and into a real request on a 2025 session.

const noArgs = z.object({});

function form(message: string, field: string, type: 'string' | 'boolean'): { method: 'elicitation/create'; params: ElicitationRequest } {
  return { method: 'elicitation/create', params: { message, requestedSchema: { type: 'object', properties: { [field]: { type } }, required: [field] } } };
}

function sampling(text: string, maxTokens: number): InputRequest {
  return { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens } };
}

const LIST_ROOTS: InputRequest = { method: 'roots/list' };

function textOf(result: { content: { type: string; text?: string } }): string {
  return result.content.type === 'text' ? (result.content.text ?? '') : `[${result.content.type}]`;
}

export const inputRequiredTools = [
  defineTool({
    name: 'test_input_required_result_elicitation',
    description: 'Asks the user for their name, then greets them',
    input: noArgs,
    handler: async (_args, ctx) => {
      const { user_name } = await ctx.ask({ user_name: form('What is your name?', 'name', 'string') });
      return `Hello, ${String(user_name.content?.['name'] ?? 'stranger')}!`;
    },
  }),
  defineTool({
    name: 'test_input_required_result_sampling',
    description: "Asks the client's LLM a question and returns its answer",
    input: noArgs,
    handler: async (_args, ctx) => {
      const { capital_question } = await ctx.ask({ capital_question: sampling('What is the capital of France?', 100) });
      return `LLM response: ${textOf(capital_question as never)}`;
    },
  }),
  defineTool({
    name: 'test_input_required_result_list_roots',
    description: "Lists the client's roots",
    input: noArgs,
    handler: async (_args, ctx) => {
      const { client_roots } = await ctx.ask({ client_roots: LIST_ROOTS });
      const { roots } = client_roots as { roots: { uri: string }[] };
      return `Roots: ${roots.map((root) => root.uri).join(', ') || '(none)'}`;
    },
  }),
  defineTool({
    name: 'test_input_required_result_request_state',
    description: 'Asks for a confirmation; its retry is accepted only with the sealed request state',
    input: noArgs,
    handler: async (_args, ctx) => {
      const { confirm } = await ctx.ask({ confirm: form('Please confirm', 'ok', 'boolean') });
      // The gateway refused the retry unless its requestState opened for this principal and request.
      return `state-ok: confirmed=${String(confirm.content?.['ok'])}`;
    },
  }),
  defineTool({
    name: 'test_input_required_result_multiple_inputs',
    description: 'Asks for a name, an LLM greeting and the roots at once',
    input: noArgs,
    handler: async (_args, ctx) => {
      const answers = await ctx.ask({
        user_name: form('What is your name?', 'name', 'string'),
        greeting: sampling('Generate a greeting', 50),
        client_roots: LIST_ROOTS,
      });
      const { roots } = answers.client_roots as { roots: unknown[] };
      return `Name: ${String(answers.user_name.content?.['name'])}; greeting: ${textOf(answers.greeting as never)}; roots: ${roots.length}`;
    },
  }),
  defineTool({
    name: 'test_input_required_result_multi_round',
    description: 'Asks for a name, then in a second round for a favourite colour',
    input: noArgs,
    handler: async (_args, ctx) => {
      const { step1 } = await ctx.ask({ step1: form('Step 1: What is your name?', 'name', 'string') });
      const { step2 } = await ctx.ask({ step2: form('Step 2: What is your favorite color?', 'color', 'string') });
      return `${String(step1.content?.['name'])} likes ${String(step2.content?.['color'])}`;
    },
  }),
  defineTool({
    name: 'test_input_required_result_tampered_state',
    description: 'Asks for a confirmation; a retry with a modified request state is refused',
    input: noArgs,
    handler: async (_args, ctx) => {
      await ctx.ask({ confirm: form('Please confirm', 'ok', 'boolean') });
      return 'confirmed';
    },
  }),
  defineTool({
    name: 'test_input_required_result_capabilities',
    description: 'Asks only for what the client declared it can do',
    input: noArgs,
    handler: async (_args, ctx) => {
      const requests: Record<string, InputRequest> = {
        ...(ctx.client.sampling ? { question: sampling('Say hello', 20) } : {}),
        ...(ctx.client.elicitation ? { user_name: form('What is your name?', 'name', 'string') } : {}),
      };
      if (Object.keys(requests).length === 0) return 'Nothing to ask: the client declared neither sampling nor elicitation';
      return `Answered: ${Object.keys(await ctx.ask(requests)).join(', ')}`;
    },
  }),
  // server-stateless diagnostics.
  defineTool({
    name: 'test_missing_capability',
    description: "Needs the client's LLM: without a declared sampling capability the request is refused (-32021)",
    input: noArgs,
    handler: async (_args, ctx) => `LLM response: ${textOf(await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'Hi' } }], maxTokens: 10 }))}`,
  }),
  defineTool({
    name: 'test_streaming_elicitation',
    description: 'Reports progress and logs, then asks the user: the response stream carries notifications and the result only',
    input: noArgs,
    handler: async (_args, ctx) => {
      await ctx.progress(1, 2, 'about to ask');
      await ctx.log('info', 'asking the user');
      const { user_name } = await ctx.ask({ user_name: form('What is your name?', 'name', 'string') });
      return `Hello, ${String(user_name.content?.['name'])}!`;
    },
  }),
  defineTool({
    name: 'test_logging_tool',
    description: 'Logs at several levels; a request without a logLevel gets none of them',
    input: noArgs,
    handler: async (_args, ctx) => {
      await ctx.log('debug', 'debug detail');
      await ctx.log('info', 'working');
      await ctx.log('warning', 'careful');
      return 'Logged';
    },
  }),
];

export const inputRequiredPrompts = [
  definePrompt({
    name: 'test_input_required_result_prompt',
    description: 'A prompt that asks the user for its context first',
    get: async (_args, ctx) => {
      const { user_context } = await ctx.ask({ user_context: form('What context should the prompt use?', 'context', 'string') });
      return { messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${String(user_context.content?.['context'])}` } }] };
    },
  }),
];
