import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { Page, Tenant } from '../api/types';
import { ConfirmButton, Empty, ErrorNotice, Field, Loading, PageHeading } from '../components/ui';
import { tenantHref } from '../lib/hash-route';

/** Tenants per request; the API pages with a cursor (GET /v1/tenants?limit&cursor). */
const PAGE_SIZE = 25;

export function TenantsPage({ api }: { api: ApiClient }) {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api.get<Page<Tenant>>(`/v1/tenants?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        setTenants((previous) => (cursor && previous ? [...previous, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
        setError(undefined);
      } catch (failure) {
        setError(failure);
      }
    },
    [api],
  );

  useEffect(() => {
    void load();
  }, [load]);

  async function act(action: () => Promise<unknown>) {
    try {
      await action();
      await load();
    } catch (failure) {
      setError(failure);
    }
  }

  const needle = filter.trim().toLowerCase();
  const shown = tenants?.filter((t) => !needle || t.slug.includes(needle) || t.name.toLowerCase().includes(needle));

  return (
    <>
      <PageHeading>Tenants</PageHeading>
      <CreateTenantForm api={api} onCreated={() => void load()} />
      <section aria-labelledby="tenant-list">
        <h2 id="tenant-list">All tenants</h2>
        <Field label="Search" hint="Filters the tenants loaded so far by slug or name.">
          {(props) => <input {...props} type="search" value={filter} onChange={(event) => setFilter(event.target.value)} />}
        </Field>
        <ErrorNotice error={error} />
        {!shown ? (
          <Loading what="tenants" />
        ) : shown.length === 0 ? (
          <Empty>{tenants && tenants.length > 0 ? 'No tenant matches the search.' : 'No tenants yet: create the first one above.'}</Empty>
        ) : (
          <ul className="cards" aria-label="Tenants">
            {shown.map((tenant) => (
              <li key={tenant.id} className="card">
                <div className="card-main">
                  <a href={tenantHref(tenant.slug)}>{tenant.name}</a>
                  <span className="mono">{tenant.slug}</span>
                  <span className={`badge badge-${tenant.status}`}>{tenant.status}</span>
                </div>
                <div className="actions">
                  <button
                    type="button"
                    onClick={() => void act(() => api.send('PATCH', apiPath('tenants', tenant.id), { status: tenant.status === 'active' ? 'suspended' : 'active' }))}
                  >
                    {tenant.status === 'active' ? 'Suspend' : 'Resume'}
                    <span className="visually-hidden"> {tenant.slug}</span>
                  </button>
                  <ConfirmButton
                    label={`Delete`}
                    question={`Delete ${tenant.slug} and all its keys and settings?`}
                    confirmLabel={`Delete ${tenant.slug}`}
                    onConfirm={() => void act(() => api.send('DELETE', apiPath('tenants', tenant.id)))}
                  />
                </div>
              </li>
            ))}
          </ul>
        )}
        {nextCursor && (
          <button type="button" onClick={() => void load(nextCursor)}>
            Load more tenants
          </button>
        )}
      </section>
    </>
  );
}

function CreateTenantForm({ api, onCreated }: { api: ApiClient; onCreated: (tenant: Tenant) => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<unknown>();
  const [created, setCreated] = useState<string | undefined>();
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const tenant = await api.send<Tenant>('POST', '/v1/tenants', { slug: slug.trim(), name: name.trim() });
      setFailure(undefined);
      setCreated(`Created ${tenant.slug}.`);
      setSlug('');
      setName('');
      onCreated(tenant);
    } catch (error) {
      setCreated(undefined);
      setFailure(error);
    }
  }

  const slugError = fieldErrors['slug'] ?? (failure instanceof ApiFailure && failure.code === 'SLUG_TAKEN' ? failure.message : undefined);
  const general = failure instanceof ApiFailure && (slugError || fieldErrors['name']) ? undefined : failure;
  return (
    <section aria-labelledby="create-tenant">
      <h2 id="create-tenant">Create a tenant</h2>
      <form onSubmit={submit} noValidate className="inline-form">
        <Field label="Slug" error={slugError} hint="3–40 lower-case letters, digits and dashes; part of the tenant's MCP URLs.">
          {(props) => <input {...props} name="slug" value={slug} autoComplete="off" onChange={(event) => setSlug(event.target.value)} />}
        </Field>
        <Field label="Name" error={fieldErrors['name']}>
          {(props) => <input {...props} name="name" value={name} autoComplete="off" onChange={(event) => setName(event.target.value)} />}
        </Field>
        <button type="submit" className="primary">
          Create tenant
        </button>
      </form>
      <ErrorNotice error={general} />
      {created && (
        <p className="notice" role="status">
          {created}
        </p>
      )}
    </section>
  );
}
