import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ClusterKeys, RedisSessionDirectory, type SessionDirectory } from '@switchboard/coordination';
import { Redis } from 'ioredis';
import { API_CONFIG, IN_PROCESS_SESSIONS } from '../common/api-context';
import type { ApiConfig } from '../config/api-config';

/**
 * Where the API reads live sessions. Cluster mode: the registry the gateways keep in Redis (one
 * hash per node, expiring with the node). Embedded: the gateway running in this process, if any.
 */
@Injectable()
export class SessionDirectoryProvider implements OnModuleDestroy {
  readonly directory: SessionDirectory;
  private readonly redis: Redis | undefined;

  constructor(@Inject(API_CONFIG) config: ApiConfig, @Inject(IN_PROCESS_SESSIONS) inProcess: SessionDirectory) {
    if (!config.redis) {
      this.directory = inProcess;
      return;
    }
    // Fails fast while Redis is away: the listing answers 503 rather than hanging.
    this.redis = new Redis(config.redis.url, { connectionName: `${config.nodeId}:sessions`, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
    this.directory = new RedisSessionDirectory(this.redis, new ClusterKeys(config.redis.prefix));
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }
}
