import { useCallback, useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { PersonalConnection, StartedConnection, Tenant, UpstreamConnection } from '../api/types';
import { ConfirmButton, ErrorNotice, Loading } from '../components/ui';
import { describeConnection, describePersonalConnection, personName } from '../lib/upstream-connection';
import { useKeyNames } from './use-key-names';

/**
 * The upstream OAuth account of one remote-mcp installation with `auth: oauth` (shared mode,
 * docs/upstream-oauth.md): its state, and Connect, which asks the API for a single-use connect
 * URL on the gateway and opens it in a new tab; the gateway runs the OAuth round trip from there.
 * The console keeps its token in this tab, so it never navigates away itself.
 */
export function UpstreamConnectionPanel({ api, tenant, installation }: { api: ApiClient; tenant: Tenant; installation: string }) {
  const [view, setView] = useState<UpstreamConnection | null>(null);
  const [started, setStarted] = useState<StartedConnection | null>(null);
  const [error, setError] = useState<unknown>();
  const path = apiPath('tenants', tenant.id, 'plugins', installation, 'upstream-connection');

  const load = useCallback(async () => {
    try {
      setView(await api.get<UpstreamConnection>(path));
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, path]);
  useEffect(() => {
    void load();
    // Back from the connect tab, the state has changed: read it again.
    const onFocus = () => void load();
    window.addEventListener('focus', onFocus);
    return () => window.removeEventListener('focus', onFocus);
  }, [load]);

  async function connect() {
    try {
      const connection = await api.send<StartedConnection>('POST', path);
      setStarted(connection);
      setError(undefined);
      // Within the click's user activation (a few seconds), so a popup blocker lets it through; the link below is there if one does not.
      window.open(connection.connectUrl, '_blank', 'noopener,noreferrer');
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  async function disconnect() {
    try {
      await api.send('DELETE', path);
      setStarted(null);
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  if (!view) return error ? <ErrorNotice error={error} /> : <Loading what={`the upstream account of ${installation}`} />;
  const described = describeConnection(view);
  return (
    <div className="upstream" role="group" aria-label={`Upstream account of ${installation}`}>
      <div className="card-main">
        <span>Upstream account</span>
        <span className={`badge badge-${described.tone}`}>{described.label}</span>
        <span className="hint">{described.detail}</span>
      </div>
      <div className="actions">
        <button type="button" className={view.status === 'connected' ? undefined : 'primary'} onClick={() => void connect()}>
          {described.action}
          <span className="visually-hidden"> {installation}</span>
        </button>
        <button type="button" onClick={() => void load()}>
          Check again<span className="visually-hidden"> {installation}</span>
        </button>
        {described.canDisconnect && (
          <ConfirmButton
            label="Disconnect"
            question={`Forget the upstream account of ${installation}? Its tool calls fail until it is connected again.`}
            confirmLabel={`Disconnect ${installation}`}
            onConfirm={() => void disconnect()}
          />
        )}
      </div>
      {started && (
        <p className="hint" role="status">
          The connect page opened in a new tab: sign in at the upstream there, then come back. If no tab opened,{' '}
          <a href={started.connectUrl} target="_blank" rel="noopener noreferrer">
            open the connect page
          </a>{' '}
          (single use, until {new Date(started.expiresAt).toLocaleTimeString()}).
        </p>
      )}
      <ErrorNotice error={error} />
    </div>
  );
}

/**
 * The people's upstream accounts of a per-user installation (docs/upstream-oauth.md "Per-user
 * mode"): each signed-in person connects their own from the link their first call gives them, so
 * nothing is connected here; a tenant admin sees who has and forgets one (their next call answers
 * a new link).
 */
export function PersonalConnectionsPanel({ api, tenant, installation }: { api: ApiClient; tenant: Tenant; installation: string }) {
  const [people, setPeople] = useState<PersonalConnection[] | null>(null);
  const [error, setError] = useState<unknown>();
  const keyNames = useKeyNames(api, tenant.id);
  const path = apiPath('tenants', tenant.id, 'plugins', installation, 'upstream-connection', 'people');

  const load = useCallback(async () => {
    try {
      setPeople((await api.get<{ items: PersonalConnection[] }>(path)).items);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, path]);
  useEffect(() => {
    void load();
  }, [load]);

  async function forget(subject: string) {
    try {
      await api.send('DELETE', `${path}?subject=${encodeURIComponent(subject)}`);
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <div className="upstream" role="group" aria-label={`Upstream accounts of ${installation}`}>
      <p className="hint">Upstream accounts: each signed-in person connects their own the first time a tool needs it.</p>
      {!people ? (
        !error && <Loading what={`the upstream accounts of ${installation}`} />
      ) : people.length === 0 ? (
        <p className="hint">No one has connected an account yet.</p>
      ) : (
        <ul className="people" aria-label={`People connected to ${installation}'s upstream`}>
          {people.map((person) => {
            const described = describePersonalConnection(person);
            const name = personName(person.subject, keyNames);
            return (
              <li key={person.subject}>
                <span className="mono">{name}</span> <span className={`badge badge-${described.tone}`}>{described.label}</span> <span className="hint">{described.detail}</span>{' '}
                <ConfirmButton label="Forget" question={`Forget the upstream account of ${name}? Their next call gives them a new link.`} confirmLabel={`Forget ${name}`} onConfirm={() => void forget(person.subject)} />
              </li>
            );
          })}
        </ul>
      )}
      <ErrorNotice error={error} />
    </div>
  );
}
