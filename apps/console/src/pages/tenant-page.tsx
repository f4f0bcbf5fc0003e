import { useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { Tenant } from '../api/types';
import { ErrorNotice, Loading, PageHeading } from '../components/ui';
import type { TokenScope } from '../lib/token-scope';
import { ApiKeysSection } from './api-keys-section';
import { PluginsSection } from './plugins-section';

/** One tenant: its API keys and plugins. Another tenant's page answers 404 for a tenant admin: "not found". */
export function TenantPage({ api, tenantRef, scope }: { api: ApiClient; tenantRef: string; scope: TokenScope }) {
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    api.get<Tenant>(apiPath('tenants', tenantRef)).then(setTenant, setError);
  }, [api, tenantRef]);

  if (error) {
    return (
      <>
        <PageHeading>Tenant not found</PageHeading>
        <ErrorNotice error={error} />
        {scope.kind === 'platform' && <a href="#/">Back to all tenants</a>}
      </>
    );
  }
  if (!tenant) return <Loading what="the tenant" />;
  return (
    <>
      {scope.kind === 'platform' && (
        <nav aria-label="Breadcrumb" className="breadcrumb">
          <a href="#/">Tenants</a> / <span aria-current="page">{tenant.slug}</span>
        </nav>
      )}
      <PageHeading>{tenant.name}</PageHeading>
      <p className="subtitle">
        <span className="mono">{tenant.slug}</span> <span className={`badge badge-${tenant.status}`}>{tenant.status}</span>
      </p>
      <ApiKeysSection api={api} tenant={tenant} />
      <PluginsSection api={api} tenant={tenant} />
    </>
  );
}
