import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '@switchboard/api-keys';
import { createLogger } from '@switchboard/logger';
import { describePlugin } from '@switchboard/plugin-runtime';
import { definePlugin, defineTool, type TenantStorage } from '@switchboard/plugin-sdk';
import type { CredentialBinding } from '../auth/credential-binding';
import { buildSessionCatalog } from '../catalog/session-catalog';
import type { TenantPluginsService } from '../tenants/tenant-plugins';
import { StatelessServer, type StatelessRequest } from './stateless-server';
import type { FinishedToolCall, ToolCalls } from './tool-calls';
import { CallCancelledByShutdownError, SHUTDOWN_CANCELLATION } from './tool-timeout';
import { RequestStateCodec } from '../auth/request-state';

const started = { count: 0 };
/** Resolves when the chatty tool's report after its answer was attempted. */
let lateReport: Promise<void> = Promise.resolve();
const plugin = definePlugin({
  name: 'meter',
  version: '1.0.0',
  description: 'Tools for the stateless server spec',
  timeoutMs: 30_000,
  tools: [
    defineTool({ name: 'ok', description: 'Answers', input: z.object({}), handler: (_args, ctx) => `ok ${ctx.tenant.slug} ${ctx.client.elicitation}` }),
    defineTool({
      name: 'asks',
      description: 'Elicits',
      input: z.object({}),
      handler: async (_args, ctx) => JSON.stringify(await ctx.elicit({ message: 'name?', requestedSchema: { type: 'object', properties: {} } })),
    }),
    defineTool({
      name: 'twice',
      description: 'Asks for a name, then (in a second round) for a colour and the roots',
      input: z.object({ greeting: z.string() }),
      handler: async ({ greeting }, ctx) => {
        const { name } = await ctx.ask({ name: { method: 'elicitation/create', params: { message: 'name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } } });
        const { colour, roots } = await ctx.ask({
          colour: { method: 'elicitation/create', params: { message: 'colour?', requestedSchema: { type: 'object', properties: { colour: { type: 'string' } } } } },
          roots: { method: 'roots/list' },
        });
        return `${greeting} ${String(name.content?.['name'])}, ${String(colour.content?.['colour'])}, ${roots.roots.length} root(s)`;
      },
    }),
    defineTool({
      name: 'swallows',
      description: 'Catches whatever its ask throws and claims success',
      input: z.object({}),
      handler: async (_args, ctx) => {
        try {
          await ctx.elicit({ message: 'ok?', requestedSchema: { type: 'object', properties: {} } });
        } catch {
          // A careless plugin: the gateway must still answer with the InputRequiredResult.
        }
        return 'done without asking';
      },
    }),
    defineTool({
      name: 'chatty',
      description: 'Logs, reports progress (once going backwards), and reports again after answering',
      input: z.object({}),
      handler: async (_args, ctx) => {
        await ctx.log('debug', 'detail');
        await ctx.log('warning', 'careful');
        await ctx.progress(1, 3);
        await ctx.progress(1, 3);
        await ctx.progress(0.5, 3);
        await ctx.progress(2, 3, 'nearly');
        lateReport = new Promise((resolve) => setImmediate(() => void ctx.progress(3, 3).then(resolve)));
        return 'chatted';
      },
    }),
    defineTool({
      name: 'slow',
      description: 'Never finishes by itself',
      input: z.object({}),
      handler: (_args, ctx) => {
        started.count += 1;
        return new Promise<never>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
      },
    }),
  ],
});

const principal = { tenantId: randomUUID(), keyId: randomUUID(), plugins: [], tenantLimits: {}, keyLimits: {} } as unknown as Principal;

/** @param installation the name the tenant installed the plugin under (default: the plugin's). */
function server(installation = 'meter') {
  const catalog = buildSessionCatalog([{ name: installation, descriptor: describePlugin(plugin, 'stateless-server.spec'), config: {}, storage: {} as TenantStorage }], true);
  const finished: FinishedToolCall[] = [];
  const toolCalls = { admit: async () => async () => undefined, finished: (_b: CredentialBinding, call: FinishedToolCall) => void finished.push(call) };
  const tenantPlugins = { catalogFor: async () => catalog } as unknown as TenantPluginsService;
  const stateless = new StatelessServer(
    tenantPlugins,
    { defaultTimeoutMs: 30_000, logger: createLogger({ name: 'spec', level: 'silent' }), toolCalls: toolCalls as unknown as ToolCalls },
    new RequestStateCodec({ current: SECRETS_KEY }, 60_000, clock),
  );
  return { stateless, finished };
}

const SECRETS_KEY = Buffer.alloc(32, 7);
const clock = { at: 1_000_000, now: () => clock.at };
const ELICIT = { elicitation: {} };
const ROOTS_TOO = { elicitation: {}, roots: {} };
type Result = Record<string, unknown> & { requestState?: string; inputRequests?: Record<string, unknown> };

function resultOf(answer: { body: unknown }): Result {
  return (answer.body as { result: Result }).result;
}

function request(method: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = {}, signal = new AbortController().signal): StatelessRequest {
  return {
    message: { id: 5, method, params, envelope: { protocolVersion: '2026-07-28', clientCapabilities: capabilities } },
    principal,
    tenantSlug: 'acme',
    plugin: undefined,
    signal,
    bytesIn: 1_234,
  };
}

describe('StatelessServer', () => {
  it('marks every result complete with serverInfo, and list results private and uncached', async () => {
    const { stateless } = server();
    const answer = await stateless.answer(request('tools/list'));
    expect(answer).toMatchObject({
      status: 200,
      body: { id: 5, result: { resultType: 'complete', ttlMs: 0, cacheScope: 'private', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'switchboard' } } } },
    });
  });

  it('calls a tool through the shared plugin calls, metered with the request’s size', async () => {
    const { stateless, finished } = server();
    const answer = await stateless.answer(request('tools/call', { name: 'meter__ok', arguments: {} }, { elicitation: {} }));
    expect(answer.body).toMatchObject({ result: { resultType: 'complete', content: [{ type: 'text', text: 'ok acme true' }] } });
    expect(finished).toEqual([expect.objectContaining({ plugin: 'meter', tool: 'ok', outcome: 'ok', bytesIn: 1_234 })]);
  });

  it("names a call of a named installation by the installation, for its limits and usage rows", async () => {
    const { stateless, finished } = server('meter-eu');
    const answer = await stateless.answer(request('tools/call', { name: 'meter-eu__ok', arguments: {} }, { elicitation: {} }));
    expect(answer.body).toMatchObject({ result: { content: [{ type: 'text', text: 'ok acme true' }] } });
    expect(finished).toEqual([expect.objectContaining({ plugin: 'meter-eu', tool: 'ok', outcome: 'ok' })]);
  });

  it('answers a tool needing a capability the client did not declare with 400 -32021', async () => {
    const { stateless } = server();
    const answer = await stateless.answer(request('tools/call', { name: 'meter__asks', arguments: {} }));
    expect(answer).toMatchObject({ status: 400, body: { id: 5, error: { code: -32021, data: { requiredCapabilities: { elicitation: {} } } } } });
  });

  it('asks a client that declared elicitation with an InputRequiredResult, and completes when its retry answers', async () => {
    const { stateless, finished } = server();
    const first = resultOf(await stateless.answer(request('tools/call', { name: 'meter__asks', arguments: {} }, ELICIT)));
    expect(first).toMatchObject({ resultType: 'input_required', inputRequests: { elicitation: { method: 'elicitation/create', params: { message: 'name?' } } } });
    expect(typeof first.requestState).toBe('string');
    const retry = { name: 'meter__asks', arguments: {}, requestState: first.requestState, inputResponses: { elicitation: { action: 'accept', content: {} } } };
    expect(resultOf(await stateless.answer(request('tools/call', retry, ELICIT)))).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: JSON.stringify({ action: 'accept', content: {} }) }],
    });
    expect(finished.map((call) => call.outcome)).toEqual(['input_required', 'ok']);
  });

  it('runs a handler again from the start on each retry, answering earlier rounds from the sealed state', async () => {
    const { stateless } = server();
    const params = { name: 'meter__twice', arguments: { greeting: 'hi' } };
    const first = resultOf(await stateless.answer(request('tools/call', params, ROOTS_TOO)));
    expect(Object.keys(first.inputRequests!)).toEqual(['name']);
    const second = resultOf(
      await stateless.answer(request('tools/call', { ...params, requestState: first.requestState, inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } } }, ROOTS_TOO)),
    );
    expect(Object.keys(second.inputRequests!)).toEqual(['colour', 'roots']);
    expect(second.requestState).not.toEqual(first.requestState);
    // Only part of the round answered: the rest is asked again, the part given is kept.
    const third = resultOf(
      await stateless.answer(request('tools/call', { ...params, requestState: second.requestState, inputResponses: { roots: { roots: [{ uri: 'file:///a' }] } } }, ROOTS_TOO)),
    );
    expect(Object.keys(third.inputRequests!)).toEqual(['colour']);
    const done = resultOf(
      await stateless.answer(
        request('tools/call', { ...params, requestState: third.requestState, inputResponses: { colour: { action: 'accept', content: { colour: 'teal' } }, stray: 42 } }, ROOTS_TOO),
      ),
    );
    expect(done).toMatchObject({ resultType: 'complete', content: [{ text: 'hi Ada, teal, 1 root(s)' }] });
  });

  it('refuses a requestState that was modified, is another principal’s or another request’s, or has expired', async () => {
    const { stateless } = server();
    const params = { name: 'meter__twice', arguments: { greeting: 'hi' } };
    const { requestState } = resultOf(await stateless.answer(request('tools/call', params, ROOTS_TOO)));
    const answers = { name: { action: 'accept', content: { name: 'Ada' } } };
    const retry = (overrides: Record<string, unknown>, who: Principal = principal) =>
      stateless.answer({ ...request('tools/call', { ...params, requestState, inputResponses: answers, ...overrides }, ROOTS_TOO), principal: who });
    const refused = { status: 200, body: { error: { code: -32602, message: 'params.requestState is not valid for this request' } } };
    const flipped = `${requestState!.slice(0, -2)}${requestState!.endsWith('A') ? 'B' : 'A'}${requestState!.slice(-1)}`;
    expect(await retry({ requestState: flipped })).toMatchObject(refused);
    expect(await retry({ requestState: `${requestState}-TAMPERED` })).toMatchObject({ body: { error: { code: -32602 } } });
    expect(await retry({}, { ...principal, keyId: randomUUID() })).toMatchObject(refused);
    expect(await retry({}, { ...principal, tenantId: randomUUID() })).toMatchObject(refused);
    expect(await retry({ arguments: { greeting: 'rm -rf' } })).toMatchObject(refused);
    expect(await retry({ name: 'meter__asks' })).toMatchObject(refused);
    expect(await retry({ requestState: 42 })).toMatchObject({ body: { error: { code: -32602, message: 'params.requestState must be a string' } } });
    expect(await retry({})).toMatchObject({ body: { result: { resultType: 'input_required', inputRequests: { colour: {}, roots: {} } } } });
    clock.at += 61_000;
    expect(await retry({})).toMatchObject({ body: { error: { code: -32602, message: expect.stringContaining('has expired') } } });
  });

  it('takes answers without a requestState for the first round, and asks again for keys it does not get', async () => {
    const { stateless } = server();
    const asked = await stateless.answer(request('tools/call', { name: 'meter__asks', arguments: {}, inputResponses: { wrong_key: { action: 'accept', content: {} } } }, ELICIT));
    expect(resultOf(asked)).toMatchObject({ resultType: 'input_required', inputRequests: { elicitation: {} } });
    const done = await stateless.answer(request('tools/call', { name: 'meter__asks', arguments: {}, inputResponses: { elicitation: { action: 'decline' } } }, ELICIT));
    expect(resultOf(done)).toMatchObject({ resultType: 'complete', content: [{ text: JSON.stringify({ action: 'decline' }) }] });
  });

  it('refuses inputResponses that are not an object, and an answer that does not fit its question, naming it', async () => {
    const { stateless } = server();
    for (const inputResponses of [null, [], 'yes']) {
      expect(await stateless.answer(request('tools/call', { name: 'meter__asks', arguments: {}, inputResponses }, ELICIT))).toMatchObject({
        body: { error: { code: -32602, message: expect.stringContaining('params.inputResponses') } },
      });
    }
    const wrong = await stateless.answer(request('tools/call', { name: 'meter__asks', arguments: {}, inputResponses: { elicitation: 12345 } }, ELICIT));
    expect(wrong).toMatchObject({ body: { error: { code: -32602, message: expect.stringContaining('inputResponses.elicitation: not a valid elicitation/create result') } } });
    const incomplete = await stateless.answer(
      request('tools/call', { name: 'meter__twice', arguments: { greeting: 'hi' }, inputResponses: { name: { action: 'accept', content: {} } } }, ROOTS_TOO),
    );
    expect(incomplete).toMatchObject({ body: { error: { code: -32602, message: expect.stringContaining('required field(s) name') } } });
  });

  it('answers with the InputRequiredResult even when the handler catches its ask’s error', async () => {
    const { stateless } = server();
    expect(resultOf(await stateless.answer(request('tools/call', { name: 'meter__swallows', arguments: {} }, ELICIT)))).toMatchObject({ resultType: 'input_required' });
  });

  it('never asks for a capability the client did not declare: roots without `roots` is -32021', async () => {
    const { stateless } = server();
    const first = resultOf(await stateless.answer(request('tools/call', { name: 'meter__twice', arguments: { greeting: 'hi' } }, ELICIT)));
    const answer = await stateless.answer(
      request('tools/call', { name: 'meter__twice', arguments: { greeting: 'hi' }, requestState: first.requestState, inputResponses: { name: { action: 'accept', content: { name: 'A' } } } }, ELICIT),
    );
    expect(answer).toMatchObject({ status: 400, body: { error: { code: -32021, data: { requiredCapabilities: { roots: {} } } } } });
  });

  it('answers an unknown method, and one whose capability the catalog lacks, with 404 -32601', async () => {
    const { stateless } = server();
    expect(await stateless.answer(request('ping'))).toMatchObject({ status: 404, body: { error: { code: -32601 } } });
    expect(await stateless.answer(request('prompts/list'))).toMatchObject({ status: 404, body: { error: { code: -32601 } } });
  });

  it('answers malformed params with -32602 in-band', async () => {
    const { stateless } = server();
    expect(await stateless.answer(request('tools/call', { arguments: {} }))).toMatchObject({ status: 200, body: { error: { code: -32602 } } });
  });

  it('aborts a running call when its request’s signal aborts, and meters it', async () => {
    const { stateless, finished } = server();
    const controller = new AbortController();
    const before = started.count;
    const answer = stateless.answer(request('tools/call', { name: 'meter__slow', arguments: {} }, {}, controller.signal));
    await new Promise<void>((resolve) => {
      const check = () => (started.count > before ? resolve() : setImmediate(check));
      check();
    });
    controller.abort(new Error('gone'));
    expect((await answer).body).toMatchObject({ result: { isError: true } });
    expect(finished).toEqual([expect.objectContaining({ tool: 'slow', outcome: 'error' })]);
  });

  describe('notifications for the request', () => {
    function chatty(meta: Record<string, unknown>, logLevel?: 'debug' | 'warning' | 'error') {
      const sent: unknown[] = [];
      const base = request('tools/call', { name: 'meter__chatty', arguments: {}, _meta: meta });
      const envelope = { ...base.message.envelope, ...(logLevel ? { logLevel } : {}) };
      return { sent, request: { ...base, message: { ...base.message, envelope }, notify: (n: unknown) => void sent.push(n) } };
    }

    it('sends increasing progress for a request with a progressToken, and none after its answer', async () => {
      const { stateless } = server();
      const { sent, request: call } = chatty({ progressToken: 'p' });
      expect((await stateless.answer(call)).body).toMatchObject({ result: { content: [{ type: 'text', text: 'chatted' }] } });
      await lateReport;
      expect(sent).toEqual([
        { method: 'notifications/progress', params: { progressToken: 'p', progress: 1, total: 3 } },
        { method: 'notifications/progress', params: { progressToken: 'p', progress: 2, total: 3, message: 'nearly' } },
      ]);
    });

    it('sends no progress without a progressToken that is a string or an integer, and no logs without a logLevel', async () => {
      const { stateless } = server();
      const { sent, request: call } = chatty({ progressToken: 1.5 });
      await stateless.answer(call);
      expect(sent).toEqual([]);
    });

    it('sends the logs at or above the request’s logLevel, named by their plugin', async () => {
      const { stateless } = server();
      const warning = chatty({}, 'warning');
      await stateless.answer(warning.request);
      expect(warning.sent).toEqual([{ method: 'notifications/message', params: { level: 'warning', logger: 'meter', data: 'careful' } }]);
      const debug = chatty({}, 'debug');
      await stateless.answer(debug.request);
      expect(debug.sent).toHaveLength(2);
    });
  });

  it('answers running calls with the shutdown error when the node aborts them', async () => {
    const { stateless } = server();
    const before = started.count;
    const answer = stateless.answer(request('tools/call', { name: 'meter__slow', arguments: {} }));
    await new Promise<void>((resolve) => {
      const check = () => (started.count > before ? resolve() : setImmediate(check));
      check();
    });
    stateless.abortCalls(new CallCancelledByShutdownError());
    expect((await answer).body).toMatchObject({ error: { code: SHUTDOWN_CANCELLATION.code } });
  });
});
