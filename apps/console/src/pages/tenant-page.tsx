import { useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { Tenant } from '../api/types';
import { ErrorNotice, Loading, PageHeading } from '../components/ui';
import { tenantHref, type TenantView } from '../lib/hash-route';
import type { TokenScope } from '../lib/token-scope';
import { ApiKeysSection } from './api-keys-section';
import { AuditSection } from './audit-section';
import { LimitsSection } from './limits-section';
import { OAuthSection } from './oauth-section';
import { PluginsSection } from './plugins-section';
import { SessionsSection } from './sessions-section';
import { UsageSection } from './usage-section';
import { VirtualServersSection } from './virtual-servers-section';

const VIEW_LABELS: Record<TenantView, string> = {
  overview: 'Keys and plugins',
  'virtual-servers': 'Virtual servers',
  limits: 'Limits', sessions: 'Sessions', usage: 'Usage', audit: 'Audit log', oauth: 'OAuth' };

/** One tenant, one view at a time. Another tenant's page answers 404 for a tenant admin: "not found". */
export function TenantPage({ api, tenantRef, view, scope }: { api: ApiClient; tenantRef: string; view: TenantView; scope: TokenScope }) {
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
  const title = view === 'overview' ? tenant.name : `${VIEW_LABELS[view]}: ${tenant.name}`;
  return (
    <>
      {scope.kind === 'platform' && (
        <nav aria-label="Breadcrumb" className="breadcrumb">
          <a href="#/">Tenants</a> / <span aria-current="page">{tenant.slug}</span>
        </nav>
      )}
      {/* Keyed by view: each view is a page of its own, and its heading takes the focus. */}
      <PageHeading key={view}>{title}</PageHeading>
      <p className="subtitle">
        <span className="mono">{tenant.slug}</span> <span className={`badge badge-${tenant.status}`}>{tenant.status}</span>
      </p>
      <nav aria-label="Tenant" className="tabs">
        {(Object.keys(VIEW_LABELS) as TenantView[]).map((item) => (
          <a key={item} href={tenantHref(tenant.slug, item)} aria-current={item === view ? 'page' : undefined}>
            {VIEW_LABELS[item]}
          </a>
        ))}
      </nav>
      {view === 'overview' && (
        <>
          <ApiKeysSection api={api} tenant={tenant} />
          <PluginsSection api={api} tenant={tenant} />
        </>
      )}
      {view === 'virtual-servers' && <VirtualServersSection api={api} tenant={tenant} />}
      {view === 'limits' && <LimitsSection api={api} tenant={tenant} scope={scope} onSaved={setTenant} />}
      {view === 'sessions' && <SessionsSection api={api} tenant={tenant} />}
      {view === 'usage' && <UsageSection api={api} tenant={tenant} />}
      {view === 'audit' && <AuditSection api={api} tenant={tenant} />}
      {view === 'oauth' && <OAuthSection api={api} tenant={tenant} />}
    </>
  );
}
