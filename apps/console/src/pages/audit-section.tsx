import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { AuditEvent, Page, Tenant } from '../api/types';
import { Empty, ErrorNotice, Field, Loading } from '../components/ui';

const PAGE_SIZE = 25;
/** The actions the API records (apps/api audit.service.ts `AuditAction`) that concern a tenant. */
const TENANT_ACTIONS = [
  'tenant.create',
  'tenant.update',
  'api-key.issue',
  'api-key.revoke',
  'api-key.rotate',
  'plugin.install',
  'plugin.update',
  'plugin.uninstall',
  'session.terminate',
  'oauth-client.register',
  'oauth-client.revoke',
  'oauth-grant.revoke',
  'oauth-settings.update',
];
/** The platform's log also has what outlives a tenant or belongs to none. */
const PLATFORM_ACTIONS = [...TENANT_ACTIONS, 'tenant.delete', 'server-template.create', 'server-template.update', 'server-template.delete', 'usage-job.retry', 'usage-job.discard'];
const TENANT_TARGET_TYPES = ['tenant', 'api-key', 'plugin', 'session', 'oauth-client', 'oauth-grant'];
const PLATFORM_TARGET_TYPES = [...TENANT_TARGET_TYPES, 'server-template', 'usage-job'];
/** Enough to name the tenants in the platform's log; others are shown by id. */
const TENANT_NAMES_LIMIT = 200;

interface Filters {
  action: string;
  targetType: string;
  targetId: string;
  /** `datetime-local` values: the browser's local time, sent with its zone. */
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { action: '', targetType: '', targetId: '', from: '', to: '' };

function query(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.action) params.set('action', filters.action);
  if (filters.targetType) params.set('targetType', filters.targetType);
  if (filters.targetId.trim()) params.set('targetId', filters.targetId.trim());
  for (const bound of ['from', 'to'] as const) {
    const at = filters[bound] ? new Date(filters[bound]) : undefined;
    // An unreadable date goes as typed, so the API names the field.
    if (at) params.set(bound, Number.isNaN(at.getTime()) ? filters[bound] : at.toISOString());
  }
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

/**
 * An audit log, newest first, narrowed by action, target and time range: a tenant's
 * (`/v1/tenants/{tenant}/audit`), or without `tenant` the platform's (`/v1/audit`, platform admins).
 */
export function AuditSection({ api, tenant }: { api: ApiClient; tenant?: Tenant }) {
  const basePath = tenant ? apiPath('tenants', tenant.id, 'audit') : apiPath('audit');
  const actions = tenant ? TENANT_ACTIONS : PLATFORM_ACTIONS;
  const targetTypes = tenant ? TENANT_TARGET_TYPES : PLATFORM_TARGET_TYPES;
  const tenantNames = useTenantNames(api, !tenant);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const fieldErrors = error instanceof ApiFailure ? error.fieldErrors() : {};

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api.get<Page<AuditEvent>>(`${basePath}?${query(filters, cursor)}`);
        setEvents((previous) => (cursor && previous ? [...previous, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
        setError(undefined);
      } catch (failure) {
        setError(failure);
        if (!cursor) setEvents([]);
      }
    },
    [api, basePath, filters],
  );
  useEffect(() => {
    void load();
  }, [load]);

  function apply(event: FormEvent) {
    event.preventDefault();
    setEvents(null);
    setFilters({ ...draft });
  }
  const set = (field: keyof Filters) => (event: { target: { value: string } }) => setDraft((previous) => ({ ...previous, [field]: event.target.value }));

  return (
    <section aria-labelledby="audit">
      <h2 id="audit">{tenant ? 'Audit log' : 'Events of every tenant and the platform'}</h2>
      <form className="inline-form" aria-label="Audit filters" onSubmit={apply} noValidate>
        <Field label="Action" error={fieldErrors['action']}>
          {(props) => (
            <select {...props} value={draft.action} onChange={set('action')}>
              <option value="">Any action</option>
              {actions.map((action) => (
                <option key={action} value={action}>
                  {action}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Target type" error={fieldErrors['targetType']}>
          {(props) => (
            <select {...props} value={draft.targetType} onChange={set('targetType')}>
              <option value="">Any target</option>
              {targetTypes.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Target id" error={fieldErrors['targetId']} hint="A key id, session id or plugin name.">
          {(props) => <input {...props} value={draft.targetId} autoComplete="off" onChange={set('targetId')} />}
        </Field>
        <Field label="From" error={fieldErrors['from']}>
          {(props) => <input {...props} type="datetime-local" value={draft.from} onChange={set('from')} />}
        </Field>
        <Field label="To" error={fieldErrors['to']}>
          {(props) => <input {...props} type="datetime-local" value={draft.to} onChange={set('to')} />}
        </Field>
        <button type="submit" className="primary">
          Apply filters
        </button>
      </form>
      {error instanceof ApiFailure && Object.keys(fieldErrors).length > 0 ? null : <ErrorNotice error={error} />}
      {!events ? (
        <Loading what="the audit log" />
      ) : events.length === 0 ? (
        !error && <Empty>No audit events match.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Audit events{tenant ? ` of ${tenant.slug}` : ''}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                {!tenant && <th scope="col">Tenant</th>}
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <td>
                    <time dateTime={event.at}>{new Date(event.at).toLocaleString()}</time>
                  </td>
                  {!tenant && <td className="mono">{event.tenantId ? (tenantNames.get(event.tenantId) ?? event.tenantId) : 'platform'}</td>}
                  <td className="mono">{event.actor}</td>
                  <td className="mono">{event.action}</td>
                  <td>
                    {event.targetType} <span className="mono">{event.targetId ?? ''}</span>
                  </td>
                  <td className="mono details">{JSON.stringify(event.details)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextCursor && (
        <button type="button" onClick={() => void load(nextCursor)}>
          Load more events
        </button>
      )}
    </section>
  );
}

/** Tenant slugs by id for the platform's log (a deleted tenant's events stay, shown by id). */
function useTenantNames(api: ApiClient, wanted: boolean): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    if (!wanted) return;
    api.get<Page<Tenant>>(`${apiPath('tenants')}?limit=${TENANT_NAMES_LIMIT}`).then(
      (page) => setNames(new Map(page.items.map((tenant) => [tenant.id, tenant.slug]))),
      () => undefined,
    );
  }, [api, wanted]);
  return names;
}
