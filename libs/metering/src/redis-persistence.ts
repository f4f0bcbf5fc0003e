import { ReplyError, type Redis } from 'ioredis';
import type { Logger } from '@switchboard/logger';

/**
 * What a Redis keeps of the usage queue: queued usage events live only in Redis until the API's
 * worker has written them to Postgres, so a Redis that keeps nothing on disk loses them when it
 * restarts, and one that evicts keys under memory pressure drops BullMQ's jobs and bookkeeping.
 */
export interface RedisDurability {
  /** INFO persistence `aof_enabled`; undefined when INFO could not be read. */
  appendonly: boolean | undefined;
  /** CONFIG GET save: the RDB snapshot schedule, '' for none; undefined where CONFIG is disabled (managed Redis). */
  save: string | undefined;
  /** INFO memory `maxmemory_policy`; undefined when INFO could not be read. */
  maxmemoryPolicy: string | undefined;
}

/** Where operators read why (docs/configuration.md, section "Redis"). */
export const REDIS_SETTINGS_DOC = 'docs/configuration.md#redis';

/**
 * Reads the settings. A command Redis refuses leaves its field unknown; a lost connection
 * rejects (nothing was learnt).
 */
export async function readRedisDurability(redis: Redis): Promise<RedisDurability> {
  const [persistence, memory, save] = await Promise.all([
    redis.info('persistence').catch(refused),
    redis.info('memory').catch(refused),
    // Managed Redis (ElastiCache, Memorystore …) often disables or renames CONFIG.
    (redis.config('GET', 'save') as Promise<string[]>).then((reply) => reply[1], refused),
  ]);
  const aof = persistence === undefined ? undefined : infoField(persistence, 'aof_enabled');
  return {
    appendonly: aof === undefined ? undefined : aof === '1',
    save,
    maxmemoryPolicy: memory === undefined ? undefined : infoField(memory, 'maxmemory_policy'),
  };
}

function refused(error: unknown): undefined {
  if (error instanceof ReplyError) return undefined;
  throw error;
}

function infoField(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/**
 * One sentence naming each setting to change, or undefined when Redis keeps the usage queue
 * safely (appendonly yes, maxmemory-policy noeviction).
 */
export function redisDurabilityWarning(settings: RedisDurability): string | undefined {
  const problems: string[] = [];
  if (settings.appendonly === undefined) {
    problems.push('its persistence could not be read (INFO refused): make sure it runs with appendonly yes');
  } else if (!settings.appendonly) {
    const snapshots =
      settings.save === undefined
        ? 'CONFIG is disabled, so its snapshot schedule is unknown'
        : settings.save === ''
          ? 'save "" (no snapshots either)'
          : `only RDB snapshots (save ${settings.save})`;
    problems.push(`appendonly is no, ${snapshots}: usage events queued since the last write to disk are lost when Redis restarts; set appendonly yes`);
  }
  if (settings.maxmemoryPolicy === undefined) {
    problems.push('its maxmemory-policy could not be read: make sure it is noeviction');
  } else if (settings.maxmemoryPolicy !== 'noeviction') {
    problems.push(`maxmemory-policy is ${settings.maxmemoryPolicy}: under memory pressure Redis evicts queued usage jobs; set maxmemory-policy noeviction`);
  }
  if (problems.length === 0) return undefined;
  return `Redis is not set up to keep usage events: ${problems.join('; ')} (see ${REDIS_SETTINGS_DOC})`;
}

export interface RedisDurabilityWatch {
  /** The latest finding; undefined until the first check and while Redis is set up well. */
  warning(): string | undefined;
}

/**
 * Checks the connection's Redis each time it becomes ready (a restart may bring other settings)
 * and logs a warning when the finding changes. It never fails anything: metering goes on.
 */
export function watchRedisDurability(redis: Redis, logger: Logger | undefined, role: string): RedisDurabilityWatch {
  let current: string | undefined;
  const check = async () => {
    const settings = await readRedisDurability(redis).catch(() => undefined);
    if (!settings) return; // the connection went away; its next 'ready' checks again
    const found = redisDurabilityWarning(settings);
    if (found && found !== current) logger?.warn({ role }, found);
    else if (!found && current) logger?.info({ role }, 'Redis is now set up to keep usage events');
    current = found;
  };
  redis.on('ready', () => void check());
  if (redis.status === 'ready') void check();
  return { warning: () => current };
}
