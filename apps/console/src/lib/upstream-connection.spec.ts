import type { PluginInstallation, UpstreamConnection } from '../api/types';
import { describeConnection, upstreamOAuthMode } from './upstream-connection';

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
