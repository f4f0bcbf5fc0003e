/**
 * How long start-up waits for Redis before serving anyway. No process refuses to start over a
 * Redis outage: each serves degraded (and says so on /readyz) while its clients reconnect.
 */
export const REDIS_STARTUP_WAIT_MS = 5_000;

/**
 * Waits for `ready` at most `waitMs`, then lets start-up go on; logs `degraded` (what works
 * meanwhile) when Redis was not ready in time. True when it was. A rejected `ready` rejects.
 */
export async function waitForRedisAtStartup(
  ready: Promise<unknown>,
  logger: { warn(fields: object, message: string): void },
  degraded: string,
  waitMs: number = REDIS_STARTUP_WAIT_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const connected = await Promise.race([
    ready.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs).unref())),
  ]).finally(() => clearTimeout(timer));
  if (!connected) logger.warn({ waitedMs: waitMs }, degraded);
  return connected;
}
