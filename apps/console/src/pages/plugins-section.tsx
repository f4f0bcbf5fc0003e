import { useCallback, useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { CatalogEntry, PluginInstallation, Tenant } from '../api/types';
import { ConfirmButton, Empty, ErrorNotice, Field, Loading } from '../components/ui';
import { configFields, initialValues, mapRowKey, toConfig, type ConfigField, type FormValues, type MapRow } from '../lib/config-fields';
import { upstreamOAuthMode } from '../lib/upstream-connection';
import { PersonalConnectionsPanel, UpstreamConnectionPanel } from './upstream-connection-panel';

/**
 * The tenant's installations, one row each and keyed by their name (one plugin may be installed
 * several times: `github` and `linear`, both remote-mcp), then the platform's catalog
 * (GET /v1/plugins), from which a plugin installs under a name of the tenant's choosing.
 */
export function PluginsSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [catalog, setCatalog] = useState<CatalogEntry[] | null>(null);
  const [installations, setInstallations] = useState<PluginInstallation[] | null>(null);
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    try {
      const [entries, installed] = await Promise.all([
        api.get<{ items: CatalogEntry[] }>('/v1/plugins'),
        api.get<{ items: PluginInstallation[] }>(apiPath('tenants', tenant.id, 'plugins')),
      ]);
      setCatalog(entries.items);
      setInstallations(installed.items);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
  }, [api, tenant.id]);
  useEffect(() => {
    void load();
  }, [load]);

  const entries = useMemo(() => new Map((catalog ?? []).map((entry) => [entry.name, entry])), [catalog]);
  const takenNames = useMemo(() => new Set((installations ?? []).map((item) => item.name)), [installations]);

  return (
    <section aria-labelledby="plugins">
      <h2 id="plugins">Plugins</h2>
      <ErrorNotice error={error} />
      {!catalog || !installations ? (
        <Loading what="plugins" />
      ) : (
        <>
          <h3 id="installed-plugins">Installed</h3>
          {installations.length === 0 ? (
            <Empty>No plugins installed yet. Install one from the catalog below.</Empty>
          ) : (
            <ul className="cards" aria-labelledby="installed-plugins">
              {installations.map((installation) => (
                <InstallationCard key={installation.name} api={api} tenant={tenant} installation={installation} entry={entries.get(installation.plugin)} onChanged={() => void load()} />
              ))}
            </ul>
          )}
          <h3 id="plugin-catalog">Catalog</h3>
          {catalog.length === 0 ? (
            <Empty>This platform has no plugins.</Empty>
          ) : (
            <ul className="cards" aria-labelledby="plugin-catalog">
              {catalog.map((entry) => (
                <CatalogCard
                  key={entry.name}
                  api={api}
                  tenant={tenant}
                  entry={entry}
                  installedAs={installations.filter((item) => item.plugin === entry.name).map((item) => item.name)}
                  takenNames={takenNames}
                  onInstalled={() => void load()}
                />
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

interface InstallationCardProps {
  api: ApiClient;
  tenant: Tenant;
  installation: PluginInstallation;
  /** Undefined when the plugin left the catalog (a deleted server template): shown, not configurable. */
  entry: CatalogEntry | undefined;
  onChanged: () => void;
}

function InstallationCard({ api, tenant, installation, entry, onChanged }: InstallationCardProps) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>();
  // Every request of this card goes to its own installation, by name.
  const path = apiPath('tenants', tenant.id, 'plugins', installation.name);
  const { name } = installation;

  async function act(request: () => Promise<unknown>) {
    try {
      await request();
      setError(undefined);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  }

  const state = installation.enabled ? 'enabled' : 'disabled';
  return (
    <li className="card card-column" aria-label={`Installation ${name}`}>
      <div className="card-main">
        <strong>{name}</strong>
        <span className="hint">
          plugin <span className="mono">{installation.plugin}</span>
        </span>
        <span className={`badge badge-${state}`}>{state}</span>
      </div>
      <div className="actions">
        {entry && (
          <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
            Configure<span className="visually-hidden"> {name}</span>
          </button>
        )}
        <button type="button" onClick={() => void act(() => api.send('PATCH', path, { enabled: !installation.enabled }))}>
          {installation.enabled ? 'Disable' : 'Enable'}
          <span className="visually-hidden"> {name}</span>
        </button>
        <ConfirmButton
          label="Uninstall"
          question={`Uninstall ${name}? Its settings and secrets are deleted; keys that list it lose it.`}
          confirmLabel={`Uninstall ${name}`}
          onConfirm={() => void act(() => api.send('DELETE', path))}
        />
      </div>
      {upstreamOAuthMode(installation) === 'shared' && <UpstreamConnectionPanel api={api} tenant={tenant} installation={name} />}
      {upstreamOAuthMode(installation) === 'per-user' && <PersonalConnectionsPanel api={api} tenant={tenant} installation={name} />}
      <ErrorNotice error={error} />
      {editing && entry && (
        <PluginConfigForm
          label={`${name} settings`}
          entry={entry}
          installation={installation}
          submitLabel="Save settings"
          save={(body) => api.send('PUT', path, body)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </li>
  );
}

interface CatalogCardProps {
  api: ApiClient;
  tenant: Tenant;
  entry: CatalogEntry;
  /** Names of this tenant's installations of this plugin. */
  installedAs: string[];
  /** Every installation name of the tenant, of any plugin. */
  takenNames: Set<string>;
  onInstalled: () => void;
}

function CatalogCard({ api, tenant, entry, installedAs, takenNames, onInstalled }: CatalogCardProps) {
  const [installing, setInstalling] = useState(false);
  // The plugin's own name is the default, as for `PUT …/plugins/echo`; once taken, another is needed.
  const defaultName = takenNames.has(entry.name) ? '' : entry.name;
  return (
    <li className="card card-column">
      <div className="card-main">
        <strong>{entry.name}</strong>
        <span className="hint">
          {entry.kind === 'server-template' ? 'hosted server' : `v${entry.version}`} · {entry.tools.length} tool{entry.tools.length === 1 ? '' : 's'}
        </span>
        {installedAs.length > 0 && <span className="hint">installed as {installedAs.join(', ')}</span>}
      </div>
      <p className="description">{entry.description}</p>
      <div className="actions">
        <button type="button" aria-expanded={installing} onClick={() => setInstalling(!installing)}>
          Install
          <span className="visually-hidden"> {entry.name}</span>
          {installedAs.length > 0 && ' under another name'}
        </button>
      </div>
      {installing && (
        <InstallForm
          api={api}
          tenant={tenant}
          entry={entry}
          defaultName={defaultName}
          takenNames={takenNames}
          onInstalled={() => {
            setInstalling(false);
            onInstalled();
          }}
        />
      )}
    </li>
  );
}

/** The name field above the plugin's generated settings; the API's `name` errors appear beside it. */
function InstallForm({ api, tenant, entry, defaultName, takenNames, onInstalled }: { api: ApiClient; tenant: Tenant; entry: CatalogEntry; defaultName: string; takenNames: Set<string>; onInstalled: () => void }) {
  const [name, setName] = useState(defaultName);
  const [nameError, setNameError] = useState<string>();
  return (
    <PluginConfigForm
      label={`Install ${entry.name}`}
      entry={entry}
      submitLabel="Install plugin"
      nameField={
        <Field label="Installation name" error={nameError} hint="Lower-case letters, digits and single dashes, at most 40 characters: its tools are listed as name__tool and its URL ends in /p/name/mcp.">
          {(props) => <input {...props} name="installation-name" value={name} autoComplete="off" spellCheck={false} onChange={(event) => setName(event.target.value)} />}
        </Field>
      }
      save={(body) => {
        const wanted = name.trim();
        // The API would reconfigure an installation of the same plugin under this name: refuse here instead.
        if (takenNames.has(wanted)) {
          return Promise.reject(new ApiFailure(409, 'INSTALLATION_NAME_TAKEN', 'This name is taken.', [{ path: 'name', message: `the tenant already has an installation named "${wanted}"; configure it above or choose another name` }]));
        }
        return api.send('PUT', apiPath('tenants', tenant.id, 'plugins', wanted), { plugin: entry.name, ...body });
      }}
      onFieldErrors={(errors) => setNameError(errors['name'] ?? errors['plugin'])}
      onSaved={onInstalled}
    />
  );
}

interface PluginConfigFormProps {
  label: string;
  entry: CatalogEntry;
  installation?: PluginInstallation;
  submitLabel: string;
  nameField?: ReactNode;
  save: (body: { enabled: boolean; config: Record<string, unknown> }) => Promise<unknown>;
  /** The API's errors outside `config` (an install's `name`), for the field that shows them. */
  onFieldErrors?: (errors: Record<string, string>) => void;
  onSaved: () => void;
}

function PluginConfigForm({ label, entry, installation, submitLabel, nameField, save, onFieldErrors, onSaved }: PluginConfigFormProps) {
  const fields = useMemo(() => configFields(entry.configSchema, entry.secretFields), [entry]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields, installation?.config));
  const [enabled, setEnabled] = useState(installation?.enabled ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>();
  const idPrefix = label.replace(/[^a-z0-9-]+/gi, '-');

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { config, errors: local } = toConfig(fields, values);
    setErrors(local);
    onFieldErrors?.({});
    if (Object.keys(local).length > 0) return;
    try {
      await save({ enabled, config });
      setFailure(undefined);
      onSaved();
    } catch (error) {
      if (!(error instanceof ApiFailure)) {
        setFailure(error);
        return;
      }
      // The API names fields as config.<field> (config.headers.Host for one header); a problem
      // with the whole config has the path "config"; an install's name is at "name".
      const { '': whole, ...perField } = error.fieldErrors('config');
      const config = Object.fromEntries(Object.entries(perField).filter(([path]) => !['name', 'plugin'].includes(path)));
      const outside = error.fieldErrors();
      setErrors(config);
      onFieldErrors?.(outside);
      const shown = Object.keys(config).length > 0 || outside['name'] !== undefined || outside['plugin'] !== undefined;
      setFailure(whole ? new ApiFailure(400, 'INVALID_PLUGIN_CONFIG', whole) : shown ? undefined : error);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="plugin-form" aria-label={label}>
      {nameField}
      {fields.length === 0 && <p className="hint">This plugin has no settings.</p>}
      {fields.map((field) =>
        field.kind === 'map' ? (
          <MapInput
            key={field.name}
            field={field}
            rows={(values[field.name] as MapRow[] | undefined) ?? []}
            errors={errors}
            isSet={installation?.secrets[field.name]?.set ?? false}
            onChange={(rows) => setValues({ ...values, [field.name]: rows })}
          />
        ) : (
          <ConfigInput
            key={field.name}
            field={field}
            value={values[field.name] as string | boolean | undefined}
            error={errors[field.name]}
            isSet={installation?.secrets[field.name]?.set ?? false}
            onChange={(value) => setValues({ ...values, [field.name]: value })}
          />
        ),
      )}
      <div className="field field-check">
        <input id={`${idPrefix}-enabled`} type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
        <label htmlFor={`${idPrefix}-enabled`}>Enabled for this tenant</label>
      </div>
      <ErrorNotice error={failure} />
      <button type="submit" className="primary">
        {submitLabel}
      </button>
    </form>
  );
}

function secretHint(isSet: boolean, keep: string): string {
  return isSet ? `Secret, write-only: it is set; ${keep}.` : 'Secret, write-only: not set.';
}

/** The schema's description, then the secret's state, as sentences (descriptions often lack a full stop). */
function fieldHint(field: ConfigField, secret: string | undefined): string | undefined {
  const description = field.description && !/[.!?…)]$/.test(field.description) ? `${field.description}.` : field.description;
  return [description, secret].filter(Boolean).join(' ') || undefined;
}

function ConfigInput({ field, value, error, isSet, onChange }: { field: ConfigField; value: string | boolean | undefined; error?: string; isSet: boolean; onChange: (value: string | boolean) => void }) {
  const hint = fieldHint(field, field.secret ? secretHint(isSet, 'leave empty to keep it') : undefined);
  const label = `${field.name}${field.required ? ' (required)' : ''}`;
  if (field.kind === 'boolean') {
    return (
      <Field label={label} error={error} hint={hint}>
        {(props) => <input {...props} type="checkbox" checked={value === true} onChange={(event) => onChange(event.target.checked)} />}
      </Field>
    );
  }
  return (
    <Field label={label} error={error} hint={hint}>
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

/**
 * A string → string object (remote-mcp's `headers`) as name/value rows. When it is a secret the
 * stored rows are never shown (not even the names): rows typed here replace them all, no rows
 * keep them. The API's error for one entry (`config.headers.Host`) appears beside its row.
 */
function MapInput({ field, rows, errors, isSet, onChange }: { field: ConfigField; rows: MapRow[]; errors: Record<string, string>; isSet: boolean; onChange: (rows: MapRow[]) => void }) {
  const hintId = `map-${field.name}-hint`;
  const wholeError = errors[field.name];
  const update = (index: number, change: Partial<MapRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  const hint = fieldHint(field, field.secret ? secretHint(isSet, 'rows added here replace all of them, no rows keep them') : undefined);
  return (
    <fieldset className={wholeError ? 'map-field field-invalid' : 'map-field'} aria-describedby={hint ? hintId : undefined}>
      <legend>{field.name}</legend>
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {wholeError && <p className="field-error">{wholeError}</p>}
      {rows.map((row, index) => {
        const error = errors[mapRowKey(field.name, row, index)];
        const errorId = `map-${field.name}-${index}-error`;
        const describedBy = error ? errorId : undefined;
        const position = `${field.name} ${index + 1}`;
        return (
          <div key={index} className={error ? 'map-row field-invalid' : 'map-row'} role="group" aria-label={position}>
            <input
              aria-label={`${position} name`}
              aria-invalid={error ? true : undefined}
              aria-describedby={describedBy}
              value={row.name}
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => update(index, { name: event.target.value })}
            />
            <input
              aria-label={`${position} value`}
              aria-invalid={error ? true : undefined}
              aria-describedby={describedBy}
              type={field.secret ? 'password' : 'text'}
              autoComplete={field.secret ? 'new-password' : 'off'}
              value={row.value}
              onChange={(event) => update(index, { value: event.target.value })}
            />
            <button type="button" onClick={() => onChange(rows.filter((_, i) => i !== index))}>
              Remove<span className="visually-hidden"> {position}</span>
            </button>
            {error && (
              <p className="field-error" id={errorId}>
                {error}
              </p>
            )}
          </div>
        );
      })}
      <button type="button" onClick={() => onChange([...rows, { name: '', value: '' }])}>
        Add<span className="visually-hidden"> to {field.name}</span>
      </button>
    </fieldset>
  );
}
