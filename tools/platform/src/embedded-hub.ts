import type { ApiEmbedding } from '@switchboard/api-app';
import { InProcessControlBus, InProcessSessionDirectory } from '@switchboard/coordination';
import type { GatewayEmbedding } from '@switchboard/gateway-app';
import { EmbeddedDatabases } from '@switchboard/db';
import { SharedUsageSink } from '@switchboard/metering';

/**
 * What the admin API and the gateway share when they run in one process without Redis
 * (`npm start`): the control bus the API publishes on and the gateway hears, the usage sink the
 * API owns and the gateway records into, and the session directory the gateway fills and the
 * API lists, and the embedded PGlite both open (one instance per directory and process). Built once by the launcher and handed to both apps; each app started alone builds
 * its own parts instead. On Redis both apps use the cluster's and ignore these.
 */
export interface EmbeddedHub extends ApiEmbedding, GatewayEmbedding {
  readonly controlBus: InProcessControlBus;
  readonly usage: SharedUsageSink;
  readonly sessions: InProcessSessionDirectory;
  readonly databases: EmbeddedDatabases;
  /** After both apps have closed. */
  close(): Promise<void>;
}

export function createEmbeddedHub(): EmbeddedHub {
  const controlBus = new InProcessControlBus();
  return {
    controlBus,
    usage: new SharedUsageSink(),
    sessions: new InProcessSessionDirectory(),
    databases: new EmbeddedDatabases(),
    close: () => controlBus.close(),
  };
}
