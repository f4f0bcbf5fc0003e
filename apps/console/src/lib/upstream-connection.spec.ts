import type { PluginInstallation, UpstreamConnection } from '../api/types';
import { describeConnection, describePersonalConnection, personName, upstreamOAuthMode } from './upstream-connection';

describe('upstream connection badge', () => {
  const view = (change: Partial<UpstreamConnection>): UpstreamConnection => ({ installation: 'crm', status: 'not_connected', connectedAt: null, expiresAt: null, lastError: null, ...change });
  const at = (iso: string) => `<${iso}>`;

  it('offers Connect while nothing is connected, with nothing to disconnect', () => {
    expect(describeConnection(view({}), at)).toMatchObject({ label: 'not connected', tone: 'not-connected', action: 'Connect upstream', canDisconnect: false });
  });

  it('says when a connected token expires, and offers Reconnect', () => {
    const described = describeConnection(view({ status: 'connected', connectedAt: '2026-12-01T10:00:00Z', expiresAt: '2026-12-01T11:00:00Z' }), at);
    expect(described).toMatchObject({ label: 'connected', action: 'Reconnect upstream', canDisconnect: true });
    expect(described.detail).toBe('Its access token expires at <2026-12-01T11:00:00Z>; the platform refreshes it before.');
    expect(describeConnection(view({ status: 'connected', connectedAt: '2026-12-01T10:00:00Z' }), at).detail).toBe('Connected at <2026-12-01T10:00:00Z>; the token does not expire.');
  });

  it('says why a credential needs reconnecting, once with a full stop', () => {
    expect(describeConnection(view({ status: 'needs_reconnect', lastError: 'the upstream refused the refresh (invalid_grant)' }), at)).toMatchObject({
      label: 'needs reconnect',
      tone: 'needs-reconnect',
      action: 'Reconnect upstream',
      detail: 'It failed: the upstream refused the refresh (invalid_grant). Tool calls fail until a tenant admin reconnects it.',
    });
    expect(describeConnection(view({ status: 'needs_reconnect', lastError: 'Refused.' }), at).detail).toMatch(/^It failed: Refused\. Tool/);
  });

  it('tells a pending connect apart from none', () => {
    expect(describeConnection(view({ status: 'pending' }), at)).toMatchObject({ label: 'connect pending', action: 'Connect upstream', canDisconnect: true });
  });

  it('finds upstream OAuth on remote-mcp installations with auth oauth only, shared unless per user', () => {
    const installation = (plugin: string, config: Record<string, unknown>): PluginInstallation => ({ name: 'x', plugin, enabled: true, config, secrets: {} });
    const url = 'https://a.example/mcp';
    expect(upstreamOAuthMode(installation('remote-mcp', { url, auth: 'oauth' }))).toBe('shared');
    expect(upstreamOAuthMode(installation('remote-mcp', { url, auth: 'oauth', oauthMode: 'shared' }))).toBe('shared');
    expect(upstreamOAuthMode(installation('remote-mcp', { url, auth: 'oauth', oauthMode: 'per-user' }))).toBe('per-user');
    expect(upstreamOAuthMode(installation('remote-mcp', { url, auth: 'static' }))).toBeUndefined();
    expect(upstreamOAuthMode(installation('remote-mcp', { url }))).toBeUndefined();
    expect(upstreamOAuthMode(installation('echo', { auth: 'oauth' }))).toBeUndefined();
  });
});

describe('a person’s upstream account of a per-user installation', () => {
  const time = (iso: string) => iso.slice(11, 16);
  it('says what each state means for that person, never asking an admin to connect', () => {
    expect(describePersonalConnection({ status: 'connected', expiresAt: '2026-12-02T10:30:00Z', lastError: null }, time)).toEqual({ label: 'connected', tone: 'connected', detail: 'Token until 10:30; refreshed before.' });
    expect(describePersonalConnection({ status: 'needs_reconnect', expiresAt: null, lastError: 'refused (invalid_grant). ' }).detail).toBe('It failed: refused (invalid_grant). Their next call gives them a new link.');
    expect(describePersonalConnection({ status: 'not_connected', expiresAt: null, lastError: null }).detail).toBe('Their next call gives them a link to connect.');
  });

  it('names a person by the API key they signed in with, or their single sign-on identity', () => {
    const names = new Map([['k1', 'laptop']]);
    expect(personName('key:k1', names)).toBe('signed in with API key laptop');
    expect(personName('key:k2', names)).toBe('signed in with API key k2');
    expect(personName('sso:https://idp.example#ada', names)).toBe('https://idp.example#ada');
  });
});
