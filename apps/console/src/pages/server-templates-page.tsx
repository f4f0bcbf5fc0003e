import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { EnvDeclaration, ServerTemplate } from '../api/types';
import { ConfirmButton, Empty, ErrorNotice, Field, Loading, PageHeading } from '../components/ui';

/** The API returns every template at once (a platform has a handful); the page shows 25 at a time. */
const PAGE_SIZE = 25;

/**
 * Hosted stdio MCP servers (platform admins): what the gateway may start for a tenant, with the
 * environment variables tenants fill in (secret ones write-only) or the platform fixes.
 */
export function ServerTemplatesPage({ api }: { api: ApiClient }) {
  const [templates, setTemplates] = useState<ServerTemplate[] | null>(null);
  const [shown, setShown] = useState(PAGE_SIZE);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState('');

  const load = useCallback(async () => {
    try {
      setTemplates((await api.get<{ items: ServerTemplate[] }>('/v1/server-templates')).items);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  async function remove(template: ServerTemplate) {
    try {
      await api.send('DELETE', apiPath('server-templates', template.name));
      setNotice(`Template ${template.name} deleted.`);
      setError(undefined);
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <>
      <PageHeading>Server templates</PageHeading>
      <p className="hint">
        Stdio MCP servers the gateway hosts for tenants. Each becomes a plugin in every tenant's catalog; its tools are prefixed with the template's name.
      </p>
      <section aria-labelledby="new-template">
        <h2 id="new-template">Add a server template</h2>
        <TemplateForm
          api={api}
          onSaved={(template) => {
            setNotice(`Template ${template.name} created.`);
            void load();
          }}
        />
      </section>
      <section aria-labelledby="templates">
        <h2 id="templates">Templates</h2>
        <p role="status" className="copy-state">
          {notice}
        </p>
        <ErrorNotice error={error} />
        {!templates ? (
          !error && <Loading what="server templates" />
        ) : templates.length === 0 ? (
          <Empty>No server templates yet: add the first one above.</Empty>
        ) : (
          <ul className="cards" aria-label="Server templates">
            {templates.slice(0, shown).map((template) => (
              <li key={template.name} className="card card-column">
                <div className="card-main">
                  <strong>{template.name}</strong>
                  <span className="badge badge-enabled">{template.defaultMode}</span>
                  <span className="hint">
                    {template.installations === 1 ? '1 installation' : `${template.installations} installations`}
                  </span>
                </div>
                {template.description && <p className="description">{template.description}</p>}
                <code className="command">{[template.command, ...template.args].join(' ')}</code>
                {template.env.length > 0 && (
                  <p className="hint">
                    Variables:{' '}
                    {template.env
                      .map((variable) => `${variable.name}${variable.secret ? ' (secret)' : ''}${variable.required ? ' (required)' : ''}${variable.value !== undefined ? ' (fixed)' : ''}`)
                      .join(', ')}
                  </p>
                )}
                <div className="actions">
                  <button type="button" aria-expanded={editing === template.name} onClick={() => setEditing(editing === template.name ? null : template.name)}>
                    {editing === template.name ? 'Close' : 'Edit'}
                    <span className="visually-hidden"> {template.name}</span>
                  </button>
                  <ConfirmButton
                    label="Delete"
                    question={`Delete ${template.name}? Tenants must uninstall it first.`}
                    confirmLabel={`Delete ${template.name}`}
                    onConfirm={() => void remove(template)}
                  />
                </div>
                {editing === template.name && (
                  <TemplateForm
                    api={api}
                    template={template}
                    onSaved={(saved) => {
                      setEditing(null);
                      setNotice(`Template ${saved.name} saved.`);
                      void load();
                    }}
                  />
                )}
              </li>
            ))}
          </ul>
        )}
        {templates && shown < templates.length && (
          <button type="button" onClick={() => setShown((count) => count + PAGE_SIZE)}>
            Show more templates
          </button>
        )}
      </section>
    </>
  );
}

interface EnvRow {
  name: string;
  description: string;
  required: boolean;
  secret: boolean;
  value: string;
}

function toRow(declaration: EnvDeclaration): EnvRow {
  return { name: declaration.name, description: declaration.description ?? '', required: declaration.required, secret: declaration.secret, value: declaration.value ?? '' };
}

/** An empty box means "not given": the API then applies its default (no description, no fixed value). */
function toDeclaration(row: EnvRow): Partial<EnvDeclaration> {
  return {
    name: row.name.trim(),
    ...(row.description.trim() ? { description: row.description.trim() } : {}),
    required: row.required,
    secret: row.secret,
    ...(row.value !== '' ? { value: row.value } : {}),
  };
}

/** Create (no `template`) or edit one; the name is fixed once created (it is the tool prefix). */
function TemplateForm({ api, template, onSaved }: { api: ApiClient; template?: ServerTemplate; onSaved: (template: ServerTemplate) => void }) {
  const [name, setName] = useState(template?.name ?? '');
  const [description, setDescription] = useState(template?.description ?? '');
  const [command, setCommand] = useState(template?.command ?? '');
  const [args, setArgs] = useState((template?.args ?? []).join('\n'));
  const [defaultMode, setDefaultMode] = useState<'isolated' | 'shared'>(template?.defaultMode ?? 'isolated');
  const [env, setEnv] = useState<EnvRow[]>(() => (template?.env ?? []).map(toRow));
  const [failure, setFailure] = useState<unknown>();
  const errors = failure instanceof ApiFailure ? failure.fieldErrors() : {};
  const argErrors = Object.entries(errors)
    .filter(([path]) => /^args(\.\d+)?$/.test(path))
    .map(([path, message]) => (path === 'args' ? message : `line ${Number(path.split('.')[1]) + 1}: ${message}`))
    .join('; ');
  const known = (path: string) => ['name', 'description', 'command', 'defaultMode', 'env'].includes(path) || /^args(\.\d+)?$/.test(path) || /^env\.\d+\.(name|description|value|required|secret)$/.test(path);
  const general = failure instanceof ApiFailure && Object.keys(errors).some(known) ? undefined : failure;
  const setRow = (index: number, change: Partial<EnvRow>) => setEnv((rows) => rows.map((row, at) => (at === index ? { ...row, ...change } : row)));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body = {
      description,
      command,
      // One argument per line; a blank line is no argument.
      args: args.split('\n').filter((line) => line.trim() !== ''),
      env: env.map(toDeclaration),
      defaultMode,
    };
    try {
      const saved = template
        ? await api.send<ServerTemplate>('PATCH', apiPath('server-templates', template.name), body)
        : await api.send<ServerTemplate>('POST', '/v1/server-templates', { name: name.trim(), ...body });
      setFailure(undefined);
      if (!template) {
        setName('');
        setDescription('');
        setCommand('');
        setArgs('');
        setDefaultMode('isolated');
        setEnv([]);
      }
      onSaved(saved);
    } catch (error) {
      setFailure(error);
    }
  }

  const label = template ? `Edit ${template.name}` : 'New server template';
  return (
    <form onSubmit={submit} noValidate aria-label={label} className="template-form">
      {!template && (
        <Field label="Template name" error={errors['name']} hint="Lower-case kebab case, like a plugin name; it prefixes the server's tools.">
          {(props) => <input {...props} name="name" value={name} autoComplete="off" onChange={(event) => setName(event.target.value)} />}
        </Field>
      )}
      <Field label="Description" error={errors['description']}>
        {(props) => <input {...props} name="description" value={description} autoComplete="off" onChange={(event) => setDescription(event.target.value)} />}
      </Field>
      <Field label="Command" error={errors['command']} hint="An absolute path, or a name on the fixed PATH /usr/local/bin:/usr/bin:/bin.">
        {(props) => <input {...props} name="command" value={command} autoComplete="off" spellCheck={false} onChange={(event) => setCommand(event.target.value)} />}
      </Field>
      <Field label="Arguments" error={argErrors || undefined} hint="One per line.">
        {(props) => <textarea {...props} name="args" rows={3} value={args} spellCheck={false} onChange={(event) => setArgs(event.target.value)} />}
      </Field>
      <Field label="Default mode" error={errors['defaultMode']} hint="isolated: one process per session; shared: one per tenant installation.">
        {(props) => (
          <select {...props} name="defaultMode" value={defaultMode} onChange={(event) => setDefaultMode(event.target.value as 'isolated' | 'shared')}>
            <option value="isolated">isolated</option>
            <option value="shared">shared</option>
          </select>
        )}
      </Field>
      <fieldset className="env-list">
        <legend>Environment variables</legend>
        {errors['env'] && <p className="field-error">{errors['env']}</p>}
        {env.length === 0 && <p className="hint">None. A server gets only HOME, TMPDIR and PATH unless you declare more.</p>}
        {env.map((row, index) => (
          <fieldset key={index} className="env-row">
            <legend>Variable {index + 1}</legend>
            <Field label={`Variable ${index + 1} name`} error={errors[`env.${index}.name`]}>
              {(props) => <input {...props} value={row.name} autoComplete="off" spellCheck={false} onChange={(event) => setRow(index, { name: event.target.value })} />}
            </Field>
            <Field label={`Variable ${index + 1} description`} error={errors[`env.${index}.description`]}>
              {(props) => <input {...props} value={row.description} autoComplete="off" onChange={(event) => setRow(index, { description: event.target.value })} />}
            </Field>
            <Field label={`Variable ${index + 1} fixed value`} error={errors[`env.${index}.value`]} hint="Set by the platform for every tenant; empty lets tenants fill it in. {home} is the installation's directory.">
              {(props) => <input {...props} value={row.value} autoComplete="off" spellCheck={false} onChange={(event) => setRow(index, { value: event.target.value })} />}
            </Field>
            <label className="field-check">
              <input type="checkbox" checked={row.required} onChange={(event) => setRow(index, { required: event.target.checked })} />
              Required<span className="visually-hidden"> (variable {index + 1})</span>
            </label>
            <label className="field-check">
              <input type="checkbox" checked={row.secret} onChange={(event) => setRow(index, { secret: event.target.checked })} />
              Secret<span className="visually-hidden"> (variable {index + 1})</span>
            </label>
            <button type="button" onClick={() => setEnv((rows) => rows.filter((_, at) => at !== index))}>
              Remove variable {index + 1}
            </button>
          </fieldset>
        ))}
        <button type="button" onClick={() => setEnv((rows) => [...rows, { name: '', description: '', required: false, secret: false, value: '' }])}>
          Add variable
        </button>
      </fieldset>
      <button type="submit" className="primary">
        {template ? `Save ${template.name}` : 'Create template'}
      </button>
      <ErrorNotice error={general} />
    </form>
  );
}
