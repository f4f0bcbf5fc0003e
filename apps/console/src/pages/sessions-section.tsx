import { useCallback, useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { LiveSession, Tenant } from '../api/types';
import { ListPanel } from '../components/list-panel';
import { ConfirmButton } from '../components/ui';
import { useKeyNames } from './use-key-names';

/** The API returns every live session of a tenant at once; the page shows them 25 at a time. */
const PAGE_SIZE = 25;

/** Live MCP sessions of a tenant on every gateway node; ending one asks its node to close it. */
export function SessionsSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [sessions, setSessions] = useState<LiveSession[] | null>(null);
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
      <ListPanel
        items={sessions}
        error={error}
        toolbar={
          <button type="button" onClick={() => void load()}>
            Refresh sessions
          </button>
        }
        notice={notice}
        loading="sessions"
        empty="No live sessions. A client connected with one of the tenant's keys shows up here."
        caption={`Live sessions of ${tenant.slug}`}
        paging={{ kind: 'client', pageSize: PAGE_SIZE, moreLabel: 'Show more sessions' }}
      >
        {(shown) => (
          <>
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
              {shown.map((session) => (
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
          </>
        )}
      </ListPanel>
    </section>
  );
}
