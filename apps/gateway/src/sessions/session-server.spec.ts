import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createLogger } from '@switchboard/logger';
import { describePlugin } from '@switchboard/plugin-runtime';
import { definePlugin, definePrompt, defineTool, type TenantStorage } from '@switchboard/plugin-sdk';
import type { CredentialBinding } from '../auth/credential-binding';
import type { FinishedToolCall, ToolCalls } from './tool-calls';
import { InFlightCalls } from './in-flight-calls';
import { McpSession } from './mcp-session';
import { buildSessionCatalog } from '../catalog/session-catalog';
import { createSessionServer } from './session-server';
import { CallCancelledByShutdownError, SHUTDOWN_CANCELLATION } from './tool-timeout';

/** Handlers that never finish by themselves (only their abort ends them), counted as they start. */
const started = { count: 0, waiters: new Set<() => void>() };
function forever(signal: AbortSignal): Promise<never> {
  started.count += 1;
  for (const wake of [...started.waiters]) wake();
  return new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/** Resolves once `count` more `forever` handlers than `from` have started. */
function handlersStarted(from: number, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (started.count < from + count) return;
      started.waiters.delete(check);
      resolve();
    };
    started.waiters.add(check);
    check();
  });
}

const circular: Record<string, unknown> = { name: 'loop' };
circular['self'] = circular;

const plugin = definePlugin({
  name: 'meter',
  version: '1.0.0',
  description: 'Tools whose results are awkward to measure',
  timeoutMs: 30_000,
  tools: [
    defineTool({ name: 'ok', description: 'Answers', input: z.object({ text: z.string().default('') }), handler: ({ text }) => `ok ${text}` }),
    defineTool({ name: 'deep', description: 'Takes any value', input: z.object({ value: z.unknown() }), handler: () => 'stored' }),
    defineTool({
      name: 'boom',
      description: 'Throws',
      input: z.object({}),
      handler: () => {
        throw new Error('kaboom');
      },
    }),
    defineTool({
      name: 'circular',
      description: 'A result JSON.stringify cannot serialise',
      input: z.object({}),
      handler: () => ({ content: [{ type: 'text', text: 'loop' }], structuredContent: circular }),
    }),
    defineTool({ name: 'slow', description: 'Never finishes by itself', input: z.object({}), handler: (_args, ctx) => forever(ctx.signal) }),
  ],
  prompts: [definePrompt({ name: 'slow', description: 'Never finishes by itself', get: (_args, ctx) => forever(ctx.signal) })],
  resources: [{ uri: 'meter://slow', name: 'slow', read: (ctx) => forever(ctx.signal) }],
  resourceTemplates: [
    { uriTemplate: 'meter://{id}', name: 'by-id', read: () => [], complete: { id: (_value, ctx) => forever(ctx.signal) } },
  ],
});

const binding: CredentialBinding = {
  tenantId: randomUUID(),
  keyId: randomUUID(),
  subject: undefined,
  plugins: [],
  tenantLimits: {},
  keyLimits: {},
  expiresAt: undefined,
};

/** A session with its SDK server, an official client linked in memory, and recorded accounting. */
async function connected() {
  const descriptor = describePlugin(plugin, 'session-server.spec');
  const catalog = buildSessionCatalog([{ name: descriptor.name, descriptor, config: {}, storage: {} as TenantStorage }], true);
  const session = new McpSession(
    { id: randomUUID(), transportKind: 'streamable-http', binding, tenantSlug: 'acme', scope: { plugin: undefined, allowed: [], tools: [] }, catalog },
    () => undefined,
  );
  const finished: FinishedToolCall[] = [];
  const toolCalls = { admit: async () => async () => undefined, finished: (_b: CredentialBinding, call: FinishedToolCall) => void finished.push(call) };
  session.server = createSessionServer(session, {
    defaultTimeoutMs: 30_000,
    logger: createLogger({ name: 'spec', level: 'silent' }),
    toolCalls: toolCalls as unknown as ToolCalls,
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  session.transport = serverSide;
  await session.server.connect(serverSide);
  const inFlight = new InFlightCalls();
  session.watch(inFlight);
  // What the endpoint does once it read a POST: note each request's size for metering.
  const send = clientSide.send.bind(clientSide);
  clientSide.send = (message, options) => {
    if ('method' in message && 'id' in message && message.method === 'tools/call') session.noteRequestBytes(message.id, 4_321);
    return send(message, options);
  };
  const client = new Client({ name: 'spec', version: '1.0.0' });
  await client.connect(clientSide);
  return { session, client, finished, inFlight };
}

describe('tool calls and their accounting', () => {
  it('meters a call with the size of the request as read, and frees that size', async () => {
    const { session, client, finished } = await connected();
    await client.callTool({ name: 'meter__ok', arguments: { text: 'hi' } });
    expect(finished).toEqual([expect.objectContaining({ plugin: 'meter', tool: 'ok', outcome: 'ok', bytesIn: 4_321 })]);
    expect(finished[0]!.bytesOut).toBeGreaterThan(0);
    expect(session.takeRequestBytes(1)).toBeUndefined();
    await client.close();
  });

  it('meters a call whose argument is nested 20,000 deep and answers it', async () => {
    const { client, finished } = await connected();
    let value: unknown = 'leaf';
    for (let i = 0; i < 20_000; i++) value = { value };
    const result = await client.callTool({ name: 'meter__deep', arguments: { value } });
    expect(result.content).toEqual([{ type: 'text', text: 'stored' }]);
    expect(finished).toEqual([expect.objectContaining({ tool: 'deep', outcome: 'ok', bytesIn: 4_321 })]);
    await client.close();
  });

  it('meters a call whose result cannot be serialised', async () => {
    const { client, finished } = await connected();
    await client.callTool({ name: 'meter__circular', arguments: {} });
    expect(finished).toEqual([expect.objectContaining({ tool: 'circular', outcome: 'ok' })]);
    expect(finished[0]!.bytesOut).toBeGreaterThan(0);
    await client.close();
  });

  it('meters a call whose handler throws, as an error', async () => {
    const { client, finished } = await connected();
    const result = await client.callTool({ name: 'meter__boom', arguments: {} });
    expect(result).toEqual(expect.objectContaining({ isError: true, content: [{ type: 'text', text: 'kaboom' }] }));
    expect(finished).toEqual([expect.objectContaining({ tool: 'boom', outcome: 'error' })]);
    await client.close();
  });
});

describe('calls cancelled by shutdown', () => {
  it('answers every running tool, prompt, resource and completion call with the shutdown error, and meters the tool call', async () => {
    const { session, client, finished, inFlight } = await connected();
    const before = started.count;
    const calls = [
      client.callTool({ name: 'meter__slow', arguments: {} }),
      client.getPrompt({ name: 'meter__slow' }),
      client.readResource({ uri: 'meter://slow' }),
      client.complete({ ref: { type: 'ref/resource', uri: 'meter://{id}' }, argument: { name: 'id', value: 'a' } }),
    ];
    await handlersStarted(before, calls.length);

    session.abortCalls(new CallCancelledByShutdownError());

    const outcomes = await Promise.allSettled(calls);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as McpError;
      expect(error).toBeInstanceOf(McpError);
      expect(error.code).toBe(SHUTDOWN_CANCELLATION.code);
      expect(error.message).toContain('shutting down');
    }
    await inFlight.drained(30_000);
    expect(session.unansweredCount).toBe(0);
    expect(finished).toEqual([expect.objectContaining({ tool: 'slow', outcome: 'error' })]);
    await client.close();
  });

  it('answers requests still unanswered when the session closes with an answer', async () => {
    const { session, client } = await connected();
    // Not aborted first: close itself writes the answer before the transport closes.
    const before = started.count;
    const call = client.callTool({ name: 'meter__slow', arguments: {} });
    await handlersStarted(before, 1);
    await session.close(SHUTDOWN_CANCELLATION);
    await expect(call).rejects.toMatchObject({ code: SHUTDOWN_CANCELLATION.code });
    await client.close();
  });
});
