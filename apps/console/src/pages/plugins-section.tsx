import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { CatalogEntry, PluginInstallation, Tenant } from '../api/types';
import { Empty, ErrorNotice, Field, Loading } from '../components/ui';
import { configFields, initialValues, toConfig, type ConfigField, type FormValues } from '../lib/config-fields';

/** The catalog (GET /v1/plugins) beside what this tenant installed; each plugin installs and configures in place. */
export function PluginsSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [catalog, setCatalog] = useState<CatalogEntry[] | null>(null);
  const [installed, setInstalled] = useState<Map<string, PluginInstallation>>(new Map());
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    try {
      const [entries, installations] = await Promise.all([
        api.get<{ items: CatalogEntry[] }>('/v1/plugins'),
        api.get<{ items: PluginInstallation[] }>(apiPath('tenants', tenant.id, 'plugins')),
      ]);
      setCatalog(entries.items);
      setInstalled(new Map(installations.items.map((item) => [item.plugin, item])));
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, tenant.id]);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="plugins">
      <h2 id="plugins">Plugins</h2>
      <ErrorNotice error={error} />
      {!catalog ? (
        <Loading what="plugins" />
      ) : catalog.length === 0 ? (
        <Empty>This platform has no plugins.</Empty>
      ) : (
        <ul className="cards" aria-label="Plugins">
          {catalog.map((entry) => (
            <PluginCard key={entry.name} api={api} tenant={tenant} entry={entry} installation={installed.get(entry.name)} onChanged={() => void load()} />
          ))}
        </ul>
      )}
    </section>
  );
}

interface PluginCardProps {
  api: ApiClient;
  tenant: Tenant;
  entry: CatalogEntry;
  installation: PluginInstallation | undefined;
  onChanged: () => void;
}

function PluginCard({ api, tenant, entry, installation, onChanged }: PluginCardProps) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>();
  const path = apiPath('tenants', tenant.id, 'plugins', entry.name);

  async function toggle(enabled: boolean) {
    try {
      await api.send('PATCH', path, { enabled });
      setError(undefined);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  }

  const state = !installation ? 'not installed' : installation.enabled ? 'enabled' : 'disabled';
  return (
    <li className="card card-column">
      <div className="card-main">
        <strong id={`plugin-${entry.name}`}>{entry.name}</strong>
        <span className="hint">
          {entry.kind === 'server-template' ? 'hosted server' : `v${entry.version}`} · {entry.tools.length} tool{entry.tools.length === 1 ? '' : 's'}
        </span>
        <span className={`badge badge-${state.replace(' ', '-')}`}>{state}</span>
      </div>
      <p className="description">{entry.description}</p>
      <div className="actions">
        <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          {installation ? 'Configure' : 'Install'}
          <span className="visually-hidden"> {entry.name}</span>
        </button>
        {installation && (
          <button type="button" onClick={() => void toggle(!installation.enabled)}>
            {installation.enabled ? 'Disable' : 'Enable'}
            <span className="visually-hidden"> {entry.name}</span>
          </button>
        )}
      </div>
      <ErrorNotice error={error} />
      {editing && (
        <PluginConfigForm
          api={api}
          path={path}
          entry={entry}
          installation={installation}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </li>
  );
}

function PluginConfigForm({ api, path, entry, installation, onSaved }: { api: ApiClient; path: string; entry: CatalogEntry; installation?: PluginInstallation; onSaved: () => void }) {
  const fields = useMemo(() => configFields(entry.configSchema, entry.secretFields), [entry]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields, installation?.config));
  const [enabled, setEnabled] = useState(installation?.enabled ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { config, errors: local } = toConfig(fields, values);
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    try {
      await api.send('PUT', path, { enabled, config });
      setFailure(undefined);
      onSaved();
    } catch (error) {
      // The API names fields as config.<field>; a problem with the whole config has the path "config".
      const { '': whole, ...perField } = error instanceof ApiFailure ? error.fieldErrors('config') : ({} as Record<string, string>);
      setErrors(perField);
      setFailure(whole ? new ApiFailure(400, 'INVALID_PLUGIN_CONFIG', whole) : Object.keys(perField).length > 0 ? undefined : error);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="plugin-form" aria-label={`${entry.name} settings`}>
      {fields.length === 0 && <p className="hint">This plugin has no settings.</p>}
      {fields.map((field) => (
        <ConfigInput
          key={field.name}
          field={field}
          value={values[field.name]}
          error={errors[field.name]}
          isSet={installation?.secrets[field.name]?.set ?? false}
          onChange={(value) => setValues({ ...values, [field.name]: value })}
        />
      ))}
      <div className="field field-check">
        <input id={`${entry.name}-enabled`} type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
        <label htmlFor={`${entry.name}-enabled`}>Enabled for this tenant</label>
      </div>
      <ErrorNotice error={failure} />
      <button type="submit" className="primary">
        {installation ? 'Save settings' : 'Install plugin'}
      </button>
    </form>
  );
}

function ConfigInput({ field, value, error, isSet, onChange }: { field: ConfigField; value: string | boolean | undefined; error?: string; isSet: boolean; onChange: (value: string | boolean) => void }) {
  const hint = [field.description, field.secret ? (isSet ? 'Secret, write-only: it is set; leave empty to keep it.' : 'Secret, write-only: not set.') : undefined]
    .filter(Boolean)
    .join(' ');
  const label = `${field.name}${field.required ? ' (required)' : ''}`;
  if (field.kind === 'boolean') {
    return (
      <Field label={label} error={error} hint={hint || undefined}>
        {(props) => <input {...props} type="checkbox" checked={value === true} onChange={(event) => onChange(event.target.checked)} />}
      </Field>
    );
  }
  return (
    <Field label={label} error={error} hint={hint || undefined}>
      {(props) =>
        field.kind === 'enum' ? (
          <select {...props} value={String(value ?? '')} onChange={(event) => onChange(event.target.value)}>
            {!field.required && <option value="">(default)</option>}
            {field.options?.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        ) : field.kind === 'json' ? (
          <textarea {...props} value={String(value ?? '')} rows={3} spellCheck={false} onChange={(event) => onChange(event.target.value)} />
        ) : (
          <input
            {...props}
            name={field.name}
            type={field.secret ? 'password' : field.kind === 'url' ? 'url' : field.kind === 'text' ? 'text' : 'number'}
            autoComplete={field.secret ? 'new-password' : 'off'}
            value={String(value ?? '')}
            onChange={(event) => onChange(event.target.value)}
          />
        )
      }
    </Field>
  );
}
