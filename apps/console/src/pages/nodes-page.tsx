import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../api/client';
import type { ClusterMode, ClusterNode } from '../api/types';
import { ListPanel } from '../components/list-panel';
import { PageHeading } from '../components/ui';

/**
 * The gateway nodes in the session registry: a node is up while its heartbeat renews its
 * liveness key, silent once it missed it (its sessions then expire with it).
 */
export function NodesPage({ api }: { api: ApiClient }) {
  const [nodes, setNodes] = useState<{ mode: ClusterMode; items: ClusterNode[] } | null>(null);
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    try {
      setNodes(await api.get<{ mode: ClusterMode; items: ClusterNode[] }>('/v1/cluster/nodes'));
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <PageHeading>Cluster nodes</PageHeading>
      {nodes?.mode === 'embedded' ? (
        <p className="hint">Embedded mode (npm start): one gateway runs inside the API's process. It is listed once it holds a session.</p>
      ) : (
        <p className="hint">Gateway nodes registered in Redis. A node renews its heartbeat every few seconds; a silent one is dropped with its sessions when the heartbeat expires.</p>
      )}
      <ListPanel
        items={nodes?.items ?? null}
        error={error}
        toolbar={
          <button type="button" onClick={() => void load()}>
            Refresh nodes
          </button>
        }
        loading="nodes"
        empty={nodes?.mode === 'embedded' ? 'No sessions yet, so no node to show.' : 'No gateway node is registered.'}
        caption="Gateway nodes"
      >
        {(items) => (
          <>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Health</th>
                <th scope="col">Heartbeat</th>
                <th scope="col">Sessions</th>
                <th scope="col">Streamable HTTP</th>
                <th scope="col">SSE</th>
                <th scope="col">Tenants</th>
              </tr>
            </thead>
            <tbody>
              {items.map((node) => (
                <tr key={node.node}>
                  <th scope="row" className="mono">
                    {node.node}
                  </th>
                  <td>
                    <span className={`badge badge-${node.health === 'up' ? 'active' : 'expired'}`}>{node.health}</span>
                  </td>
                  <td>
                    {node.heartbeatExpiresInMs !== null
                      ? `renewed; expires in ${Math.ceil(node.heartbeatExpiresInMs / 1000)} s`
                      : node.health === 'up'
                        ? 'in this process'
                        : 'missed'}
                  </td>
                  <td>
                    <a href={`#/sessions/node/${encodeURIComponent(node.node)}`}>
                      {node.sessions}
                      <span className="visually-hidden"> sessions on {node.node}</span>
                    </a>
                  </td>
                  <td>{node.sessionsByTransport['streamable-http']}</td>
                  <td>{node.sessionsByTransport.sse}</td>
                  <td>{node.tenants}</td>
                </tr>
              ))}
            </tbody>
          </>
        )}
      </ListPanel>
    </>
  );
}
