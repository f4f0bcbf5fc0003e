import { randomUUID } from 'node:crypto';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createLogger } from '@switchboard/logger';
import { describePlugin } from '@switchboard/plugin-runtime';
import { definePlugin, defineTool, UpstreamConnectRequiredError, type UpstreamCredentials } from '@switchboard/plugin-sdk';
import type { CredentialBinding } from '../auth/credential-binding';
import { buildSessionCatalog, type ActivePlugin } from '../catalog/session-catalog';
import { callTool, type CallSite, type ClientChannel, type PluginCallDeps } from './plugin-calls';
import type { ToolCalls } from './tool-calls';

/**
 * Per-user upstream credentials where a call runs (docs/upstream-oauth.md "Per-user mode"): the
 * accessor is made from the call site's authenticated binding, whatever the tool's arguments
 * say, and a person's connect link becomes -32042 only for a client that declared URL elicitation.
 */
const LINK = 'https://gw.example.com/oauth/upstream/connect?ticket=t';
const plugin = definePlugin({
  name: 'up',
  version: '1.0.0',
  description: 'Reports whose credential it was given',
  tools: [
    defineTool({
      name: 'who',
      description: 'Answers with the accessor\'s token',
      input: z.object({ subject: z.string().optional() }),
      handler: async (_args, ctx) => ctx.upstreamCredentials!.accessToken(),
    }),
  ],
});

function bindingOf(subject: string | undefined, grantId: string | undefined): CredentialBinding {
  return { tenantId: 't-1', keyId: randomUUID(), subject, grantId, plugins: [], tenantLimits: {}, keyLimits: {}, expiresAt: undefined };
}

describe('callTool with a per-user installation', () => {
  const boundFor: unknown[] = [];
  const upstreamCredentialsFor = (caller: { subject?: string | undefined; grantId?: string | undefined }): UpstreamCredentials => {
    boundFor.push({ subject: caller.subject, grantId: caller.grantId });
    return {
      accessToken: async () => {
        if (caller.subject === 'key:not-connected') throw new UpstreamConnectRequiredError(`connect at ${LINK}`, LINK, 'e-1');
        return `token of ${caller.subject}`;
      },
    };
  };
  const active: ActivePlugin = { name: 'up', descriptor: describePlugin(plugin, 'test'), config: {}, storage: undefined as never, upstreamCredentialsFor };
  const catalog = buildSessionCatalog([active], true);
  const deps: PluginCallDeps = {
    defaultTimeoutMs: 5_000,
    logger: createLogger({ name: 'test', level: 'silent' }),
    toolCalls: { admit: async () => async () => undefined, finished: () => undefined } as unknown as ToolCalls,
  };
  const siteOf = (binding: CredentialBinding): CallSite => ({ id: 's-1', binding, tenantSlug: 'acme', signal: new AbortController().signal, onClose: () => undefined, offClose: () => undefined });
  const channelOf = (urlElicitation: boolean): ClientChannel =>
    ({ client: { sampling: false, elicitation: urlElicitation, roots: false }, undeclaredCapability: 'result', urlElicitation }) as unknown as ClientChannel;
  const call = (binding: CredentialBinding, urlElicitation = false, args: Record<string, unknown> = {}) =>
    callTool(siteOf(binding), catalog, channelOf(urlElicitation), deps, { name: 'up__who', arguments: args }, { signal: new AbortController().signal });

  beforeEach(() => (boundFor.length = 0));

  it('binds the accessor to the caller\'s authenticated subject and grant, not to anything in the arguments', async () => {
    const result = await call(bindingOf('key:k-a', 'g-a'), false, { subject: 'key:k-b' });
    expect(result).toEqual({ content: [{ type: 'text', text: 'token of key:k-a' }] });
    expect(boundFor).toEqual([{ subject: 'key:k-a', grantId: 'g-a' }]);
  });

  it('binds an API-key call to no person (the accessor then refuses)', async () => {
    await call(bindingOf(undefined, undefined));
    expect(boundFor).toEqual([{ subject: undefined, grantId: undefined }]);
  });

  it('answers a client that declared URL-mode elicitation with -32042 carrying the link', async () => {
    const error = await call(bindingOf('key:not-connected', 'g'), true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UrlElicitationRequiredError);
    expect((error as UrlElicitationRequiredError).code).toBe(-32042);
    expect((error as UrlElicitationRequiredError).elicitations).toEqual([{ mode: 'url', elicitationId: 'e-1', url: LINK, message: `connect at ${LINK}` }]);
  });

  it('answers any other client with a tool error carrying the link', async () => {
    expect(await call(bindingOf('key:not-connected', 'g'), false)).toEqual({ content: [{ type: 'text', text: `connect at ${LINK}` }], isError: true });
  });
});
