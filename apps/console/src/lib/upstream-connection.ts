import type { PluginInstallation, UpstreamConnection } from '../api/types';

/** Plugins whose installations can connect an upstream OAuth account (the API's OAUTH_PLUGINS). */
const OAUTH_PLUGINS = new Set(['remote-mcp']);

/**
 * How an installation reaches its upstream with OAuth (docs/upstream-oauth.md): `shared`, one
 * account a tenant admin connects here; `per-user`, each signed-in person connects their own when
 * a tool first needs it, so there is nothing to connect here. Undefined: no upstream OAuth.
 */
export function upstreamOAuthMode(installation: PluginInstallation): 'shared' | 'per-user' | undefined {
  if (!OAUTH_PLUGINS.has(installation.plugin) || installation.config['auth'] !== 'oauth') return undefined;
  return installation.config['oauthMode'] === 'per-user' ? 'per-user' : 'shared';
}

export interface ConnectionDescription {
  /** The badge's words. */
  label: string;
  /** The badge's colour: `badge-{tone}`. */
  tone: 'connected' | 'pending' | 'needs-reconnect' | 'not-connected';
  /** When it expires or why it failed, as a sentence. */
  detail: string;
  /** The start button's words. */
  action: 'Connect upstream' | 'Reconnect upstream';
  /** Whether there is a credential to forget. */
  canDisconnect: boolean;
}

/** What the plugins view says of an installation's upstream account, from GET …/upstream-connection. */
export function describeConnection(view: UpstreamConnection, formatTime: (iso: string) => string = (iso) => new Date(iso).toLocaleString()): ConnectionDescription {
  switch (view.status) {
    case 'connected':
      return {
        label: 'connected',
        tone: 'connected',
        detail: view.expiresAt
          ? `Its access token expires at ${formatTime(view.expiresAt)}; the platform refreshes it before.`
          : view.connectedAt
            ? `Connected at ${formatTime(view.connectedAt)}; the token does not expire.`
            : 'The token does not expire.',
        action: 'Reconnect upstream',
        canDisconnect: true,
      };
    case 'needs_reconnect':
      return {
        label: 'needs reconnect',
        tone: 'needs-reconnect',
        // lastError is the API's phrase ("the upstream refused the refresh (invalid_grant)"), with or without a full stop.
        detail: `${view.lastError ? `It failed: ${view.lastError.replace(/[.\s]+$/, '')}.` : 'The upstream no longer accepts it.'} Tool calls fail until a tenant admin reconnects it.`,
        action: 'Reconnect upstream',
        canDisconnect: true,
      };
    case 'pending':
      return {
        label: 'connect pending',
        tone: 'pending',
        detail: 'A connect was started: finish signing in at the upstream in the tab it opened, or start again.',
        action: 'Connect upstream',
        canDisconnect: true,
      };
    case 'not_connected':
      return { label: 'not connected', tone: 'not-connected', detail: 'Tool calls fail until a tenant admin connects an upstream account.', action: 'Connect upstream', canDisconnect: false };
  }
}

/** What the plugins view says of one person's account of a per-user installation: only that person can connect it. */
export function describePersonalConnection(view: Pick<UpstreamConnection, 'status' | 'expiresAt' | 'lastError'>, formatTime: (iso: string) => string = (iso) => new Date(iso).toLocaleString()): Pick<ConnectionDescription, 'label' | 'tone' | 'detail'> {
  switch (view.status) {
    case 'connected':
      return { label: 'connected', tone: 'connected', detail: view.expiresAt ? `Token until ${formatTime(view.expiresAt)}; refreshed before.` : 'The token does not expire.' };
    case 'needs_reconnect':
      return {
        label: 'needs reconnect',
        tone: 'needs-reconnect',
        detail: `${view.lastError ? `It failed: ${view.lastError.replace(/[.\s]+$/, '')}.` : 'The upstream no longer accepts it.'} Their next call gives them a new link.`,
      };
    case 'pending':
      return { label: 'connect pending', tone: 'pending', detail: 'They opened a connect link and have not finished at the upstream.' };
    case 'not_connected':
      return { label: 'not connected', tone: 'not-connected', detail: 'Their next call gives them a link to connect.' };
  }
}

/** A person as the console names them: the API key they signed in with (by name when known), or their single sign-on identity. */
export function personName(subject: string, keyNames: ReadonlyMap<string, string>): string {
  if (subject.startsWith('key:')) {
    const id = subject.slice('key:'.length);
    return `signed in with API key ${keyNames.get(id) ?? id}`;
  }
  return subject.startsWith('sso:') ? subject.slice('sso:'.length) : subject;
}
