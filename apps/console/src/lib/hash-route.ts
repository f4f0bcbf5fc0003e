import { useEffect, useState } from 'react';

// Routes live in the fragment (#/tenants/acme/usage): the API serves one index.html and never
// sees the route, and nothing secret is ever part of it.
export const TENANT_VIEWS = ['overview', 'sessions', 'usage', 'audit', 'oauth'] as const;
export type TenantView = (typeof TENANT_VIEWS)[number];

export type Route = { name: 'tenants' } | { name: 'audit' } | { name: 'tenant'; tenant: string; view: TenantView };

export function parseRoute(hash: string): Route {
  if (hash === '#/audit') return { name: 'audit' };
  const match = /^#\/tenants\/([^/]+)(?:\/([a-z]+))?$/.exec(hash);
  if (match) {
    const view = (TENANT_VIEWS as readonly string[]).includes(match[2] ?? '') ? (match[2] as TenantView) : 'overview';
    return { name: 'tenant', tenant: decodeURIComponent(match[1]), view };
  }
  return { name: 'tenants' };
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function tenantHref(tenant: string, view: TenantView = 'overview'): string {
  return `#/tenants/${encodeURIComponent(tenant)}${view === 'overview' ? '' : `/${view}`}`;
}
