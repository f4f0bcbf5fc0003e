import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { PlatformSession, PlatformSessionPage } from '../api/types';
import { ListPanel } from '../components/list-panel';
import { ConfirmButton, Field, PageHeading } from '../components/ui';
import { navigate, tenantHref } from '../lib/hash-route';

const PAGE_SIZE = 25;

/** Live MCP sessions of every tenant on every gateway node (platform admins); one node's with `node`. */
export function PlatformSessionsPage({ api, node }: { api: ApiClient; node?: string }) {
  const [page, setPage] = useState<{ items: PlatformSession[]; nextCursor: string | null; total: number; mode: string } | null>(null);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');
  const [nodeDraft, setNodeDraft] = useState(node ?? '');
  const fieldErrors = error instanceof ApiFailure ? error.fieldErrors() : {};

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
        if (node) params.set('node', node);
        if (cursor) params.set('cursor', cursor);
        const next = await api.get<PlatformSessionPage>(`/v1/cluster/sessions?${params.toString()}`);
        setPage((previous) => (cursor && previous ? { ...next, items: [...previous.items, ...next.items] } : next));
        setError(undefined);
      } catch (failure) {
        setError(failure);
      }
    },
    [api, node],
  );
  useEffect(() => {
    void load();
  }, [load]);

  async function end(session: PlatformSession) {
    try {
      await api.send('DELETE', apiPath('cluster', 'sessions', session.sessionId));
      // Its node closes it within a second; until then the registry may still list it.
      setPage((previous) => previous && { ...previous, items: previous.items.filter((item) => item.sessionId !== session.sessionId), total: previous.total - 1 });
      setNotice(`Session ${session.sessionId} of ${session.tenantSlug} ended.`);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }

  function filter(event: FormEvent) {
    event.preventDefault();
    navigate(nodeDraft.trim() ? `/sessions/node/${encodeURIComponent(nodeDraft.trim())}` : '/sessions');
  }

  return (
    <>
      <PageHeading>{node ? `Live sessions on ${node}` : 'Live sessions'}</PageHeading>
      <p className="hint">Every tenant's MCP sessions on every gateway node, oldest first. Nodes report activity every few seconds.</p>
      <form onSubmit={filter} noValidate className="inline-form" aria-label="Filter sessions">
        <Field label="Node" error={fieldErrors['node']} hint="A gateway node's id; empty for every node.">
          {(props) => <input {...props} name="node" value={nodeDraft} autoComplete="off" onChange={(event) => setNodeDraft(event.target.value)} />}
        </Field>
        <button type="submit">Show sessions</button>
        <button type="button" onClick={() => void load()}>
          Refresh sessions
        </button>
      </form>
      <ListPanel
        items={page?.items ?? null}
        error={error}
        showError={!fieldErrors['node']}
        notice={notice}
        loading="sessions"
        empty={node ? `No live sessions on ${node}.` : 'No live sessions on any node.'}
        caption="Live sessions"
        paging={{ kind: 'server', total: page?.total ?? 0, moreLabel: 'Load more sessions', onMore: page?.nextCursor ? () => void load(page.nextCursor!) : undefined }}
      >
        {(sessions) => (
          <>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
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
              {sessions.map((session) => (
                <tr key={session.sessionId}>
                  <td>
                    <a href={tenantHref(session.tenantSlug, 'sessions')}>{session.tenantSlug}</a>
                  </td>
                  <td className="mono">
                    {session.sessionId}
                    {session.plugin && <span className="hint"> via {session.plugin}</span>}
                  </td>
                  <td className="mono">{session.node}</td>
                  <td>{session.transport}</td>
                  <td className="mono">{session.subject ?? `key ${session.keyId.slice(0, 8)}`}</td>
                  <td>{new Date(session.openedAt).toLocaleString()}</td>
                  <td>{new Date(session.lastActivityAt).toLocaleString()}</td>
                  <td>
                    <ConfirmButton
                      label="End"
                      question={`End this session of ${session.tenantSlug}? The client must reconnect.`}
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
    </>
  );
}
