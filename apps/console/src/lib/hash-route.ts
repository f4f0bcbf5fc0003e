import { useEffect, useState } from 'react';

// Routes live in the fragment (#/tenants/acme/usage): the API serves one index.html and never
// sees the route, and nothing secret is ever part of it.
export const TENANT_VIEWS = ['overview', 'virtual-servers', 'limits', 'sessions', 'usage', 'audit', 'oauth'] as const;
export type TenantView = (typeof TENANT_VIEWS)[number];

/** Pages of the whole platform: platform admins only (a tenant admin gets "not found"). */
export const PLATFORM_PAGES = ['audit', 'sessions', 'nodes', 'usage-jobs', 'templates'] as const;
export type PlatformPage = (typeof PLATFORM_PAGES)[number];

export type Route =
  | { name: 'tenants' }
  | { name: 'platform'; page: PlatformPage; node?: string }
  | { name: 'tenant'; tenant: string; view: TenantView }
  | { name: 'not-found' };

export function parseRoute(hash: string): Route {
  // #/sessions/node/<id>: the live sessions of one node (a link from the nodes page).
  const byNode = /^#\/sessions\/node\/([^/]+)$/.exec(hash);
  if (byNode) return { name: 'platform', page: 'sessions', node: decodeURIComponent(byNode[1]) };
  const page = /^#\/([a-z-]+)$/.exec(hash)?.[1];
  if (page && (PLATFORM_PAGES as readonly string[]).includes(page)) return { name: 'platform', page: page as PlatformPage };
  const match = /^#\/tenants\/([^/]+)(?:\/([a-z-]+))?$/.exec(hash);
  if (match) {
    const view = (TENANT_VIEWS as readonly string[]).includes(match[2] ?? '') ? (match[2] as TenantView) : 'overview';
    return { name: 'tenant', tenant: decodeURIComponent(match[1]), view };
  }
  if (hash === '' || hash === '#' || hash === '#/') return { name: 'tenants' };
  return { name: 'not-found' };
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
