import type { Database } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import type { SessionManager } from './sessions/session-manager';

/** Facts the health endpoints report, shared by the Nest module and main.ts. */
export class GatewayStatus {
  constructor(
    readonly nodeId: string,
    readonly version: string,
    readonly publicUrl: string | undefined,
    readonly sessions: SessionManager,
    private readonly db: Database,
    readonly logger: Logger,
    /** Cluster mode: whether Redis (forwarding, registry, control events) is reachable. */
    private readonly clusterHealth?: () => 'ok' | 'degraded',
  ) {}

  /** Ready = taking new sessions and the database answers (keys and installations live there). */
  async ready(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = { sessions: this.sessions.isDraining ? 'draining' : 'ok' };
    try {
      await this.db.prisma.$queryRawUnsafe('SELECT 1');
      checks['database'] = 'ok';
    } catch {
      checks['database'] = 'unavailable';
    }
    if (this.clusterHealth) checks['redis'] = this.clusterHealth();
    // Redis away is 'degraded', not unready: this node still opens and serves its own sessions
    // (only requests for other nodes' sessions fail, with 503), and when Redis is down for every
    // node, a 503 everywhere would take the whole service down instead of most of it.
    return { ready: Object.values(checks).every((c) => c === 'ok' || c === 'degraded'), checks };
  }
}
