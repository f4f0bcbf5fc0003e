import type { SessionDirectory, SessionEntry } from './session-directory';

/**
 * Embedded mode (no Redis): the admin API lists the sessions of the gateway in the same process
 * (`npm start`) through this. The launcher builds one and hands it to both apps: the gateway
 * attaches its registry once it has one, and the API reads; with no gateway attached, a
 * directory of no sessions.
 */
export class InProcessSessionDirectory implements SessionDirectory {
  private source: SessionDirectory | undefined;

  /** Returns the function that detaches it (the gateway calls it when it shuts down). */
  attach(source: SessionDirectory): () => void {
    // Last one wins: two gateways on one directory only happen in tests, and each detaches its own.
    this.source = source;
    return () => {
      if (this.source === source) this.source = undefined;
    };
  }

  listTenant(tenantId: string): Promise<SessionEntry[]> {
    return this.source?.listTenant(tenantId) ?? Promise.resolve([]);
  }

  find(sessionId: string): Promise<SessionEntry | undefined> {
    return this.source?.find(sessionId) ?? Promise.resolve(undefined);
  }
}
