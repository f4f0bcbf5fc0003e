const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_EVERY_MS = 20;

/**
 * Resolves with the milliseconds it waited once `condition` holds, checking every few
 * milliseconds. For effects with no event to await, such as a change another process learns
 * of through Redis pub/sub.
 */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = DEFAULT_TIMEOUT_MS, everyMs = DEFAULT_EVERY_MS): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return Date.now() - started;
}
