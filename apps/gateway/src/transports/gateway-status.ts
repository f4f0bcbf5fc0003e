import type { Database } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import type { SessionManager } from '../sessions/session-manager';

/** A readiness probe must answer promptly even when the database does not. */
const READINESS_DATABASE_TIMEOUT_MS = 2_000;

export interface Readiness {
  /** False only while draining: the balancer should stop sending new sessions here. */
  ready: boolean;
  status: 'ok' | 'degraded' | 'draining';
  checks: { sessions: 'ok' | 'draining'; database: 'ok' | 'degraded'; redis?: 'ok' | 'degraded' };
  warnings?: string[];
}

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
    /** Shown in /readyz without failing readiness, e.g. a Redis that would lose queued usage (LimitsAndMetering.warnings). */
    private readonly warnings: () => string[] = () => [],
  ) {}

  /**
   * Ready = this node can take new work: it is not draining. Each dependency is reported as ok
   * or degraded, and neither makes the node unready: with the database away the node still serves
   * its open sessions (and new ones for cached keys), with Redis away its own sessions; and
   * either outage hits every node at once, so a 503 would make a readiness-checking balancer take
   * the whole fleet out together and turn a partial outage into a total one (docs/operations.md).
   */
  async ready(): Promise<Readiness> {
    const draining = this.sessions.isDraining;
    const checks: Readiness['checks'] = { sessions: draining ? 'draining' : 'ok', database: await this.databaseCheck() };
    if (this.clusterHealth) checks.redis = this.clusterHealth();
    const degraded = checks.database === 'degraded' || checks.redis === 'degraded';
    const warnings = this.warnings();
    return {
      ready: !draining,
      status: draining ? 'draining' : degraded ? 'degraded' : 'ok',
      checks,
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  private async databaseCheck(): Promise<'ok' | 'degraded'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'degraded'>((resolve) => {
      timer = setTimeout(() => resolve('degraded'), READINESS_DATABASE_TIMEOUT_MS);
      timer.unref();
    });
    const probe = this.db.prisma.$queryRawUnsafe('SELECT 1').then(
      () => 'ok' as const,
      () => 'degraded' as const,
    );
    // A probe that hangs (packets dropped) must not hang the readiness answer.
    return Promise.race([probe, timeout]).finally(() => clearTimeout(timer));
  }
}
