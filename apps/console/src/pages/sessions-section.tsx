import { useCallback, useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { LiveSession, Tenant } from '../api/types';
import { ConfirmButton, Empty, ErrorNotice, Loading } from '../components/ui';
import { useKeyNames } from './use-key-names';

/** The API returns every live session of a tenant at once; the page shows them 25 at a time. */
const PAGE_SIZE = 25;

/** Live MCP sessions of a tenant on every gateway node; ending one asks its node to close it. */
export function SessionsSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [sessions, setSessions] = useState<LiveSession[] | null>(null);
  const [shown, setShown] = useState(PAGE_SIZE);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');
  const keyNames = useKeyNames(api, tenant.id);

  const load = useCallback(async () => {
    try {
      const list = await api.get<{ items: LiveSession[] }>(apiPath('tenants', tenant.id, 'sessions'));
      setSessions(list.items);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, tenant.id]);
  useEffect(() => {
    void load();
  }, [load]);

  async function end(session: LiveSession) {
    try {
      await api.send('DELETE', apiPath('tenants', tenant.id, 'sessions', session.sessionId));
      // The node closes it within a second; until then the registry may still list it.
      setSessions((previous) => previous?.filter((item) => item.sessionId !== session.sessionId) ?? null);
      setNotice(`Session ${session.sessionId} ended.`);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section aria-labelledby="sessions">
      <h2 id="sessions">Live sessions</h2>
      <p className="hint">MCP sessions open on every gateway node, oldest first. Nodes report activity every few seconds.</p>
      <div className="toolbar">
        <button type="button" onClick={() => void load()}>
          Refresh sessions
        </button>
        <span role="status" className="copy-state">
          {notice}
        </span>
      </div>
      <ErrorNotice error={error} />
      {!sessions ? (
        !error && <Loading what="sessions" />
      ) : sessions.length === 0 ? (
        <Empty>No live sessions. A client connected with one of the tenant's keys shows up here.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Live sessions of {tenant.slug}</caption>
              <thead>
                <tr>
                  <th scope="col">Session</th>
                  <th scope="col">Node</th>
                  <th scope="col">Transport</th>
                  <th scope="col">Key or user</th>
                  <th scope="col">Opened</th>
                  <th scope="col">Last activity</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {sessions.slice(0, shown).map((session) => (
                  <tr key={session.sessionId}>
                    <td className="mono">
                      {session.sessionId}
                      {session.plugin && <span className="hint"> via {session.plugin}</span>}
                    </td>
                    <td className="mono">{session.node}</td>
                    <td>{session.transport}</td>
                    <td className="mono">{session.subject ?? keyNames.get(session.keyId) ?? session.keyId}</td>
                    <td>{new Date(session.openedAt).toLocaleString()}</td>
                    <td>{new Date(session.lastActivityAt).toLocaleString()}</td>
                    <td>
                      <ConfirmButton
                        label="End"
                        question="End this session? The client must reconnect."
                        confirmLabel={`End session ${session.sessionId}`}
                        onConfirm={() => void end(session)}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="hint">
            Showing {Math.min(shown, sessions.length)} of {sessions.length}.
          </p>
          {shown < sessions.length && (
            <button type="button" onClick={() => setShown((count) => count + PAGE_SIZE)}>
              Show more sessions
            </button>
          )}
        </>
      )}
    </section>
  );
}
