import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { IssuedApiKey, Tenant, TenantTool, VirtualServer } from '../api/types';
import { ListPanel } from '../components/list-panel';
import { ConfirmButton, CopyButton, ErrorNotice, Field, Loading } from '../components/ui';
import {
  addTypedTool,
  defaultToolName,
  draftOf,
  removeTool,
  toggleTool,
  toolErrors,
  toServerBody,
  updateTool,
  type RowErrors,
  type ServerDraft,
  type ToolRow,
} from '../lib/virtual-server-form';
import { hasListedTools, knownToolsOf, type KnownTool } from '../lib/tenant-tools';
import { IssuedKeyPanel } from './api-keys-section';

/** The API returns a tenant's virtual servers at once; the page shows them 25 at a time. */
const PAGE_SIZE = 25;

type Panel = { kind: 'create' } | { kind: 'edit'; server: VirtualServer } | { kind: 'issue'; server: VirtualServer } | { kind: 'issued'; key: IssuedApiKey };

/**
 * A tenant's virtual servers (docs/virtual-servers.md): curated endpoints at
 * `/t/{tenant}/v/{name}/mcp` made of chosen tools of its installations, each under the name and
 * description its clients see. One panel above the list creates, edits, or issues a key restricted
 * to one server, whose issue shows that server's full URLs and client snippets.
 */
export function VirtualServersSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [servers, setServers] = useState<VirtualServer[] | null>(null);
  const [known, setKnown] = useState<KnownTool[] | null>(null);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');
  const [panel, setPanel] = useState<Panel | null>(null);
  const base = apiPath('tenants', tenant.id, 'virtual-servers');

  const load = useCallback(async () => {
    try {
      const [list, tools] = await Promise.all([api.get<{ items: VirtualServer[] }>(base), api.get<{ items: TenantTool[] }>(apiPath('tenants', tenant.id, 'tools'))]);
      setKnown(knownToolsOf(tools.items));
      setServers(list.items);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, base, tenant.id]);
  useEffect(() => {
    void load();
  }, [load]);

  async function remove(server: VirtualServer) {
    try {
      await api.send('DELETE', apiPath('tenants', tenant.id, 'virtual-servers', server.name));
      setNotice(`Virtual server ${server.name} deleted. Its clients see no tools from now on.`);
      setPanel(null);
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  const open = (next: Panel) => {
    setNotice('');
    setPanel(next);
  };

  return (
    <section aria-labelledby="virtual-servers">
      <h2 id="virtual-servers">Virtual servers</h2>
      <p className="hint section-intro">
        A curated MCP endpoint: chosen tools of this tenant&apos;s installations, under the names and descriptions its clients see, at{' '}
        <span className="mono">/t/{tenant.slug}/v/&lt;name&gt;/mcp</span> on the gateway. Only the tools listed are on it: a tool an upstream adds later never appears unasked.
      </p>
      {panel && (panel.kind === 'create' || panel.kind === 'edit') &&
        (known ? (
          <ServerEditor
            key={panel.kind === 'edit' ? panel.server.name : 'new'}
            api={api}
            tenant={tenant}
            server={panel.kind === 'edit' ? panel.server : undefined}
            known={known}
            onCancel={() => setPanel(null)}
            onSaved={(saved, created) => {
              setPanel(null);
              setNotice(`Virtual server ${saved.name} ${created ? 'created' : 'saved'}. Open sessions on it get the new tool list.`);
              void load();
            }}
          />
        ) : (
          <Loading what="the tools of the installations" />
        ))}
      {panel?.kind === 'issue' && <IssueServerKeyForm api={api} tenant={tenant} server={panel.server} onCancel={() => setPanel(null)} onIssued={(key) => setPanel({ kind: 'issued', key })} />}
      {panel?.kind === 'issued' && <IssuedKeyPanel issued={panel.key} rotated={false} onDone={() => setPanel(null)} />}
      <ListPanel
        items={servers}
        error={error}
        toolbar={
          <>
            <button type="button" className="primary" aria-expanded={panel?.kind === 'create'} onClick={() => open({ kind: 'create' })}>
              New virtual server
            </button>
            <button type="button" onClick={() => void load()}>
              Refresh virtual servers
            </button>
          </>
        }
        notice={notice}
        loading="virtual servers"
        empty="No virtual servers yet. Create one to hand a team a curated set of tools at a URL of its own."
        caption={`Virtual servers of ${tenant.slug}`}
        paging={{ kind: 'client', pageSize: PAGE_SIZE, moreLabel: 'Show more virtual servers' }}
      >
        {(shown) => (
          <>
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Tools (name for clients ← tool)</th>
                <th scope="col">URL on the gateway</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((server) => (
                <tr key={server.name}>
                  <th scope="row" className="vs-name">
                    <span className="mono">{server.name}</span>
                    {server.description && <p className="hint">{server.description}</p>}
                  </th>
                  <td>
                    {server.tools.length === 0 ? (
                      <span className="hint">no tools</span>
                    ) : (
                      <ul className="vs-tools-list">
                        {server.tools.map((tool) => (
                          <li key={tool.source}>
                            <span className="mono">{tool.name}</span>
                            <span className="hint mono"> ← {tool.source}</span>
                            {tool.description && <span className="hint"> (description overridden)</span>}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="vs-url">
                    <span className="mono">{server.urls.streamableHttp}</span>{' '}
                    <CopyButton text={server.urls.streamableHttp} label="Copy MCP URL" />
                    <p className="hint">
                      Older clients: <span className="mono">{server.urls.sse}</span>. Issue key gives the client snippets.
                    </p>
                  </td>
                  <td>
                    <span className="actions">
                      <button type="button" aria-expanded={panel?.kind === 'edit' && panel.server.name === server.name} onClick={() => open({ kind: 'edit', server })}>
                        Edit<span className="visually-hidden"> {server.name}</span>
                      </button>
                      <button type="button" onClick={() => open({ kind: 'issue', server })}>
                        Issue key<span className="visually-hidden"> for {server.name}</span>
                      </button>
                      <ConfirmButton
                        label="Delete"
                        question={`Delete ${server.name}? Its URL stops serving tools; keys restricted to it keep no other access.`}
                        confirmLabel={`Delete ${server.name}`}
                        onConfirm={() => void remove(server)}
                      />
                    </span>
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

/** A panel's heading takes the focus when it opens, so keyboard users continue from there. */
function PanelHeading({ id, children }: { id: string; children: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h3 id={id} tabIndex={-1} ref={ref}>
      {children}
    </h3>
  );
}

interface ServerEditorProps {
  api: ApiClient;
  tenant: Tenant;
  /** Absent: a new server. */
  server?: VirtualServer;
  known: KnownTool[];
  onCancel: () => void;
  onSaved: (server: VirtualServer, created: boolean) => void;
}

/**
 * Create (POST) or replace (PUT) a server. The tools the API knows for the tenant are ticked: the
 * ones plugins declare, and a federated upstream's or a hosted server's once a gateway has listed
 * them; a tool not listed yet is typed by name. The API's errors appear beside the field, a tool's
 * beside that tool's row.
 */
function ServerEditor({ api, tenant, server, known, onCancel, onSaved }: ServerEditorProps) {
  const knownSources = useMemo(() => new Set(known.map((tool) => tool.source)), [known]);
  const [draft, setDraft] = useState<ServerDraft>(() => draftOf(server, knownSources));
  const [failure, setFailure] = useState<unknown>();
  const [sent, setSent] = useState<string[]>([]);
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};
  const { rows: rowErrors, list: listError } = toolErrors(fieldErrors, sent);
  const shownElsewhere = fieldErrors['name'] !== undefined || fieldErrors['description'] !== undefined || Object.keys(rowErrors).length > 0 || listError !== undefined;
  const title = server ? `Edit ${server.name}` : 'New virtual server';
  const typed = draft.tools.filter((row) => row.typed);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { body, sent: keys } = toServerBody(draft, server ? 'edit' : 'create');
    setSent(keys);
    try {
      const saved = server
        ? await api.send<VirtualServer>('PUT', apiPath('tenants', tenant.id, 'virtual-servers', server.name), body)
        : await api.send<VirtualServer>('POST', apiPath('tenants', tenant.id, 'virtual-servers'), body);
      setFailure(undefined);
      onSaved(saved, !server);
    } catch (error) {
      setFailure(error);
    }
  }

  return (
    <div className="editor">
      <PanelHeading id="server-editor">{title}</PanelHeading>
      <form onSubmit={submit} noValidate aria-labelledby="server-editor">
        {!server && (
          <Field
            label="Server name"
            error={fieldErrors['name']}
            hint={`Lower-case letters, digits and single dashes, at most 40 characters: its URL ends in /t/${tenant.slug}/v/name/mcp.`}
          >
            {(props) => <input {...props} name="server-name" value={draft.name} autoComplete="off" spellCheck={false} onChange={(event) => setDraft({ ...draft, name: event.target.value })} />}
          </Field>
        )}
        <Field label="Description" error={fieldErrors['description']} hint="What the server is for; shown here, not to clients.">
          {(props) => <input {...props} name="server-description" value={draft.description} autoComplete="off" onChange={(event) => setDraft({ ...draft, description: event.target.value })} />}
        </Field>
        {listError && (
          <p className="field-error" role="alert">
            Tools: {listError}
          </p>
        )}
        <fieldset>
          <legend>Tools of the installed plugins</legend>
          {hasListedTools(known) && (
            <p className="hint">Upstream and hosted server tools are as a gateway last listed them, when a client connected; one added since is typed below.</p>
          )}
          {known.length === 0 ? (
            <p className="hint">No tools known yet: an upstream&apos;s or a hosted server&apos;s appear once a client has connected. Add tools by name below.</p>
          ) : (
            known.map((tool) => {
              const row = draft.tools.find((item) => !item.typed && item.source === tool.source);
              return (
                <div key={tool.source} className="vs-tool">
                  <div className="field field-check">
                    <input
                      id={`vs-${tool.source}`}
                      type="checkbox"
                      checked={row !== undefined}
                      aria-describedby={`vs-${tool.source}-about`}
                      onChange={(event) => setDraft(toggleTool(draft, tool.source, event.target.checked))}
                    />
                    <label htmlFor={`vs-${tool.source}`} className="mono">
                      {tool.source}
                    </label>
                  </div>
                  <p className="hint" id={`vs-${tool.source}-about`}>
                    {tool.about}
                  </p>
                  {row && <ToolFields row={row} label={tool.source} errors={rowErrors[row.key] ?? {}} onChange={(change) => setDraft(updateTool(draft, row.key, change))} />}
                </div>
              );
            })
          )}
        </fieldset>
        <fieldset>
          <legend>Other tools, by name</legend>
          <p className="hint">
            A federated upstream&apos;s (remote-mcp) or a hosted server&apos;s tool that no gateway has listed yet: as installation__tool, e.g. github__search.
          </p>
          {typed.map((row, index) => {
            const label = `other tool ${index + 1}`;
            const errors = rowErrors[row.key] ?? {};
            return (
              <div key={row.key} className="vs-tool">
                <Field label={`Tool (${label})`} error={errors.source}>
                  {(props) => <input {...props} value={row.source} autoComplete="off" spellCheck={false} onChange={(event) => setDraft(updateTool(draft, row.key, { source: event.target.value }))} />}
                </Field>
                <ToolFields row={row} label={label} errors={errors} onChange={(change) => setDraft(updateTool(draft, row.key, change))} />
                <button type="button" onClick={() => setDraft(removeTool(draft, row.key))}>
                  Remove {label}
                </button>
              </div>
            );
          })}
          <button type="button" onClick={() => setDraft(addTypedTool(draft))}>
            Add a tool by name
          </button>
        </fieldset>
        {failure && !shownElsewhere ? <ErrorNotice error={failure} /> : null}
        <div className="actions">
          <button type="submit" className="primary">
            {server ? `Save ${server.name}` : 'Create virtual server'}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

/** A chosen tool's name and description for clients; empty takes the tool's own. */
function ToolFields({ row, label, errors, onChange }: { row: ToolRow; label: string; errors: RowErrors; onChange: (change: Partial<ToolRow>) => void }) {
  const fallback = row.source.trim() ? defaultToolName(row.source.trim()) : undefined;
  return (
    <div className="vs-tool-fields">
      {errors.source && !row.typed && <p className="field-error">{errors.source}</p>}
      <Field label={`Name for clients (${label})`} error={errors.name} hint={fallback ? `Empty: ${fallback}.` : 'Empty: the tool’s own name.'}>
        {(props) => <input {...props} value={row.name} autoComplete="off" spellCheck={false} onChange={(event) => onChange({ name: event.target.value })} />}
      </Field>
      <Field label={`Description for clients (${label})`} error={errors.description} hint="Empty: the tool’s own description.">
        {(props) => <textarea {...props} value={row.description} rows={2} onChange={(event) => onChange({ description: event.target.value })} />}
      </Field>
    </div>
  );
}

/**
 * A key restricted to this server (`virtualServers: [name]`): admitted on its URLs only. The
 * API's answer carries the server's full URLs and the client snippets, shown once.
 */
function IssueServerKeyForm({ api, tenant, server, onCancel, onIssued }: { api: ApiClient; tenant: Tenant; server: VirtualServer; onCancel: () => void; onIssued: (key: IssuedApiKey) => void }) {
  const [name, setName] = useState(`${server.name}-client`);
  const [failure, setFailure] = useState<unknown>();
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const issued = await api.send<IssuedApiKey>('POST', apiPath('tenants', tenant.id, 'api-keys'), { name, virtualServers: [server.name] });
      setFailure(undefined);
      onIssued(issued);
    } catch (error) {
      setFailure(error);
    }
  }
  return (
    <div className="editor">
      <PanelHeading id="server-key">{`Issue a key for ${server.name}`}</PanelHeading>
      <form onSubmit={submit} noValidate aria-labelledby="server-key" className="inline-form">
        <Field label="Key name" error={fieldErrors['name']} hint={`Admitted on ${server.name}'s URLs only, on no other URL of the tenant.`}>
          {(props) => <input {...props} name="key-name" value={name} autoComplete="off" onChange={(event) => setName(event.target.value)} />}
        </Field>
        <button type="submit" className="primary">
          Issue key for {server.name}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        {failure && !fieldErrors['name'] ? <ErrorNotice error={failure} /> : null}
      </form>
    </div>
  );
}
