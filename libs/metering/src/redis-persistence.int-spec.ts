import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '@switchboard/logger';
import { eventually } from '@switchboard/testing';
import { startPrivateRedis, type PrivateRedis } from '../test/private-redis';
import { BullMqUsageSink } from './bullmq-usage-sink';
import { readRedisDurability, redisDurabilityWarning, watchRedisDurability } from './redis-persistence';

// Each case needs a Redis set up its own way: private redis-servers, never the shared one's config.
const PREFIX = `sb-durability-${randomBytes(4).toString('hex')}`;

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message), info: () => undefined } as unknown as Logger;
  return { logger, warnings };
}

describe('the Redis durability check', () => {
  const servers: PrivateRedis[] = [];
  const clients: Redis[] = [];
  const start = async (config: string[]) => {
    const server = await startPrivateRedis(config);
    servers.push(server);
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    clients.push(client);
    return { server, client };
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('reads appendonly, the snapshot schedule and the eviction policy of a Redis set up for the usage queue, and has nothing to warn of', async () => {
    const { client } = await start(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    const settings = await readRedisDurability(client);
    expect(settings).toEqual({ appendonly: true, save: '', maxmemoryPolicy: 'noeviction' });
    expect(redisDurabilityWarning(settings)).toBeUndefined();
  });

  it('logs one warning naming appendonly yes and maxmemory-policy noeviction for a Redis that keeps nothing on disk and evicts', async () => {
    const { client } = await start(['--maxmemory-policy', 'allkeys-lru']);
    const { logger, warnings } = recordingLogger();
    const watch = watchRedisDurability(client, logger, 'test');
    await eventually(() => watch.warning() !== undefined);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/appendonly is no, save "".*set appendonly yes.*maxmemory-policy is allkeys-lru.*set maxmemory-policy noeviction/);
  });

  it('still finds that persistence is off when CONFIG is disabled, as on managed Redis', async () => {
    const { client } = await start(['--rename-command', 'CONFIG', '']);
    expect(await readRedisDurability(client)).toEqual({ appendonly: false, save: undefined, maxmemoryPolicy: 'noeviction' });
  });

  it('checks again when the connection is ready again, and drops the warning once persistence is on', async () => {
    const { client } = await start([]);
    const { logger, warnings } = recordingLogger();
    const watch = watchRedisDurability(client, logger, 'test');
    await eventually(() => watch.warning() !== undefined);
    client.disconnect(true); // reconnects: the same finding is not logged twice
    await eventually(async () => client.status === 'ready' && (await client.ping()) === 'PONG');
    await client.config('SET', 'appendonly', 'yes');
    client.disconnect(true);
    await eventually(() => watch.warning() === undefined);
    expect(warnings).toHaveLength(1);
    // Redis refuses to shut down while it writes the first AOF.
    await eventually(async () => /aof_rewrite_in_progress:0/.test(await client.info('persistence')), 10_000);
  });

  it("lets the gateway's usage sink report the warning for readiness", async () => {
    const { server } = await start([]);
    const { logger, warnings } = recordingLogger();
    const sink = new BullMqUsageSink({ redisUrl: server.url, prefix: PREFIX, logger });
    try {
      await eventually(() => sink.redisWarning() !== undefined);
      expect(sink.redisWarning()).toMatch(/set appendonly yes/);
      expect(warnings).toEqual([sink.redisWarning()]);
    } finally {
      await sink.close();
    }
  });
});
