import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '@switchboard/api-keys';
import { scopeStepUp } from './scope-step-up';

const ENABLED = ['echo', 'testkit', 'notes'];

function oauth(plugins: string[], keyPlugins: string[] = [], tools: string[] = []): Pick<Principal, 'kind' | 'plugins' | 'keyPlugins' | 'tools'> {
  return { kind: 'oauth', plugins, keyPlugins, tools };
}

function call(name: unknown, id: number = 1): JSONRPCMessage {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } } as JSONRPCMessage;
}

describe('scopeStepUp', () => {
  it('asks for the plugin of a called tool the key allows and the token lacks, keeping the scopes the token holds', () => {
    expect(scopeStepUp([call('testkit__add')], oauth(['echo']), undefined, ENABLED)).toEqual({
      plugins: ['testkit'],
      scopes: ['mcp', 'plugin:echo', 'plugin:testkit'],
    });
  });

  it('names every missing plugin of a batch once', () => {
    const batch = [call('notes__add', 1), call('echo__echo', 2), call('testkit__add', 3), call('notes__list', 4)];
    expect(scopeStepUp(batch, oauth(['echo']), undefined, ENABLED)?.plugins).toEqual(['notes', 'testkit']);
  });

  it('asks nothing for a tool of a granted plugin', () => {
    expect(scopeStepUp([call('echo__echo')], oauth(['echo']), undefined, ENABLED)).toBeUndefined();
  });

  it('never reveals a plugin the key does not allow: that call stays an unknown tool', () => {
    expect(scopeStepUp([call('testkit__add')], oauth(['echo'], ['echo']), undefined, ENABLED)).toBeUndefined();
    expect(scopeStepUp([call('testkit__add')], oauth(['echo'], ['echo', 'testkit']), undefined, ENABLED)?.plugins).toEqual(['testkit']);
  });

  it('never reveals whether a plugin the tenant has not enabled exists', () => {
    expect(scopeStepUp([call('github__search')], oauth(['echo']), undefined, ENABLED)).toBeUndefined();
  });

  it('leaves API keys, tenant tokens and plugin URLs alone', () => {
    const narrowed = { plugins: ['echo'], keyPlugins: [] };
    expect(scopeStepUp([call('testkit__add')], { kind: 'api-key', ...narrowed }, undefined, ENABLED)).toBeUndefined();
    expect(scopeStepUp([call('testkit__add')], { kind: 'jwt', ...narrowed }, undefined, ENABLED)).toBeUndefined();
    expect(scopeStepUp([call('testkit__add')], oauth(['echo']), 'echo', ENABLED)).toBeUndefined();
  });

  it('ignores what is not a tools/call request naming a namespaced tool', () => {
    const messages: JSONRPCMessage[] = [
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'testkit__add' } } as JSONRPCMessage,
      { jsonrpc: '2.0', id: 2, method: 'prompts/get', params: { name: 'testkit__hello' } },
      call('__add', 3),
      call('testkit', 4),
      call(42, 5),
      { jsonrpc: '2.0', id: 6, result: {} },
    ];
    expect(scopeStepUp(messages, oauth(['echo']), undefined, ENABLED)).toBeUndefined();
  });

  it('percent-encodes plugin names in the scope list so they cannot break the challenge header', () => {
    expect(scopeStepUp([call('a"b__x')], oauth(['echo']), undefined, ['a"b'])?.scopes).toEqual(['mcp', 'plugin:echo', 'plugin:a%22b']);
  });

  it("asks nothing for a tool outside the key's tool allowlist: no consent grants it, and the challenge would reveal its installation", () => {
    const principal = oauth(['echo'], [], ['echo__echo', 'testkit__add']);
    expect(scopeStepUp([call('testkit__subtract')], principal, undefined, ENABLED)).toBeUndefined();
    expect(scopeStepUp([call('testkit__add')], principal, undefined, ENABLED)?.plugins).toEqual(['testkit']);
  });
});
