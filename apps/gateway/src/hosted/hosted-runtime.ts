import type { Tracing } from '@switchboard/tracing';
import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import type { GatewayConfig } from '../config/gateway-config';
import { HostedServerPool, type HostedServerEvents, type HostedServerInfo } from './hosted-server-pool';
import { HostedTemplatesService } from './hosted-templates';
import { OrphanGuard } from './orphan-guard';

export interface HostedRuntime {
  templates: HostedTemplatesService;
  /** The hosted servers running on this node now. */
  list(): HostedServerInfo[];
  /** Stops every hosted server (process groups) and waits until each one is reaped. */
  close(): Promise<void>;
}

/**
 * The node's hosted MCP servers. `onCatalogChanged` is told when a server announces new tools
 * (list_changed), so the tenant's open sessions get the new list like after an admin change.
 */
export function startHostedServers(
  config: GatewayConfig,
  prisma: PrismaClient,
  logger: Logger,
  onCatalogChanged: (tenantId: string) => void,
  events?: HostedServerEvents,
  tracing?: Tracing,
): HostedRuntime {
  const orphanGuard = new OrphanGuard(logger);
  const pool = new HostedServerPool(
    { dataDir: config.database.dataDir, ...config.hosted, processGroups: orphanGuard },
    logger,
    (install) => {
      // Called on a server's notification, long after `templates` below is assigned.
      templates.forget(install);
      onCatalogChanged(install.tenantId);
    },
    events,
  );
  const templates = new HostedTemplatesService(prisma, pool, logger, tracing);
  return {
    templates,
    list: () => pool.list(),
    async close() {
      await pool.close();
      await orphanGuard.close();
    },
  };
}
