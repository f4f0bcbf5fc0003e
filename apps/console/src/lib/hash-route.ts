import { useEffect, useState } from 'react';

// Routes live in the fragment (#/tenants/acme): the API serves one index.html and never sees
// the route, and nothing secret is ever part of it.
export type Route = { name: 'tenants' } | { name: 'tenant'; tenant: string };

export function parseRoute(hash: string): Route {
  const match = /^#\/tenants\/([^/]+)$/.exec(hash);
  if (match) return { name: 'tenant', tenant: decodeURIComponent(match[1]) };
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

export function tenantHref(tenant: string): string {
  return `#/tenants/${encodeURIComponent(tenant)}`;
}
