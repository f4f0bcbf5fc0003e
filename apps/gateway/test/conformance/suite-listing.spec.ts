import { parseServerListing } from './suite-listing';

// Shortened from `conformance list --server --requirements 2026-07-28` (0.2.0-alpha.12).
const REQUIREMENTS_LISTING = `Required for 2026-07-28 (69 scenarios, frozen; run at the 2026-07-28 wire):

Server scenarios (test against a server):
  - server-stateless
  - tools-list
  - dns-rebinding-protection

Client scenarios (test against a client):
  - tools_call
  - auth/metadata-default

Run and reported, but never scored:
  extension (3):
    - auth/client-credentials-jwt [client]
    - tasks-lifecycle [server]
    - tasks-wire-fields [server]
  added-after-release (2):
    - server-session-lifecycle [server]
    - json-schema-2020-12-preservation [client]
  pending (1):
    - json-schema-2020-12 [server]

`;

// Shortened from `conformance list --server --spec-version 2025-06-18`.
const SPEC_VERSION_LISTING = `Server scenarios (test against a server):
  - server-initialize [2025-06-18,2025-11-25]
  - tools-list [2025-06-18,2025-11-25,2026-07-28]
`;

describe('parseServerListing', () => {
  it('splits a requirement set into required server scenarios and unscored ones with their reason', () => {
    expect(parseServerListing(REQUIREMENTS_LISTING)).toEqual({
      required: ['dns-rebinding-protection', 'server-stateless', 'tools-list'],
      unscored: [
        { scenario: 'json-schema-2020-12', reason: 'pending' },
        { scenario: 'server-session-lifecycle', reason: 'added-after-release' },
        { scenario: 'tasks-lifecycle', reason: 'extension' },
        { scenario: 'tasks-wire-fields', reason: 'extension' },
      ],
    });
  });

  it('leaves out the client scenarios the listing mixes in, required or not', () => {
    const plan = parseServerListing(REQUIREMENTS_LISTING);
    const names = [...plan.required, ...plan.unscored.map((u) => u.scenario)];
    expect(names).not.toContain('tools_call');
    expect(names).not.toContain('auth/client-credentials-jwt');
    expect(names).not.toContain('json-schema-2020-12-preservation');
  });

  it('reads a spec-version listing, whose entries carry version tags, as all required', () => {
    expect(parseServerListing(SPEC_VERSION_LISTING)).toEqual({ required: ['server-initialize', 'tools-list'], unscored: [] });
  });

  it('refuses a reason it does not know rather than scoring or dropping its scenarios', () => {
    const listing = REQUIREMENTS_LISTING.replace('pending (1):', 'deprecated (1):');
    expect(() => parseServerListing(listing)).toThrow(/unknown reason.*deprecated/);
  });

  it('refuses a line it does not understand, so a format change in a suite bump is noticed', () => {
    const listing = REQUIREMENTS_LISTING.replace('  - tools-list', '  * tools-list');
    expect(() => parseServerListing(listing)).toThrow(/unexpected line/);
  });

  it('refuses a listing without server scenarios', () => {
    expect(() => parseServerListing('Client scenarios (test against a client):\n  - tools_call\n')).toThrow(/no server scenario/);
  });
});
