import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { ApiKey, IssuedApiKey, Page, Tenant } from '../api/types';
import { ConfirmButton, CopyButton, Empty, ErrorNotice, Field, Loading } from '../components/ui';

const PAGE_SIZE = 25;
/** The client snippets worth a copy button; the API returns more (OAuth variants), shown in docs/api.md. */
const SNIPPETS: { key: string; client: string; file: string }[] = [
  { key: 'cursor', client: 'Cursor', file: '~/.cursor/mcp.json' },
  { key: 'vscode', client: 'VS Code', file: '.vscode/mcp.json' },
  { key: 'claudeDesktop', client: 'Claude Desktop', file: 'claude_desktop_config.json' },
];

export function ApiKeysSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [issued, setIssued] = useState<IssuedApiKey | null>(null);

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api.get<Page<ApiKey>>(`${apiPath('tenants', tenant.id, 'api-keys')}?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        setKeys((previous) => (cursor && previous ? [...previous, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
      } catch (failure) {
        setError(failure);
      }
    },
    [api, tenant.id],
  );
  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(key: ApiKey) {
    try {
      await api.send('POST', apiPath('tenants', tenant.id, 'api-keys', key.id, 'revoke'));
      setError(undefined);
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section aria-labelledby="api-keys">
      <h2 id="api-keys">API keys</h2>
      <IssueKeyForm
        api={api}
        tenant={tenant}
        onIssued={(key) => {
          setIssued(key);
          void load();
        }}
      />
      {issued && <IssuedKeyPanel issued={issued} onDone={() => setIssued(null)} />}
      <ErrorNotice error={error} />
      {!keys ? (
        <Loading what="API keys" />
      ) : keys.length === 0 ? (
        <Empty>No API keys yet. Issue one to connect a client.</Empty>
      ) : (
        <ul className="cards" aria-label="API keys">
          {keys.map((key) => (
            <li key={key.id} className="card">
              <div className="card-main">
                <strong>{key.name}</strong>
                <span className="mono">{key.prefix}…</span>
                <span className={`badge badge-${key.status}`}>{key.status}</span>
                <span className="hint">{key.lastUsedAt ? `last used ${new Date(key.lastUsedAt).toLocaleString()}` : 'never used'}</span>
              </div>
              {key.status === 'active' && (
                <div className="actions">
                  <ConfirmButton label="Revoke" question={`Revoke ${key.name}? Clients using it stop working.`} confirmLabel={`Revoke ${key.name}`} onConfirm={() => void revoke(key)} />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {nextCursor && (
        <button type="button" onClick={() => void load(nextCursor)}>
          Load more keys
        </button>
      )}
    </section>
  );
}

function IssueKeyForm({ api, tenant, onIssued }: { api: ApiClient; tenant: Tenant; onIssued: (key: IssuedApiKey) => void }) {
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<unknown>();
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const issued = await api.send<IssuedApiKey>('POST', apiPath('tenants', tenant.id, 'api-keys'), { name });
      setFailure(undefined);
      setName('');
      onIssued(issued);
    } catch (error) {
      setFailure(error);
    }
  }
  return (
    <form onSubmit={submit} noValidate className="inline-form">
      <Field label="Key name" error={fieldErrors['name']} hint="Who or what uses it, e.g. laptop.">
        {(props) => <input {...props} name="name" value={name} autoComplete="off" onChange={(event) => setName(event.target.value)} />}
      </Field>
      <button type="submit" className="primary">
        Issue key
      </button>
      {failure instanceof ApiFailure && !fieldErrors['name'] ? <ErrorNotice error={failure} /> : null}
    </form>
  );
}

/** The secret exists only in this panel: dismissing it (or leaving the page) forgets it. */
function IssuedKeyPanel({ issued, onDone }: { issued: IssuedApiKey; onDone: () => void }) {
  return (
    <section className="issued" aria-labelledby="issued-key">
      <h3 id="issued-key">Key {issued.key.name} issued: copy it now</h3>
      <p>The secret is shown this once; only its hash is stored.</p>
      <CopyRow label="Secret" copy="Copy secret" value={issued.secret} />
      <CopyRow label="MCP URL (Streamable HTTP)" copy="Copy MCP URL" value={issued.urls.streamableHttp} />
      <CopyRow label="SSE URL (older clients)" copy="Copy SSE URL" value={issued.urls.sse} />
      {SNIPPETS.filter((snippet) => issued.clients[snippet.key] !== undefined).map((snippet) => (
        <CopyRow
          key={snippet.key}
          label={`${snippet.client}: merge into ${snippet.file}`}
          copy={`Copy ${snippet.client} snippet`}
          value={JSON.stringify(issued.clients[snippet.key], null, 2)}
          block
        />
      ))}
      <button type="button" className="primary" onClick={onDone}>
        I have saved it
      </button>
    </section>
  );
}

function CopyRow({ label, copy, value, block }: { label: string; copy: string; value: string; block?: boolean }) {
  return (
    <div className="copy-row">
      <span className="copy-label">{label}</span>
      {block ? (
        <pre tabIndex={0}>{value}</pre>
      ) : (
        <code>{value}</code>
      )}
      <CopyButton text={value} label={copy} />
    </div>
  );
}
