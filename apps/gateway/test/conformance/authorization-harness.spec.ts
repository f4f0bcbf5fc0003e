import { parseAuthorizationListing } from './authorization-harness';

describe('parseAuthorizationListing', () => {
  it('names every authorization server scenario of the suite listing, without its versions', () => {
    const stdout = [
      'Authorization server scenarios (test against an authorization server):',
      '  - authorization-server-metadata-endpoint [2025-03-26,2025-06-18,2025-11-25,2026-07-28]',
      '  - authorization-code-grant [2025-03-26,2025-06-18,2025-11-25,2026-07-28]',
      '',
    ].join('\n');
    expect(parseAuthorizationListing(stdout)).toEqual(['authorization-server-metadata-endpoint', 'authorization-code-grant']);
  });

  it('finds nothing in a listing without scenarios', () => {
    expect(parseAuthorizationListing('Authorization server scenarios (test against an authorization server):\n')).toEqual([]);
  });
});
