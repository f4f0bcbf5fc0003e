import { parseRoute, tenantHref } from './hash-route';

describe('hash routes', () => {
  it('reads the platform pages, one node\'s sessions and a tenant\'s views', () => {
    expect(parseRoute('')).toEqual({ name: 'tenants' });
    expect(parseRoute('#/')).toEqual({ name: 'tenants' });
    expect(parseRoute('#/nodes')).toEqual({ name: 'platform', page: 'nodes' });
    expect(parseRoute('#/usage-jobs')).toEqual({ name: 'platform', page: 'usage-jobs' });
    expect(parseRoute('#/sessions/node/gw%20a')).toEqual({ name: 'platform', page: 'sessions', node: 'gw a' });
    expect(parseRoute('#/tenants/acme/limits')).toEqual({ name: 'tenant', tenant: 'acme', view: 'limits' });
    expect(parseRoute('#/tenants/acme/virtual-servers')).toEqual({ name: 'tenant', tenant: 'acme', view: 'virtual-servers' });
    expect(parseRoute('#/tenants/acme/nonsense')).toEqual({ name: 'tenant', tenant: 'acme', view: 'overview' });
  });

  it('calls anything else not found, rather than quietly showing the tenants list', () => {
    expect(parseRoute('#/no-such-page')).toEqual({ name: 'not-found' });
    expect(parseRoute('#/sessions/node/')).toEqual({ name: 'not-found' });
    expect(parseRoute('#main')).toEqual({ name: 'not-found' });
  });

  it('encodes a tenant reference in its link', () => {
    expect(tenantHref('a/b', 'usage')).toBe('#/tenants/a%2Fb/usage');
    expect(tenantHref('acme', 'virtual-servers')).toBe('#/tenants/acme/virtual-servers');
  });
});
