import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { ApiKey, IssuedApiKey, Page, Tenant, TenantTool } from '../api/types';
import { LimitFields } from '../components/limit-fields';
import { ConfirmButton, CopyButton, Empty, ErrorNotice, Field, Loading } from '../components/ui';
import { toInputs, toOverrides, type LimitInputs } from '../lib/limits-form';
import { hasListedTools, knownToolsOf, type KnownTool } from '../lib/tenant-tools';

const PAGE_SIZE = 25;
/** The API's bounds for the old key's grace period on rotation (MAX_ROTATION_GRACE_SECONDS). */
const DEFAULT_GRACE_SECONDS = 3600;
const MAX_GRACE_SECONDS = 7 * 24 * 3600;
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
  const [issued, setIssued] = useState<{ key: IssuedApiKey; rotated: boolean } | null>(null);
  const [rotating, setRotating] = useState<string | null>(null);

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
          setIssued({ key, rotated: false });
          void load();
        }}
      />
      {issued && <IssuedKeyPanel issued={issued.key} rotated={issued.rotated} onDone={() => setIssued(null)} />}
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
                {key.status === 'active' && key.expiresAt && <span className="expiry">expires at {new Date(key.expiresAt).toLocaleString()}</span>}
                {key.rotatedFromId && <span className="hint">replaces a rotated key</span>}
                {describeLimits(key.limits) && <span className="hint">limits: {describeLimits(key.limits)}</span>}
                {key.tools?.length ? <span className="hint mono-list">tools: {key.tools.join(', ')}</span> : null}
                {key.virtualServers?.length ? <span className="hint mono-list">virtual servers only: {key.virtualServers.join(', ')}</span> : null}
              </div>
              {key.status === 'active' && (
                <div className="actions">
                  <button type="button" aria-expanded={rotating === key.id} onClick={() => setRotating(rotating === key.id ? null : key.id)}>
                    {rotating === key.id ? 'Cancel rotation' : 'Rotate'}
                  </button>
                  <ConfirmButton label="Revoke" question={`Revoke ${key.name}? Clients using it stop working.`} confirmLabel={`Revoke ${key.name}`} onConfirm={() => void revoke(key)} />
                </div>
              )}
              {rotating === key.id && (
                <RotateKeyForm
                  api={api}
                  tenant={tenant}
                  apiKey={key}
                  onRotated={(fresh) => {
                    setRotating(null);
                    setIssued({ key: fresh, rotated: true });
                    void load();
                  }}
                />
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
  const [limits, setLimits] = useState<LimitInputs>(() => toInputs({}));
  const [tools, setTools] = useState<ToolChoice>(NO_TOOLS);
  const [sent, setSent] = useState<string[]>([]);
  const [failure, setFailure] = useState<unknown>();
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};
  const limitErrors = failure instanceof ApiFailure ? failure.fieldErrors('limits') : {};
  const limitsInvalid = Object.keys(fieldErrors).some((path) => path.startsWith('limits'));
  const toolsError = toolErrors(fieldErrors, sent);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const list = toolList(tools);
    setSent(list);
    try {
      const overrides = toOverrides(limits, 'key');
      const body = { name, ...(Object.keys(overrides).length > 0 ? { limits: overrides } : {}), ...(list.length > 0 ? { tools: list } : {}) };
      const issued = await api.send<IssuedApiKey>('POST', apiPath('tenants', tenant.id, 'api-keys'), body);
      setFailure(undefined);
      setName('');
      setLimits(toInputs({}));
      setTools(NO_TOOLS);
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
      {/* Open while the API refuses one of its limits, so the message beside the box is seen. */}
      <details className="key-limits" open={limitsInvalid || undefined}>
        <summary>Limits for this key (optional)</summary>
        <LimitFields level="key" inputs={limits} errors={limitErrors} onChange={setLimits} />
      </details>
      <ToolAllowlist api={api} tenant={tenant} choice={tools} error={toolsError} onChange={setTools} />
      {failure instanceof ApiFailure && !fieldErrors['name'] && !limitsInvalid && !toolsError ? <ErrorNotice error={failure} /> : null}
    </form>
  );
}

/** The tools chosen from the tenant's installations, and the ones typed (one `installation__tool` a line). */
interface ToolChoice {
  checked: string[];
  typed: string;
}
const NO_TOOLS: ToolChoice = { checked: [], typed: '' };

function toolList(choice: ToolChoice): string[] {
  const typed = choice.typed.split('\n').map((line) => line.trim()).filter(Boolean);
  return [...choice.checked, ...typed];
}

/** The API's `tools.<i>` errors name an entry by its position in what was sent: shown by the entry's name instead. */
function toolErrors(fieldErrors: Record<string, string>, sent: string[]): string | undefined {
  const messages = Object.entries(fieldErrors)
    .filter(([path]) => path === 'tools' || path.startsWith('tools.'))
    .map(([path, message]) => {
      const index = Number(path.slice('tools.'.length));
      return path !== 'tools' && Number.isInteger(index) && sent[index] !== undefined ? `${sent[index]}: ${message}` : message;
    });
  return messages.length > 0 ? messages.join('; ') : undefined;
}

/**
 * The key's tool allowlist. The tools the API knows for the tenant are offered as checkboxes,
 * named as the gateway names them (`github__search`): the ones plugins declare, and a federated
 * upstream's or a hosted server's once a gateway has listed them; a tool not listed yet is typed,
 * one a line. Read when opened, so installations made since the page loaded are offered.
 */
function ToolAllowlist({ api, tenant, choice, error, onChange }: { api: ApiClient; tenant: Tenant; choice: ToolChoice; error?: string; onChange: (choice: ToolChoice) => void }) {
  const [known, setKnown] = useState<KnownTool[] | null>(null);
  const [loadFailure, setLoadFailure] = useState<unknown>();

  async function load() {
    try {
      const tools = await api.get<{ items: TenantTool[] }>(apiPath('tenants', tenant.id, 'tools'));
      setKnown(knownToolsOf(tools.items));
      setLoadFailure(undefined);
    } catch (failure) {
      setLoadFailure(failure);
    }
  }

  const toggle = (tool: string, on: boolean) => onChange({ ...choice, checked: on ? [...choice.checked, tool] : choice.checked.filter((name) => name !== tool) });
  return (
    <details className="key-tools" open={error ? true : undefined} onToggle={(event) => (event.currentTarget as HTMLDetailsElement).open && void load()}>
      <summary>Tools for this key (optional)</summary>
      <p className="hint">None chosen: every tool of the tenant&apos;s plugins. Fixed at issue and kept on rotation.</p>
      <ErrorNotice error={loadFailure} />
      {!known ? (
        <Loading what="tools" />
      ) : known.length > 0 ? (
        <fieldset>
          <legend>Tools of the installed plugins</legend>
          {hasListedTools(known) && <p className="hint">Upstream and hosted server tools are as a gateway last listed them, when a client connected.</p>}
          {known.map((tool) => (
            <div key={tool.source} className="field field-check">
              <input
                id={`tool-${tool.source}`}
                type="checkbox"
                checked={choice.checked.includes(tool.source)}
                aria-describedby={tool.origin === 'listed' ? `tool-${tool.source}-about` : undefined}
                onChange={(event) => toggle(tool.source, event.target.checked)}
              />
              <label htmlFor={`tool-${tool.source}`} className="mono">
                {tool.source}
              </label>
              {tool.origin === 'listed' && (
                <span className="hint" id={`tool-${tool.source}-about`}>
                  {' '}
                  {tool.about}
                </span>
              )}
            </div>
          ))}
        </fieldset>
      ) : (
        <p className="hint">No tools known yet: an upstream&apos;s or a hosted server&apos;s appear once a client has connected. Type them below.</p>
      )}
      <Field label="Other tools, one a line" error={error} hint="As installation__tool, e.g. github__search: for a federated upstream's (remote-mcp) or a hosted server's tool that no gateway has listed yet.">
        {(props) => <textarea {...props} name="tools" rows={3} spellCheck={false} value={choice.typed} onChange={(event) => onChange({ ...choice, typed: event.target.value })} />}
      </Field>
    </details>
  );
}

/**
 * Rotation issues a replacement with the same name, plugins and limits; the old key keeps
 * working for the grace period (0 revokes it at once), then expires.
 */
function RotateKeyForm({ api, tenant, apiKey, onRotated }: { api: ApiClient; tenant: Tenant; apiKey: ApiKey; onRotated: (key: IssuedApiKey) => void }) {
  const [grace, setGrace] = useState(String(DEFAULT_GRACE_SECONDS));
  const [failure, setFailure] = useState<unknown>();
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      // A value that is not a whole number goes to the API as typed: its error names the field.
      const seconds = /^\d+$/.test(grace.trim()) ? Number(grace.trim()) : grace;
      const fresh = await api.send<IssuedApiKey>('POST', apiPath('tenants', tenant.id, 'api-keys', apiKey.id, 'rotate'), { gracePeriodSeconds: seconds });
      setFailure(undefined);
      onRotated(fresh);
    } catch (error) {
      setFailure(error);
    }
  }
  return (
    <form onSubmit={submit} noValidate className="inline-form rotate-form" aria-label={`Rotate ${apiKey.name}`}>
      <Field
        label="Grace period (seconds)"
        error={fieldErrors['gracePeriodSeconds']}
        hint={`How long the old key keeps working: 0 ends it at once, at most ${MAX_GRACE_SECONDS} (7 days).`}
      >
        {(props) => <input {...props} name="gracePeriodSeconds" inputMode="numeric" value={grace} autoComplete="off" onChange={(event) => setGrace(event.target.value)} />}
      </Field>
      <button type="submit" className="primary">
        Rotate {apiKey.name}
      </button>
      {failure instanceof ApiFailure && !fieldErrors['gracePeriodSeconds'] ? <ErrorNotice error={failure} /> : null}
    </form>
  );
}

const LIMIT_SHORT: Record<string, string> = {
  requestsPerMinute: 'requests/min',
  toolCallsPerMinute: 'tool calls/min',
  concurrentSessions: 'sessions',
  concurrentToolCalls: 'calls in flight',
  monthlyToolCalls: 'tool calls/month',
};

/** A key's own overrides in a few words ("10 tool calls/min, no limit on sessions"); '' when it inherits all. */
function describeLimits(limits: ApiKey['limits'] | undefined): string {
  return Object.entries(limits ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => (value === null ? `no limit on ${LIMIT_SHORT[name] ?? name}` : `${value} ${LIMIT_SHORT[name] ?? name}`))
    .join(', ');
}

/** The secret exists only in this panel: dismissing it (or leaving the page) forgets it. */
export function IssuedKeyPanel({ issued, rotated, onDone }: { issued: IssuedApiKey; rotated: boolean; onDone: () => void }) {
  return (
    <section className="issued" aria-labelledby="issued-key">
      <h3 id="issued-key">
        Key {issued.key.name} {rotated ? 'rotated: copy the new key now' : 'issued: copy it now'}
      </h3>
      <p>
        The secret is shown this once; only its hash is stored.
        {rotated && ' Replace the old key in your clients before it expires.'}
      </p>
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

export function CopyRow({ label, copy, value, block }: { label: string; copy: string; value: string; block?: boolean }) {
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
