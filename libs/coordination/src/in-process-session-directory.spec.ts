import { InProcessSessionDirectory } from './in-process-session-directory';
import type { SessionDirectory, SessionEntry } from './session-directory';

function entry(sessionId: string, tenantId = 't1'): SessionEntry {
  return { sessionId, node: 'n1', tenantId, keyId: 'k1', transport: 'streamable-http', tenantSlug: 'acme', openedAt: 1, lastActivityAt: 1 };
}

/** A gateway's registry as the directory sees it. */
function registry(...entries: SessionEntry[]): SessionDirectory {
  return {
    listTenant: async (tenantId) => entries.filter((e) => e.tenantId === tenantId),
    find: async (sessionId) => entries.find((e) => e.sessionId === sessionId),
  };
}

describe('InProcessSessionDirectory', () => {
  it('lists no sessions until a gateway attaches, and none again after it detaches', async () => {
    const directory = new InProcessSessionDirectory();
    expect(await directory.listTenant('t1')).toEqual([]);
    expect(await directory.find('s1')).toBeUndefined();
    const detach = directory.attach(registry(entry('s1')));
    expect(await directory.listTenant('t1')).toEqual([entry('s1')]);
    expect(await directory.find('s1')).toEqual(entry('s1'));
    detach();
    expect(await directory.listTenant('t1')).toEqual([]);
    expect(await directory.find('s1')).toBeUndefined();
  });

  it('does not let an older gateway detach a newer one', async () => {
    const directory = new InProcessSessionDirectory();
    const older = directory.attach(registry(entry('old')));
    const newer = directory.attach(registry(entry('new')));
    older();
    expect(await directory.find('new')).toEqual(entry('new'));
    newer();
    expect(await directory.find('new')).toBeUndefined();
  });

  it('keeps directories apart: what one gateway attaches is not listed through another directory', async () => {
    const mine = new InProcessSessionDirectory();
    const other = new InProcessSessionDirectory();
    const detach = mine.attach(registry(entry('s1')));
    expect(await other.listTenant('t1')).toEqual([]);
    detach();
  });
});
